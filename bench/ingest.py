"""Ingest benchmark: the sink against a bare aiosmtpd handler, driven by real SMTP load.

    python bench/ingest.py                       # sink vs bare, 50 sessions, 20,000 messages
    python bench/ingest.py --workers 2           # also `serve --workers 2`, scaling vs 1
    python bench/ingest.py --connections 500     # also hold 500 concurrent sessions
    python bench/ingest.py --rss-messages 100000 # RSS over a long run (flat within 10%?)
    python bench/ingest.py --db postgresql://postgres@127.0.0.1:5432/test

Each server runs as its own process (`bouncesink serve`, or a bare aiosmtpd handler that
answers 250 and stores nothing) on 127.0.0.1. The load generator is an asyncio SMTP client
(one connection per session, MAIL/RCPT/DATA pipelined, each transaction timed from MAIL to
the 250) in this process; when Postfix's smtp-source is installed, a second throughput
figure comes from it (-F with the same message). The --workers comparison uses a cheaper
client of ours on plain sockets and one selector (the same transactions), with
--scale-sessions sessions. Printed per run: messages/s, p50/p99 latency, server peak RSS
(all its processes), CPU per message of each process. The message is a ~6 KB RFC 3464 DSN.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "bounces.example.org"
RCPT = f"bounces+news=user=example.com@{DOMAIN}"


def dsn(size: int = 6 * 1024) -> bytes:
    """A ~6 KB DSN: report, delivery-status and the returned original, CRLF line ends."""
    head = f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: {RCPT}
Subject: Undelivered Mail Returned to Sender
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <bench.1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BENCH"

--BENCH
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

<user@example.com>: host mx.example.com[192.0.2.10] said: 550 5.1.1
    <user@example.com>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--BENCH
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 2 Nov 2026 09:59:58 +0000

Final-Recipient: rfc822; user@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <user@example.com>: Recipient address rejected:
    User unknown in virtual mailbox table

--BENCH
Content-Type: message/rfc822

From: News <news@example.org>
To: user@example.com
Subject: November news
Message-ID: <news-2026-11-user@example.org>
X-Campaign-ID: news-2026-11
Content-Type: text/plain; charset=us-ascii

"""
    tail = "\n--BENCH--\n"
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
    body = line * max(0, (size - len(head) - len(tail)) // len(line))
    return (head + body + tail).replace("\n", "\r\n").encode()


# -- servers ------------------------------------------------------------------------------------
def bare_main(port: int, workers: int = 1) -> None:
    """A bare aiosmtpd server: the handler answers 250 and keeps nothing (N processes on
    one port with SO_REUSEPORT, like `serve --workers N`)."""
    from aiosmtpd.smtp import SMTP

    class Bare:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    async def main():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(lambda: SMTP(Bare(), hostname="bare.test"),
                                       "127.0.0.1", port, backlog=4096,
                                       reuse_port=workers > 1)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with srv:
            await stop.wait()

    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            asyncio.run(main())
            os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *a: [os.kill(c, signal.SIGTERM) for c in children]
                  or (_ for _ in ()).throw(SystemExit(0)))
    try:
        asyncio.run(main())
    finally:
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
                os.waitpid(c, 0)
            except OSError:
                pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(512)
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            time.sleep(0.05)
    raise SystemExit("server did not start")


