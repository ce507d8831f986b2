"""Matching the rule tables against a diagnostic text.

The tables are data in their own modules: classify/wordings.py (general wordings, whichever
server wrote them) and classify/providers.py (a provider's own words and codes); the two
rule types are in classify/rule.py. This module finds, fast, which rules a text matches: the
tables are large, and most texts examined (paragraphs around addresses) match nothing, so
each text is searched only with the alternatives whose literal words it holds
(classify/prefilter.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .prefilter import Guarded, Prefilter, guard
from .providers import PROVIDER_RULES
from .rule import ProviderRule, Rule
from .wordings import RULES

__all__ = ["RULES", "PROVIDER_RULES", "Rule", "ProviderRule", "provider", "reasons", "match"]

_PROVIDER_WORDS = Prefilter([r.pattern for r in PROVIDER_RULES], re.I | re.M)


_PROVIDER_CONDITIONS: dict[int, tuple[Guarded | None, re.Pattern[str] | None]] = {}


def _provider_conditions(i: int) -> tuple[Guarded | None, re.Pattern[str] | None]:
    """Rule i's host and status patterns, compiled when its words first occur in a text (as
    Prefilter compiles its branches): most rules are never tried in a run."""
    got = _PROVIDER_CONDITIONS.get(i)
    if got is None:
        r = PROVIDER_RULES[i]
        got = _PROVIDER_CONDITIONS[i] = (guard(re.compile(r.host, re.I)) if r.host else None,
                                         re.compile(r.status) if r.status else None)
    return got


def provider(text: str, host: str, status: str = "", command: str = "") -> ProviderRule | None:
    """The first provider rule for `host` (the remote MTA and the recipient's domain) that
    matches, at `command` (the SMTP command the reply answered, when known). A provider's words
    from another host follow the general order: a text merely naming a provider (a hint, a
    URL) does not make its table apply."""
    if not text:
        return None
    for i in _PROVIDER_WORDS.matching(text):  # the rules whose words occur, in table order
        rule = PROVIDER_RULES[i]
        host_re, status_re = _provider_conditions(i)
        if host_re is not None and not host_re.search(host):
            continue
        if status_re is not None and not status_re.search(status):
            continue
        if rule.not_at and command == rule.not_at:
            continue
        return rule
    return None


# Most texts examined (paragraphs around addresses) match no rule at all: each text is searched
# only with the alternatives whose literal words it holds (classify/prefilter.py).
_PREFILTER = Prefilter([r.pattern for r in RULES])


@lru_cache(maxsize=4096)
def reasons(text: str) -> tuple[tuple[str, Rule], ...]:
    """Every reason some non-weak rule finds in `text`, each with its first rule, table order."""
    if not text:
        return ()
    out: dict[str, Rule] = {}
    for i in _PREFILTER.matching(text):
        rule = RULES[i]
        if not rule.weak and rule.reason not in out:
            out[rule.reason] = rule
    return tuple(out.items())


@lru_cache(maxsize=4096)
def match(text: str) -> Rule | None:
    """The first rule whose pattern occurs in `text`, or None."""
    if not text:
        return None
    found = _PREFILTER.matching(text)
    return RULES[found[0]] if found else None
