"""The pipe road: `bouncesink deliver`, alone and behind a real Postfix pipe(8) transport."""

from __future__ import annotations

import os
import pwd
import shutil
import smtplib
import sqlite3
import subprocess
import sys

import pytest

from conftest import DATA_DIR
from peers import Postfix, command_for, postfix_unavailable, shared_tmpdir, wait_for

from bouncesink.store import open_store

DSN = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes()


def run_deliver(tmp_path, *args, data: bytes = DSN, db=None):
    db = db or str(tmp_path / "sink.db")
    return subprocess.run([sys.executable, "-m", "bouncesink", "deliver", "--db", db, *args],
                          input=data, capture_output=True, timeout=60)


def stored(db: str) -> list[tuple]:
    """(state, mail_from, rcpt_to) of every stored message, read with plain sqlite3."""
    if not os.path.exists(db):
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT state, mail_from, rcpt_to, peer FROM messages"
                                " ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []


# -- deliver alone ----------------------------------------------------------------------------
def test_deliver_stores_then_classifies_before_exiting(tmp_path):
    out = run_deliver(tmp_path, "--sender", "", "--recipient", "bounces@bounces.example.org")
    assert out.returncode == 0, out.stderr
    store = open_store(str(tmp_path / "sink.db"))
    try:
        stats = store.stats()
        assert stats["pending"] == 0
        assert stats["all_time"]["by_reason"] == {"userunknown": 1}
        assert store.history("alice@example.com")["suppressed"]
    finally:
        store.close()
    assert stored(str(tmp_path / "sink.db"))[0][1:] == ("", '["bounces@bounces.example.org"]',
                                                         "pipe")


def test_deliver_exits_75_when_the_store_cannot_take_the_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = run_deliver(tmp_path, db=str(blocker / "sink.db"))
    assert out.returncode == 75
    assert b"message_tempfailed" in out.stderr
    assert b"Traceback" not in out.stderr


def test_deliver_refuses_an_empty_message_with_ex_noinput(tmp_path):
    out = run_deliver(tmp_path, data=b"")
    assert out.returncode == 66
    assert stored(str(tmp_path / "sink.db")) == []


def test_deliver_refuses_an_oversized_message_with_ex_dataerr(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[server]\nmax_message_size = 1000\n")
    out = run_deliver(tmp_path, "--config", str(config))
    assert out.returncode == 65
    assert b"max_message_size" in out.stderr


def test_deliver_bad_flag_is_ex_usage(tmp_path):
    out = run_deliver(tmp_path, "--recipient")
    assert out.returncode == 64
    assert b"Traceback" not in out.stderr


def test_deliver_bad_config_is_ex_config(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[server]\nmax_message_sise = 1000\n")
    out = run_deliver(tmp_path, "--config", str(config))
    assert out.returncode == 78
    assert b"unknown key" in out.stderr


def test_deliver_refuses_a_forged_verp_address_like_smtp(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[verp]\nsecrets = ["0123456789abcdef0123"]\n')
    out = run_deliver(tmp_path, "--config", str(config), "--recipient",
                      "bounces+news=alice=example.com@bounces.example.org")
    assert out.returncode == 77
    assert b"5.7.1" in out.stderr
    assert stored(str(tmp_path / "sink.db")) == []


# -- behind a real Postfix --------------------------------------------------------------------
@pytest.fixture(scope="module")
def postfix():
    reason = postfix_unavailable()
    if reason:
        pytest.skip(reason)
    command = command_for("nobody")
    if command is None:
        pytest.skip("the bouncesink command cannot run as an unprivileged user here")
    root = shared_tmpdir("bouncesink-pipe-")
    nobody = pwd.getpwnam("nobody")
    good, later = root / "store", root / "later"
    good.mkdir()
    os.chown(good, nobody.pw_uid, nobody.pw_gid)
    later.mkdir(mode=0o755)  # root's: the pipe user cannot create the store there (yet)
    deliver = " ".join(command) + " deliver"
    # The configuration the README shows (Deployment: pipe), with this checkout's command.
    services = "".join(
        f"{name}  unix  -       n       n       -       -       pipe\n"
        f"  flags=q user=nobody null_sender=\n"
        f"  argv={deliver} --db {db}/sink.db --sender=${{sender}} --recipient=${{recipient}}\n"
        for name, db in (("bouncesink", good), ("bouncesinklater", later)))
    pf = Postfix(root, {
        "relay_domains": "bounces.example.org, later.example.org",
        "transport_maps": "inline:{ bounces.example.org=bouncesink:,"
                          " later.example.org=bouncesinklater: }",
        "bouncesink_destination_recipient_limit": "1",
        "bouncesinklater_destination_recipient_limit": "1",
    }, services)
    pf.start()
    pf.stores = {"good": str(good / "sink.db"), "later": str(later / "sink.db")}
    pf.later = later
    yield pf
    pf.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_postfix_pipe_hands_a_bounce_to_deliver(postfix):
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as c:
        c.sendmail("", ["bounces+news@bounces.example.org"], DSN)
    db = postfix.stores["good"]
    rows = wait_for(lambda: stored(db), what=f"a stored message; maillog:\n{postfix.log()}")
    assert rows[0][1:3] == ("", '["bounces+news@bounces.example.org"]')
    wait_for(lambda: "status=sent" in postfix.log(), what="Postfix logs the delivery")
    wait_for(lambda: stored(db)[0][0] == "classified", what="classified before deliver exits")


def test_postfix_defers_on_75_and_retries_until_stored(postfix):
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as c:
        c.sendmail("", ["bounces@later.example.org"], DSN)
    wait_for(lambda: "status=deferred" in postfix.log(),
             what=f"Postfix defers on EX_TEMPFAIL; maillog:\n{postfix.log()}")
    assert stored(postfix.stores["later"]) == []
    os.chown(postfix.later, pwd.getpwnam("nobody").pw_uid, -1)  # the fault clears
    postfix.flush()
    rows = wait_for(lambda: stored(postfix.stores["later"]), what="stored on a retry")
    assert len(rows) == 1
