"""HTTP API benchmark: an address lookup and a 1,000-row suppression page at 1,000,000
suppressions, against `bouncesink web` (its own process) on 127.0.0.1.

    python bench/api.py                          # 1,000,000 suppressions in a temp SQLite file
    python bench/api.py --rows 100000 --lookups 500 --pages 50
    python bench/api.py --db /path/to/big.db     # reuse a store built before (kept)

The store is filled directly with SQL (a suppression, an address row and the suppress event
per address: what the API reads), in batches. The client (httpx, keep-alive) runs in this
process with --concurrency connections; it asks `GET /v1/addresses/{random address}` and
`GET /v1/suppressions?limit=1000&cursor={random seq}`. Printed: requests/s and p50/p99 of
each (targets: lookup p99 < 10 ms, page p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-read-token-0123456789"


def fill(db: str, rows: int) -> None:
    from bouncesink.store import open_store

    s = open_store(db, durability="off")
    have = s._execute("SELECT COUNT(*) FROM suppressions").fetchone()[0]
    s._rollback()
    if have >= rows:
        s.close()
        return
    t0 = time.monotonic()
    batch = 20000
    for start in range(have, rows, batch):
        n = range(start, min(rows, start + batch))
        at = "2026-01-01T00:00:00.000000Z"
        s._begin_write()
        s._executemany("INSERT INTO events (id, at, address, action, reason, type, rule, actor)"
                       " VALUES (?, ?, ?, 'suppress', 'userunknown', 'hard', 'bench', 'policy')",
                       [(i + 1, at, f"user{i}@example{i % 1000}.com") for i in n])
        s._executemany("INSERT INTO addresses (address, domain, first_seen, last_seen, results)"
                       " VALUES (?, ?, ?, ?, 1)",
                       [(f"user{i}@example{i % 1000}.com", f"example{i % 1000}.com", at, at) for i in n])
        s._executemany("INSERT INTO suppressions (address, domain, suppressed, reason, type,"
                       " status, suppressed_at, seq) VALUES (?, ?, 1, 'userunknown', 'hard',"
                       " '5.1.1', ?, ?)",
                       [(f"user{i}@example{i % 1000}.com", f"example{i % 1000}.com", at, i + 1)
                        for i in n])
        s._commit()
    s.close()
    print(f"filled {rows:,} suppressions in {time.monotonic() - t0:.0f} s", file=sys.stderr)


def pct(values, p) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


async def measure(base: str, paths, concurrency: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    queue = list(paths)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                                 limits=httpx.Limits(max_connections=concurrency),
                                 timeout=60) as c:
        async def worker():
            while queue:
                path = queue.pop()
                t = time.perf_counter()
                r = await c.get(path)
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return len(lat) / wall, lat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=2000)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--db", help="a SQLite store to fill (if short of --rows) and keep")
    args = ap.parse_args()

    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-api-")
        db = os.path.join(tmp.name, "api.db")
    fill(db, args.rows)
    conf = Path(tempfile.mkstemp(suffix=".toml")[1])
    conf.write_text(f'[store]\ndb = "{db}"\n[http]\n'
                    f'tokens = [{{ token = "{TOKEN}", scope = "read" }}]\n')
    proc = subprocess.Popen([sys.executable, "-m", "bouncesink", "web", "--config", str(conf),
                             "--listen", "127.0.0.1:0", "--log-format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r'127\.0\.0\.1:(\d+)', line).group(1))
        base = f"http://127.0.0.1:{port}"
        rng = random.Random(1)
        asyncio.run(measure(base, ["/v1/addresses/user1@example1.com"] * 50, 1))  # warm up
        lookups = [f"/v1/addresses/user{i}@example{i % 1000}.com"
                   for i in (rng.randrange(args.rows) for _ in range(args.lookups))]
        pages = [f"/v1/suppressions?limit=1000&cursor={rng.randrange(max(1, args.rows - 1000))}"
                 for _ in range(args.pages)]
        for name, paths, target in (("address lookup", lookups, 10), ("1,000-row page", pages, 50)):
            rate, lat = asyncio.run(measure(base, paths, args.concurrency))
            print(f"{name:<16} {len(lat):>6} requests  {rate:8.0f} req/s  p50 {pct(lat, 50):6.1f} ms"
                  f"  p99 {pct(lat, 99):6.1f} ms  (target p99 < {target} ms)"
                  f"  [{args.rows:,} suppressions, {args.concurrency} connections]")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        conf.unlink()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
