"""Under systemd, warnings and errors reach the journal with their priority: each line on a
stream systemd connected to the journal (JOURNAL_STREAM names its device:inode) starts with
its syslog priority, "<4>" for a warning, "<3>" for an error (sd-daemon(3)).

The real `bouncesink serve` runs as a process whose stdout is a file we name in
JOURNAL_STREAM, as systemd would name the journal's socket; journald itself is not needed
to read the prefixes it would read."""

from __future__ import annotations

import json
import os
import re
import smtplib
import subprocess
import sys
import time

import pytest

from bouncesink import logs
from conftest import DATA_DIR, DOMAIN

PRIO = re.compile(r"^<(\d)>(\{.*\})$")


def journal_env(path) -> dict:
    st = os.stat(path)
    return {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def entries(text: str) -> list[tuple[int, dict]]:
    out = []
    for line in text.splitlines():
        m = PRIO.match(line)
        assert m, f"a line without a priority prefix: {line!r}"
        out.append((int(m.group(1)), json.loads(m.group(2))))
    return out


def wait_for(path, event: str, timeout: float = 30.0) -> list[tuple[int, dict]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if f'"event": "{event}"' in text:
            return entries(text)
        time.sleep(0.05)
    raise AssertionError(f"no {event} line in:\n{path.read_text()[-3000:]}")


def test_sender_blocked_reaches_the_journal_as_a_warning(tmp_path):
    conf = tmp_path / "sink.toml"
    conf.write_text(f"""
[server]
listen = "127.0.0.1:0"
domains = ["{DOMAIN}"]
hostname = "sink.test"
[store]
db = "{tmp_path / 'sink.db'}"
durability = "off"
[policy]
alert_threshold = 3
[log]
format = "json"
""")
    out = tmp_path / "journal"
    with open(out, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "bouncesink", "serve", "--config",
                                 str(conf)], stdout=f, stderr=subprocess.STDOUT,
                                env=journal_env(out))
    try:
        [(_, started)] = [e for e in wait_for(out, "server_started")
                          if e[1]["event"] == "server_started"]
        port = started["listen"][0][1]
        raw = (DATA_DIR / "suppression-blocked.eml").read_bytes()
        with smtplib.SMTP("127.0.0.1", port) as c:
            for i in range(3):  # three bounces (the same bytes would be one retransmission)
                c.sendmail("", [f"bounces@{DOMAIN}"], f"X-Seq: {i}\r\n".encode() + raw)
        lines = wait_for(out, "sender_blocked")
    finally:
        proc.terminate()
        proc.wait(30)
    prio = {e["event"]: p for p, e in lines}
    assert prio["sender_blocked"] == 4           # journalctl -p warning shows it
    assert prio["bounce_recorded"] == 6 and prio["server_started"] == 6


def test_store_commit_failed_reaches_the_journal_as_an_error(make_sink, dsn_bytes, tmp_path,
                                                            monkeypatch):
    out = tmp_path / "journal"
    with open(out, "w") as f:
        monkeypatch.setenv("JOURNAL_STREAM", journal_env(out)["JOURNAL_STREAM"])
        logs.setup("json", "info", stream=f)
        try:
            sink = make_sink()
            # Another writer holds the write lock: our commit fails after a short wait.
            sink.server.store._conn.execute("PRAGMA busy_timeout = 200")
            sink.server.store.LOCK_WAIT = 0.2
            other = sink.open_store()
            other._conn.isolation_level = None
            other._conn.execute("BEGIN EXCLUSIVE")
            with pytest.raises(smtplib.SMTPDataError) as err:
                with smtplib.SMTP("127.0.0.1", sink.port) as c:
                    c.sendmail("", [f"bounces@{DOMAIN}"], dsn_bytes("dsn-hard-userunknown.eml"))
            other._conn.execute("ROLLBACK")
            other.close()
            f.flush()
        finally:
            logs.setup("json", "info")
    assert err.value.smtp_code == 451
    prio = {e["event"]: p for p, e in entries(out.read_text())}
    assert prio["store_commit_failed"] == 3      # journalctl -p err shows it


def test_no_prefix_when_the_stream_is_not_the_journals(tmp_path, monkeypatch):
    out, other = tmp_path / "out", tmp_path / "other"
    other.write_text("")
    monkeypatch.setenv("JOURNAL_STREAM", journal_env(other)["JOURNAL_STREAM"])
    with open(out, "w") as f:
        logs.setup("console", "info", stream=f)
        try:
            logs.get().warning("sender_blocked", domain="example.net")
        finally:
            logs.setup("json", "info")
    assert out.read_text().split(" ", 1)[1].startswith("WARNING sender_blocked")


def test_a_multi_line_entry_carries_the_priority_on_every_line(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.write_text("")
    monkeypatch.setenv("JOURNAL_STREAM", journal_env(out)["JOURNAL_STREAM"])
    with open(out, "a") as f:
        logs.setup("console", "info", stream=f)
        try:
            try:
                raise ValueError("boom")
            except ValueError:
                logs.get().exception("classifier_failed")
        finally:
            logs.setup("json", "info")
    lines = out.read_text().splitlines()
    assert len(lines) > 2 and all(line.startswith("<3>") for line in lines)
