"""The file road: `bouncesink import` of mbox files, Maildirs, .eml files and stdin."""

from __future__ import annotations

import json
import fcntl
import os
import pty
import sqlite3
import subprocess
import struct
import sys
import termios

from conftest import DATA_DIR

from bouncesink.store import open_store

BOUNCES = [(DATA_DIR / n).read_bytes() for n in
           ("dsn-hard-userunknown.eml", "dsn-soft-mailboxfull.eml", "dsn-two-recipients.eml")]


def mbox_of(messages: list[bytes]) -> bytes:
    out = []
    for raw in messages:
        body = b"\n".join((b">" + line) if line.startswith(b"From ") else line
                          for line in raw.replace(b"\r\n", b"\n").split(b"\n"))
        out.append(b"From MAILER-DAEMON Mon Nov  2 10:00:00 2026\n" + body.rstrip(b"\n")
                   + b"\n\n")
    return b"".join(out)


def run_import(tmp_path, *paths, data: bytes | None = None, db=None, **kw):
    return subprocess.run([sys.executable, "-m", "bouncesink", "import", "--db",
                           db or str(tmp_path / "sink.db"), *map(str, paths)],
                          input=data, capture_output=True, timeout=120, **kw)


def rows(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "sink.db") as conn:
        return conn.execute("SELECT received_at, mail_from, rcpt_to, state, peer FROM messages"
                            " ORDER BY id").fetchall()


def test_import_an_mbox_twice_adds_nothing_the_second_time(tmp_path):
    mbox = tmp_path / "bounces.mbox"
    mbox.write_bytes(mbox_of(BOUNCES))
    first = run_import(tmp_path, mbox)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().strip() == "imported 3, skipped 0"
    second = run_import(tmp_path, mbox)
    assert second.returncode == 0
    assert second.stdout.decode().strip() == "imported 0, skipped 3"
    assert len(rows(tmp_path)) == 3


def test_imported_messages_are_classified_like_smtp_ones(tmp_path):
    mbox = tmp_path / "bounces.mbox"
    mbox.write_bytes(mbox_of(BOUNCES))
    assert run_import(tmp_path, mbox).returncode == 0
    store = open_store(str(tmp_path / "sink.db"))
    try:
        stats = store.stats()
        assert stats["pending"] == 0
        assert stats["all_time"]["by_type"].get("hard", 0) >= 1
        assert store.history("alice@example.com")["suppressed"]
    finally:
        store.close()


def test_the_envelope_comes_from_the_delivery_headers_and_the_date_header(tmp_path):
    raw = (b"Return-Path: <>\nDelivered-To: bounces+news@bounces.example.org\n"
           + BOUNCES[0].replace(b"Date: Mon, 2 Nov 2026 10:00:00 +0000",
                                b"Date: Tue, 3 Mar 2026 08:30:00 +0100"))
    eml = tmp_path / "one.eml"
    eml.write_bytes(raw)
    assert run_import(tmp_path, eml).returncode == 0
    (received_at, mail_from, rcpt_to, state, peer), = rows(tmp_path)
    assert received_at.startswith("2026-03-03T07:30:00")
    assert mail_from == ""
    assert json.loads(rcpt_to) == ["bounces+news@bounces.example.org"]
    assert peer == f"import:{eml}"


def test_bad_files_give_one_line_each_and_the_rest_goes_on(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(BOUNCES[0])
    (maildir / "cur" / "2.eml:2,S").write_bytes(BOUNCES[1])
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.eml").write_bytes(BOUNCES[2])
    (tree / "gone.eml").symlink_to(tmp_path / "nowhere")
    out = run_import(tmp_path, tmp_path / "missing.mbox", maildir, tree)
    err = out.stderr.decode().strip().splitlines()
    assert out.returncode == 1
    assert out.stdout.decode().strip() == "imported 3, skipped 0"
    assert len(err) == 2 and "missing.mbox" in err[0] and "gone.eml" in err[1]
    assert "Traceback" not in out.stderr.decode()


def test_import_from_stdin_reads_an_mbox(tmp_path):
    out = run_import(tmp_path, "-", data=mbox_of(BOUNCES[:2]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == "imported 2, skipped 0"


def test_import_exits_75_when_the_store_cannot_be_opened(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    eml = tmp_path / "one.eml"
    eml.write_bytes(BOUNCES[0])
    out = run_import(tmp_path, eml, db=str(blocker / "sink.db"))
    assert out.returncode == 75
    assert len(out.stderr.decode().strip().splitlines()) == 1


def test_a_progress_bar_on_a_terminal_only(tmp_path):
    mbox = tmp_path / "bounces.mbox"
    mbox.write_bytes(mbox_of(BOUNCES))
    plain = run_import(tmp_path, mbox)
    assert plain.stderr == b""  # not a terminal: the summary line only
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal's size
    try:
        proc = subprocess.run([sys.executable, "-m", "bouncesink", "import", "--db",
                               str(tmp_path / "tty.db"), str(mbox)], stderr=slave,
                              stdout=subprocess.PIPE, timeout=120)
        os.close(slave)
        slave = None
        shown = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    assert b"import" in shown and b"3" in shown and b"msg" in shown
