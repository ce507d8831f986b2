"""Fuzz parse(): executions, crashes (must be 0) and the slowest input per KB.

    .venv/bin/python bench/fuzz_parse.py [--seconds S] [--engine atheris|hypothesis]

With atheris installed (`pip install atheris`; not a dependency of the project) it runs
coverage-guided libFuzzer mutation over the bytes of the tests/data messages (a temporary
copy is the corpus: libFuzzer writes new inputs there), the bouncesink modules instrumented.
Without it, hypothesis at scale: messages built from the fixtures with random splices, runs
of blanks and punctuation, broken MIME boundaries, huge fields and random bytes.

A crash is any of: parse() raising (it must never raise), a result whose recipient holds a
control or bidi character, a type or reason outside the model's vocabulary, a hard result
without a recipient. Detector errors recorded in Parsed.errors are counted apart (parse()
survives them by design, but each is a bug worth reading). For each input the CPU time of
parse() divided by its size in KB (at least 1 KB) is kept (a candidate for the slowest is
parsed twice and the faster time kept: one-time costs are not the input's); the slowest is
printed, and saved to bench/fuzz-slowest.eml for a look (not committed). Under atheris the
code is instrumented for coverage, so its times are several times those of plain parse().
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


WARM_UP = 100  # first executions compile the rule tables and fill caches: not timed


class Stats:
    def __init__(self) -> None:
        self.executions = 0
        self.crashes: list[tuple[str, bytes]] = []
        self.detector_errors = 0
        self.error_kinds: dict[str, int] = {}
        self.error_samples: dict[str, tuple[str, bytes]] = {}
        self.slowest = (0.0, 0, b"")  # (seconds per KB, bytes, input)
        self.started = time.perf_counter()

    def report(self, engine: str) -> None:
        took = time.perf_counter() - self.started
        per_kb, size, raw = self.slowest
        print(f"engine: {engine}")
        print(f"executions: {self.executions} in {took:.0f} s ({self.executions / max(took, 1e-9):.0f}/s)")
        print(f"crashes: {len(self.crashes)}")
        for what, data in self.crashes[:5]:
            print(f"  {what}  input {data[:80]!r}...")
        print(f"detector errors survived: {self.detector_errors}"
              + "".join(f"\n  {k}: {n}" for k, n in sorted(self.error_kinds.items(), key=lambda kv: -kv[1])[:8]))
        print(f"slowest input per KB: {per_kb * 1000:.2f} ms/KB ({size} bytes)")
        if raw:
            (ROOT / "bench" / "fuzz-slowest.eml").write_bytes(raw)
        out = Path(tempfile.gettempdir()) / "fuzz-parse-errors"
        out.mkdir(exist_ok=True)
        for i, (kind, (error, data)) in enumerate(sorted(self.error_samples.items())):
            (out / f"{i}.eml").write_bytes(data)
            print(f"  sample {out / f'{i}.eml'}: {error[:150]}")


def check(stats: Stats, raw: bytes, parse, model) -> None:
    stats.executions += 1
    start = time.process_time()
    try:
        parsed = parse(raw)
    except Exception as exc:  # parse() must never raise
        stats.crashes.append((f"raised {type(exc).__name__}: {exc}", raw))
        return
    took = time.process_time() - start
    per_kb = took / max(1.0, len(raw) / 1024)
    if stats.executions > WARM_UP and per_kb > stats.slowest[0]:
        # timed again: a first sight of a rule or a code path pays one-time costs (lazily
        # compiled patterns, imports) that a steady server does not
        again = time.process_time()
        parse(raw)
        per_kb = min(per_kb, (time.process_time() - again) / max(1.0, len(raw) / 1024))
    if stats.executions > WARM_UP and per_kb > stats.slowest[0]:
        stats.slowest = (per_kb, len(raw), raw)
    stats.detector_errors += len(parsed.errors)
    for e in parsed.errors:
        kind = e.split(":", 2)[0] + ":" + e.split(":", 2)[1] if e.count(":") >= 1 else e
        if kind not in stats.error_kinds:
            stats.error_samples[kind] = (e, raw)
        stats.error_kinds[kind] = stats.error_kinds.get(kind, 0) + 1
    for r in parsed.results:
        if r.recipient and _UNSAFE.search(r.recipient):
            stats.crashes.append((f"unsafe recipient {r.recipient!r}", raw))
        if r.type not in model.TYPES or r.reason not in model.REASONS:
            stats.crashes.append((f"type/reason {r.type!r}/{r.reason!r}", raw))
        if r.type == model.HARD and not r.recipient:
            stats.crashes.append(("hard without recipient", raw))


def run_atheris(seconds: int, stats: Stats) -> None:
    import atheris

    with atheris.instrument_imports(include=["bouncesink"]):
        from bouncesink import model
        from bouncesink.parse import parse

    corpus = tempfile.mkdtemp(prefix="fuzz-parse-")
    for p in DATA.glob("*.eml"):
        shutil.copy(p, corpus)

    deadline = time.monotonic() + seconds

    def one(data: bytes) -> None:
        check(stats, data, parse, model)
        if time.monotonic() > deadline:
            # libFuzzer leaves by exit() from C, past Python's atexit: report, then leave
            stats.report("atheris (libFuzzer, coverage-guided)")
            shutil.rmtree(corpus, True)
            sys.stdout.flush()
            os._exit(1 if stats.crashes else 0)

    atheris.Setup([sys.argv[0], f"-max_total_time={seconds + 60}", "-max_len=262144",
                   "-print_final_stats=0", corpus], one)
    atheris.Fuzz()


def run_hypothesis(seconds: int, stats: Stats) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from bouncesink import model
    from bouncesink.parse import parse

    seeds = [p.read_bytes() for p in sorted(DATA.glob("*.eml"))]
    blanks = " \t\xa0\u3000\u200b\r\n"
    punct = "-=_*#>.<:;,@()[]\"'`!?/\\|~^$%&+"
    run = st.tuples(st.sampled_from(list(blanks + punct + "a0@")), st.integers(1, 200_000)).map(
        lambda t: (t[0] * t[1]).encode("utf-8"))
    piece = st.one_of(st.binary(max_size=2000), run,
                      st.sampled_from([b"\n--B\n", b"\n--B--\n", b"Content-Type: multipart/mixed; boundary=B\n",
                                       b"Content-Type: message/delivery-status\n\n",
                                       b"Final-Recipient: rfc822; ", b"Status: 5.1.1\n", b"Action: failed\n",
                                       b"Diagnostic-Code: smtp; 550 ", b"Content-Transfer-Encoding: base64\n",
                                       b"=?utf-8?b?", b"\r", b"\n\n", b"<x@example.com>"]))

    @st.composite
    def messages(draw):
        seed = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(seed)))
            cut = draw(st.integers(0, 200))
            seed = seed[:at] + draw(piece) + seed[at + cut:]
        return seed

    deadline = time.monotonic() + seconds

    @settings(max_examples=10**9, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(messages())
    def fuzz(raw):
        if time.monotonic() > deadline:
            raise _Done
        check(stats, raw, parse, model)

    try:
        fuzz()
    except _Done:
        pass
    stats.report("hypothesis")


class _Done(Exception):
    pass


def main() -> int:
    import logging
    # flufl.bounce logs each of its detectors' exceptions with a traceback; parse() survives
    # them (the fallback is tried last), and the fuzzer would print thousands
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--engine", choices=("atheris", "hypothesis"))
    args = ap.parse_args()
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    stats = Stats()
    if engine == "atheris":
        run_atheris(args.seconds, stats)
    else:
        run_hypothesis(args.seconds, stats)
    return 1 if stats.crashes else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