class ServerProc:
    """A server process (and its children) with an RSS sampler."""

    def __init__(self, kind: str, workdir: Path, db: str, workers: int, durability: str,
                 max_conn: int, tool: str = "asyncio", extra: str = ""):
        self.port = free_port()
        self.kind = kind
        self.log = open(workdir / f"{kind}-{workers}-{self.port}.log", "wb")
        if kind == "bare":
            argv = [sys.executable, __file__, "--_bare", str(self.port), "--workers",
                    str(workers)]
        else:
            cfg = workdir / f"sink-{self.port}.toml"
            cfg.write_text(
                "[server]\n"
                f'listen = "127.0.0.1:{self.port}"\ndomains = ["{DOMAIN}"]\n'
                f"max_connections = {max_conn}\nmax_connections_per_ip = {max_conn}\n"
                f"workers = {workers}\n"
                # smtp-source sends one message file over and over: store each copy.
                + ("duplicate_window = 0.0\n" if tool == "smtp-source" else "") + extra
                + "[store]\n"
                f'db = "{db}"\ndurability = "{durability}"\n'
                '[log]\nformat = "json"\n')
            argv = [sys.executable, "-m", "bouncesink", "serve", "--config", str(cfg)]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        wait_listening(self.port, self.proc)
        self.samples: list[tuple[float, int]] = []
        self.pss_samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def pids(self) -> list[int]:
        """The server and all its descendants (children of any of its threads)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo += [int(p) for p in (task / "children").read_text().split()]
                except OSError:
                    pass
        return out

    def _memory(self, path: str, key: str) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
                    if line.startswith(key):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def rss(self) -> int:
        """Resident memory of all the server's processes, summed (pages they share, such as
        a forked child's, counted once per process)."""
        return self._memory("status", "VmRSS:")

    def pss(self) -> int:
        """Proportional set size, summed: shared pages split between their sharers, so
        this is what the processes together take from the machine."""
        return self._memory("smaps_rollup", "Pss:")

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.samples.append((time.monotonic(), self.rss()))
            self.pss_samples.append(self.pss())

    def cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) used so far by each of the server's processes."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        for pid in self.pids():
            try:
                f = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                out[pid] = (int(f[11]) + int(f[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return out

    @property
    def peak_rss(self) -> int:
        return max((r for _, r in self.samples), default=self.rss())

    def stop(self) -> int:
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = -9
        self.log.close()
        return code


# -- load ---------------------------------------------------------------------------------------
async def read_reply(r: asyncio.StreamReader) -> bytes:
    while True:
        line = await r.readline()
        if not line:
            raise ConnectionError("closed")
        if line[3:4] != b"-":
            return line


def transaction(raw: bytes, rcpt: str = RCPT) -> tuple[bytes, bytes]:
    """What a client writes for one message: MAIL/RCPT/DATA pipelined, then the
    dot-stuffed message and its final dot."""
    block = b"".join((b"." + ln if ln.startswith(b".") else ln)
                     for ln in raw.splitlines(keepends=True)) + b".\r\n"
    return f"MAIL FROM:<>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode(), block


_SEQ = itertools.count()


def unique(block: bytes) -> bytes:
    """The message with a header of its own: the sink stores the same raw message sent
    again (within server.duplicate_window) once, and a load of one message repeated would
    measure that instead of storing."""
    return b"X-Bench-Seq: %d\r\n" % next(_SEQ) + block


def summary(latencies: list[float], elapsed: float, gen_cpu: float, failures: dict,
            session_errors: int, connected: int) -> dict:
    """A load run's figures: rate, p50/p99 of the MAIL -> 250 times, generator CPU."""
    latencies.sort()
    n = len(latencies)
    return {
        "messages": n, "seconds": elapsed, "rate": n / elapsed if elapsed else 0.0,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        "failures": failures, "session_errors": session_errors,
        "generator_cpu_ms": gen_cpu * 1000 / max(1, n),
        "connected": connected,
    }


async def load(port: int, sessions: int, messages: int, raw: bytes,
               hold: int = 0) -> dict:
    """Send `messages` over `sessions` connections; transactions timed MAIL -> 250."""
    envelope, block = transaction(raw)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    left = [messages]
    connected = [0]
    all_connected = asyncio.Event()

    async def session():
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 16)
        try:
            greeting = await read_reply(r)
            if not greeting.startswith(b"220"):
                failures[greeting[:3].decode()] = failures.get(greeting[:3].decode(), 0) + 1
                return
            w.write(b"EHLO load.example.net\r\n")
            await read_reply(r)
            connected[0] += 1
            if hold and connected[0] >= hold:
                all_connected.set()
            if hold:
                await all_connected.wait()
            while left[0] > 0:
                left[0] -= 1
                t0 = time.perf_counter()
                w.write(envelope)
                for _ in range(3):
                    await read_reply(r)
                w.write(unique(block))
                reply = await read_reply(r)
                if reply.startswith(b"250"):
                    latencies.append(time.perf_counter() - t0)
                else:
                    failures[reply[:3].decode()] = failures.get(reply[:3].decode(), 0) + 1
            w.write(b"QUIT\r\n")
            await read_reply(r)
        finally:
            w.close()

    t0, c0 = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(session() for _ in range(sessions)), return_exceptions=True)
    elapsed, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    errors = [r for r in results if isinstance(r, BaseException)]
    return summary(latencies, elapsed, gen_cpu, failures, len(errors), connected[0])


def load_selectors(port: int, sessions: int, messages: int, raw: bytes, rcpt: str = RCPT) -> dict:
    """The same transactions as load(), on non-blocking sockets and one selector: about half
    of asyncio's CPU per message (most of what is left is the kernel's loopback TCP), so the
    generator takes less of the cores the servers are measured on."""
    envelope, block = transaction(raw, rcpt)
    sel = selectors.DefaultSelector()
    left = messages
    latencies, failures = [], {}
    # per connection: [sock, state, buffer, replies expected, t0]
    # states: 0 greeting, 1 ehlo, 2 envelope (3 replies), 3 data (1 reply), 4 quit
    for _ in range(sessions):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [s, 0, b"", 1, 0.0])
    open_ = sessions
    t_start, c_start = time.perf_counter(), time.process_time()
    while open_:
        for key, _ in sel.select():
            c = key.data
            s = c[0]
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                sel.unregister(s)
                s.close()
                open_ -= 1
                continue
            buf = c[2] + data
            # complete final reply lines ("xyz " or "xyz\r\n")
            while c[3]:
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                line, buf = buf[:end], buf[end + 2:]
                if line[3:4] == b"-":
                    continue
                c[3] -= 1
                code = line[:3]
                state = c[1]
                if state == 2 and code not in (b"250", b"354"):
                    failures[code.decode()] = failures.get(code.decode(), 0) + 1
                if state == 3:
                    if code == b"250":
                        latencies.append(time.perf_counter() - c[4])
                    else:
                        failures[code.decode()] = failures.get(code.decode(), 0) + 1
            c[2] = buf
            if c[3]:
                continue
            state = c[1]
            if state == 0:
                s.sendall(b"EHLO load.example.net\r\n")
                c[1], c[3] = 1, 1
            elif state == 2:
                s.sendall(unique(block))
                c[1], c[3] = 3, 1
            elif state in (1, 3):
                if left > 0:
                    left -= 1
                    c[4] = time.perf_counter()
                    s.sendall(envelope)
                    c[1], c[3] = 2, 3
                else:
                    s.sendall(b"QUIT\r\n")
                    c[1], c[3] = 4, 1
            elif state == 4:
                sel.unregister(s)
                s.close()
                open_ -= 1
    elapsed, gen_cpu = time.perf_counter() - t_start, time.process_time() - c_start
    return summary(latencies, elapsed, gen_cpu, failures, 0, sessions)


