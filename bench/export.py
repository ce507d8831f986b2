"""Export speed: N suppressions (default 1,000,000) through `bouncesink export`, each format.

    /work/venv/bin/python bench/export.py [--rows N] [--formats csv,jsonl,...] [--db PATH]

Builds a SQLite store with N suppressed addresses (with their `addresses` rows, as
record() keeps them) unless --db names one that already has them, then runs the real
command (`python -m bouncesink export --format F --output FILE`) in a subprocess per format
and reports wall time, rows per second and peak RSS of that process (constant memory: it
must not grow with N). The target: 1,000,000 rows in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bouncesink.store import open_store  # noqa: E402


def build(path: str, n: int) -> None:
    """Fill a store directly with SQL (building it through record() would take minutes)."""
    store = open_store(path, durability="off")
    conn = store._conn
    reasons = [("hard", "userunknown", "5.1.1"), ("hard", "hostunknown", "5.1.2"),
               ("complaint", "feedback", ""), ("soft", "soft-escalated", "4.2.2")]
    batch = 50000
    for start in range(0, n, batch):
        rows_s, rows_a = [], []
        for i in range(start, min(n, start + batch)):
            addr = f"user{i}@domain{i % 5000}.example.com"
            t, r, st = reasons[i % 4]
            at = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000000Z"
            rows_s.append((addr, f"domain{i % 5000}.example.com", r, t, st, at, i + 1))
            rows_a.append((addr, f"domain{i % 5000}.example.com", at, at, 1 + i % 7))
        conn.executemany("INSERT INTO suppressions (address, domain, suppressed, reason, type,"
                         " status, suppressed_at, seq) VALUES (?, ?, 1, ?, ?, ?, ?, ?)", rows_s)
        conn.executemany("INSERT INTO addresses (address, domain, first_seen, last_seen, results)"
                         " VALUES (?, ?, ?, ?, ?)", rows_a)
        conn.commit()
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", default="csv,jsonl,mailchimp,listmonk,ses,postfix")
    ap.add_argument("--db", help="an existing store to export (else built in a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "bench.db")
        if not args.db:
            t0 = time.perf_counter()
            build(db, args.rows)
            print(f"built {args.rows} suppressions in {time.perf_counter() - t0:.1f} s")
        for fmt in args.formats.split(","):
            out = os.path.join(tmp, f"out.{fmt}")
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bouncesink", "export", "--db", db,
                            "--format", fmt, "--output", out], check=True, cwd=ROOT)
            dt = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            lines = sum(1 for _ in open(out, encoding="utf-8"))
            print(f"{fmt:<10} {dt:6.2f} s  {args.rows / dt:>10,.0f} rows/s  lines {lines:>9}"
                  f"  peak RSS (largest export so far) {rss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
