"""`bouncesink show REF`: the stored message as received, by the REF the 250 reply named;
raw bytes to a pipe, control characters escaped on a terminal (a real pty)."""

from __future__ import annotations

import os
import pty
import re
import select
import smtplib
import subprocess
import sys

from bouncesink.cli import main
from conftest import DOMAIN

HOSTILE = (b"From: MAILER-DAEMON@mx.example.net\r\nSubject: \x1b]0;owned\x07 title\r\n"
           b"X-Bidi: abc\xe2\x80\xaedef\r\n\r\nbody line \x1b[2J cleared?\r\n\xff\xfe not utf-8\r\n")


def queue(sink, raw: bytes) -> int:
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        c.rcpt(f"bounces@{DOMAIN}")
        code, msg = c.data(raw)
    assert code == 250
    return int(re.search(rb"queued as (\d+)", msg).group(1))


def run(args, tty: bool = False) -> tuple[int, bytes, bytes]:
    cmd = [sys.executable, "-m", "bouncesink", "show", *args]
    if not tty:
        p = subprocess.run(cmd, capture_output=True, timeout=60)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the pty closed: the child is done
            break
        if not chunk:
            break
        out += chunk
    p.wait(30)
    os.close(master)
    return p.returncode, out, p.stderr.read()


def test_show_prints_the_message_byte_for_byte_to_a_pipe(sink):
    ref = queue(sink, HOSTILE)
    code, out, err = run([str(ref), "--db", sink.db])
    assert code == 0 and err == b""
    # smtplib ends the data with CRLF; the store keeps what arrived
    assert out.rstrip(b"\r\n") == HOSTILE.rstrip(b"\r\n")


def test_show_headers_only(sink):
    ref = queue(sink, HOSTILE)
    code, out, _ = run([str(ref), "--headers", "--db", sink.db])
    assert code == 0 and out.endswith(b"\r\n\r\n") and b"body line" not in out
    assert out.startswith(b"From: MAILER-DAEMON@mx.example.net\r\n")


def test_on_a_terminal_control_characters_are_escaped(sink):
    ref = queue(sink, HOSTILE)
    code, out, err = run([str(ref), "--db", sink.db], tty=True)
    assert code == 0, err
    assert b"\x1b" not in out and b"\x07" not in out and "\u202e".encode() not in out
    text = out.decode()
    assert "Subject: \\x1b]0;owned\\x07 title" in text
    assert "abc\\u202edef" in text and "\\x1b[2J cleared?" in text and "\\xff\\xfe" in text


def test_a_bad_or_unknown_ref_is_one_line(sink, capsys):
    assert main(["show", "abc", "--db", sink.db]) == 2
    assert main(["show", "999", "--db", sink.db]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("bouncesink: REF must be a message number")
    assert err[1] == f"bouncesink: no message 999 in {sink.db}"


def test_a_pruned_message_says_so(sink, capsys):
    ref = queue(sink, HOSTILE)
    sink.wait_classified(1)
    assert main(["prune", "--raw-older-than", "0", "--include-unrecognised",
                 "--db", sink.db]) == 0
    capsys.readouterr()
    assert main(["show", str(ref), "--db", sink.db]) == 1
    assert "dropped by `prune`" in capsys.readouterr().err
