"""The LMTP road (RFC 2033): the real server's LMTP listener, alone and behind a real Postfix
handing bounces over with transport_maps -> lmtp:unix:... and lmtp:inet:..."""

from __future__ import annotations

import json
import shutil
import smtplib
import socket

import pytest

from conftest import DATA_DIR, make_config, start_sink
from peers import Postfix, postfix_unavailable, shared_tmpdir, wait_for

DSN = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes().replace(b"\r\n", b"\n") \
    .replace(b"\n", b"\r\n")


class LmtpConversation:
    """A raw LMTP client: smtplib.LMTP reads one reply after DATA, RFC 2033 sends one per
    recipient."""

    def __init__(self, address) -> None:
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(address)
        self.file = self.sock.makefile("rb")
        self.reply()  # greeting

    def reply(self) -> list[str]:
        lines = []
        while True:
            line = self.file.readline().decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def cmd(self, line: str) -> list[str]:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture(scope="module")
def sinks():
    """Two real servers: LMTP on a unix socket, and on TCP (port 0)."""
    root = shared_tmpdir("bouncesink-lmtp-")
    unix = start_sink(make_config(root / "unix", lmtp={
        "listen": f"unix:{root}/run/lmtp.sock", "socket_mode": "0666"}))
    tcp = start_sink(make_config(root / "tcp", lmtp={"listen": "127.0.0.1:0"},
                                 server={"domains": ("bounces.example.org", "tcp.example.org"),
                                         "listen": "127.0.0.1:0", "hostname": "sink.test"}))
    yield {"unix": unix, "tcp": tcp, "socket": f"{root}/run/lmtp.sock", "root": root}
    unix.stop()
    tcp.stop()
    shutil.rmtree(root, ignore_errors=True)


def stored(sink) -> list[tuple]:
    store = sink.open_store()
    try:
        return store._execute("SELECT id, state, rcpt_to, mail_from FROM messages"
                              " ORDER BY id").fetchall()
    finally:
        store.close()


def test_lhlo_and_one_reply_per_recipient_after_one_commit(sinks):
    c = LmtpConversation(sinks["socket"])
    try:
        assert c.cmd("HELO x")[0].startswith("500 5.5.1")
        lhlo = c.cmd("LHLO mta.example.net")
        assert lhlo[-1].startswith("250 ") and any("PIPELINING" in x for x in lhlo)
        assert any("ENHANCEDSTATUSCODES" in x for x in lhlo)
        assert c.cmd("MAIL FROM:<>")[0].startswith("250")
        assert c.cmd("RCPT TO:<bounces+a@bounces.example.org>")[0].startswith("250")
        assert c.cmd("RCPT TO:<someone@example.com>")[0].startswith("550 5.7.1")
        assert c.cmd("RCPT TO:<bounces+b@bounces.example.org>")[0].startswith("250")
        assert c.cmd("DATA")[0].startswith("354")
        c.sock.sendall(DSN + b".\r\n")
        first, second = c.reply(), c.reply()
        assert first[0].startswith("250 2.0.0") and second[0].startswith("250 2.0.0")
        assert first == second  # one stored message, one commit, one reply for each
        assert c.cmd("QUIT")[0].startswith("221")
    finally:
        c.close()
    sinks["unix"].wait_classified(1)
    rows = [r for r in stored(sinks["unix"]) if "bounces+a@" in r[2]]
    assert len(rows) == 1
    assert json.loads(rows[0][2]) == ["bounces+a@bounces.example.org",
                                      "bounces+b@bounces.example.org"]


def test_lmtp_over_tcp_and_the_size_limit(sinks):
    port = sinks["tcp"].server.lmtp_port
    with smtplib.LMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail("", ["bounces@tcp.example.org"], DSN)
    sinks["tcp"].wait_classified(1)
    c = LmtpConversation(("127.0.0.1", port))
    try:
        c.cmd("LHLO mta.example.net")
        assert c.cmd("MAIL FROM:<> SIZE=999999999")[0].startswith("552 5.3.4")
    finally:
        c.close()


def test_a_socket_still_in_use_is_not_taken_over(sinks, tmp_path):
    from bouncesink.server.lmtp import _clear_stale_socket

    with pytest.raises(OSError, match="another process listens"):
        _clear_stale_socket(sinks["socket"])
    stale = tmp_path / "lmtp.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()  # bound, never listening: what a killed process leaves
    _clear_stale_socket(str(stale))
    assert not stale.exists()


# -- behind a real Postfix --------------------------------------------------------------------
@pytest.fixture(scope="module")
def postfix(sinks):
    reason = postfix_unavailable()
    if reason:
        pytest.skip(reason)
    root = sinks["root"] / "postfix"
    root.mkdir()
    tcp_port = sinks["tcp"].server.lmtp_port
    # The configuration the README shows (Deployment: LMTP).
    pf = Postfix(root, {
        "relay_domains": "bounces.example.org, tcp.example.org",
        "transport_maps": f"inline:{{ bounces.example.org=lmtp:unix:{sinks['socket']},"
                          f" tcp.example.org=lmtp:inet:127.0.0.1:{tcp_port} }}",
    })
    pf.start()
    yield pf
    pf.stop()


def test_postfix_hands_bounces_over_lmtp_unix(sinks, postfix):
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as c:
        c.sendmail("", ["bounces+pf1@bounces.example.org", "bounces+pf2@bounces.example.org"],
                   DSN)
    wait_for(lambda: postfix.log().count("status=sent") >= 2,
             what=f"Postfix delivers over LMTP; maillog:\n{postfix.log()}")
    assert "relay=" in postfix.log() and "lmtp" in postfix.log()
    rows = [r for r in stored(sinks["unix"]) if "bounces+pf1@" in r[2]]
    assert len(rows) == 1  # one message for both recipients
    sinks["unix"].wait_classified(1)
    assert stored(sinks["unix"])[-1][1] == "classified"


def test_postfix_hands_bounces_over_lmtp_inet(sinks, postfix):
    before = postfix.log().count("status=sent")
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as c:
        c.sendmail("", ["bounces+inet@tcp.example.org"], DSN)
    wait_for(lambda: postfix.log().count("status=sent") > before,
             what=f"Postfix delivers over LMTP/TCP; maillog:\n{postfix.log()}")
    assert any("bounces+inet@" in r[2] for r in stored(sinks["tcp"]))
