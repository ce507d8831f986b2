"""Webhook benchmark: deliveries/s to a loopback receiver, and decision-to-delivery time.

    python bench/webhooks.py                      # 2,000 burst + 500 paced at 50/s, SQLite
    python bench/webhooks.py --burst 5000 --paced 1000 --rate 100
    python bench/webhooks.py --db postgresql://postgres@127.0.0.1:5432/test

`bouncesink web` (its own process) dispatches; the receiver is a threaded http.server in a
process of its own that answers 204 and notes each arrival's time; decisions are manual
suppressions made in this process (each its own transaction, its outbox row included).
Burst: N decisions at once, then deliveries/s until the last has arrived. Paced: decisions
at --rate per second; p50/p99 of the time from each commit to its arrival (target p99 < 1 s).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef").decode()

RECEIVER = r'''
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log = open(sys.argv[1], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        log.write(json.dumps([time.time(), json.loads(body)["data"]["email"]]) + "\n")
        self.send_response(204); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
'''


def arrivals(path: Path) -> dict[str, float]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            t, email = json.loads(line)
            out.setdefault(email, t)
    return out


def wait_all(path: Path, emails, timeout: float = 300) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = arrivals(path)
        if all(e in got for e in emails):
            return got
        time.sleep(0.02)
    raise SystemExit(f"not all delivered within {timeout} s")


def pct(values, p) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--paced", type=int, default=500)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--db", help="store URL (default: a temp SQLite file)")
    args = ap.parse_args()

    from bouncesink.store import open_store

    tmp = tempfile.TemporaryDirectory(prefix="bench-hooks-")
    d = Path(tmp.name)
    db = args.db or str(d / "hooks.db")
    log = d / "arrivals.jsonl"
    rx = subprocess.Popen([sys.executable, "-c", RECEIVER, str(log)], stdout=subprocess.PIPE, text=True)
    port = int(rx.stdout.readline())
    conf = d / "b.toml"
    conf.write_text(f'[store]\ndb = "{db}"\ndurability = "normal"\n[[webhooks]]\n'
                    f'url = "http://127.0.0.1:{port}/hook"\nsecret = "{SECRET}"\nname = "bench"\n')
    store = open_store(db, durability="normal")
    store.webhook_fill("bench", None)   # the hook starts here
    web = subprocess.Popen([sys.executable, "-m", "bouncesink", "web", "--config", str(conf),
                            "--listen", "127.0.0.1:0", "--log-format", "json"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        run = os.urandom(3).hex()
        emails = [f"burst{i}-{run}@example.com" for i in range(args.burst)]
        t0 = time.time()
        for e in emails:
            store.suppress_manual(e, "bench")
        made = time.time() - t0
        got = wait_all(log, emails)
        t_last = max(got[e] for e in emails)
        print(f"burst   {args.burst:>6} decisions in {made:5.1f} s; all delivered"
              f" {t_last - t0:5.1f} s after the first: {args.burst / (t_last - t0):7.0f} deliveries/s")
        emails = [f"paced{i}-{run}@example.com" for i in range(args.paced)]
        made_at = {}
        start = time.time()
        for i, e in enumerate(emails):
            due = start + i / args.rate
            if due > time.time():
                time.sleep(due - time.time())
            store.suppress_manual(e, "bench")
            made_at[e] = time.time()          # committed
        got = wait_all(log, emails)
        lat = [got[e] - made_at[e] for e in emails]
        print(f"paced   {args.paced:>6} decisions at {args.rate:g}/s: decision to delivery"
              f" p50 {pct(lat, 50) * 1000:6.0f} ms  p99 {pct(lat, 99) * 1000:6.0f} ms"
              f"  max {max(lat) * 1000:6.0f} ms  (target p99 < 1000 ms)")
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)
        rx.kill()
        store.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
