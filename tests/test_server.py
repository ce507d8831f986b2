"""The SMTP server end to end: smtplib against the real server, then the real SQLite file."""

from __future__ import annotations

import hashlib
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

import pytest
from structlog.testing import capture_logs

from bouncesink.envelope import message_id_of
from conftest import DOMAIN

RCPT = f"bounces@{DOMAIN}"


def send(port, data, rcpts=(RCPT,), mail_from=""):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        return c.sendmail(mail_from, list(rcpts), data)


def test_dsn_is_stored_and_classified(sink, dsn_bytes):
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    assert send(sink.port, raw) == {}
    sink.wait_classified(1)
    store = sink.open_store()
    try:
        (stored,) = [store.message(r) for (r,) in store._execute("SELECT id FROM messages")]
        rows = store._execute("SELECT recipient, status, type, reason FROM results").fetchall()
    finally:
        store.close()
    assert stored.raw == raw  # byte for byte what crossed the wire
    assert stored.envelope.rcpt_tos == [RCPT]
    assert stored.state == "classified"
    assert rows == [("alice@example.com", "5.1.1", "hard", "userunknown")]


def test_stored_message_carries_its_content_hash(sink, dsn_bytes):
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    send(sink.port, raw)
    sink.wait_classified(1)
    store = sink.open_store()
    try:
        (ref, digest), = store._execute("SELECT id, digest FROM messages").fetchall()
        assert digest == hashlib.sha256(raw).hexdigest()
        assert store.message_by_digest(digest) == ref
        assert store.message_by_digest(hashlib.sha256(b"other").hexdigest()) is None
    finally:
        store.close()


def test_every_fixture_gets_its_results(sink, dsn_bytes):
    for name in ("dsn-hard-userunknown.eml", "dsn-soft-mailboxfull.eml",
                 "dsn-two-recipients.eml"):
        send(sink.port, dsn_bytes(name))
    sink.wait_classified(3)
    assert sink.count("SELECT COUNT(*) FROM results") == 4
    assert sink.count("SELECT COUNT(*) FROM results WHERE type = 'soft'") == 1


def test_reply_is_250_with_the_ref(sink, dsn_bytes):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        c.rcpt(RCPT)
        code, msg = c.data(dsn_bytes("dsn-soft-mailboxfull.eml"))
    assert code == 250
    assert msg.startswith(b"2.0.0 OK queued as ")


def test_unparseable_message_is_kept_raw_as_unrecognised(sink):
    send(sink.port, b"Subject: hello\r\n\r\nnot a bounce at all\r\n")
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM messages WHERE state = 'unrecognised'") == 1
    assert sink.count("SELECT COUNT(*) FROM results") == 0


