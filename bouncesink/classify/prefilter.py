"""A cheap necessary condition for a table of case-insensitive regular expressions.

Python's `re` tries every alternative of a big alternation at every position of the text,
which made the diagnostic-text rules the most expensive step of parse+classify. For each
pattern we derive, from its parse tree, a set of literal strings ("factors") of which every
match must contain at least one (a run of literal characters that every match passes
through; for an alternation, the union over its branches). A text is then only searched with
the patterns whose factors occur in it, found through the text's 4-character substrings.

The condition is exact (never drops a pattern that would match): a pattern for which no
factor can be derived is always searched, and texts holding characters whose case folding
under re.IGNORECASE differs from str.lower() are searched with every pattern.

With pyahocorasick installed, the factors occurring in a text are found in one C pass of an
Aho-Corasick automaton over its lower-cased form (a sixth of the time of the substring
index); without it, through the index. Both give the same answers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as C
from re import _parser as P

try:
    import ahocorasick
except ImportError:  # the pure-Python index below answers the same, more slowly
    ahocorasick = None

# re.IGNORECASE folds these onto ASCII letters (or back), str.lower() does not agree
_ODD_FOLDING = re.compile("[\u0130\u0131\u017f\u212a\u212b\u1e9e\u00df\ufb00-\ufb06\u03c2\u1fbe\u0345]")


def _items(seq) -> list:
    """The (op, av) list of a parsed pattern: a SubPattern's own list, not its __getitem__
    (one Python call per item, most of the cost of reading the rule tables at start-up)."""
    return seq.data if isinstance(seq, P.SubPattern) else seq


def _better(a: set[str] | None, b: set[str]) -> set[str]:
    if a is None:
        return b
    ka = (min(map(len, a)), -len(a))
    kb = (min(map(len, b)), -len(b))
    return b if kb > ka else a


def factors(seq, fold: bool = True) -> set[str] | None:
    """Strings (lower-cased when `fold`) one of which every match of `seq` contains, or None."""
    best: set[str] | None = None
    run: list[str] = []

    def flush():
        nonlocal best
        if run:
            best = _better(best, {"".join(run)})
            run.clear()

    for op, av in _items(seq):
        if op is C.LITERAL:
            run.append(chr(av).lower() if fold else chr(av))
            continue
        flush()
        cond = None
        if op is C.SUBPATTERN:
            if not (av[1] or av[2]):  # (?i:...) / (?-i:...) change what lower() can say
                cond = factors(av[-1], fold)
        elif op is C.BRANCH:
            alts = [factors(alt, fold) for alt in av[1]]
            if alts and all(alts):
                cond = set().union(*alts)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            if av[0] >= 1:
                cond = factors(av[2], fold)
        elif op is C.ATOMIC_GROUP:
            cond = factors(av, fold)
        if cond and all(cond):
            best = _better(best, cond)
    flush()
    return best


def split_branches(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern's source ("a|(?:b|c)" -> ["a", "(?:b|c)"])."""
    out, depth, cls, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if cls:
            if c == "]":
                cls = False
        elif c == "[":
            cls = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1  # a "]" first in a class is literal
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


def conditions(seq, keep: int = 3) -> list[set[str]]:
    """Several independent factor sets of `seq` (each necessary), most selective first."""
    found: list[set[str]] = []
    run: list[str] = []
    for op, av in _items(seq) + [(None, None)]:
        if op is C.LITERAL:
            run.append(chr(av).lower())
            continue
        if run:
            found.append({"".join(run)})
            run = []
        if op is None:
            break
        cond = factors([(op, av)])
        if cond and all(cond):
            found.append(cond)
    found.sort(key=lambda c: (min(map(len, c)), -len(c)), reverse=True)
    return found[:keep]


_GRAM = 4  # factors are found through the text's substrings of this length
# Only the substrings starting at every _STRIDE-th character of the text are taken (slicing
# and hashing them is most of the cost of a look-up). Any occurrence of a factor of at least
# _GRAM + _STRIDE - 1 characters then holds one of them at one of _STRIDE consecutive offsets,
# so such a factor is filed under its _GRAM-character substrings at those offsets; a shorter
# factor is tested with `in` directly.
_STRIDE = 3

# The last text's lower-cased form and substrings: the rule table and the provider table are
# asked about the same diagnostic one after the other. Three references, never grows.
_LAST_GRAMS: list = [None, "", frozenset()]

# Rough share of each character in English mail text: a factor is filed under its rarest
# 4-character substring, so that common words ("user", "mail") seldom send us to check it.
_COMMON = dict(zip(" etaoinsrhldcumfpgwybvkxjqz", range(27, 0, -1)))


