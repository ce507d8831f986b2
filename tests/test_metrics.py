"""Metrics: off by default (prometheus-client not even imported); on, the real server's
counters read over HTTP from the real endpoint."""

from __future__ import annotations

import re
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bouncesink import metrics
from bouncesink.config import ConfigError, MetricsConfig

pytest.importorskip("prometheus_client")


def scrape(address) -> str:
    host, port = address
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def value(text: str, name: str, **labels) -> float:
    """One sample's value from the exposition text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
            if got == want:
                return float(m.group(3))
    return 0.0


def test_off_by_default_and_prometheus_is_not_imported():
    code = ("import sys; from bouncesink import metrics, config;"
            "m = metrics.create(config.MetricsConfig()); m.reply_sent('250'); m.start();"
            "print(type(m).__name__, m.enabled, m.address, 'prometheus_client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Metrics", "False", "None", "False"]


def test_endpoint_counts_a_received_bounce(make_sink, dsn_bytes):
    sink = make_sink(metrics={"listen": "127.0.0.1:0"})
    address = sink.server.metrics.address
    assert address is not None and address[1] != 0
    with smtplib.SMTP("127.0.0.1", sink.port) as client:
        assert value(scrape(address), "bouncesink_connections_open") == 1
        client.sendmail("", ["bounces@bounces.example.org"], dsn_bytes("dsn-hard-userunknown.eml"))
    sink.wait_classified(1)
    deadline = time.monotonic() + 10
    text = scrape(address)
    while value(text, "bouncesink_results_total", type="hard", reason="userunknown") < 1 \
            and time.monotonic() < deadline:
        time.sleep(0.05)
        text = scrape(address)

    assert value(text, "bouncesink_messages_received_total") == 1
    assert value(text, "bouncesink_results_total", type="hard", reason="userunknown") == 1
    assert value(text, "bouncesink_replies_total", code="220") == 1
    assert value(text, "bouncesink_replies_total", code="250") >= 4   # EHLO, MAIL, RCPT, DATA
    assert value(text, "bouncesink_replies_total", code="354") == 1
    assert value(text, "bouncesink_store_commit_seconds_count") == 1
    assert value(text, "bouncesink_store_commit_seconds_sum") > 0
    assert value(text, "bouncesink_store_commit_messages_sum") == 1
    deadline = time.monotonic() + 10
    while value(scrape(address), "bouncesink_connections_open") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value(scrape(address), "bouncesink_connections_open") == 0


def test_rejected_recipient_is_counted_by_code(make_sink):
    sink = make_sink(metrics={"listen": "127.0.0.1:0"})
    with smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.ehlo("client.example.net")
        client.mail("")
        assert client.rcpt("someone@elsewhere.example.net")[0] == 550
    assert value(scrape(sink.server.metrics.address), "bouncesink_replies_total", code="550") == 1


def test_endpoint_stops_with_the_server(make_sink):
    sink = make_sink(metrics={"listen": "127.0.0.1:0"})
    address = sink.server.metrics.address
    sink.stop()
    with pytest.raises(OSError):
        scrape(address)


def test_reply_labels_stay_bounded():
    m = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    m.reply_sent("250 2.0.0 OK queued as 7")
    m.reply_sent("garbage from somewhere")
    text = m.render().decode()
    assert value(text, "bouncesink_replies_total", code="250") == 1
    assert value(text, "bouncesink_replies_total", code="other") == 1


def test_each_instance_has_its_own_registry():
    a = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    b = metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    a.message_received()
    assert value(b.render().decode(), "bouncesink_messages_received_total") == 0


def test_busy_port_is_one_error_naming_the_setting():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        listen = f"127.0.0.1:{s.getsockname()[1]}"
        m = metrics.create(MetricsConfig(listen=listen))
        with pytest.raises(OSError) as info:
            m.start()
    assert f"metrics.listen {listen}:" in str(info.value)


def test_missing_prometheus_client_is_a_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ConfigError) as info:
        metrics.create(MetricsConfig(listen="127.0.0.1:0"))
    assert "prometheus-client is not installed" in info.value.problems[0]