def test_concurrent_messages_share_commits(make_sink, dsn_bytes):
    sink = make_sink(store={"commit_interval": 0.05})
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    threads = [threading.Thread(target=send, args=(sink.port, raw)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.wait_classified(10)
    stats = sink.server.ingest.stats
    assert stats["messages"] == 10
    assert stats["commits"] < 10  # group commit: some commit held several messages


BIG = b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 40


def test_size_limit_declared_in_mail_from_is_552_5_3_4(make_sink):
    sink = make_sink(server={"max_message_size": 2000})
    with pytest.raises(smtplib.SMTPSenderRefused) as err:
        send(sink.port, BIG)
    assert (err.value.smtp_code, err.value.smtp_error[:5]) == (552, b"5.3.4")


def test_size_limit_exceeded_in_data_is_552_5_3_4(make_sink):
    sink = make_sink(server={"max_message_size": 2000})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.helo("mx.example.net")  # no ESMTP: no SIZE= declared
        c.mail("")
        c.rcpt(RCPT)
        code, msg = c.data(BIG)
    assert (code, msg[:5]) == (552, b"5.3.4")
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_long_data_line_within_the_size_limit_is_accepted(sink):
    # Bounces quote overlong lines of the original; only the size limit bounds DATA.
    raw = b"Subject: long\r\nX-Long: " + b"a" * 200_000 + b"\r\n\r\nbody\r\n"
    assert send(sink.port, raw) == {}
    sink.wait_classified(1)


def test_too_many_recipients_is_452(make_sink):
    sink = make_sink(server={"max_recipients": 2})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        assert c.rcpt(f"a@{DOMAIN}")[0] == 250
        assert c.rcpt(f"b@{DOMAIN}")[0] == 250
        code, msg = c.rcpt(f"c@{DOMAIN}")
    assert (code, msg[:5]) == (452, b"4.5.3")


def test_store_failure_is_451_and_the_server_recovers(sink, dsn_bytes):
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    store = sink.open_store()
    # Another writer holding the write lock makes our commit fail once busy_timeout passes:
    # shorten the wait by holding an exclusive lock and our connection's timeout.
    sink.server.store._conn.execute("PRAGMA busy_timeout = 200")
    store._conn.isolation_level = None
    store._conn.execute("BEGIN EXCLUSIVE")
    with capture_logs() as logs:
        with pytest.raises(smtplib.SMTPDataError) as err:
            send(sink.port, raw)
    assert err.value.smtp_code == 451
    assert err.value.smtp_error.startswith(b"4.3.0")
    assert any(e["event"] == "store_commit_failed" for e in logs)
    store._conn.execute("ROLLBACK")
    store.close()
    assert send(sink.port, raw) == {}  # the fault cleared: served again, no restart
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM messages") == 1


def incompressible(n: int) -> bytes:
    import base64

    return base64.encodebytes(os.urandom(n)).replace(b"\n", b"\r\n")


def test_disk_full_is_451_then_recovers(sink, dsn_bytes):
    raw = dsn_bytes("dsn-soft-mailboxfull.eml")
    send(sink.port, raw)
    sink.wait_classified(1)
    conn = sink.server.store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the next growth
    with capture_logs() as logs:
        with pytest.raises(smtplib.SMTPDataError) as err:
            send(sink.port, raw + incompressible(200_000))
    assert (err.value.smtp_code, err.value.smtp_error[:5]) == (451, b"4.3.0")
    assert any("full" in e.get("error", "") for e in logs if e["event"] == "store_commit_failed")
    # The failed commit reset the connection (the limit went with it): served again.
    assert send(sink.port, raw) == {}
    sink.wait_classified(2)
    assert sink.count("SELECT COUNT(*) FROM messages") == 2


def json_lines(text: str) -> list[dict]:
    import json

    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def test_one_log_line_per_message_and_per_result(capfd, make_sink, dsn_bytes):
    # The classifier process writes these lines (after the 250) to the stdout it inherits:
    # started inside the test, that is capfd's.
    sink = make_sink()
    raw = dsn_bytes("dsn-two-recipients.eml")
    send(sink.port, raw)
    sink.wait_classified(1)
    logs, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline and len(
            [e for e in logs if e["event"] == "bounce_recorded"]) < 2:
        time.sleep(0.05)
        logs += json_lines(capfd.readouterr().out)
    (line,) = [e for e in logs if e["event"] == "message_received"]
    assert line["peer"] == "127.0.0.1"
    assert line["rcpt_to"] == [RCPT]
    assert line["message_id"] == "<20261102120000.CCC3@mx.example.net>"
    assert line["results"] == 2
    assert line["reply"] == "250"
    assert line["duration_ms"] >= 0
    recorded = [e for e in logs if e["event"] == "bounce_recorded"]
    assert sorted(e["recipient"] for e in recorded) == ["carol@example.com", "dave@example.net"]


def test_message_id_of_reads_the_header_block_only():
    raw = b"Subject: x\r\nMessage-ID: <a@example.net>\r\n\r\nMessage-ID: <b@example.net>\r\n"
    assert message_id_of(raw) == "<a@example.net>"
    assert message_id_of(b"Subject: x\r\n\r\nMessage-ID: <b@example.net>\r\n") == ""


def test_pending_messages_are_classified_at_startup(make_sink, tmp_path, dsn_bytes):
    from bouncesink.model import Envelope
    from bouncesink.store import open_store

    store = open_store(str(tmp_path / "sink.db"))
    store.add_messages([(Envelope("192.0.2.1", "", [RCPT]), dsn_bytes("dsn-hard-userunknown.eml"))])
    store.close()
    sink = make_sink()  # recovery runs in the classifier, while the server takes mail
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM results") == 1


# -- a real `bouncesink serve` process ---------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def output(proc) -> bytes:
    return proc.log_path.read_bytes()


def start_serve(tmp_path, *extra, port=None):
    """A real `bouncesink serve` on 127.0.0.1; its output goes to a file (`output(proc)`)."""
    port = port or free_port()
    log = tmp_path / f"serve-{time.monotonic_ns()}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bouncesink", "serve", "--db", str(tmp_path / "sink.db"),
             "--listen", f"127.0.0.1:{port}", "--domain", DOMAIN, "--log-format", "json",
             *extra], stdout=out, stderr=subprocess.STDOUT)
    proc.log_path = log
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(output(proc).decode())
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not start")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_serve_with_exit_0_and_in_flight_messages_stored(tmp_path, dsn_bytes, sig):
    proc, port = start_serve(tmp_path)
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    # A session in the middle of DATA when the signal arrives: it must still get its 250.
    c = smtplib.SMTP("127.0.0.1", port, timeout=30)
    c.ehlo("mx.example.net")
    c.mail("")
    c.rcpt(RCPT)
    c.putcmd("data")
    assert c.getreply()[0] == 354
    c.send(raw[:500])
    time.sleep(0.2)
    proc.send_signal(sig)
    time.sleep(0.3)
    c.send(raw[500:] + b".\r\n")
    code, _ = c.getreply()
    c.close()
    proc.wait(60)
    out = output(proc)
    assert code == 250
    assert proc.returncode == 0, out.decode()
    from bouncesink.store import open_store

    store = open_store(str(tmp_path / "sink.db"), create=False)
    try:
        assert store._execute("SELECT COUNT(*) FROM messages WHERE state = 'classified'"
                              ).fetchone()[0] == 1
    finally:
        store.close()
    assert b"server_stopped" in out