def _rare_grams(f: str) -> list[str]:
    """The _STRIDE consecutive _GRAM-character substrings of `f` (len(f) >= _GRAM + _STRIDE
    - 1) least likely to occur in ordinary text: one of them starts at a sampled position."""
    grams = [f[i:i + _GRAM] for i in range(len(f) - _GRAM + 1)]
    weight = [sum(_COMMON.get(c, 8) for c in g) for g in grams]
    best = min(range(len(grams) - _STRIDE + 1), key=lambda k: (max(weight[k:k + _STRIDE]), k))
    return list(dict.fromkeys(grams[best:best + _STRIDE]))


class Prefilter:
    """`matching(text)`: indexes of the patterns that match `text` (re.I and `flags`), in
    table order.

    Each pattern is split into its top-level alternatives, each compiled on its own with its
    own factors, so that a text is searched only with the few alternatives that can match.
    """

    def __init__(self, patterns: list[str], flags: int = re.I, automaton: bool = True):
        if not flags & re.I:
            raise ValueError("Prefilter reads its factors case-insensitively: re.I is required")
        self.flags = flags
        self.size = len(patterns)
        self.branches: list[tuple[str, int]] = []        # (source, pattern index)
        self._compiled: dict[int, re.Pattern[str]] = {}  # compiled when first searched
        self.always: list[int] = []                      # branch numbers
        self.owners: dict[str, list[int]] = {}           # factor -> branches it admits
        self.short: list[str] = []                       # factors under _GRAM + _STRIDE - 1 characters
        self.by_gram: dict[str, list[str]] = {}          # _GRAM characters -> factors holding them
        self.also: list[tuple[tuple[str, ...], ...]] = []   # further conditions per branch
        self.leads: list[tuple[str, ...] | None] = []    # literals every match starts with
        for i, pattern in enumerate(patterns):
            for alt, conds, lead in analysed("p", pattern, flags):
                b = len(self.branches)
                self.branches.append((alt, i))
                self.also.append(conds[1:])
                self.leads.append(lead)
                if not conds:
                    self.always.append(b)
                    continue
                for f in conds[0]:
                    self.owners.setdefault(f, []).append(b)
        # every factor -> the branches it admits, found in one pass (pyahocorasick); the
        # substring index only where there is no automaton (it costs start-up time)
        self._automaton = None
        if automaton and ahocorasick is not None and self.owners:
            self._automaton = ahocorasick.Automaton()
            for f, bs in self.owners.items():
                self._automaton.add_word(f, tuple(bs))
            self._automaton.make_automaton()
        else:
            for f in self.owners:
                if len(f) < _GRAM + _STRIDE - 1:
                    self.short.append(f)
                else:
                    for g in _rare_grams(f):
                        self.by_gram.setdefault(g, []).append(f)
        self._grams = frozenset(self.by_gram)
        self._every = tuple(range(len(self.branches)))
        # match() and reasons() of the rule table ask about the same diagnostic texts
        self.matching = lru_cache(maxsize=4096)(self._matching)

    def _branch(self, b: int) -> re.Pattern[str]:
        compiled = self._compiled.get(b)
        if compiled is None:
            compiled = self._compiled[b] = re.compile(self.branches[b][0], self.flags)
        return compiled

    def candidates(self, text: str) -> tuple[int, ...]:
        """Branch numbers that may match `text`, ascending."""
        if not text.isascii() and _ODD_FOLDING.search(text):
            return self._every
        text0, low, grams = _LAST_GRAMS  # one read: another thread may write it meanwhile
        if text0 is not text:
            low, grams = text.lower(), None
        hit = set(self.always)
        automaton = self._automaton
        if automaton is not None:
            if text0 is not text:
                _LAST_GRAMS[:] = (text, low, None)
            for _, branches in automaton.iter(low):
                hit.update(branches)
        else:
            if grams is None:  # substrings taken once per text, shared by the tables
                grams = {low[j:j + _GRAM] for j in range(0, len(low) - _GRAM + 1, _STRIDE)}
                _LAST_GRAMS[:] = (text, low, grams)
            owners = self.owners
            for f in self.short:
                if f in low:
                    hit.update(owners[f])
            by_gram = self.by_gram
            filed: set[str] = set()  # a factor is filed under several substrings: tested once
            for g in self._grams.intersection(grams):
                filed.update(by_gram[g])
            for f in filed:
                if f in low:
                    hit.update(owners[f])
        also = self.also
        out = []
        for b in sorted(hit):
            conds = also[b]
            if conds:
                for cond in conds:
                    for f in cond:
                        if f in low:
                            break
                    else:
                        break  # a necessary factor set with no factor in the text
                else:
                    out.append(b)
            else:
                out.append(b)
        return tuple(out)

    def _matching(self, text: str) -> tuple[int, ...]:
        out: list[int] = []
        branches = self.branches
        leads = self.leads
        candidates = self.candidates(text)
        text0, low, _ = _LAST_GRAMS
        if text0 is not text:
            low = text.lower()
        if len(low) != len(text):
            low = None  # positions in the lowered text would not be positions in the text
        for b in candidates:
            i = branches[b][1]
            if out and out[-1] == i:
                continue
            lead = leads[b]
            if lead is None or low is None:
                if self._branch(b).search(text):
                    out.append(i)
                continue
            # every match starts with one of `lead`: try the pattern only where they occur
            match = self._branch(b).match
            for prefix in lead:
                at = low.find(prefix)
                while at >= 0 and match(text, at) is None:
                    at = low.find(prefix, at + 1)
                if at >= 0:
                    out.append(i)
                    break
        return tuple(out)




