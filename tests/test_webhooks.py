"""Webhooks: outbox in the decision's transaction, signed deliveries to a real receiver on
loopback (its own process) that refuses, times out, goes away and comes back; `kill -9` of
the delivering process; order per address; dead deliveries and `bouncesink webhooks`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bouncesink.cli import main
from bouncesink.config import Config, WebhookConfig
from bouncesink.store import open_store
from bouncesink import webhooks

HERE = Path(__file__).resolve().parent
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """tests/hookreceiver.py in a process of its own."""

    def __init__(self, tmp_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log = tmp_path / "received.jsonl"
        self.mode = tmp_path / "mode"
        self.mode.write_text("ok")
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        self.proc = subprocess.Popen([sys.executable, str(HERE / "hookreceiver.py"),
                                      str(self.port), str(self.log), str(self.mode)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def set(self, mode: str) -> None:
        self.mode.write_text(mode)

    def received(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def wait_for(self, predicate, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if predicate(got):
                return got
            time.sleep(0.05)
        raise AssertionError(f"receiver did not get what was expected: {self.received()}")


@pytest.fixture
def receiver(tmp_path):
    r = Receiver(tmp_path).start()
    yield r
    if r.proc.poll() is None:
        r.kill()


def hook_for(receiver, **kw) -> WebhookConfig:
    return WebhookConfig(url=receiver.url, secret=SECRET, name="test", **kw)


class Running:
    """A Dispatcher in a thread of its own with its own store connection."""

    def __init__(self, db: str, hooks) -> None:
        self.store = open_store(db, durability="off")
        self.dispatcher = webhooks.Dispatcher(self.store, hooks, poll=0.05)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete,
                                       args=(self.dispatcher.run(),), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.dispatcher.stop)
        self.thread.join(30)
        self.store.close()


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "hooks.db")
    open_store(path, durability="off").close()
    return path


def start_hook(db, hook):
    """A hook starts at the end of the outbox: make it known before the decisions."""
    s = open_store(db, durability="off")
    s.webhook_fill(hook.name, webhooks.events_of(hook))
    return s


def ids(got) -> list[str]:
    return [g["headers"]["webhook-id"] for g in got]


def test_signature_verifies_with_the_standardwebhooks_library(db, receiver):
    standardwebhooks = pytest.importorskip("standardwebhooks")
    hook = hook_for(receiver)
    store = start_hook(db, hook)
    with Running(db, [hook]):
        store.suppress_manual("alice@example.com", "asked by phone")
        got = receiver.wait_for(lambda g: len(g) == 1)
    store.close()
    h, body = got[0]["headers"], got[0]["body"]
    payload = standardwebhooks.Webhook(SECRET).verify(body, {
        "webhook-id": h["webhook-id"], "webhook-timestamp": h["webhook-timestamp"],
        "webhook-signature": h["webhook-signature"]})
    assert payload["type"] == "suppressed" and payload["id"] == h["webhook-id"]
    assert payload["data"]["email"] == "alice@example.com"
    assert payload["data"]["reason"] == "asked by phone" and payload["data"]["type"] == "manual"
    assert {"status", "rule", "campaign"} <= set(payload["data"])
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(body.replace("alice", "mallory"), {
            "webhook-id": h["webhook-id"], "webhook-timestamp": h["webhook-timestamp"],
            "webhook-signature": h["webhook-signature"]})


def test_refused_deliveries_are_retried_within_5s_with_the_same_id(db, receiver):
    hook = hook_for(receiver)
    store = start_hook(db, hook)
    receiver.set("refuse")
    with Running(db, [hook]):
        store.suppress_manual("bob@example.com", "complained by mail")
        got = receiver.wait_for(lambda g: len(g) >= 2)
        assert got[1]["at"] - got[0]["at"] <= 5.5     # the first retry within 5 s
        receiver.set("ok")
        got = receiver.wait_for(lambda g: len(g) >= 3, timeout=20)
        time.sleep(0.3)
        assert store.webhook_deliveries(("pending", "dead")) == []
    store.close()
    assert len(set(ids(got))) == 1                    # every attempt is the same message


def test_a_receiver_that_times_out_gets_it_again_with_the_same_id(db, receiver):
    hook = hook_for(receiver, timeout=0.5)
    store = start_hook(db, hook)
    receiver.set("slow 2")
    with Running(db, [hook]):
        store.suppress_manual("carol@example.com", "timeout test")
        receiver.wait_for(lambda g: len(g) >= 1)
        time.sleep(0.6)
        assert store.webhook_deliveries(("pending",))[0]["last_error"].startswith("ReadTimeout")
        receiver.set("ok")
        got = receiver.wait_for(lambda g: len(g) >= 2, timeout=20)
    store.close()
    assert len(set(ids(got))) == 1


def test_receiver_killed_and_back_loses_nothing_and_keeps_order_per_address(db, tmp_path):
    receiver = Receiver(tmp_path).start()
    hook = hook_for(receiver)
    store = start_hook(db, hook)
    try:
        with Running(db, [hook]):
            store.suppress_manual("a@example.com", "first")
            receiver.wait_for(lambda g: len(g) == 1)
            receiver.kill()   # kill -9: gone mid-stream
            expected = {"a@example.com": ["suppressed"], "b@example.com": []}
            for i in range(3):
                for address in ("a@example.com", "b@example.com"):
                    if store.unsuppress(address, f"undo {i}"):
                        expected[address].append("unsuppressed")
                    store.suppress_manual(address, f"again {i}")
                    expected[address].append("suppressed")
            time.sleep(1.0)   # refused meanwhile: retried with backoff
            receiver.start()  # back on the same port
            total = sum(len(v) for v in expected.values())
            got = receiver.wait_for(
                lambda g: len({x["headers"]["webhook-id"] for x in g}) >= total, timeout=30)
    finally:
        store.close()
        if receiver.proc.poll() is None:
            receiver.kill()
    firsts = {}
    for g in got:   # at-least-once: keep the first arrival of each id
        firsts.setdefault(g["headers"]["webhook-id"], json.loads(g["body"]))
    per_address: dict[str, list[str]] = {}
    for body in firsts.values():
        per_address.setdefault(body["data"]["email"], []).append(body["type"])
    assert per_address == expected


def test_kill_9_of_the_delivering_process_then_redelivery_with_the_same_id(tmp_path, receiver):
    db = str(tmp_path / "k.db")
    conf = tmp_path / "k.toml"
    conf.write_text(f'[store]\ndb = "{db}"\ndurability = "normal"\n'
                    f'[[webhooks]]\nurl = "{receiver.url}"\nsecret = "{SECRET}"\ntimeout = 1.0\n')

    out = tmp_path / "web.log"

    def web():
        with open(out, "a") as fh:
            return subprocess.Popen([sys.executable, "-m", "bouncesink", "web", "--config",
                                     str(conf), "--listen", "127.0.0.1:0", "--log-format", "json"],
                                    stdout=fh, stderr=subprocess.STDOUT)

    proc = web()
    try:
        for _ in range(200):
            if out.exists() and "web_started" in out.read_text():
                break
            time.sleep(0.05)
        store = open_store(db)
        for _ in range(100):   # the hook's cursor exists once the dispatcher ran once
            if store._execute("SELECT COUNT(*) FROM hook_cursors").fetchone()[0]:
                break
            time.sleep(0.05)
        store._rollback()
        receiver.set("slow 30")
        store.suppress_manual("dave@example.com", "kill test")
        receiver.wait_for(lambda g: len(g) == 1)
        proc.send_signal(signal.SIGKILL)   # mid-delivery: no answer was read
        proc.wait(10)
        receiver.set("ok")
        proc = web()
        got = receiver.wait_for(lambda g: len(g) >= 2, timeout=30)   # after the lease (1 + 5 s)
        time.sleep(0.3)
        assert store.webhook_deliveries(("pending", "dead")) == []
        store.close()
    finally:
        proc.kill()
        proc.wait(10)
    assert len(set(ids(got))) == 1
    assert json.loads(got[-1]["body"])["data"]["email"] == "dave@example.com"


def test_dead_after_the_retry_time_listed_and_retried(db, receiver, capsys):
    hook = hook_for(receiver, retry_hours=2 / 3600)   # two seconds
    store = start_hook(db, hook)
    receiver.set("refuse")
    with capture_logs() as logs:
        with Running(db, [hook]):
            store.suppress_manual("erin@example.com", "dead test")
            deadline = time.monotonic() + 30
            while not store.webhook_deliveries(("dead",)) and time.monotonic() < deadline:
                time.sleep(0.1)
    assert any(e["event"] == "webhook_dead" and e["log_level"] == "error" for e in logs), logs
    assert main(["webhooks", "--db", db]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^dead\s+\d+\s.*suppressed\s+erin@example.com\s+test$", out, re.M)
    assert "last error: HTTP 503" in out
    assert main(["webhooks", "--db", db, "--retry-dead"]) == 0
    assert "1 dead delivery queued again" in capsys.readouterr().out
    receiver.set("ok")
    n = len(receiver.received())
    with Running(db, [hook]):
        receiver.wait_for(lambda g: len(g) > n)
        time.sleep(0.3)
    assert store.webhook_deliveries(("pending", "dead")) == []
    store.close()


def test_events_filter_and_the_outbox_is_in_the_decision_transaction(db, receiver):
    hook = hook_for(receiver, events=("unsuppressed",))
    store = start_hook(db, hook)
    with Running(db, [hook]):
        store.suppress_manual("fay@example.com", "x")
        store.unsuppress("fay@example.com", "asked to be back")
        got = receiver.wait_for(lambda g: len(g) == 1)
        time.sleep(0.3)
    assert [json.loads(g["body"])["type"] for g in receiver.received()] == ["unsuppressed"]
    assert json.loads(got[0]["body"])["data"]["reason"] == "asked to be back"
    # A decision rolled back leaves no outbox row.
    before = store.last_outbox_seq()
    store._begin_write()
    store._suppress("gus@example.com", "manual", "manual", "", __import__("datetime").datetime.now(
        __import__("datetime").timezone.utc))
    store._rollback()
    assert store.last_outbox_seq() == before
    store.close()


def test_listmonk_preset_sends_its_bounce_webhook_body(db, receiver):
    hook = hook_for(receiver, preset="listmonk", authorization="token api:secret")
    store = start_hook(db, hook)
    with Running(db, [hook]):
        store.suppress_manual("hal@example.com", "x")
        store.unsuppress("hal@example.com", "")      # not a bounce: listmonk is not told
        store.suppress_manual("hal@example.com", "y")
        got = receiver.wait_for(lambda g: len(g) == 2)
        time.sleep(0.3)
    store.close()
    assert len(receiver.received()) == 2
    body = json.loads(got[0]["body"])
    assert set(body) == {"email", "source", "type", "meta"}
    assert body["email"] == "hal@example.com" and body["type"] == "hard"
    assert body["source"] == "bouncesink" and isinstance(body["meta"], dict)
    assert got[0]["headers"]["authorization"] == "token api:secret"


def test_listmonk_body_carries_campaign_uuid_only_when_it_is_one():
    d = {"uid": "msg_1", "event": "bounce", "at": "2026-01-01T00:00:00.000000Z",
         "data": {"email": "a@example.com", "type": "soft", "campaign": "spring"}}
    assert "campaign_uuid" not in json.loads(webhooks.listmonk_body(d))
    d["data"]["campaign"] = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    body = json.loads(webhooks.listmonk_body(d))
    assert body["campaign_uuid"] == d["data"]["campaign"] and body["type"] == "soft"


def test_backoff_first_retry_within_5s_then_grows_with_jitter():
    import random
    rng = random.Random(7)
    assert all(1 <= webhooks.backoff(1, rng) <= 5 for _ in range(100))
    assert all(5 <= webhooks.backoff(4, rng) <= 40 for _ in range(100))
    assert max(webhooks.backoff(30, rng) for _ in range(100)) <= 3600


def test_plain_http_is_warned_unless_loopback():
    with capture_logs() as logs:
        webhooks.warn_plain_http([
            WebhookConfig(url="http://127.0.0.1:9/x", secret=SECRET, name="a"),
            WebhookConfig(url="http://[::1]:9/x", secret=SECRET, name="b"),
            WebhookConfig(url="https://tool.example.org/x", secret=SECRET, name="c"),
            WebhookConfig(url="http://tool.example.org/x", secret=SECRET, name="d")])
    assert [e["hook"] for e in logs if e["event"] == "webhook_plain_http"] == ["d"]


def test_webhook_config_is_checked():
    from bouncesink.config import ConfigError, from_dict
    cfg = from_dict({"webhooks": [{"url": "https://t.example.org/h", "secret": SECRET}]})
    assert cfg.webhooks[0].name == "https://t.example.org/h" and cfg.webhooks[0].retry_hours == 24
    with pytest.raises(ConfigError) as e:
        from_dict({"webhooks": [{"url": "ftp://x", "secret": "whsec_!!", "events": ["nope"],
                                 "preset": "mautic"}]})
    text = "\n".join(e.value.problems)
    for word in ("url", "secret", "events", "preset"):
        assert f"webhooks[0].{word}" in text


# -- inside `serve` ----------------------------------------------------------------------------
def test_serve_runs_the_api_in_process_and_delivers_its_decisions(tmp_path, receiver):
    """A hard bounce received over SMTP by `serve`: its suppression is on serve's own API
    (port from [http] listen) and delivered to the webhook by serve's dispatcher."""
    import smtplib

    import httpx
    from conftest import DATA_DIR, DOMAIN, make_config, start_sink
    from webserver import READ, TOKENS

    cfg = make_config(tmp_path).replace("http", listen="127.0.0.1:0", tokens=TOKENS)
    from dataclasses import replace as dc_replace
    cfg = dc_replace(cfg, webhooks=(hook_for(receiver),))
    store = start_hook(cfg.store.db, cfg.webhooks[0])
    sink = start_sink(cfg)
    try:
        port = sink.server.web.port
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        raw = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes()
        with smtplib.SMTP("127.0.0.1", sink.port) as c:
            c.sendmail("", [f"bounces@{DOMAIN}"], raw)
        sink.wait_classified(1)
        got = receiver.wait_for(lambda g: any(json.loads(x["body"])["type"] == "suppressed"
                                              for x in g))
        email = next(json.loads(x["body"])["data"]["email"] for x in got
                     if json.loads(x["body"])["type"] == "suppressed")
        r = httpx.get(f"http://127.0.0.1:{port}/v1/addresses/{email}",
                      headers={"Authorization": f"Bearer {READ}"})
        assert r.json()["suppressed"] is True
        feed = httpx.get(f"http://127.0.0.1:{port}/v1/changes",
                         headers={"Authorization": f"Bearer {READ}"}).json()
        assert [(c["email"], c["action"]) for c in feed["changes"]] == [(email, "suppress")]
    finally:
        sink.stop()
        store.close()


