"""Logs: a console line a person can read at a glance; JSON with the same keys."""

from __future__ import annotations

import io
import json
import logging
import re
import smtplib
import time

import pytest

from bouncesink import logs

BOUNCE = dict(ref=3, peer="192.0.2.7", recipient="alice@example.com", type="hard",
              reason="userunknown", status="5.1.1", rule="status 5.1.1", action="suppress",
              decision="hard: suppress", message_id="<news-1@example.org>")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ bounce_recorded +192\.0\.2\.7 +"
                  r"alice@example\.com +hard/userunknown +5\.1\.1 +action=suppress ref=3 ")


@pytest.fixture
def capture():
    """Reconfigure logging into a buffer; back to the suite's JSON set-up afterwards."""
    buf = io.StringIO()

    def setup(fmt, level="info"):
        buf.seek(0)
        buf.truncate()
        logs.setup(fmt, level, stream=buf)
        return buf

    yield setup
    logs.setup("json", "info")


def test_console_line_has_time_peer_recipient_type_reason_status_in_columns(capture):
    buf = capture("console")
    logs.get().info("bounce_recorded", **BOUNCE)
    line = buf.getvalue().rstrip("\n")
    assert "\n" not in line
    assert LINE.match(line), line
    assert 'decision="hard: suppress"' in line and "message_id=<news-1@example.org>" in line


def test_console_columns_line_up_across_lines(capture):
    buf = capture("console")
    logs.get().info("bounce_recorded", **BOUNCE)
    logs.get().info("bounce_recorded", **{**BOUNCE, "peer": "2001:db8::25", "recipient": "b@example.net",
                                          "type": "soft", "reason": "mailboxfull", "status": "4.2.2"})
    a, b = buf.getvalue().splitlines()
    assert a.index("hard/") == b.index("soft/")
    assert a.index("5.1.1") == b.index("4.2.2")


def test_json_carries_the_same_keys_as_the_console_line(capture):
    logs.get().info("bounce_recorded", **BOUNCE)
    buf = capture("json")
    logs.get().info("bounce_recorded", **BOUNCE)
    record = json.loads(buf.getvalue())
    assert set(record) == set(BOUNCE) | {"event", "level", "timestamp"}
    assert record["event"] == "bounce_recorded" and record["level"] == "info"
    assert record["timestamp"].endswith("Z")
    console = capture("console")
    logs.get().info("bounce_recorded", **BOUNCE)
    line = console.getvalue()
    for key, value in BOUNCE.items():
        assert str(value) in line, key


def test_values_with_spaces_are_quoted_and_lists_joined(capture):
    buf = capture("console")
    logs.get().info("message_received", peer="192.0.2.7", rcpt_to=["a@x.example", "b@x.example"],
                    mail_from="", reply="250", error="two words")
    line = buf.getvalue().strip()
    assert 'rcpt_to=a@x.example,b@x.example' in line
    assert 'mail_from=""' in line and 'error="two words"' in line
    assert line.split()[1:3] == ["message_received", "192.0.2.7"]


def test_addresses_read_as_host_port(capture):
    buf = capture("console")
    logs.get().info("server_started", listen=[("127.0.0.1", 2525), ("::1", 2525)])
    assert buf.getvalue().split()[2] == "listen=127.0.0.1:2525,[::1]:2525"


def test_levels_other_than_info_are_shown_and_tracebacks_follow(capture):
    buf = capture("console")
    try:
        1 / 0
    except ZeroDivisionError:
        logs.get().error("classify_failed", refs=2, exc_info=True)
    first, *rest = buf.getvalue().splitlines()
    assert first.split()[1:] == ["ERROR", "classify_failed", "refs=2"]
    assert rest[-1] == "ZeroDivisionError: division by zero"