def _analyse_prefilter(pattern: str, flags: int) -> tuple:
    """A Prefilter's reading of one pattern: ((branch source, conditions, leads), ...), each
    condition a sorted tuple of factors (most selective condition first), leads a tuple of
    the literals every match of the branch starts with, or None."""
    alts = split_branches(pattern)
    try:
        tree = P.parse(pattern, flags).data
    except re.error:
        tree = None
    if len(alts) > 1 and tree and len(tree) == 1 and tree[0][0] is C.BRANCH \
            and len(tree[0][1][1]) == len(alts):
        parsed = tree[0][1][1]
    else:
        alts, parsed = [pattern], [tree]  # the source split disagrees with the parser
    out = []
    for alt, sub in zip(alts, parsed):
        try:
            conds = conditions(sub) if sub is not None else []
        except Exception:  # a construct we do not read: always search it
            conds = []
        try:
            lead = prefixes(sub) if sub is not None else None
        except Exception:
            lead = None
        ok = lead and all(p.isascii() for p in lead) and len(lead) <= 24
        out.append((alt, tuple(tuple(sorted(c)) for c in conds),
                    tuple(sorted(lead)) if ok else None))
    return tuple(out)


def _analyse_guarded(pattern: str, flags: int) -> tuple:
    """A Guarded's reading of one pattern: (factors, longest first, or None; leads or None)."""
    fold = bool(flags & re.IGNORECASE)
    try:
        tree = P.parse(pattern, flags)
        found = factors(tree, fold)
        lead = prefixes(tree, fold)
    except Exception:
        found = lead = None
    if found and fold and not all(f.isascii() for f in found):
        found = None  # keep str.lower() / re.I differences out of the question
    if lead and not all(f.isascii() for f in lead):
        lead = None
    if found:  # one factor holding another says nothing more ("qmail-send program")
        found = {f for f in found if not any(g != f and g in f for g in found)}
    return (tuple(sorted(found, key=lambda f: (-len(f), f))) if found else None,
            tuple(sorted(lead)) if lead and len(lead) <= 16 else None)


_ANALYSERS = {"p": _analyse_prefilter, "g": _analyse_guarded}
USED: set[tuple[str, str, int]] = set()   # every reading asked for in this process


def analysed(kind: str, pattern: str, flags: int) -> tuple:
    """The reading of `pattern` by a Prefilter ("p") or a Guarded ("g"): from the table
    that `python -m bouncesink.classify` writes (reading ~400 patterns with the
    re module's pure-Python parser is most of the start-up time of `bouncesink parse`),
    or worked out here for a pattern the table does not hold. The table is data derived
    from the patterns, never a second source of truth: a test checks it is current."""
    key = (kind, pattern, int(flags))
    USED.add(key)
    got = _table().get(key)
    return got if got is not None else _ANALYSERS[kind](pattern, int(flags))


@lru_cache(maxsize=1)
def _table() -> dict:
    try:
        from ._readings import TABLE
    except ImportError:
        return {}
    return TABLE


def write_table(path: str) -> int:
    """Write the readings of every pattern analysed so far in this process to `path` (a
    Python module); the number written."""
    rows = sorted((key, _ANALYSERS[key[0]](key[1], key[2])) for key in USED)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('"""Generated by `python -m bouncesink.classify`: how the Prefilter and\n'
                 'Guarded patterns read (factors, leading literals). Do not edit; regenerate after\n'
                 'changing a pattern (tests/test_prefilter.py says when)."""\n\n'
                 "# fmt: off\nTABLE = {\n")
        for key, value in rows:
            fh.write(f"    {key!r}: {value!r},\n")
        fh.write("}\n")
    return len(rows)


