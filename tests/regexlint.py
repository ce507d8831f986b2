"""A static check that a regular expression runs in linear time on runs of one character.

Python's `re` is a backtracking engine: a pattern costs more than linear time on a run of a
character c when two unbounded repeats that can both match c follow each other with only
c-matching or optional items between them (`\\s*x?\\s*`, `.*:.*`: every split of the run is
tried), when an unbounded repeat holds another that can match c (`(?:a+)+`), or, for a
pattern used with search() (which tries every start), when it opens with an unbounded repeat
that matches c and can then fail (`[^:]+@` over "xxxx...": each start scans to the end).
A run of one character is what an attacker sends (5,000 spaces, a line of "@"), and it is
the case these rules decide exactly for single-character runs; a possessive repeat (`*+`)
or an atomic group gives nothing back, so it ends the ambiguity.

`problems(pattern)` -> list of (character, kind) found. Counting steps needs no clock: the
finding is structural, and tests/test_parse_linear.py also counts characters scanned.
"""

from __future__ import annotations

import re
from re import _constants as C  # noqa: N812
from re import _parser as P  # noqa: N812

# The characters whose runs are checked: every ASCII character, the Unicode blanks an
# attacker can send (NBSP, ideographic space, line separators, zero-width space) and a
# letter and a digit outside ASCII.
ALPHABET = [chr(i) for i in range(1, 128)] + [
    "\x85", "\xa0", "\u1680", "\u2000", "\u2007", "\u200b", "\u2028", "\u2029", "\u202f",
    "\u3000", "\ufeff", "é", "字", "٣"]
_ASCII, _IGNORECASE, _DOTALL, _MULTILINE, _UNICODE = (
    int(re.ASCII), int(re.IGNORECASE), int(re.DOTALL), int(re.MULTILINE), int(re.UNICODE))
BOUND = 1000  # a repeat bounded by more than this counts as unbounded


def _cat(cat, ch: str, unicode: bool) -> bool:
    name = str(cat)
    if name.endswith("NOT_DIGIT") or name.endswith("NOT_SPACE") or name.endswith("NOT_WORD") \
            or name.endswith("NOT_LINEBREAK"):
        return not _cat(type(cat)(cat) if False else _positive(cat), ch, unicode)
    if name.endswith("DIGIT"):
        return ch.isdigit() if unicode else ch in "0123456789"
    if name.endswith("SPACE"):
        return ch.isspace() if unicode else ch in " \t\n\r\f\v"
    if name.endswith("WORD"):
        return (ch.isalnum() or ch == "_") if unicode else (ch.isascii() and (ch.isalnum() or ch == "_"))
    if name.endswith("LINEBREAK"):
        return ch == "\n"
    return False


_POSITIVE = {}


def _positive(cat):
    name = str(cat).replace("NOT_", "")
    for c in C.CHCODES:
        if str(c) == name:
            return c
    raise ValueError(name)


def _in(items, ch: str, flags: int) -> bool:
    unicode = not flags & _ASCII
    cands = {ch}
    if flags & _IGNORECASE:
        cands |= {ch.lower(), ch.upper()}
    negate = False
    hit = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            hit |= chr(av) in cands
        elif op is C.RANGE:
            hit |= any(av[0] <= ord(x) <= av[1] for x in cands if len(x) == 1)
        elif op is C.CATEGORY:
            hit |= any(_cat(av, x, unicode) for x in cands)
    return hit != negate


def _single(op, av, ch: str, flags: int) -> bool | None:
    """Whether a one-character item matches ch; None when op is not one-character."""
    if op is C.LITERAL:
        return _in([(op, av)], ch, flags)
    if op is C.NOT_LITERAL:
        return not _in([(C.LITERAL, av)], ch, flags)
    if op is C.ANY:
        return ch != "\n" or bool(flags & _DOTALL)
    if op is C.IN:
        return _in(av, ch, flags)
    if op is C.CATEGORY:
        return _cat(av, ch, not flags & _ASCII)
    return None