def test_json_keeps_a_traceback_in_one_line(capture):
    buf = capture("json")
    try:
        1 / 0
    except ZeroDivisionError:
        logs.get().error("classify_failed", exc_info=True)
    (line,) = buf.getvalue().splitlines()
    assert "ZeroDivisionError" in json.loads(line)["exception"]


def test_other_libraries_warnings_use_the_same_format(capture):
    buf = capture("json")
    logging.getLogger("mail.log").info("chatter that stays out")
    logging.getLogger("mail.log").warning("SMTP session exception")
    (line,) = buf.getvalue().splitlines()
    record = json.loads(line)
    assert record["event"] == "SMTP session exception" and record["logger"] == "mail.log"
    assert record["level"] == "warning"


def test_setup_again_changes_the_level(capture):
    buf = capture("json", "warning")
    logs.get().info("hidden")
    assert buf.getvalue() == ""
    buf = capture("json", "debug")
    logs.get().debug("shown")
    assert json.loads(buf.getvalue())["event"] == "shown"


def test_setup_twice_does_not_double_library_lines(capture):
    capture("json")
    buf = capture("json")
    logging.getLogger("mail.log").warning("once")
    assert len(buf.getvalue().splitlines()) == 1


def test_each_line_is_one_write(capture):
    """Processes sharing stdout (workers) must not interleave halves of lines."""

    class Writes(io.StringIO):
        def __init__(self):
            super().__init__()
            self.calls = []

        def write(self, text):
            self.calls.append(text)
            return super().write(text)

    stream = Writes()
    logs.setup("json", "info", stream=stream)
    logs.get().info("bounce_recorded", **BOUNCE)
    assert len(stream.calls) == 1 and stream.calls[0].endswith("}\n")


def test_auto_is_json_when_not_a_terminal():
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("console", io.StringIO()) == "console"


def test_serve_console_shows_a_received_bounce(make_sink, dsn_bytes, capture, capfd):
    """The real server, a real DSN over SMTP: the line a sysadmin sees when tailing.

    log.format = console as `serve --log-format console` sets it; the line may come from
    this process or from a classifier process the server starts, so both outputs are read.
    """
    buf = capture("console")
    sink = make_sink(policy={"confirm_hostunknown_dns": False}, log={"format": "console"})
    with smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.sendmail("", ["bounces@bounces.example.org"], dsn_bytes("dsn-hard-userunknown.eml"))
    sink.wait_classified(1)
    child, text, deadline = "", "", time.monotonic() + 10
    while " bounce_recorded " not in text and time.monotonic() < deadline:
        time.sleep(0.02)
        child += capfd.readouterr().out
        text = buf.getvalue() + child
    lines = [x for x in text.splitlines() if " bounce_recorded " in x]
    assert lines, text
    assert re.match(r"^\S+Z bounce_recorded +127\.0\.0\.1 +alice@example\.com +hard/userunknown"
                    r" +5\.1\.1 +action=suppress ", lines[0]), lines[0]


def test_console_escapes_control_and_bidi_characters(capture):
    buf = capture("console")
    logs.get().info("bounce_recorded", peer="192.0.2.7", recipient="a\x1b[2J\r\x07@example.com",
                    type="hard", reason="userunknown", status="5.1.1",
                    diagnostic="550 \x00user\u202egnp.exe unknown", helo="mx\x9b1m")
    out = buf.getvalue()
    assert out.count("\n") == 1
    assert not any(c in out[:-1] for c in "\x1b\r\x07\x00\u202e\x9b")
    assert "a\\x1b[2J\\x0d\\x07@example.com" in out
    assert "\\x00user\\u202egnp.exe" in out and "mx\\x9b1m" in out


def test_json_escapes_them_too(capture):
    buf = capture("json")
    logs.get().info("bounce_recorded", recipient="a\x1b\u202e@example.com")
    line = buf.getvalue()
    assert not any(c in line for c in "\x1b\u202e")
    assert json.loads(line)["recipient"] == "a\x1b\u202e@example.com"
