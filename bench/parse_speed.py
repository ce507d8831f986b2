"""Parse + classify speed over a corpus, with flufl.bounce's address-only scan as reference.

    python bench/parse_speed.py CORPUS_DIR [PASSES] [--no-cli]

Reads every *.eml under CORPUS_DIR (recursively) into memory once, then, in one process on
one core, runs PASSES passes (default 5) of each of:
    bouncesink      parse() (which classifies), the rule cache left warm between passes
    bouncesink-cold the same with the rule-text cache emptied before each pass (what a
                    server sees: no message is classified twice)
    flufl.bounce    all_failures over email.message_from_bytes(compat32), addresses only
    stdlib parse    email.message_from_bytes(compat32) alone
and prints, per line, the best and the median pass in messages/s. The passes are
interleaved (one pass of each in turn) so that load from other processes on the machine
falls on all of them alike. Then it times `bouncesink parse CORPUS_DIR` (the directory
given 5 times, output to /dev/null), best of 3, with and without the start-up (interpreter
and imports): with --jobs 1 (one process) by wall clock and by the child's CPU time (user +
sys, which load from other processes on the machine leaves out), and with one job per core
(the default) by wall clock. The CLI reads every file under the
directory, *.eml or not.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bouncesink.classify import rules  # noqa: E402
from bouncesink.parse import parse  # noqa: E402


def load(corpus: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(corpus.rglob("*.eml"))]


def one_pass(fn, messages: list[bytes], before=None) -> tuple[float, float]:
    """(messages/s of wall time, messages/s of this process's CPU time)."""
    if before is not None:
        before()
    start, cpu = time.perf_counter(), time.process_time()
    for raw in messages:
        fn(raw)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(messages) / wall, len(messages) / max(cpu, 1e-9)


def _flufl(raw: bytes):
    from flufl.bounce import all_failures
    return all_failures(message_from_bytes(raw, policy=compat32))


def _stdlib(raw: bytes):
    return message_from_bytes(raw, policy=compat32)


def _clear_caches() -> None:
    """Every memo of the rule tables (lru_cache'd functions, prefilter answers)."""
    for value in vars(rules).values():
        for fn in (value, getattr(value, "matching", None)):
            if callable(getattr(fn, "cache_clear", None)):
                fn.cache_clear()


def time_cli(corpus: Path, repeat: int = 5, runs: int = 3, jobs: int = 1) -> dict[str, float]:
    """Best seconds of `bouncesink parse CORPUS_DIR` x `repeat` directories ("cli") and of
    `bouncesink parse EMPTY_DIR` ("empty": interpreter start and imports), by wall clock and
    by the child's CPU time ("cli_cpu", "empty_cpu")."""
    import tempfile
    root = Path(__file__).resolve().parents[1]
    best = dict.fromkeys(("cli", "cli_cpu", "empty", "empty_cpu"), float("inf"))
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as pycache:
        # Compiled bytecode cached, as an installed package has it (some environments set
        # PYTHONDONTWRITEBYTECODE, and every start would compile all sources again).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   PYTHONPYCACHEPREFIX=pycache)
        cli = [sys.executable, "-m", "bouncesink", "parse", f"--jobs={jobs}"] + [str(corpus)] * repeat
        bare = [sys.executable, "-m", "bouncesink", "parse", f"--jobs={jobs}", empty]
        subprocess.run(cli, stdout=subprocess.DEVNULL, check=True, env=env, cwd=root)  # cache
        for _ in range(runs):
            for cmd, key in ((cli, "cli"), (bare, "empty")):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env, cwd=root)
                took = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                best[key] = min(best[key], took)
                best[key + "_cpu"] = min(best[key + "_cpu"], cpu)
    return best


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if not args:
        print("usage: parse_speed.py CORPUS_DIR [PASSES] [--no-cli]", file=sys.stderr)
        return 2
    corpus = Path(args[0])
    messages = load(corpus)
    passes = int(args[1]) if len(args) > 1 else 5
    if not messages:
        print(f"no .eml files under {args[0]}", file=sys.stderr)
        return 2
    for raw in messages[:5]:  # imports and regex compilation out of the timing
        parse(raw)
        _flufl(raw)
    runs = {
        "bouncesink parse+classify (warm rule cache)": (parse, None),
        "bouncesink parse+classify (cold rule cache)": (parse, _clear_caches),
        "flufl.bounce all_failures (addresses only)": (_flufl, None),
        "stdlib email.message_from_bytes alone": (_stdlib, None),
    }
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(passes):
        for name, (fn, before) in runs.items():
            rates[name].append(one_pass(fn, messages, before))
    size = sum(map(len, messages)) / len(messages)
    print(f"messages: {len(messages)} (avg {size / 1024:.1f} KB) x {passes} passes, interleaved;"
          f" messages/s by wall clock, and by this process's CPU time (other load left out)")
    for name, got in rates.items():
        wall = [w for w, _ in got]
        cpu = [c for _, c in got]
        print(f"{name}: best {max(wall):,.0f}/s, median {statistics.median(wall):,.0f}/s;"
              f" cpu best {max(cpu):,.0f}/s, median {statistics.median(cpu):,.0f}/s")
    # other processes' load changes from pass to pass: the ratio within one pass is steadier
    ref = rates["flufl.bounce all_failures (addresses only)"]
    for name in list(runs)[:2]:
        ratios = [ours[1] / theirs[1] for ours, theirs in zip(rates[name], ref)]
        print(f"{name} / flufl.bounce, same pass (cpu): median x{statistics.median(ratios):.2f},"
              f" best x{max(ratios):.2f}")
    if "--no-cli" not in argv:
        repeat = 5
        files = sum(1 for p in corpus.rglob("*") if p.is_file()) * repeat
        from bouncesink.parse.many import default_jobs
        cores = default_jobs()
        for jobs in sorted({1, cores}):
            got = time_cli(corpus, repeat, jobs=jobs)
            cli, empty = got["cli"], got["empty"]
            label = f"bouncesink parse --jobs {jobs} DIR x{repeat}"
            print(f"{label} (one process{' and its forked workers' if jobs > 1 else ''},"
                  f" {files} files, output to /dev/null, bytecode cached):"
                  f" {cli:.2f} s, {files / cli:,.0f} files/s;"
                  f" {files / max(cli - empty, 1e-9):,.0f} files/s after the {empty * 1000:.0f} ms"
                  f" start (interpreter and imports, timed on an empty directory)")
            if jobs == 1:
                cli, empty = got["cli_cpu"], got["empty_cpu"]
                print(f"{label}, CPU time of the process (user+sys):"
                      f" {cli:.2f} s, {files / cli:,.0f} files/s;"
                      f" {files / max(cli - empty, 1e-9):,.0f} files/s after the"
                      f" {empty * 1000:.0f} ms start")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