def have_smtp_source() -> bool:
    return bool(shutil.which("smtp-source") or Path("/usr/sbin/smtp-source").exists())


def smtp_source(port: int, sessions: int, messages: int, raw: bytes, workdir: Path) -> dict | None:
    exe = shutil.which("smtp-source") or (
        "/usr/sbin/smtp-source" if Path("/usr/sbin/smtp-source").exists() else None)
    if not exe:
        return None
    f = workdir / "message.eml"
    f.write_bytes(raw.replace(b"\r\n", b"\n"))  # smtp-source appends CRLF to each line
    t0 = time.perf_counter()
    before = os.times()
    proc = subprocess.run([exe, "-d", "-s", str(sessions), "-m", str(messages), "-f", "",
                           "-t", RCPT, "-F", str(f), "-M", "load.example.net",
                           f"127.0.0.1:{port}"], capture_output=True, timeout=3600)
    elapsed = time.perf_counter() - t0
    after = os.times()
    if proc.returncode != 0:
        return {"error": proc.stderr.decode()[-300:]}
    gen = (after.children_user + after.children_system
           - before.children_user - before.children_system)
    return {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "generator_cpu_ms": gen * 1000 / messages}


def stored_count(db: str) -> int:
    sys.path.insert(0, str(ROOT))
    from bouncesink.store import open_store

    store = open_store(db, create=False)
    try:
        return store._execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        store.close()


