"""Re-parse and prune speed: N stored messages (default 20,000) through `reparse` and `prune`.

    /work/venv/bin/python bench/reparse.py [--messages N] [--durability full|normal|off]

Builds a SQLite store of N messages from the tests/data DSNs (one recipient address per
message), classified by a stale rule that took every 5.1.1 for a full mailbox, so the first
`reparse` changes the classification of those results (reclassified events and suppressions)
and the second finds nothing to change. Then prunes the raw bodies older than 90 days
(the messages are spread over 200 days). Reports wall time and messages per second.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bouncesink.config import Config  # noqa: E402
from bouncesink.model import Envelope, utcnow  # noqa: E402
from bouncesink.parse import parse  # noqa: E402
from bouncesink.reparse import reparse  # noqa: E402
from bouncesink.store import open_store  # noqa: E402

FILES = ("dsn-hard-userunknown.eml", "dsn-soft-mailboxfull.eml", "dsn-two-recipients.eml",
         "postfix-text.eml", "exim-text.eml")


def stale(raw: bytes, **kw):
    parsed = parse(raw)
    parsed.results = [dataclasses.replace(r, type="soft", reason="mailboxfull")
                      if r.status == "5.1.1" else r for r in parsed.results]
    return parsed


def build(store, n: int, cfg: Config) -> None:
    raws = [(ROOT / "tests" / "data" / f).read_bytes() for f in FILES]
    now = utcnow()
    for start in range(0, n, 500):
        items = []
        for i in range(start, min(n, start + 500)):
            raw = raws[i % len(raws)]
            for local in (b"alice@", b"bob@", b"carol@"):
                raw = raw.replace(local, b"u%d-" % i + local)
            at = now - timedelta(days=200 - i * 200 / n)
            items.append((Envelope(peer="192.0.2.1", mail_from="", received_at=at,
                                   rcpt_tos=["bounces@bounces.example.org"]), raw))
        refs = store.add_messages(items)
        store.record([(ref, env, stale(raw), None) for ref, (env, raw) in zip(refs, items)],
                     cfg.policy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--durability", default="full", choices=("full", "normal", "off"))
    args = ap.parse_args()
    cfg = Config().replace("policy", confirm_hostunknown_dns=False)
    with tempfile.TemporaryDirectory() as d:
        store = open_store(f"{d}/bench.db", durability=args.durability)
        t0 = time.perf_counter()
        build(store, args.messages, cfg)
        print(f"built {args.messages} messages in {time.perf_counter() - t0:.1f} s")
        for label in ("reparse, first run", "reparse, nothing changed"):
            t0 = time.perf_counter()
            s = reparse(store, cfg)
            dt = time.perf_counter() - t0
            print(f"{label}: {s.messages} messages, {s.changed} changes, {dt:.1f} s,"
                  f" {s.messages / dt:.0f} messages/s")
        t0 = time.perf_counter()
        count, size = store.prune_raw(utcnow() - timedelta(days=90))
        print(f"prune: {count} raw bodies ({size} bytes) in {time.perf_counter() - t0:.2f} s")
        store.close()


if __name__ == "__main__":
    main()
