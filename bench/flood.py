"""Memory under a flood of big messages: many sessions each sending a message near the size
limit at once, as an attacker (or a burst of bounces quoting big attachments) would.

    python bench/flood.py                          # 48 sessions x 10 MB from one address
    python bench/flood.py --sessions 48 --size 10000000 --budget 0   # budget off (huge)

Runs `bouncesink serve` (its own SQLite file in a temp directory) on 127.0.0.1, opens the
sessions, sends every message's DATA at once, and samples the resident memory of the server
and its children (summed, from /proc) every 20 ms. Printed: the replies (250 stored, 451
4.3.2 refused past server.max_inflight_bytes), the peak memory, and the memory once all
sessions are done.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import ServerProc  # noqa: E402 - the bench scripts share their server runner

DOMAIN = "bounces.example.org"


def session(port: int, size: int, seq: int, replies: list) -> None:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=120)
        f = s.makefile("rb")

        def reply() -> bytes:
            line = f.readline()
            while line[3:4] == b"-":
                line = f.readline()
            return line

        reply()
        s.sendall(b"EHLO flood.example.net\r\n")
        reply()
        s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<bounces@" + DOMAIN.encode() + b">\r\nDATA\r\n")
        reply(), reply()
        if not reply().startswith(b"354"):
            replies.append(b"no 354")
            return
        line = b"Y" * 998 + b"\r\n"
        body = b"Subject: flood %d\r\n\r\n" % seq + line * (size // len(line))
        s.sendall(body + b".\r\n")
        replies.append(reply()[:9])
        s.close()
    except OSError as exc:
        replies.append(f"error {exc.__class__.__name__}".encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sessions", type=int, default=48)
    ap.add_argument("--size", type=int, default=10_000_000, help="bytes per message")
    ap.add_argument("--budget", type=int, default=None,
                    help="server.max_inflight_bytes (default: the config default; 0: 2**42)")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    extra = ""
    if args.budget is not None:
        extra = f"max_inflight_bytes = {args.budget or 2**42}\n"
    server = ServerProc("sink", workdir, str(workdir / "flood.db"), 1, "normal",
                        max(100, args.sessions * 2), extra=extra)
    try:
        time.sleep(1.0)
        before = server.rss()
        replies: list[bytes] = []
        threads = [threading.Thread(target=session, args=(server.port, args.size, i, replies))
                   for i in range(args.sessions)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
        time.sleep(2.0)
        after = server.rss()
        peak = server.peak_rss
        per_process = {}
        for pid in server.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            name = "server" if pid == server.proc.pid else f"child {pid}"
            per_process[name] = (int(fields["VmHWM"].split()[0]) // 1024,
                                 int(fields["VmRSS"].split()[0]) // 1024)
    finally:
        server.stop()
    counts: dict[str, int] = {}
    for r in replies:
        key = r.decode(errors="replace").strip()[:9]
        counts[key] = counts.get(key, 0) + 1
    print(f"{args.sessions} sessions x {args.size / 1e6:.0f} MB, budget "
          f"{args.budget if args.budget is not None else 'default'}: {took:.1f} s")
    print(f"  replies: {dict(sorted(counts.items()))}")
    print(f"  server + children RSS: {before / 2**20:.0f} MiB idle, peak {peak / 2**20:.0f} MiB,"
          f" {after / 2**20:.0f} MiB after")
    for name, (hwm, rss) in per_process.items():
        print(f"  {name}: peak {hwm} MiB, now {rss} MiB")


if __name__ == "__main__":
    main()
