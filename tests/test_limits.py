"""The front door's limits across sessions: the DATA bytes in transfer at once (a global
budget), connections per client (IPv6 by /64), and a retransmission stored once."""

from __future__ import annotations

import smtplib
import socket

from bouncesink.config import Config
from bouncesink.server.protocol import ConnectionGate, client_key
from conftest import DOMAIN

RCPT = f"bounces@{DOMAIN}"


def _reply(s: socket.socket) -> bytes:
    s.settimeout(30)
    buf = b""
    while not (buf.endswith(b"\r\n") and buf.split(b"\r\n")[-2][3:4] == b" "):
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk
    return buf


def _open_data(port: int) -> socket.socket:
    """A session that has had its 354: what it sends next is DATA."""
    s = socket.create_connection(("127.0.0.1", port))
    assert _reply(s).startswith(b"220")
    s.sendall(b"EHLO mx.example.net\r\n")
    _reply(s)
    s.sendall(b"MAIL FROM:<>\r\n")
    _reply(s)
    s.sendall(b"RCPT TO:<" + RCPT.encode() + b">\r\n")
    _reply(s)
    s.sendall(b"DATA\r\n")
    assert _reply(s).startswith(b"354")
    return s


def _until_closed(s: socket.socket) -> bytes:
    s.settimeout(30)
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def _wait_inflight(sink, n: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while sink.server.gate.inflight_bytes < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.server.gate.inflight_bytes >= n


LINE = b"X" * 998 + b"\r\n"


def test_data_past_the_global_budget_gets_451_432(make_sink):
    sink = make_sink(server={"max_inflight_bytes": 300_000, "max_message_size": 250_000})
    first = _open_data(sink.port)
    first.sendall(b"Subject: one\r\n\r\n" + LINE * 200)      # ~200 KB, held in transfer
    _wait_inflight(sink, 200_000)
    second = _open_data(sink.port)
    second.sendall(b"Subject: two\r\n\r\n" + LINE * 150)     # past 300 KB in all
    assert _until_closed(second).startswith(b"451 4.3.2 ")
    second.close()
    first.sendall(b".\r\n")
    assert _reply(first).startswith(b"250 2.0.0 OK queued as ")
    first.close()
    # The budget is released: the next message goes through.
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as c:
        assert c.sendmail("", [RCPT], b"Subject: three\r\n\r\nsmall\r\n") == {}
    assert sink.server.gate.inflight_bytes == 0
    assert sink.count("SELECT COUNT(*) FROM messages") == 2


def test_one_huge_line_counts_against_the_budget_before_its_552(make_sink):
    sink = make_sink(server={"max_inflight_bytes": 300_000, "max_message_size": 250_000})
    s = _open_data(sink.port)
    s.sendall(b"Subject: long\r\n\r\n" + b"A" * 400_000)  # one line, no end
    assert _until_closed(s).startswith(b"451 4.3.2 ")
    s.close()
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_data_command_is_refused_while_the_budget_is_full(make_sink):
    sink = make_sink(server={"max_inflight_bytes": 100_000, "max_message_size": 100_000})
    first = _open_data(sink.port)
    first.sendall(b"Subject: one\r\n\r\n" + LINE * 99 + b"Y" * 982 + b"\r\n")  # 100,000
    _wait_inflight(sink, 100_000)
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        c.rcpt(RCPT)
        code, msg = c.docmd("DATA")
        assert (code, msg[:5]) == (451, b"4.3.2")
    first.close()


def test_ipv6_clients_are_counted_by_their_64():
    cfg = Config().replace("server", max_connections_per_ip=1)
    gate = ConnectionGate(cfg)
    assert gate.enter(object(), "2001:db8:1:2::1") is None
    assert gate.enter(object(), "2001:db8:1:2:ffff::9").startswith("421 4.7.0")
    assert gate.enter(object(), "2001:db8:1:3::1") is None      # another /64
    assert gate.enter(object(), "192.0.2.1") is None
    assert gate.enter(object(), "::ffff:192.0.2.1").startswith("421")  # the same IPv4 host
    assert client_key("2001:db8:1:2:a:b:c:d") == "2001:db8:1:2::/64"