def test_two_dispatchers_on_one_postgresql_never_send_one_delivery_twice(receiver):
    """Several processes on one PostgreSQL: each delivery is claimed by one of them (FOR
    UPDATE SKIP LOCKED and a lease); with a receiver that always answers, every id arrives
    exactly once and each address's deliveries arrive in commit order."""
    from pgschema import fresh_schema

    with fresh_schema() as schema:
        url = schema.url()
        hook = hook_for(receiver)
        store = start_hook(url, hook)
        try:
            with Running(url, [hook]), Running(url, [hook]):
                expected: dict[str, list[str]] = {}
                for i in range(8):
                    for a in ("p@example.com", "q@example.com", "r@example.com"):
                        if store.unsuppress(a, f"u{i}"):
                            expected.setdefault(a, []).append("unsuppressed")
                        store.suppress_manual(a, f"s{i}")
                        expected.setdefault(a, []).append("suppressed")
                total = sum(map(len, expected.values()))
                got = receiver.wait_for(lambda g: len(g) >= total, timeout=60)
                time.sleep(0.5)
            got = receiver.received()
        finally:
            store.close()
    assert len(got) == total and len(set(ids(got))) == total
    per_address: dict[str, list[str]] = {}
    for g in got:
        body = json.loads(g["body"])
        per_address.setdefault(body["data"]["email"], []).append(body["type"])
    assert per_address == expected


def test_webhook_backlog_counts_pending_and_dead(db):
    s = open_store(db, durability="off")
    assert s.webhook_backlog() == {"pending": 0, "dead": 0}
    s.webhook_fill("h", None)
    s.suppress_manual("z@example.com", "x")
    s.suppress_manual("y@example.com", "x")
    s.webhook_fill("h", None)
    [d, _] = s.webhook_claim("h", "me", 5)
    s.webhook_finish([], [(d["id"], "HTTP 500", None)])
    assert s.webhook_backlog() == {"pending": 1, "dead": 1}
    s.close()