_NULLABLE: dict = {}  # whether an item may match empty does not depend on the character


def _singles(items, flags, out):
    """Every one-character item of a parsed pattern, with the flags in force."""
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.CATEGORY):
            out.append((op, av, flags))
        elif op is C.SUBPATTERN:
            _singles(av[3], (flags | int(av[1])) & ~int(av[2]), out)
        elif op is C.BRANCH:
            for alt in av[1]:
                _singles(alt, flags, out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            _singles(av[2], flags, out)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            _singles(av[1], flags, out)
        elif op is C.ATOMIC_GROUP:
            _singles(av, flags, out)
        elif op is C.GROUPREF_EXISTS:
            _singles(av[1], flags, out)
            if av[2]:
                _singles(av[2], flags, out)


def _dotstar_last(item) -> bool:
    """The item ends with a greedy unbounded ".": ".*", ".+", "(.*)"."""
    op, av = item
    if op is C.SUBPATTERN:
        inner = list(av[3])
        return bool(inner) and _dotstar_last(inner[-1])
    return op is C.MAX_REPEAT and av[1] is C.MAXREPEAT and list(av[2]) == [(C.ANY, None)]


class _Info:
    """What a sub-pattern can do on a run of ch: match empty, match some ch, match ch^k for
    unbounded k (an absorber)."""
    __slots__ = ("nullable", "takes", "unbounded")

    def __init__(self, nullable, takes, unbounded):
        self.nullable, self.takes, self.unbounded = nullable, takes, unbounded


class _Check:
    def __init__(self, ch: str, flags: int):
        self.ch, self.flags, self.found = ch, flags, set()
        self._memo: dict = {}

    def seq(self, items, flags, tail_fails: bool = True) -> _Info:
        """tail_fails: what follows this sequence in its context can fail (an ambiguity
        before a part that always succeeds costs nothing: the first split wins)."""
        key = (id(items), flags, tail_fails)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._seq(items, flags, tail_fails)
        return got

    def _seq(self, items, flags, tail_fails: bool) -> _Info:
        nullable, all_ch, any_takes, unbounded = True, True, False, False
        open_ = 0  # unbounded absorbers since the last item that cannot match ch
        items = list(items)
        # fails_after[i]: something after item i can fail
        fails_after = [tail_fails] * (len(items) + 1)
        for i in range(len(items) - 1, -1, -1):
            op, av = items[i]
            if op is C.AT:
                # "$" right after a greedy ".*": on a run without "\n" the repeat ends at
                # the end of the text, where "$" holds
                prev = items[i - 1] if i else None
                can_fail = not (self.ch != "\n" and av in (C.AT_END, C.AT_END_STRING)
                                and prev is not None and _dotstar_last(prev))
            else:
                can_fail = op in (C.ASSERT, C.ASSERT_NOT, C.GROUPREF) or not self._nullable(op, av, flags)
            fails_after[i] = fails_after[i + 1] or can_fail
        for i, (op, av) in enumerate(items):
            self.tail = fails_after[i + 1]
            info = self.item(op, av, flags)
            if not info.nullable and not info.takes:
                open_ = 0  # a barrier: the run of ch cannot continue through it
                all_ch = False
            elif info.unbounded:
                if op in (C.POSSESSIVE_REPEAT, C.ATOMIC_GROUP):
                    if open_ and fails_after[i + 1]:
                        self.found.add("adjacent")
                    open_ = 0
                else:
                    open_ += 1
                    if open_ >= 2 and fails_after[i + 1]:
                        self.found.add("adjacent")
            nullable = nullable and info.nullable
            any_takes = any_takes or info.takes
            unbounded = unbounded or info.unbounded
        takes = all_ch and any_takes  # can match a non-empty run of ch, wholly
        return _Info(nullable, takes, unbounded and takes)

    def _nullable(self, op, av, flags) -> bool:
        key = (id(av), op, flags)
        got = _NULLABLE.get(key)
        if got is None:
            got = _NULLABLE[key] = _Check(self.ch, flags).item(op, av, flags).nullable
        return got

    def item(self, op, av, flags) -> _Info:
        single = _single(op, av, self.ch, flags)
        if single is not None:
            return _Info(False, single, False)
        if op is C.AT:
            return _Info(True, False, False)
        if op in (C.ASSERT, C.ASSERT_NOT):
            self.seq(av[1], flags)
            return _Info(True, False, False)
        tail = getattr(self, "tail", True)
        if op is C.SUBPATTERN:
            _, add, dele, p = av
            return self.seq(p, (flags | int(add)) & ~int(dele), tail)
        if op is C.ATOMIC_GROUP:
            return self.seq(av, flags, False)
        if op is C.BRANCH:
            infos = [self.seq(alt, flags, tail) for alt in av[1]]
            return _Info(any(i.nullable for i in infos), any(i.takes for i in infos),
                         any(i.unbounded for i in infos))
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, p = av
            body = self.seq(p, flags, op is not C.POSSESSIVE_REPEAT)
            big = hi is C.MAXREPEAT or hi > BOUND
            if big and body.unbounded and op is not C.POSSESSIVE_REPEAT:
                self.found.add("nested")
            return _Info(lo == 0 or body.nullable, body.takes,
                         body.unbounded or (big and body.takes))
        if op is C.GROUPREF_EXISTS:
            _, yes, no = av
            a = self.seq(yes, flags)
            b = self.seq(no, flags) if no else _Info(True, False, False)
            return _Info(a.nullable or b.nullable, a.takes or b.takes, a.unbounded or b.unbounded)
        if op is C.GROUPREF:
            return _Info(True, True, True)  # unknown: assume the worst
        return _Info(True, False, False)


def _leading(items, ch: str, flags: int) -> bool:
    """The pattern, tried at each start by search(), opens with an unbounded absorber of ch
    (after items that may match empty), and is not anchored at the start of the text."""
    chk = _Check(ch, flags)
    for op, av in items:
        if op is C.AT and av in (C.AT_BEGINNING_STRING,) or \
                (op is C.AT and av is C.AT_BEGINNING and (not flags & _MULTILINE or ch != "\n")):
            return False  # tried at the start only, or (MULTILINE) once per run of ch
        if op is C.SUBPATTERN:
            if _leading(av[3], ch, (flags | int(av[1])) & ~int(av[2])):
                return True
            info = chk.item(op, av, flags)
        elif op is C.BRANCH:
            if any(_leading(alt, ch, flags) for alt in av[1]):
                return True
            info = chk.item(op, av, flags)
        else:
            info = chk.item(op, av, flags)
        if info.unbounded:
            return True
        if not info.nullable:
            return False
    return False


def problems(pattern: re.Pattern, searched: bool = True) -> list[tuple[str, str]]:
    """[(character, "adjacent" | "nested" | "leading")] for every character of ALPHABET whose
    runs cost this pattern more than linear time (leading only when `searched`)."""
    src = pattern.pattern
    if isinstance(src, bytes):
        src = src.decode("latin-1")
    flags = int(pattern.flags)
    if isinstance(pattern.pattern, bytes):
        flags = (flags | _ASCII) & ~_UNICODE
    tree = P.parse(src, flags)
    flags = int(tree.state.flags)
    out = []
    # characters that every one-character item treats alike behave alike: one of each kind
    singles: list = []
    _singles(list(tree), flags, singles)
    kinds: dict = {}
    for ch in ALPHABET:
        sig = (ch == "\n",) + tuple(bool(_single(op, av, ch, f)) for op, av, f in singles)
        kinds.setdefault(sig, ch)
    for ch in kinds.values():
        chk = _Check(ch, flags)
        chk.seq(tree.data, flags, False)
        for kind in sorted(chk.found):
            out.append((ch, kind))
        if searched and not _Check(ch, flags).seq(list(tree), flags, False).nullable \
                and _leading(list(tree), ch, flags):
            out.append((ch, "leading"))
    return out
