"""Sharing a host: `serve` names what holds its address and points to LMTP and the pipe."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from bouncesink.roads.sharing import holder, in_use_message, listeners


def test_serve_names_the_process_that_holds_the_address(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "bouncesink", "serve", "--listen",
                              f"127.0.0.1:{port}", "--domain", "bounces.example.org",
                              "--db", str(tmp_path / "sink.db")],
                             capture_output=True, timeout=60)
    err = out.stderr.decode()
    assert out.returncode != 0
    assert "Traceback" not in err
    line = [x for x in err.splitlines() if x.startswith("bouncesink: ")]
    assert len(line) == 1
    assert f"cannot listen on 127.0.0.1:{port}: held by" in line[0]
    assert f"(pid {os.getpid()}, user " in line[0]
    assert "LMTP" in line[0] and "bouncesink deliver" in line[0]


def test_serve_names_the_lmtp_address_when_that_is_taken(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = tmp_path / "c.toml"
        config.write_text(f'[server]\nlisten = "127.0.0.1:0"\ndomains = ["bounces.example.org"]\n'
                          f'[store]\ndb = "{tmp_path / "sink.db"}"\n'
                          f'[lmtp]\nlisten = "127.0.0.1:{port}"\n')
        out = subprocess.run([sys.executable, "-m", "bouncesink", "serve", "--config",
                              str(config)], capture_output=True, timeout=60)
    err = out.stderr.decode()
    assert out.returncode != 0 and "Traceback" not in err
    assert f"cannot listen on 127.0.0.1:{port}: held by" in err


def test_proc_net_tcp_is_read_for_listening_sockets(tmp_path):
    """A /proc of our own making: one IPv4 listener on port 25 held by pid 812, one IPv6
    listener, one established connection on 25 (not a listener)."""
    net = tmp_path / "net"
    net.mkdir()
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    (net / "tcp").write_text(
        head
        + "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n"
        + "   1: 0100007F:0019 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0 100 0 0 10 0\n")
    (net / "tcp6").write_text(
        head
        + "   0: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 5151 1 0 100 0 0 10 0\n")
    fd = tmp_path / "812" / "fd"
    fd.mkdir(parents=True)
    (fd / "7").symlink_to("socket:[4242]")
    (tmp_path / "812" / "comm").write_text("master\n")
    assert listeners(25, str(tmp_path)) == [("127.0.0.1", 0, 4242), ("::1", 108, 5151)]
    assert holder(25, str(tmp_path)) == "master (pid 812, user root) on 127.0.0.1:25"
    assert holder(2525, str(tmp_path)) is None
    assert in_use_message("0.0.0.0:25", 2525, str(tmp_path)).startswith(
        "cannot listen on 0.0.0.0:25: already in use;")
