"""Store queries at scale: stats, report, why and export at 100,000 / 1,000,000 / 10,000,000
results, on SQLite and (where one answers) PostgreSQL.

    python bench/scale.py                          # SQLite, 100k and 1M results
    python bench/scale.py --sizes 100000,1000000,10000000
    python bench/scale.py --pg postgresql://postgres@127.0.0.1:5432/test --sizes 100000,1000000
    python bench/scale.py --keep DIR               # keep the SQLite stores in DIR
    python bench/scale.py --pg URL --pg-schema big # keep the PostgreSQL stores (big_<size>)

A store is filled with bulk inserts (SQLite: executemany in big transactions; PostgreSQL:
COPY): one message per result (raw body dropped, as `prune` leaves old ones; --raw keeps a
~1.4 KB compressed body each), results over 365 days across 5,000 receiving domains (Zipf-like),
40 campaigns and 6 types; one address per three results; an event per hard result and a
suppression per hard address. Its rollups are then counted by `rebuild_rollups()`, the same
SQL the schema migration runs for an existing store (its time is printed: what upgrading a
store of that size costs once).

Timed in-process, median of 5 calls after one warm-up: `stats()`, `report()` (all time, one
campaign, since 7 days), `history()` (what `why` prints, for an address with 3 results), what
the dashboard's page reads (its 30-day chart and tables, the report, the backlog), and a full
export (every suppression streamed and rendered as CSV, rows/s). Also the wall time of
the `bouncesink stats --json` command (a fresh Python process: interpreter start-up included).
The target: stats and report < 100 ms at every size. Printed: bytes of store per result.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bouncesink import export as exportmod  # noqa: E402
from bouncesink.store import open_store  # noqa: E402
from bouncesink.store.base import iso  # noqa: E402

END = datetime(2026, 12, 1, tzinfo=timezone.utc)
KINDS = [  # (weight, type, reason, status, diagnostic)
    (40, "hard", "userunknown", "5.1.1", "550 5.1.1 <{a}>: Recipient address rejected: User unknown"),
    (25, "soft", "mailboxfull", "4.2.2", "452 4.2.2 <{a}>: Mailbox full"),
    (10, "soft", "expired", "4.4.7", "Delivery time expired"),
    (10, "hard", "blocked", "5.7.1", "554 5.7.1 Service unavailable; client host blocked"),
    (5, "complaint", "feedback", "", ""),
    (5, "autoreply", "vacation", "", ""),
    (5, "hard", "hostunknown", "5.1.2", "Host or domain name not found"),
]
RAW = zlib.compress((b"Content-Type: multipart/report; report-type=delivery-status\r\n" +
                     os.urandom(1024).hex().encode()[:1400]), 1)


def rows(n: int, seed: int = 1):
    """(message row, result row) pairs, oldest first; deterministic for a seed."""
    rng = random.Random(seed)
    weights = [k[0] for k in KINDS]
    domains = [f"d{i}.example.com" for i in range(5000)]
    dweights = [1 / (i + 1) for i in range(5000)]
    addresses = max(n // 3, 1)
    start = END - timedelta(days=365)
    step = timedelta(days=365) / n
    dom_of = rng.choices(range(5000), dweights, k=min(addresses, 1_000_000))
    for i in range(n):
        at = iso(start + step * i)
        a = rng.randrange(addresses)
        addr = f"user{a}@{domains[dom_of[a % len(dom_of)]]}"
        _, t, reason, status, diag = rng.choices(KINDS, weights)[0]
        campaign = f"c{(i * 40) // n:02d}" if rng.random() < 0.8 else None
        yield ((i + 1, at, "192.0.2.1", "mx.example.net", "", '["b@bounces.example.org"]', 3000,
                "classified", "dsn", "postfix", f"<m{i}@example.org>", campaign),
               (i + 1, i + 1, at, "192.0.2.1", "", "b@bounces.example.org", addr,
                addr.rpartition("@")[2], "failed", status, status[:1] + "50" if status else "",
                diag.format(a=addr), reason, t, f"status {status}", "mx.example.net",
                "mx.example.com", f"<m{i}@example.org>", campaign, "postfix"))


MSG_COLS = ["id", "received_at", "peer", "helo", "mail_from", "rcpt_to", "size", "state",
            "kind", "detector", "message_id", "campaign"]
RES_COLS = ["id", "message_ref", "received_at", "peer", "mail_from", "rcpt_to", "recipient",
            "domain", "action", "status", "reply_code", "diagnostic", "reason", "type", "rule",
            "reporting_mta", "remote_mta", "message_id", "campaign", "detector"]


def build(store, n: int, raw: bool) -> float:
    """Fill an empty store with n results (and what record() keeps beside them)."""
    t0 = time.perf_counter()
    pg = hasattr(store, "load")
    addrs: dict[str, list] = {}
    hard: dict[str, tuple] = {}
    batch: list = []
    events = []

    def flush():
        msgs = [m + ((RAW,) if raw else ()) for m, _ in batch]
        res = [r for _, r in batch]
        mcols = MSG_COLS + (["raw"] if raw else [])
        if pg:
            with store._conn.cursor() as cur:
                for table, cols, data in (("messages", mcols, msgs), ("results", RES_COLS, res)):
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
        else:
            c = store._conn
            c.executemany(f"INSERT INTO messages ({', '.join(mcols)}) VALUES"
                          f" ({', '.join('?' * len(mcols))})", msgs)
            c.executemany(f"INSERT INTO results ({', '.join(RES_COLS)}) VALUES"
                          f" ({', '.join('?' * len(RES_COLS))})", res)
        batch.clear()

    for m, r in rows(n):
        batch.append((m, r))
        addr, at, t = r[6], r[2], r[13]
        a = addrs.get(addr)
        if a is None:
            addrs[addr] = [at, at, 1]
        else:
            a[1] = at
            a[2] += 1
        if t == "hard":
            events.append((len(events) + 1, at, addr, "suppress", r[12], t, r[14], r[0], "policy"))
            hard.setdefault(addr, (r[12], t, r[9], at, len(events)))
        if len(batch) >= 50_000:
            flush()
    flush()
    arows = [(k, k.rpartition("@")[2], v[0], v[1], v[2]) for k, v in addrs.items()]
    srows = [(k, k.rpartition("@")[2], 1, *v) for k, v in hard.items()]
    tables = (("addresses", ["address", "domain", "first_seen", "last_seen", "results"], arows),
              ("events", ["id", "at", "address", "action", "reason", "type", "rule",
                          "result_id", "actor"], events),
              ("suppressions", ["address", "domain", "suppressed", "reason", "type", "status",
                                "suppressed_at", "seq"], srows))
    for table, cols, data in tables:
        if pg:
            with store._conn.cursor() as cur, \
                    cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            store._conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
                                    f" ({', '.join('?' * len(cols))})", data)
    if pg:
        store._reset_sequences()
    store._conn.commit()
    return time.perf_counter() - t0


def timed(fn, runs: int = 5) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def dashboard_reads(store) -> None:
    """What GET / of the dashboard reads from the store (its 30 days and all-time tables)."""
    since = END - timedelta(days=29)
    store.metrics_snapshot()
    store.per_day("reason", since)
    store.report(domains=False)
    store.top_domains(since, 15)
    store.top_reasons(since, 20)
    store.alerts_since(since)
    store.unrecognised_messages(20)


def export_all(store) -> int:
    n = 0
    for chunk in exportmod.render("csv", store.suppressions()):
        n += chunk.count("\n")
    return n


def size_of(store, url: str) -> int:
    if hasattr(store, "load"):
        return store._execute(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).fetchone()[0]
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = url[len("sqlite:///"):]
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def run(url: str, n: int, raw: bool, cli: bool) -> None:
    store = open_store(url, durability="off")
    try:
        have = store._execute("SELECT COUNT(*) FROM results").fetchone()[0]
        store._commit()
        load = roll = 0.0
        if have and have != n:
            raise SystemExit(f"bench/scale.py: the kept store holds {have:,} results, not"
                             f" {n:,}: remove it first")
        if not have:  # a kept store (--keep, --pg-schema) already built is timed as it is
            load = build(store, n, raw)
            t0 = time.perf_counter()
            store.rebuild_rollups()
            roll = time.perf_counter() - t0
        if hasattr(store, "load"):
            # What autovacuum does after a bulk insert (PostgreSQL 13 and later vacuum a
            # table after inserts too): statistics, and the visibility map that lets the
            # rollups be read from their index alone.
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        size = size_of(store, url)
        nroll = store._execute("SELECT COUNT(*) FROM rollups").fetchone()[0]
        store._commit()
        addr = store._execute("SELECT address FROM addresses WHERE results = 3 LIMIT 1"
                              ).fetchone()[0]
        store._commit()
        since = END - timedelta(days=7)
        figures = {
            "stats": timed(lambda: store.stats(now=END)),
            "report": timed(store.report),
            "report --campaign": timed(lambda: store.report(campaign="c20")),
            "report --since 7d": timed(lambda: store.report(since=since)),
            "why": timed(lambda: store.history(addr)),
            "dashboard reads": timed(lambda: dashboard_reads(store)),
        }
        t0 = time.perf_counter()
        exported = export_all(store)
        exp = time.perf_counter() - t0
        kind = "postgresql" if hasattr(store, "load") else "sqlite"
        print(f"\n{kind} {n:,} results: loaded in {load:.1f} s, rollups counted in {roll:.1f} s"
              f" ({nroll:,} rollup rows); {size / n:,.0f} bytes per result"
              f" ({size / 2**20:,.0f} MiB{', raw bodies kept' if raw else ', raw bodies pruned'})")
        for name, ms in figures.items():
            flag = "" if not name.startswith(("stats", "report", "dashboard")) else (
                "  ok" if ms < 100 else "  OVER 100 ms")
            print(f"  {name:<20} {ms:8.1f} ms{flag}")
        print(f"  {'export (csv, all)':<20} {exp * 1000:8.0f} ms  {exported:,} rows,"
              f" {exported / exp:,.0f} rows/s")
        if cli:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bouncesink", "stats", "--json", "--db", url],
                           check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            print(f"  {'`bouncesink stats`':<20} {(time.perf_counter() - t0) * 1000:8.0f} ms"
                  " wall (process start-up included)")
    finally:
        store.close()


def record_cost(url_of, n: int = 5000, batch: int = 50) -> None:
    """What keeping the rollups adds to recording: the same n results recorded through
    store.record() (the classifier's call, `batch` messages a transaction) with the rollup
    upkeep on, then switched off (its three hooks made no-ops), interleaved, best of 3."""
    from bouncesink.config import PolicyConfig
    from bouncesink.model import Envelope, Parsed, Result

    policy = PolicyConfig(confirm_hostunknown_dns=False)
    kinds = [(t, r, st) for _, t, r, st, _ in KINDS]
    best = {"with rollups": float("inf"), "without": float("inf")}
    for attempt in range(3):
        for label in best:
            store = open_store(url_of(f"{attempt}{label[:4]}"), durability="off")
            if label == "without":
                store._count_result = lambda *a, **k: None
                store._bump_message = lambda *a, **k: None
                store._flush_rollups = lambda *a, **k: None
            rng = random.Random(7)
            t0 = time.perf_counter()
            for start in range(0, n, batch):
                items = []
                envs = [Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@x.example.org"],
                                 received_at=END - timedelta(minutes=n - i))
                        for i in range(start, min(n, start + batch))]
                refs = store.add_messages([(e, b"x") for e in envs])
                for ref, e in zip(refs, envs):
                    t, r, st = kinds[rng.randrange(len(kinds))]
                    items.append((ref, e, Parsed(kind="dsn", results=[Result(
                        recipient=f"u{rng.randrange(n // 3)}@d{rng.randrange(500)}.example.com",
                        status=st, reason=r, type=t, rule="x")]), f"c{rng.randrange(20)}"))
                store.record(items, policy, now=END)
            best[label] = min(best[label], time.perf_counter() - t0)
            store.close()
    with_, without = best["with rollups"], best["without"]
    print(f"\nrecording {n:,} results ({batch} messages a transaction): {with_ / n * 1e6:.0f} us"
          f" a result with the rollups, {without / n * 1e6:.0f} us without"
          f" (+{(with_ / without - 1) * 100:.0f}%)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000",
                    help="comma-separated result counts (default 100000,1000000;"
                         " add 10000000 for the large run)")
    ap.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL (a fresh schema)")
    ap.add_argument("--pg-schema", metavar="NAME",
                    help="build the PostgreSQL stores in schemas NAME_<size> and keep them (one"
                         " already built is timed again as it is)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--raw", action="store_true", help="keep a raw body per message")
    ap.add_argument("--keep", metavar="DIR", help="build the SQLite stores in DIR and keep them")
    ap.add_argument("--no-cli", action="store_true", help="skip the `bouncesink stats` wall time")
    ap.add_argument("--record-cost", type=int, default=5000, metavar="N",
                    help="also time recording N results with and without the rollups (SQLite;"
                         " 0: skip)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"bench/scale.py: sizes {', '.join(f'{s:,}' for s in sizes)};"
          f" sqlite={'no' if args.no_sqlite else 'yes'}; postgresql={args.pg or 'no'};"
          f" {os.cpu_count()} CPUs")
    if args.record_cost and not args.no_sqlite:
        with tempfile.TemporaryDirectory() as d:
            record_cost(lambda name: f"sqlite:///{Path(d) / name}.db", args.record_cost)
    for n in sizes:
        if not args.no_sqlite:
            with tempfile.TemporaryDirectory(dir=args.keep) as d:
                path = Path(args.keep or d) / f"scale-{n}.db"
                run(f"sqlite:///{path}", n, args.raw, not args.no_cli)
        if args.pg:
            import psycopg

            schema = (f"{args.pg_schema}_{n}" if args.pg_schema
                      else "scale_" + secrets.token_hex(4))
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                try:
                    sep = "&" if "?" in args.pg else "?"
                    run(f"{args.pg}{sep}options=-csearch_path%3D{schema}", n, args.raw,
                        not args.no_cli)
                finally:
                    if not args.pg_schema:
                        admin.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