def wait_classified(db: str, timeout: float = 600) -> float:
    """Seconds after the load ended until no message is pending classification."""
    sys.path.insert(0, str(ROOT))
    from bouncesink.store import open_store

    t0 = time.perf_counter()
    store = open_store(db, create=False)
    try:
        while time.perf_counter() - t0 < timeout:
            n = store._execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0]
            store._commit()
            if n == 0:
                break
            time.sleep(0.1)
    finally:
        store.close()
    return time.perf_counter() - t0


def fmt(label: str, res: dict, rss: int | None = None) -> str:
    if "error" in res:
        return f"{label:<34} error: {res['error']}"
    s = f"{label:<34} {res['rate']:8.0f} msg/s"
    if "p50_ms" in res:
        s += f"   p50 {res['p50_ms']:7.2f} ms   p99 {res['p99_ms']:7.2f} ms"
    if rss is not None:
        s += f"   peak RSS {rss / 2**20:6.1f} MiB"
        if res.get("peak_pss"):
            s += f" (PSS {res['peak_pss'] / 2**20:.1f})"
    if "classify_lag" in res:
        s += f"   all classified {res['classify_lag']:.1f} s after the load"
    if res.get("cpu_ms"):
        s += "   CPU ms/msg " + " ".join(f"{k}={v:.2f}" for k, v in sorted(res["cpu_ms"].items())
                                        if v >= 0.005)
    if "generator_cpu_ms" in res:
        s += f" generator={res['generator_cpu_ms']:.2f}"
    if res.get("failures") or res.get("session_errors"):
        s += f"   failures {res.get('failures')} session errors {res.get('session_errors')}"
    return s


def run(kind: str, args, workdir: Path, raw: bytes, workers: int = 1, sessions: int | None = None,
        messages: int | None = None, hold: int = 0, db: str | None = None,
        tool: str = "asyncio") -> tuple[dict, int]:
    sessions = sessions or args.sessions
    messages = messages or args.messages
    db = db or args.db or str(workdir / f"sink-{kind}-{workers}-{time.monotonic_ns()}.db")
    schema = None
    if db.startswith("postgres"):
        db, schema = _pg_schema(db)
    server = ServerProc(kind, workdir, db, workers, args.durability,
                        max(2000, sessions * 2), tool)
    try:
        # Warm up (imports, first commits, caches) before measuring.
        asyncio.run(load(server.port, min(sessions, 10), 200, raw))
        if kind == "sink":
            wait_classified(db)
        cpu0 = server.cpu()
        if tool == "smtp-source":
            res = smtp_source(server.port, sessions, messages, raw, workdir) or {
                "error": "smtp-source not installed"}
        elif tool == "selectors":
            res = load_selectors(server.port, sessions, messages, raw)
        else:
            res = asyncio.run(load(server.port, sessions, messages, raw, hold=hold))
        rss = server.peak_rss
        res["rss_samples"] = server.samples
        res["peak_pss"] = max(server.pss_samples, default=0)
        if kind == "sink":
            res["classify_lag"] = wait_classified(db)
        cpu1 = server.cpu()
        main_pid = server.proc.pid
        n = max(1, res.get("messages", 1))
        res["cpu_ms"] = {("main" if pid == main_pid else f"child {pid}"):
                         (cpu1[pid] - cpu0.get(pid, 0.0)) * 1000 / n for pid in cpu1}
    finally:
        code = server.stop()
    res["exit"] = code
    if kind == "sink" and "error" not in res:
        res["stored"] = stored_count(db)
    if schema:
        _pg_drop(args.db, schema)
    return res, rss


def _pg_schema(url: str) -> tuple[str, str]:
    """A fresh schema for one run (the database may be shared): the URL that selects it."""
    import secrets

    import psycopg

    name = "bench_" + secrets.token_hex(4)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}", name


