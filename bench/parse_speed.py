"""Parse + classify speed over a corpus, with flufl.bounce's address-only scan as reference.

    python bench/parse_speed.py CORPUS_DIR [PASSES]

Reads every *.eml under CORPUS_DIR (recursively) into memory once, then runs PASSES passes
(default 5) of bouncesink's parse() (which classifies), then the same passes of
flufl.bounce.all_failures over email.message_from_bytes(compat32): one process, one core.
"""

from __future__ import annotations

import sys
import time
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bouncesink.parse import parse  # noqa: E402


def load(corpus: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(corpus.rglob("*.eml"))]


def rate(fn, messages: list[bytes], passes: int) -> float:
    start = time.perf_counter()
    for _ in range(passes):
        for raw in messages:
            fn(raw)
    return passes * len(messages) / (time.perf_counter() - start)


def _flufl(raw: bytes):
    from flufl.bounce import all_failures
    return all_failures(message_from_bytes(raw, policy=compat32))


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: parse_speed.py CORPUS_DIR [PASSES]", file=sys.stderr)
        return 2
    messages = load(Path(argv[0]))
    passes = int(argv[1]) if len(argv) > 1 else 5
    if not messages:
        print(f"no .eml files under {argv[0]}", file=sys.stderr)
        return 2
    parse(messages[0])  # imports and regex compilation out of the timing
    ours = rate(parse, messages, passes)
    ref = rate(_flufl, messages, passes)
    print(f"messages: {len(messages)} x {passes} passes")
    print(f"bouncesink parse+classify: {ours:,.0f} messages/s")
    print(f"flufl.bounce all_failures (addresses only): {ref:,.0f} messages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
