"""Every pattern that runs on a stranger's text in parse/ (and the classifier's text rules it
calls) costs linear time: a structural check of each pattern (tests/regexlint.py), and a
property test feeding 1 MB runs of every blank and punctuation class through parse() that
counts the characters handed to the patterns (a step count, not a clock)."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bouncesink.parse as parse_pkg
import bouncesink.parse.mta as mta_pkg
from bouncesink.classify.prefilter import Guarded
from bouncesink.classify.rules import RULES
from bouncesink.parse import parse
from regexlint import problems


def _modules():
    mods = [parse_pkg, mta_pkg]
    for pkg in (parse_pkg, mta_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            mods.append(importlib.import_module(f"{pkg.__name__}.{info.name}"))
    return mods


def _patterns():
    """(name, compiled pattern) for every pattern held by a parse/ module, in lists, tuples
    or guards too."""
    out, seen = [], set()

    def add(name, obj):
        if isinstance(obj, Guarded):
            obj = obj.re
        if isinstance(obj, re.Pattern) and id(obj) not in seen:
            seen.add(id(obj))
            out.append((name, obj))
        elif isinstance(obj, (list, tuple)):
            for i, x in enumerate(obj):
                add(f"{name}[{i}]", x)

    for mod in _modules():
        for key, value in vars(mod).items():
            add(f"{mod.__name__}.{key}", value)
    for i, rule in enumerate(RULES):
        add(f"classify.rules.RULES[{i}]", rule.compiled())
    return out


PATTERNS = _patterns()


def test_the_patterns_are_found():
    names = {n for n, _ in PATTERNS}
    assert "bouncesink.parse.text.END_RE" in names and len(PATTERNS) > 100


@pytest.mark.parametrize("name, pattern", PATTERNS, ids=[n for n, _ in PATTERNS])
def test_pattern_is_linear_on_runs_of_any_character(name, pattern):
    assert problems(pattern) == []


@pytest.mark.parametrize("pattern, kind", [
    (r"^\s*(?:[-=_*#>]{2,}.{0,10})?\s*(?:original message)", "adjacent"),  # the issue 15 one
    (r"(?:a+)+b", "nested"),
    (r"[^:]+@", "leading"),
    (r"^\s*Unknown user", "leading"),          # re.M below: "\s" runs over "\n\n\n..."
    (r"<?([^\s<>:]+@[^\s<>:]+?)>?:x", "adjacent"),  # "@@@@": every split tried
])
def test_the_check_finds_known_quadratic_forms(pattern, kind):
    assert kind in {k for _, k in problems(re.compile(pattern, re.M))}


@pytest.mark.parametrize("pattern, flags", [
    (r"^\s*+(?:[-=_*#>]{2,}+.{0,10})?\s*+(?:original message)", 0),  # "^" once: not re.M
    (r"^[^:]+@", 0), (r"[a-z]{1,128}@", 0), (r"^[^\S\n]*+Unknown user", re.M),
    (r"(?:\n[ \t].*)*", 0), (r"\s*(.*)$", 0), (r"^\s*+<?([^\s<>:@]+@[^\s<>:]+?)>?:x", 0),
])
def test_the_check_passes_linear_near_misses(pattern, flags):
    assert problems(re.compile(pattern, flags)) == []


# -- property: 1 MB runs through parse(), counting characters handed to patterns -----------
BLANKS = " \t\xa0\u2000\u2007\u202f\u3000\u200b\ufeff\r\x0b\x0c"
PUNCT = "-=_*#>.<:;,@()[]{}\"'`!?/\\|~^$%&+"
RUN = 1 << 20


class _Counting:
    """A pattern that adds the length of every text it is asked about to a shared count."""

    def __init__(self, pattern, counter):
        self._p, self._c = pattern, counter

    def _count(self, name):
        fn = getattr(self._p, name)

        def call(string, *args, **kwargs):
            pos = args[0] if args else kwargs.get("pos", 0)
            end = args[1] if len(args) > 1 else kwargs.get("endpos", len(string))
            self._c[0] += max(0, min(end, len(string)) - pos)
            return fn(string, *args, **kwargs)
        return call

    def __getattr__(self, name):
        if name in ("search", "match", "fullmatch", "findall", "finditer", "split"):
            return self._count(name)
        if name in ("sub", "subn"):
            fn = getattr(self._p, name)

            def sub(repl, string, *a, **k):
                self._c[0] += len(string)
                return fn(repl, string, *a, **k)
            return sub
        return getattr(self._p, name)


@pytest.fixture(scope="module")
def counter():
    """Every module-level pattern of parse/ replaced by a counting proxy for this module."""
    count = [0]
    saved = []
    for mod in _modules():
        for key, value in list(vars(mod).items()):
            if isinstance(value, (re.Pattern, Guarded)):
                saved.append((mod, key, value))
                setattr(mod, key, _Counting(value, count))
    yield count
    for mod, key, value in saved:
        setattr(mod, key, value)


def _message(kind: int, ch: str, n: int) -> bytes:
    run = ch * n
    head = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
            b"To: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n")
    if kind == 0:  # a text bounce with the run inside one line
        body = f"<alice@example.com>: host said: 550 5.1.1 {run} user unknown\r\n"
        return head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode()
    if kind == 1:  # the run as a line of its own, then an address line
        body = f"{run}\r\n\r\n{run}alice@example.com{run}\r\n"
        return head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode()
    # a DSN without Diagnostic-Code, the run in its human-readable part
    return head + (
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{run}\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; alice@example.com\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n").encode()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(ch=st.sampled_from(BLANKS + PUNCT), kind=st.integers(0, 2))
def test_one_megabyte_runs_cost_a_bounded_number_of_steps(counter, ch, kind):
    raw = _message(kind, ch, RUN)
    counter[0] = 0
    parsed = parse(raw)
    scanned = counter[0]
    assert parsed.errors == []
    # each character reaches a bounded number of patterns: the text is capped (MAX_TEXT) and
    # every pattern's own cost is linear (the test above), so the steps are a small multiple
    assert scanned <= 60 * len(raw), (ch, kind, scanned)