def test_sigterm_tells_idle_sessions_421_and_stops_listening(tmp_path):
    proc, port = start_serve(tmp_path)
    idle = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert idle.recv(1024).startswith(b"220")
    proc.send_signal(signal.SIGTERM)
    rest = b""
    while chunk := idle.recv(1024):
        rest += chunk
    idle.close()
    assert rest.startswith(b"421 4.3.2")
    assert proc.wait(60) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_serve_workers_share_one_port_and_stop_cleanly(tmp_path, dsn_bytes):
    proc, port = start_serve(tmp_path, "--workers", "2")
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    for i in range(20):  # each its own message (one sent again would be stored once)
        assert send(port, b"X-Seq: %d\r\n" % i + raw) == {}
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    out = output(proc)
    assert proc.returncode == 0, out.decode()
    from bouncesink.store import open_store

    store = open_store(str(tmp_path / "sink.db"), create=False)
    try:
        states = dict(store._execute("SELECT state, COUNT(*) FROM messages GROUP BY state"
                                     ).fetchall())
        results = store._execute("SELECT COUNT(*) FROM results").fetchone()[0]
    finally:
        store.close()
    assert states == {"classified": 20}
    assert results == 20  # each message classified once, by one process
    started = [line for line in out.splitlines() if b'"server_started"' in line]
    assert len(started) == 2


