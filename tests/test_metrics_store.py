"""Metrics alerts need, read from the store at each scrape of the real server's endpoint:
classification backlog, suppressions, unrecognised messages, sender_blocked alerts, and the
process collectors; the exposition passes `promtool check metrics` where promtool is."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from bouncesink import metrics
from bouncesink.config import MetricsConfig, PolicyConfig
from bouncesink.model import Envelope, Parsed
from bouncesink.store import open_store
from conftest import DOMAIN
from test_metrics import scrape, value

pytest.importorskip("prometheus_client")

PROMTOOL = shutil.which("promtool") or next(
    (p for p in ("/opt/prometheus/usr/bin/promtool",) if Path(p).exists()), None)


def wait_value(address, name, want, timeout=15.0, **labels) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = scrape(address)
        if value(text, name, **labels) == want or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_the_servers_endpoint_reports_what_the_store_holds(make_sink, dsn_bytes):
    sink = make_sink(metrics={"listen": "127.0.0.1:0"}, policy={"alert_threshold": 3})
    address = sink.server.metrics.address
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.sendmail("", [f"bounces@{DOMAIN}"], dsn_bytes("dsn-hard-userunknown.eml"))
        for i in range(3):  # three bounces (the same bytes would be one retransmission)
            c.sendmail("", [f"bounces@{DOMAIN}"],
                       f"X-Seq: {i}\r\n".encode() + dsn_bytes("suppression-blocked.eml"))
        c.sendmail("", [f"bounces@{DOMAIN}"], b"Subject: hello\r\n\r\nnot a bounce at all\r\n")
    sink.wait_classified(5)
    text = wait_value(address, "bouncesink_sender_blocked_alerts", 1)
    assert value(text, "bouncesink_store_up") == 1
    assert value(text, "bouncesink_messages_stored") == 5
    assert value(text, "bouncesink_classification_backlog") == 0
    assert value(text, "bouncesink_suppressed_addresses") == 1
    assert value(text, "bouncesink_unrecognised_messages") == 1
    assert value(text, "bouncesink_sender_blocked_alerts") == 1
    assert value(text, "bouncesink_last_sender_blocked_alert_timestamp_seconds") > 1.7e9
    assert value(text, "process_resident_memory_bytes") > 1e6
    assert value(text, "process_open_fds") > 3
    assert "process_cpu_seconds_total" in text and "process_max_fds" in text


def test_backlog_counts_stored_messages_not_yet_classified(tmp_path):
    db = str(tmp_path / "s.db")
    store = open_store(db, durability="off")
    env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@" + DOMAIN])
    refs = store.add_messages([(env, b"x"), (env, b"y"), (env, b"z")])
    m = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    m.watch_store(db)
    m.start()
    try:
        assert value(scrape(m.address), "bouncesink_classification_backlog") == 3
        store.record([(refs[0], env, Parsed(kind="unrecognised"), None)], PolicyConfig())
        text = scrape(m.address)
        assert value(text, "bouncesink_classification_backlog") == 2
        assert value(text, "bouncesink_unrecognised_messages") == 1
    finally:
        m.stop()
        store.close()


def test_a_store_that_is_gone_reads_as_down_not_as_an_error(tmp_path):
    m = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    m.watch_store(str(tmp_path / "missing.db"))
    text = m.render().decode()
    assert value(text, "bouncesink_store_up") == 0
    assert "bouncesink_classification_backlog" not in text
    assert not (tmp_path / "missing.db").exists()  # a scrape never creates a store


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package"
                    " prometheus; .ci/system-packages unpacks it under /opt/prometheus)")
def test_promtool_check_metrics_finds_no_problem(make_sink, dsn_bytes):
    sink = make_sink(metrics={"listen": "127.0.0.1:0"})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.sendmail("", [f"bounces@{DOMAIN}"], dsn_bytes("dsn-hard-userunknown.eml"))
    sink.wait_classified(1)
    text = wait_value(sink.server.metrics.address, "bouncesink_suppressed_addresses", 1)
    assert "bouncesink_store_up" in text and "process_open_fds" in text
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), \
        out.stdout + out.stderr


def test_webhook_backlog_counts_undelivered_deliveries(tmp_path):
    db = str(tmp_path / "s.db")
    store = open_store(db, durability="off")
    m = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    m.watch_store(db)
    try:
        assert value(m.render().decode(), "bouncesink_webhook_backlog", state="pending") == 0
        assert store.webhook_fill("hook1", None) == 0        # a new hook starts at the end
        store.suppress_manual("a@example.com", "asked")   # a decision: an outbox row
        store.suppress_manual("b@example.com", "asked")
        assert store.webhook_fill("hook1", None) == 2        # its deliveries, pending
        text = m.render().decode()
        assert value(text, "bouncesink_webhook_backlog", state="pending") == 2
        assert value(text, "bouncesink_webhook_backlog", state="dead") == 0
    finally:
        m.stop()
        store.close()
