"""classify/prefilter.py: the literal-factor shortcuts answer exactly as the regular
expressions they stand for (rule tables, guarded patterns)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncesink.classify import rules
from bouncesink.classify.prefilter import Prefilter, factors, guard, prefixes, split_branches
from bouncesink.parse import message as m

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "emails"


def _texts() -> list[str]:
    files = sorted(DATA.rglob("*.eml")) + (sorted(CORPUS.glob("*.eml")) if CORPUS.is_dir() else [])
    out: list[str] = []
    for path in files:
        for part, _ in m.walk(m.load(path.read_bytes())):
            if not part.is_multipart():
                text = m.text_of(part)
                out.append(text[:1500])
                out.extend(line for line in text.splitlines()[:200] if line.strip())
    return out


TEXTS = _texts()
RULE_PATTERNS = [r.pattern for r in rules.RULES]
PROVIDER_PATTERNS = [r.pattern for r in rules.PROVIDER_RULES]

# Hand-made cases: flags inside, lookbehind, classes, optional prefixes, case.
SAMPLE_PATTERNS = [
    (r"(?:in reply to|after|while talking to [^:]{0,80}:\s*>>>)\s*(data|rcpt(?: to)?|mail)\b", re.I),
    (r"(?:>>>|SMTP:)\s*(DATA|RCPT|MAIL|HELO|EHLO)\b", re.I),
    (r"(?<!connection )rate limit|ratelimit|\bbl\b", re.I),
    (r"user (?-i:UNKNOWN)|(?i:Mailbox) full", 0),
    (r"^\s*-+ ?Transcript of session follows ?-+", re.I | re.M),
    (r"(?:a|b)?cd|e[fg]h", re.I),
    (r"qmail-send|I'm afraid I wasn't able to deliver", re.I),
    (r"Status: ([245]\.\d+\.\d+)", 0),
]


def _all_searches(compiled, text):
    return (compiled.search(text) and compiled.search(text).span(),
            [mo.span() for mo in compiled.finditer(text)],
            compiled.findall(text))


@pytest.mark.parametrize("pattern,flags", SAMPLE_PATTERNS + [(p, re.I | re.M) for p in PROVIDER_PATTERNS]
                         + [(p, re.I) for p in RULE_PATTERNS])
def test_guard_answers_as_the_pattern(pattern, flags):
    plain = re.compile(pattern, flags)
    guarded = guard(plain)
    for text in TEXTS + ["", "USER UNKNOWN", "user UNKNOWN", "MAILBOX full", "K\u212a\u017f\u0130"]:
        assert _all_searches(guarded, text) == _all_searches(plain, text), (pattern, text[:200])


def _module_patterns():
    """Every compiled pattern at module level in the parser and classifier."""
    import importlib
    import pkgutil

    import bouncesink.classify
    import bouncesink.parse
    import bouncesink.parse.mta
    found = {}
    for pkg in (bouncesink.parse, bouncesink.parse.mta, bouncesink.classify):
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for name, value in vars(mod).items():
                plain = getattr(value, "re", value)
                if isinstance(plain, re.Pattern) and isinstance(plain.pattern, str):
                    found[f"{mod.__name__}.{name}"] = plain
    return found


MODULE_PATTERNS = _module_patterns()
LINES = [t for t in TEXTS if "\n" not in t]


@pytest.mark.parametrize("name", sorted(MODULE_PATTERNS))
def test_guard_exact_on_every_module_pattern(name):
    plain = MODULE_PATTERNS[name]
    guarded = guard(plain)
    for text in LINES:
        assert _all_searches(guarded, text) == _all_searches(plain, text), text[:200]


# automaton=False: the pure-Python substring index used where pyahocorasick is not installed
@pytest.mark.parametrize("automaton", [True, False], ids=["automaton", "index"])
def test_rule_table_matching_is_exact(automaton):
    table = Prefilter(RULE_PATTERNS, automaton=automaton)
    compiled = [re.compile(p, re.I) for p in RULE_PATTERNS]
    for text in TEXTS:
        want = tuple(i for i, c in enumerate(compiled) if c.search(text))
        assert table.matching(text) == want, text[:200]


@pytest.mark.parametrize("automaton", [True, False], ids=["automaton", "index"])
def test_provider_table_matching_is_exact(automaton):
    table = Prefilter(PROVIDER_PATTERNS, re.I | re.M, automaton=automaton)
    compiled = [re.compile(p, re.I | re.M) for p in PROVIDER_PATTERNS]
    for text in TEXTS:
        want = tuple(i for i, c in enumerate(compiled) if c.search(text))
        assert table.matching(text) == want, text[:200]


def test_factors_and_prefixes():
    from re import _parser as P
    assert factors(P.parse("user (?:unknown|not found)", re.I)) == {"unknown", "not found"}
    assert prefixes(P.parse("(?:in reply to|after)\\s*data", re.I)) == {"in reply to", "after"}
    assert prefixes(P.parse("(?:a)?b", re.I)) is None
    assert factors(P.parse("(?i:abc)", 0)) is None  # case folding inside: no plain factor
    assert split_branches(r"a|(?:b|c)|[|]|\|d") == ["a", "(?:b|c)", "[|]", r"\|d"]


_WORDS = st.sampled_from(["user", "unknown", "USER", "Unknown", "mailbox", "full", "rate limit",
                          "connection", "bl", " ", "\n", "in reply to", "RCPT", "DATA", ">>>",
                          "after", "I'm afraid I wasn't able to deliver", "Status: 5.1.1",
                          "\u212a", "\u0130", "\u00df", "\u017f", ":", "-", "qmail-send"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=30).map("".join))
def test_property_guard_and_table_exact(text):
    for pattern, flags in SAMPLE_PATTERNS:
        plain = re.compile(pattern, flags)
        assert _all_searches(guard(plain), text) == _all_searches(plain, text)
    want = tuple(i for i, p in enumerate(RULE_PATTERNS) if re.search(p, text, re.I))
    assert rules._PREFILTER.matching(text) == want
    assert _INDEX_TABLE.matching(text) == want


_INDEX_TABLE = Prefilter(RULE_PATTERNS, automaton=False)


def test_rule_tables_use_the_automaton_when_installed():
    pytest.importorskip("ahocorasick")
    assert rules._PREFILTER._automaton is not None
    assert rules._PROVIDER_WORDS._automaton is not None


def test_readings_table_is_current():
    """classify/_readings.py holds, for every pattern the parser's tables and guards read at
    start-up, exactly what reading it now gives, and nothing else: after a pattern changed,
    `python -m bouncesink.classify` rewrites it. (A pattern missing from the table is read at
    start-up instead, so a stale table costs time, never a wrong answer.)"""
    import json
    import subprocess
    import sys

    code = (
        "import json, bouncesink.parse\n"
        "from bouncesink.classify import prefilter as pf, rules\n"
        "[rules._provider_conditions(i) for i in range(len(rules.PROVIDER_RULES))]\n"
        "print(json.dumps(sorted(pf.USED)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    used = {tuple(k) for k in json.loads(out.stdout)}
    from bouncesink.classify import _readings, prefilter as pf
    table = _readings.TABLE
    assert used, "the tables read no pattern"
    missing = used - set(table)
    stale = set(table) - used
    wrong = [k for k in used & set(table) if table[k] != pf._ANALYSERS[k[0]](k[1], k[2])]
    assert not (missing or stale or wrong), (
        f"{len(missing)} missing, {len(stale)} no longer used, {len(wrong)} out of date:"
        " run `python -m bouncesink.classify`")


def test_a_pattern_outside_the_table_is_read_at_start():
    from bouncesink.classify import prefilter as pf
    table = Prefilter([r"never (?:in|out) the table \d+|another branch"])
    assert table.matching("xx never in the table 12") == (0,)
    assert table.matching("ANOTHER BRANCH") == (0,)
    assert table.matching("never the table") == ()
    assert ("p", r"never (?:in|out) the table \d+|another branch", re.I) in pf.USED