def _pg_drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"DROP SCHEMA {name} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--_bare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--size", type=int, default=6 * 1024, help="message size in bytes")
    ap.add_argument("--db", help="sink store: sqlite path or postgresql:// URL (default: a temp file)")
    ap.add_argument("--durability", default="full", choices=("full", "normal", "off"))
    ap.add_argument("--workers", type=int, default=1, help="also measure serve --workers N")
    ap.add_argument("--scale-sessions", type=int, default=100,
                    help="sessions for the --workers comparison (default 100)")
    ap.add_argument("--connections", type=int, default=0, help="also hold N concurrent sessions")
    ap.add_argument("--rss-messages", type=int, default=0, help="also an RSS run of N messages")
    ap.add_argument("--no-smtp-source", action="store_true")
    args = ap.parse_args()
    if args._bare:
        return bare_main(args._bare, args.workers)

    raw = dsn(args.size)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    print(f"message {len(raw)} bytes, {args.sessions} sessions, {args.messages} messages,"
          f" durability={args.durability}, store={args.db or 'sqlite (temp file)'}, cpus={os.cpu_count()}")

    bare, bare_rss = run("bare", args, workdir, raw)
    print(fmt("bare aiosmtpd (stores nothing)", bare, bare_rss))
    sink, sink_rss = run("sink", args, workdir, raw)
    print(fmt("sink (parse+classify+commit)", sink, sink_rss)
          + f"   stored {sink.get('stored')} exit {sink['exit']}")
    print(f"  sink / bare = {sink['rate'] / bare['rate']:.0%} (target >= 70%)")

    if have_smtp_source() and not args.no_smtp_source:
        if True:
            b2, _ = run("bare", args, workdir, raw, tool="smtp-source")
            s2, _ = run("sink", args, workdir, raw, tool="smtp-source")
            print(fmt("bare, smtp-source", b2))
            print(fmt("sink, smtp-source", s2) + f"   stored {s2.get('stored')}")
            if "rate" in b2 and "rate" in s2:
                print(f"  sink / bare (smtp-source) = {s2['rate'] / b2['rate']:.0%}")

    if args.workers > 1:
        # The generator shares the cores: bare aiosmtpd in N processes is the reference for
        # what the machine allows, and the cheapest generator we have leaves the servers
        # the most (smtp-source writes a -F message line by line and costs as much as the
        # asyncio client). Each 250 waits for a group commit, so keeping N processes busy
        # takes more sessions in flight than keeping one busy: --scale-sessions.
        tool, n = "selectors", args.scale_sessions
        b1, _ = run("bare", args, workdir, raw, workers=1, tool=tool, sessions=n)
        bn, _ = run("bare", args, workdir, raw, workers=args.workers, tool=tool, sessions=n)
        print(fmt(f"bare, 1 process, {n} sessions", b1))
        print(fmt(f"bare, {args.workers} processes", bn))
        print(f"  bare scaling {args.workers} / 1 = {bn['rate'] / b1['rate']:.2f}x (what this"
              f" machine and generator allow)")
        one, _ = run("sink", args, workdir, raw, workers=1, tool=tool, sessions=n)
        w, w_rss = run("sink", args, workdir, raw, workers=args.workers, tool=tool, sessions=n)
        print(fmt(f"sink --workers 1, {n} sessions", one))
        print(fmt(f"sink --workers {args.workers}", w, w_rss) + f"   stored {w.get('stored')}")
        print(f"  scaling {args.workers} workers / 1 = {w['rate'] / one['rate']:.2f}x"
              f" (target >= 1.6x on 2 cores)")

    if args.connections:
        n = args.connections
        c, c_rss = run("sink", args, workdir, raw, sessions=n, messages=max(n * 4, 2000), hold=n)
        print(fmt(f"sink, {n} concurrent sessions", c, c_rss)
              + f"   connected {c['connected']}/{n} at once")

    if args.rss_messages:
        r, r_rss = run("sink", args, workdir, raw, messages=args.rss_messages)
        samples = [s for _, s in r["rss_samples"]]
        if samples:
            tenth = samples[len(samples) // 10]
            end = samples[-1]
            print(fmt(f"sink, {args.rss_messages} messages", r, r_rss)
                  + f"   RSS at 10% {tenth / 2**20:.1f} MiB, at end {end / 2**20:.1f} MiB"
                  f" ({(end - tenth) / tenth:+.1%}; target within 10%)")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