# -- limits: each answered with its SMTP reply and a log line ------------------------------
def banner(port) -> tuple[socket.socket, bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return s, s.recv(1024)


def read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def limit_events(logs, name):
    return [e for e in logs if e.get("limit") == name]


def test_connections_beyond_max_connections_get_421(make_sink):
    sink = make_sink(server={"max_connections": 2, "max_connections_per_ip": 50})
    with capture_logs() as logs:
        a, ba = banner(sink.port)
        b, bb = banner(sink.port)
        c, bc = banner(sink.port)
        assert ba.startswith(b"220") and bb.startswith(b"220")
        assert bc.startswith(b"421 4.7.0")
        assert read_all(c) == b""  # and closed
        a.close()
        time.sleep(0.1)
        d, bd = banner(sink.port)  # a slot came free
        assert bd.startswith(b"220")
    for s in (b, c, d):
        s.close()
    assert limit_events(logs, "max_connections")


def test_connections_beyond_the_per_ip_limit_get_421(make_sink):
    sink = make_sink(server={"max_connections_per_ip": 1})
    with capture_logs() as logs:
        a, ba = banner(sink.port)
        b, bb = banner(sink.port)
    assert ba.startswith(b"220")
    assert bb.startswith(b"421 4.7.0")
    a.close()
    b.close()
    assert limit_events(logs, "max_connections_per_ip")


def test_command_timeout_says_421_and_closes(make_sink):
    sink = make_sink(server={"command_timeout": 0.3})
    with capture_logs() as logs:
        s, b = banner(sink.port)
        assert b.startswith(b"220")
        assert read_all(s).startswith(b"421 4.4.2")
    s.close()
    assert limit_events(logs, "command_timeout")


def test_data_timeout_bounds_the_whole_transfer(make_sink):
    sink = make_sink(server={"data_timeout": 0.5, "command_timeout": 60})
    with capture_logs() as logs:
        s, _ = banner(sink.port)
        s.sendall(f"HELO mx.example.net\r\nMAIL FROM:<>\r\nRCPT TO:<{RCPT}>\r\nDATA\r\n".encode())
        time.sleep(0.2)
        # A slow drip that keeps sending (each line resets nothing).
        got = b""
        for _ in range(20):
            try:
                s.sendall(b"Subject: drip\r\n")
            except OSError:
                break
            time.sleep(0.1)
        s.settimeout(5)
        try:
            got = read_all(s)
        except OSError:
            pass
    s.close()
    assert limit_events(logs, "data_timeout")
    assert b"250 2.0.0" not in got
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_command_line_too_long_is_500_5_5_2(make_sink):
    sink = make_sink(server={"max_line_length": 600})
    with capture_logs() as logs:
        s, _ = banner(sink.port)
        s.sendall(b"EHLO " + b"a" * 700 + b"\r\n")
        reply = s.recv(1024)
        s.sendall(b"NOOP\r\n")
        after = s.recv(1024)
    s.close()
    assert reply.startswith(b"500 5.5.2")
    assert after.startswith(b"250")  # the session goes on
    assert limit_events(logs, "max_line_length")


def test_too_many_errors_disconnects_with_421(make_sink):
    sink = make_sink(server={"max_errors": 3})
    with capture_logs() as logs:
        s, _ = banner(sink.port)
        s.sendall(b"HELO mx.example.net\r\nMAIL FROM:<>\r\n")
        for _ in range(4):
            s.sendall(b"RCPT TO:<user@example.com>\r\n")
        got = read_all(s)
    s.close()
    assert got.count(b"550 5.7.1") == 4
    assert got.rstrip().endswith(b"421 4.7.0 Too many errors, closing connection")
    assert limit_events(logs, "max_errors")


# -- store faults: read-only, PostgreSQL gone ----------------------------------------------
def test_read_only_store_is_451_then_recovers(sink, dsn_bytes):
    raw = dsn_bytes("dsn-soft-mailboxfull.eml")
    # As root, file modes do not stop writes; query_only makes SQLite refuse them the same way.
    sink.server.store._conn.execute("PRAGMA query_only = ON")
    with capture_logs() as logs:
        with pytest.raises(smtplib.SMTPDataError) as err:
            send(sink.port, raw)
    assert (err.value.smtp_code, err.value.smtp_error[:5]) == (451, b"4.3.0")
    assert any("readonly" in e.get("error", "") for e in logs
               if e["event"] == "store_commit_failed")
    assert send(sink.port, raw) == {}
    sink.wait_classified(1)


class TCPProxy:
    """127.0.0.1:port -> target, which a test can take away and bring back."""

    def __init__(self, target: tuple[str, int], port: int = 0):
        self.target = target
        self.port = port
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> "TCPProxy":
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.listener.close()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []


def test_postgresql_gone_is_451_and_the_server_recovers_by_itself(make_sink, dsn_bytes):
    from pgschema import BASE, fresh_schema

    from bouncesink.store import open_store

    with fresh_schema() as schema:
        host, port = "127.0.0.1", 5432
        proxy = TCPProxy((host, port)).start()
        url = schema.url("sink").replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")
        assert f"127.0.0.1:{proxy.port}" in url, BASE
        sink = make_sink(store={"db": url, "durability": "full"})
        raw = dsn_bytes("dsn-hard-userunknown.eml")
        assert send(sink.port, raw) == {}
        proxy.stop()  # the database goes away
        with capture_logs() as logs:
            with pytest.raises(smtplib.SMTPDataError) as err:
                send(sink.port, raw)
        assert (err.value.smtp_code, err.value.smtp_error[:5]) == (451, b"4.3.0")
        assert any(e["event"] == "store_commit_failed" for e in logs)
        proxy.start()  # ... and comes back on the same address: no restart needed
        assert send(sink.port, raw) == {}
        sink.wait_classified(2)
        sink.stop()
        store = open_store(schema.url("check"), create=False)
        try:
            assert store._execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2
            assert store._execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2
        finally:
            store.close()
        proxy.stop()


def test_a_backlog_beyond_its_cap_is_classified_by_the_sweep(make_sink, dsn_bytes, monkeypatch):
    from bouncesink.server.ingest import Ingest

    monkeypatch.setattr(Ingest, "MAX_BACKLOG", 0)      # every ref waits in the store ...
    monkeypatch.setattr(Ingest, "SWEEP_INTERVAL", 0.2)  # ... for the sweep
    monkeypatch.setattr(Ingest, "SWEEP_AGE", 0.0)
    sink = make_sink()
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        for _ in range(10):
            c.sendmail("", [RCPT], raw)
    sink.wait_classified(10)
    assert sink.count("SELECT COUNT(*) FROM results") == 10


def test_500_concurrent_sessions_are_held_and_served(make_sink, dsn_bytes):
    import asyncio

    sink = make_sink(server={"max_connections": 600, "max_connections_per_ip": 600})
    block = dsn_bytes("dsn-soft-mailboxfull.eml") + b".\r\n"

    async def session(all_open: asyncio.Event, opened: list):
        r, w = await asyncio.open_connection("127.0.0.1", sink.port)
        greeting = await r.readline()
        opened.append(greeting[:3])
        if len(opened) == 500:
            all_open.set()
        await all_open.wait()  # every session is open at once before any sends
        w.write(f"HELO mx.example.net\r\nMAIL FROM:<>\r\nRCPT TO:<{RCPT}>\r\nDATA\r\n".encode())
        replies = [await r.readline() for _ in range(4)]
        w.write(block)
        replies.append(await r.readline())
        w.close()
        return [x[:3] for x in replies]

    async def main():
        all_open, opened = asyncio.Event(), []
        return opened, await asyncio.wait_for(
            asyncio.gather(*(session(all_open, opened) for _ in range(500))), 120)

    opened, replies = asyncio.run(main())
    assert opened == [b"220"] * 500
    assert all(r == [b"250", b"250", b"250", b"354", b"250"] for r in replies)
    sink.wait_classified(500, timeout=120)


# -- RFC 2920 pipelining --------------------------------------------------------------------
def _read_replies(sock: socket.socket, n: int, timeout: float = 10.0) -> tuple[list[bytes], int]:
    """Read until `n` final reply lines; returns them and how many reads that took."""
    sock.settimeout(timeout)
    buf, reads = b"", 0
    while sum(1 for ln in buf.split(b"\r\n") if ln[3:4] == b" ") < n:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {buf!r}"
        buf += chunk
        reads += 1
    return [ln for ln in buf.split(b"\r\n") if ln[3:4] == b" "], reads


def test_pipelined_commands_are_answered_in_order_in_one_write(sink, dsn_bytes):
    with socket.create_connection(("127.0.0.1", sink.port)) as s:
        _read_replies(s, 1)
        s.sendall(b"EHLO mx.example.net\r\n")
        s.settimeout(10)
        ehlo = b""
        while not any(ln[3:4] == b" " for ln in ehlo.split(b"\r\n")):
            ehlo += s.recv(65536)
        assert b"250-PIPELINING\r\n" in ehlo and ehlo.rstrip().endswith(b"250 HELP")
        group = (f"MAIL FROM:<>\r\nRCPT TO:<{RCPT}>\r\nRCPT TO:<someone@example.com>\r\n"
                 f"RCPT TO:<other@{DOMAIN}>\r\nDATA\r\n").encode()
        s.sendall(group)
        time.sleep(0.3)  # the whole group is read before anything is answered
        replies, reads = _read_replies(s, 5)
        assert [r[:3] for r in replies] == [b"250", b"250", b"550", b"250", b"354"]
        assert reads == 1  # one write for the group, not one per command
        body = dsn_bytes("dsn-hard-userunknown.eml")
        s.sendall(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\nRSET\r\nQUIT\r\n")
        replies, _ = _read_replies(s, 3)
        assert [r[:3] for r in replies] == [b"250", b"250", b"221"]
    sink.wait_classified(1)
    assert sink.count("SELECT count(*) FROM messages") == 1


def _recv_until_closed(s: socket.socket, timeout: float = 30.0) -> bytes:
    s.settimeout(timeout)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def _expect(s: socket.socket, code: bytes) -> bytes:
    s.settimeout(30)
    buf = b""
    while not (buf.endswith(b"\r\n") and buf.split(b"\r\n")[-2][3:4] == b" "):
        chunk = s.recv(65536)
        assert chunk, buf
        buf += chunk
    assert buf.split(b"\r\n")[-2].startswith(code), buf
    return buf


def test_dot_and_quit_then_half_close_are_still_answered(sink, dsn_bytes):
    """Exim 4.96: the final dot and QUIT in one write, then shutdown(SHUT_WR). The sink must
    still answer 250 (else Exim sends the message again) and 221."""
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    with socket.create_connection(("127.0.0.1", sink.port)) as s:
        _expect(s, b"220")
        s.sendall(b"EHLO mx.example.net\r\n")
        _expect(s, b"250")
        s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<" + RCPT.encode() + b">\r\nDATA\r\n")
        _expect(s, b"354")
        s.sendall(raw + b".\r\nQUIT\r\n")
        s.shutdown(socket.SHUT_WR)
        replies = _recv_until_closed(s)
    assert b"250 2.0.0 OK queued as 1\r\n" in replies, replies
    assert replies.endswith(b"221 Bye\r\n"), replies
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM messages") == 1


def test_half_close_inside_data_stores_nothing(sink, dsn_bytes):
    with socket.create_connection(("127.0.0.1", sink.port)) as s:
        _expect(s, b"220")
        s.sendall(b"EHLO mx.example.net\r\nMAIL FROM:<>\r\nRCPT TO:<" + RCPT.encode()
                  + b">\r\nDATA\r\n")
        _expect(s, b"354")
        s.sendall(dsn_bytes("dsn-hard-userunknown.eml"))  # no final dot
        s.shutdown(socket.SHUT_WR)
        replies = _recv_until_closed(s)
    assert b"250 2.0.0" not in replies
    time.sleep(0.2)
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_a_retransmission_is_stored_once_and_answered_with_the_first_ref(make_sink,
                                                                         dsn_bytes):
    sink = make_sink(server={"duplicate_window": 86400.0})  # the default
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    replies = []
    for _ in range(3):
        with smtplib.SMTP("127.0.0.1", sink.port) as c:
            c.ehlo("mx.example.net")
            c.mail("")
            c.rcpt(RCPT)
            replies.append(c.data(raw))
    assert replies == [(250, b"2.0.0 OK queued as 1")] * 3
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM messages") == 1
    assert sink.count("SELECT COUNT(*) FROM results") == 1
    assert sink.server.ingest.stats["duplicates"] == 2


def test_the_same_message_after_the_window_is_stored_again(make_sink, dsn_bytes):
    sink = make_sink(server={"duplicate_window": 0.3})
    raw = dsn_bytes("dsn-hard-userunknown.eml")
    send(sink.port, raw)
    time.sleep(0.5)
    send(sink.port, raw)
    sink.wait_classified(2)
    assert sink.count("SELECT COUNT(*) FROM messages") == 2


class _Flaky:
    """A parse whose result the store cannot record (a parser bug) for the first `bad`
    messages holding POISON, then the real parse."""

    def __init__(self, bad: int) -> None:
        self.bad = bad

    def __call__(self, raw: bytes, verp_recipient: str | None = None):
        from bouncesink.model import Parsed, Result
        from bouncesink.parse import parse

        if b"POISON" in raw and self.bad > 0:
            self.bad -= 1
            return Parsed(kind="dsn", results=[Result(recipient=12345, type="hard",
                                                      reason="userunknown")])
        return parse(raw, verp_recipient=verp_recipient) if verp_recipient else parse(raw)


def _quick_sweep(monkeypatch):
    from bouncesink.server.classifier import Classifier
    from bouncesink.server.ingest import Ingest

    # A sweep every 0.2 s of rows older than 1 s; retries after 0.1, 0.2, 0.4 s.
    monkeypatch.setattr(Ingest, "SWEEP_INTERVAL", 0.2)
    monkeypatch.setattr(Ingest, "SWEEP_AGE", 1.0)
    monkeypatch.setattr(Classifier, "RETRY_BASE", 0.1)
    monkeypatch.setattr(Classifier, "MAX_ATTEMPTS", 3)


def test_a_message_whose_classification_failed_is_tried_again(make_sink, dsn_bytes,
                                                               monkeypatch):
    _quick_sweep(monkeypatch)
    sink = make_sink(parse=_Flaky(bad=4), classify_in_process=True)  # two parses a round
    raw = dsn_bytes("dsn-hard-userunknown.eml").replace(b"Subject:", b"X-Test: POISON\r\nSubject:")
    send(sink.port, raw)
    sink.wait_classified(1, timeout=30)
    store = sink.open_store()
    try:
        state, attempts = store._execute("SELECT state, attempts FROM messages").fetchone()
        results = store._execute("SELECT recipient, type FROM results").fetchall()
    finally:
        store.close()
    assert (state, attempts) == ("classified", 2)
    assert results == [("alice@example.com", "hard")]


def test_a_message_that_keeps_failing_is_set_aside_for_a_person(make_sink, dsn_bytes,
                                                                monkeypatch):
    _quick_sweep(monkeypatch)
    sink = make_sink(parse=_Flaky(bad=1000), classify_in_process=True)
    raw = dsn_bytes("dsn-hard-userunknown.eml").replace(b"Subject:", b"X-Test: POISON\r\nSubject:")
    send(sink.port, raw)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sink.count("SELECT COUNT(*) FROM messages WHERE state = 'failed'"):
            break
        time.sleep(0.05)
    store = sink.open_store()
    try:
        state, attempts, errors = store._execute(
            "SELECT state, attempts, errors FROM messages").fetchone()
    finally:
        store.close()
    assert (state, attempts) == ("failed", 3)
    assert errors.startswith("classify: AttributeError(")


def test_a_retry_not_yet_due_at_start_up_is_taken_by_the_sweep(make_sink, dsn_bytes,
                                                                monkeypatch):
    from bouncesink.server.classifier import Classifier

    _quick_sweep(monkeypatch)
    monkeypatch.setattr(Classifier, "RETRY_BASE", 2.0)
    first = make_sink(parse=_Flaky(bad=2), classify_in_process=True)
    raw = dsn_bytes("dsn-hard-userunknown.eml").replace(b"Subject:", b"X-Test: POISON\r\nSubject:")
    send(first.port, raw)
    deadline = time.monotonic() + 30
    while not first.count("SELECT COUNT(*) FROM messages WHERE attempts = 1"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.stop()
    # Restarted before the retry is due: start-up recovery leaves it; the sweep must not.
    second = make_sink(parse=_Flaky(bad=0), classify_in_process=True)
    second.wait_classified(1, timeout=30)
    assert second.count("SELECT COUNT(*) FROM results") == 1


def test_the_classifier_holds_a_bounded_amount_of_raw_bytes_at_once(tmp_path, dsn_bytes):
    from bouncesink.config import Config
    from bouncesink.idleparse import timed_parse
    from bouncesink.model import Envelope
    from bouncesink.parse import parse
    from bouncesink.server.classifier import Classifier, _Committed
    from bouncesink.store import open_store

    class Recording:  # the Classifier.parser seam: parse here, and note each call's bytes
        calls: list[int] = []

        def parse_many(self, items):
            self.calls.append(sum(len(raw) for _, raw, _ in items))
            return [timed_parse(parse, None, *item) for item in items]

    store = open_store(str(tmp_path / "big.db"), durability="off")
    try:
        raw = dsn_bytes("dsn-hard-userunknown.eml") + b"X" * 998 + b"\r\n" * 3000
        big = raw + (b"Y" * 998 + b"\r\n") * 3000   # ~3 MB each
        env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[RCPT])
        refs = store.add_messages([(env, big + b"%d" % i) for i in range(5)])
        work = Classifier(Config(), store, parse)
        work.parser = Recording()
        summary = work.classify([_Committed(ref) for ref in refs])
    finally:
        store.close()
    assert [ref for ref, _, _ in summary] == refs
    assert len(Recording.calls) == 2
    assert max(Recording.calls) <= Classifier.CHUNK_BYTES + len(big) + 10