def prefixes(seq, fold: bool = True) -> set[str] | None:
    """Literal strings one of which every match of `seq` starts with, or None."""
    items = _items(seq)
    if not items:
        return None
    op, av = items[0]
    if op is C.LITERAL:
        run = []
        for op2, av2 in items:
            if op2 is not C.LITERAL:
                break
            run.append(chr(av2))
        lead = "".join(run)
        return {lead.lower() if fold else lead}
    if op is C.SUBPATTERN and not (av[1] or av[2]):
        return prefixes(av[-1], fold)
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            got = prefixes(alt, fold)
            if not got:
                return None
            out |= got
        return out
    return None


# Below this length a text is searched by the regex at every position: finding where the
# leading literals occur costs more than it saves.
_SHORT = 300

# The last two texts lowered by Guarded patterns: a table of them searched over the same
# texts (the provider rules: host, diagnostic) lowers each once. Two references, never grows.
_LAST_LOWERED: list = [None, None, None, None]


class Guarded:
    """A compiled pattern that first checks, with plain substring tests, that one of its
    literal factors occurs in the text: a regex with a wide alternation under re.I costs
    ~40 ns per character searched even where nothing matches; the test costs one lower()
    and a few `in`. When every match starts with one of a few literal strings, the pattern
    is tried only where they occur (str.find), not at every position. search / match /
    findall / finditer answer exactly as the pattern's own."""

    __slots__ = ("re", "_factors", "_fold", "_lead")

    def __init__(self, compiled: re.Pattern[str]):
        self.re = compiled
        self._fold = bool(compiled.flags & re.IGNORECASE)
        self._factors, self._lead = analysed("g", compiled.pattern, compiled.flags)

    def _view(self, text: str) -> str | None:
        """The text as the factors are written (lower-cased under re.I); None when lower()
        and re.I might disagree."""
        if not self._fold:
            return text
        if not text.isascii() and _ODD_FOLDING.search(text):
            return None
        # one read and one write of the shared pair, each a single step under the GIL:
        # classification threads may interleave here
        text0, low0, text1, low1 = _LAST_LOWERED
        if text0 is text:
            return low0
        if text1 is text:
            return low1
        low = text.lower()
        _LAST_LOWERED[:] = (text, low, text0, low0)
        return low

    def _may_match(self, text: str) -> bool:
        if self._factors is None:
            return True
        view = self._view(text)
        if view is None:
            return True
        for f in self._factors:
            if f in view:
                return True
        return False

    def _starts(self, text: str) -> list[int] | None:
        """Where a match can start, ascending; None when every position must be tried."""
        if self._lead is None:
            return None
        view = self._view(text)
        if view is None or len(view) != len(text):
            return None
        starts: set[int] = set()
        for lead in self._lead:
            at = view.find(lead)
            while at >= 0:
                starts.add(at)
                at = view.find(lead, at + 1)
        return sorted(starts)

    def search(self, text: str, *args):
        if not self._may_match(text):
            return None
        if args or len(text) < _SHORT:
            return self.re.search(text, *args)
        starts = self._starts(text)
        if starts is None:
            return self.re.search(text)
        match = self.re.match
        for at in starts:
            mo = match(text, at)
            if mo is not None:
                return mo
        return None

    def match(self, text: str, *args):
        return self.re.match(text, *args) if self._may_match(text) else None

    def finditer(self, text: str, *args):
        if not self._may_match(text):
            return iter(())
        if args or len(text) < _SHORT:
            return self.re.finditer(text, *args)
        starts = self._starts(text)
        if starts is None:
            return self.re.finditer(text)
        return self._iter(text, starts)

    def _iter(self, text: str, starts: list[int]):
        match = self.re.match
        pos = 0
        for at in starts:
            if at < pos:
                continue
            mo = match(text, at)
            if mo is not None:
                yield mo
                pos = mo.end() if mo.end() > at else at + 1

    def findall(self, text: str, *args):
        if not self._may_match(text):
            return []
        if args or self._lead is None or len(text) < _SHORT:
            return self.re.findall(text, *args)
        groups = self.re.groups
        out = []
        for mo in self.finditer(text):
            out.append(mo.group(0) if groups == 0 else mo.group(1) if groups == 1 else mo.groups(""))
        return out

    def __getattr__(self, name):
        return getattr(self.re, name)


def guard(compiled: re.Pattern[str]) -> Guarded:
    return Guarded(compiled)

