"""Roads benchmark: messages/s by every road in, beside SMTP ingest in the same run.

    python bench/roads.py                          # 2,000 messages per road, 100,000 imported
    python bench/roads.py --messages 500 --import-messages 20000

One `bouncesink serve` process (SMTP and LMTP on 127.0.0.1, a SQLite file) takes:
  smtp        our asyncio SMTP client (bench/ingest.py's), 20 sessions, straight to the sink
  postfix>smtp  a throwaway Postfix relaying to the sink's SMTP port (the MX road behind a relay)
  postfix>lmtp  the same Postfix handing over by LMTP (transport_maps -> lmtp:inet:...)
Then, each into a store of its own:
  deliver     `bouncesink deliver < message`, one process per message (start-up included),
              2 at a time
  fetch       `bouncesink fetch`: one pass over an IMAPS mailbox of a throwaway Dovecot
  import      `bouncesink import` of an mbox of --import-messages ~2 KB bounces: stored/s
              (until it prints "imported N"), all classified, and the process's RSS sampled
              every 0.2 s (peak, and at 10% / 100% of the messages: flat?)
Each message differs (an X-Seq header), so no de-duplication interferes. Rates for the MTA
roads are measured from the first message handed to Postfix until the last one is stored.
Postfix and Dovecot need root and the Debian packages; a road that cannot run is skipped
with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import dsn, load  # noqa: E402
from peers import (Dovecot, Postfix, dovecot_unavailable, free_port,  # noqa: E402
                   postfix_unavailable, shared_tmpdir, wait_port)

DOMAIN = "bounces.example.org"
BOUNCESINK = [sys.executable, "-m", "bouncesink"]


def message(i: int, raw: bytes) -> bytes:
    return b"X-Seq: %d\r\n" % i + raw


def count(db: str, where: str = "") -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM messages {where}").fetchone()[0]
    except sqlite3.Error:
        return 0


def wait_count(db: str, n: int, timeout: float = 900) -> float:
    t0 = time.perf_counter()
    while count(db) < n:
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"only {count(db)} of {n} stored after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter()


def line(label: str, n: int, seconds: float, extra: str = "") -> str:
    rate = n / seconds
    return f"{label:<14} {n:>7} msgs {seconds:8.1f} s {rate:9.{0 if rate >= 10 else 2}f} msg/s  {extra}"


def submit(port: int, raws: list[bytes], rcpt: str, sessions: int = 4) -> None:
    """Hand messages to an MTA over several SMTP sessions."""
    def one(part):
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as c:
            for raw in part:
                c.sendmail("", [rcpt], raw)

    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(one, [raws[i::sessions] for i in range(sessions)]))


def mta_roads(args, work: Path, raw: bytes) -> list[str]:
    out = []
    db = str(work / "serve.db")
    smtp_port, lmtp_port = free_port(), free_port()
    config = work / "serve.toml"
    config.write_text(f'[server]\nlisten = "127.0.0.1:{smtp_port}"\ndomains = ["{DOMAIN}",'
                      f' "lmtp.example.org"]\n[store]\ndb = "{db}"\ndurability = "{args.durability}"\n'
                      f'[lmtp]\nlisten = "127.0.0.1:{lmtp_port}"\n[log]\nlevel = "warning"\n')
    serve = subprocess.Popen(BOUNCESINK + ["serve", "--config", str(config)],
                             stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "wb"))
    try:
        wait_port(smtp_port)
        wait_port(lmtp_port)
        n = args.messages
        # SMTP straight from a load generator (each message its own X-Seq).
        res = asyncio.run(load_distinct(smtp_port, n, raw))
        out.append(line("smtp", res["messages"], res["seconds"], "(asyncio client, 20 sessions)"))
        reason = postfix_unavailable()
        if reason:
            return out + [f"postfix roads skipped: {reason}"]
        pf = Postfix(shared_tmpdir("bouncesink-bench-pf-"), {
            "relay_domains": f"{DOMAIN}, lmtp.example.org",
            "transport_maps": f"inline:{{ {DOMAIN}=smtp:[127.0.0.1]:{smtp_port},"
                              f" lmtp.example.org=lmtp:inet:127.0.0.1:{lmtp_port} }}",
            "smtp_destination_concurrency_limit": "20",
            "lmtp_destination_concurrency_limit": "20",
            "default_process_limit": "100",
        })
        pf.start()
        try:
            for label, rcpt, base in (("postfix>smtp", f"bounces@{DOMAIN}", 1_000_000),
                                      ("postfix>lmtp", "bounces@lmtp.example.org", 2_000_000)):
                before = count(db)
                raws = [message(base + i, raw) for i in range(n)]
                t0 = time.perf_counter()
                submit(pf.port, raws, rcpt)
                t1 = wait_count(db, before + n)
                out.append(line(label, n, t1 - t0, "(submitted to Postfix -> stored)"))
        finally:
            pf.stop()
            shutil.rmtree(pf.root, ignore_errors=True)
    finally:
        serve.terminate()
        serve.wait(120)
    return out


async def load_distinct(port: int, n: int, raw: bytes) -> dict:
    """bench/ingest.load with a different message each time (no de-duplication)."""
    total = {"messages": 0, "seconds": 0.0}
    batch = max(1, n // 20)
    for i in range(0, n, batch):
        res = await load(port, 20, min(batch, n - i), message(i, raw))
        total["messages"] += res["messages"]
        total["seconds"] += res["seconds"]
    return total


def deliver_road(args, work: Path, raw: bytes) -> list[str]:
    db = str(work / "deliver.db")
    n = args.deliver_messages
    env = dict(os.environ)

    errors: list[str] = []
    subprocess.run(BOUNCESINK[:1] + ["-c", f"from bouncesink.store import open_store;"
                                          f" open_store({db!r}).close()"], check=True)  # as deployed

    def one(i: int) -> int:
        p = subprocess.run(BOUNCESINK + ["deliver", "--db", db, "--recipient",
                                         f"bounces@{DOMAIN}"],
                           input=message(i, raw), capture_output=True, env=env)
        if p.returncode != 0:
            errors.append(f"exit {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
        return p.returncode

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(one, range(n)))
    seconds = time.perf_counter() - t0
    bad = sum(1 for c in codes if c != 0)
    return [line("deliver", n, seconds, f"(a process per message, 2 at a time, classified"
                                        f" before exit; {bad} failed)")] + errors[:3]


def fetch_road(args, work: Path, raw: bytes) -> list[str]:
    reason = dovecot_unavailable()
    if reason:
        return [f"fetch skipped: {reason}"]
    try:
        import trustme
    except ImportError:
        return ["fetch skipped: trustme is not installed (the test extra)"]
    root = shared_tmpdir("bouncesink-bench-dc-")
    d = Dovecot(root, trustme.CA())
    d.add_users({"bench@example.org": "pw-bench"})
    d.start()
    try:
        n = args.messages
        c = d.imap("bench@example.org")
        for i in range(n):
            c.append("INBOX", message(i, raw))
        c.logout()
        db = str(work / "fetch.db")
        config = work / "fetch.toml"
        config.write_text(
            f'[store]\ndb = "{db}"\ndurability = "{args.durability}"\n[[mailbox]]\n'
            f'url = "imaps://bench%40example.org@127.0.0.1:{d.ports["imaps"]}/INBOX"\n'
            f'password = "pw-bench"\nafter = "move:Processed"\nca_file = "{root}/ca.pem"\n')
        t0 = time.perf_counter()
        p = subprocess.run(BOUNCESINK + ["fetch", "--config", str(config)], capture_output=True)
        seconds = time.perf_counter() - t0
        if p.returncode != 0:
            return [f"fetch failed: {p.stderr.decode()[-300:]}"]
        return [line("imap fetch", count(db), seconds,
                     "(one pass: fetched, stored, moved, classified)")]
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)


def small_dsn(i: int) -> bytes:
    return (f"From MAILER-DAEMON Mon Nov  2 10:00:00 2026\n"
            f"Return-Path: <>\nDelivered-To: bounces+n{i % 500}@{DOMAIN}\n"
            f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
            f"To: bounces@{DOMAIN}\nSubject: Undelivered Mail Returned to Sender\n"
            f"Date: Mon, 2 Nov 2026 10:{i // 6000 % 60:02d}:{i // 100 % 60:02d} +0000\n"
            f"Message-ID: <imp.{i}@mx.example.net>\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
            f"--B\nContent-Type: text/plain\n\n<user{i % 5000}@example.com>: host mx.example.com"
            f" said: 550 5.1.1 User unknown\n\n"
            f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
            f"Final-Recipient: rfc822; user{i % 5000}@example.com\nAction: failed\n"
            f"Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <user{i % 5000}@example.com>:"
            f" Recipient address rejected: User unknown in virtual mailbox table\n\n"
            f"--B\nContent-Type: text/rfc822-headers\n\nFrom: news@example.org\n"
            f"To: user{i % 5000}@example.com\nSubject: Our news, issue {i}\n"
            f"Message-ID: <news.{i}@example.org>\nX-Campaign-ID: news-{i % 7}\n\n--B--\n\n")


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for ln in fh:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def import_road(args, work: Path) -> list[str]:
    n = args.import_messages
    mbox = work / "bounces.mbox"
    with open(mbox, "w") as fh:
        for i in range(n):
            fh.write(small_dsn(i))
    size = mbox.stat().st_size
    db = str(work / "import.db")
    samples: list[tuple[int, int]] = []   # (messages stored, RSS KiB)
    t0 = time.perf_counter()
    proc = subprocess.Popen(BOUNCESINK + ["import", "--db", db, str(mbox)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stored_at = [None]

    def watch_stdout():
        for ln in proc.stdout:
            if ln.startswith(b"imported"):
                stored_at[0] = time.perf_counter()

    reader = threading.Thread(target=watch_stdout, daemon=True)
    reader.start()
    while proc.poll() is None:
        storing = stored_at[0] is None
        samples.append((count(db) if storing else -1, rss_kib(proc.pid)))  # -1: classifying
        time.sleep(0.2)
    reader.join()
    done = time.perf_counter()
    if proc.returncode != 0 or stored_at[0] is None:
        return [f"import failed: exit {proc.returncode}"]
    stored = stored_at[0] - t0
    at10 = next((r for c, r in samples if c >= n // 10), 0)
    at90 = next((r for c, r in samples if c >= n * 9 // 10), 0)
    storing_peak = max((r for c, r in samples if c >= 0), default=0)
    peak = max((r for _, r in samples), default=0)
    pending = count(db, "WHERE state = 'pending'")
    return [line("import", n, stored, f"stored (mbox of {size / 2**20:.0f} MiB)"),
            line("import+class.", n, done - t0, f"all classified ({pending} left pending)"),
            f"{'import RSS':<14} storing: {at10 / 1024:.0f} MiB at 10% of the messages,"
            f" {at90 / 1024:.0f} MiB at 90%, peak {storing_peak / 1024:.0f} MiB;"
            f" classifying: peak {peak / 1024:.0f} MiB"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000, help="per MTA road and for fetch")
    ap.add_argument("--deliver-messages", type=int, default=300)
    ap.add_argument("--import-messages", type=int, default=100_000)
    ap.add_argument("--durability", default="normal", choices=("full", "normal", "off"))
    ap.add_argument("--only", action="append",
                    choices=("mta", "deliver", "fetch", "import"), help="run only these")
    args = ap.parse_args()
    only = set(args.only or ("mta", "deliver", "fetch", "import"))
    raw = dsn()
    work = Path(tempfile.mkdtemp(prefix="bouncesink-roads-"))
    print(f"roads benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f},"
          f" durability {args.durability}, ~{len(raw) // 1024} KB DSNs (import: ~1.5 KB)")
    try:
        for name, fn in (("mta", lambda: mta_roads(args, work, raw)),
                         ("deliver", lambda: deliver_road(args, work, raw)),
                         ("fetch", lambda: fetch_road(args, work, raw)),
                         ("import", lambda: import_road(args, work))):
            if name in only:
                for text in fn():
                    print(text, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
