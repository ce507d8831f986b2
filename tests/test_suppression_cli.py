"""Suppression end to end: signed VERP at RCPT, campaign attribution, DNS-confirmed
hostunknown, sender_blocked alerts, soft escalation and reset, and the people commands
(suppress, unsuppress, why, campaign sent, report, verp encode / decode)."""

from __future__ import annotations

import json
import smtplib
import time
from datetime import datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from bouncesink import verp
from bouncesink.cli import main
from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store
from test_dns import ZONE, LoopbackDNS

DOMAIN = "bounces.example.org"
SECRET = "test-secret"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def send(port, raw, rcpt):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail("", [rcpt], raw)


def result_rows(sink):
    store = sink.open_store()
    try:
        return store._execute("SELECT recipient, campaign, type, reason FROM results"
                              " ORDER BY id").fetchall()
    finally:
        store.close()


def suppressed(sink) -> dict:
    store = sink.open_store()
    try:
        return {r["email"]: r for r in store.suppressions()}
    finally:
        store.close()


# -- signed VERP at RCPT -------------------------------------------------------------------
@pytest.fixture
def signed_sink(make_sink):
    return make_sink(verp={"secrets": (SECRET, "old-secret")})


@pytest.mark.parametrize("address", [
    "bounces+alice=example.com@" + DOMAIN,                                   # unsigned
    verp.encode("alice@example.com", DOMAIN, secret="not-ours"),             # wrong secret
    verp.encode("alice@example.com", DOMAIN, secret=SECRET).replace("alice", "carol"),
    verp.encode("alice@example.com", DOMAIN, secret=SECRET,
                now=datetime.now(timezone.utc) - timedelta(days=90)),        # expired
], ids=["unsigned", "wrong-secret", "altered", "expired"])
def test_forged_verp_is_refused_550_5_7_1_and_never_stored(signed_sink, dsn_bytes, address):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        send(signed_sink.port, dsn_bytes("dsn-hard-userunknown.eml"), address)
    code, text = e.value.recipients[address]
    assert code == 550 and text.startswith(b"5.7.1")
    assert signed_sink.count("SELECT COUNT(*) FROM messages") == 0


def test_signed_verp_wins_over_the_body_and_carries_the_campaign(signed_sink, dsn_bytes):
    address = verp.encode("subscriber@example.com", DOMAIN, campaign="spring-2025",
                          secret="old-secret")
    send(signed_sink.port, dsn_bytes("dsn-verp.eml"), address)  # body: forwarded-target@
    signed_sink.wait_classified(1)
    assert result_rows(signed_sink) == [("subscriber@example.com", "spring-2025", "hard",
                                         "userunknown")]
    assert "subscriber@example.com" in suppressed(signed_sink)


def test_bounce_about_another_address_than_the_verp_one_suppresses_nobody(signed_sink,
                                                                          dsn_bytes):
    address = verp.encode("subscriber@example.com", DOMAIN, secret=SECRET)
    send(signed_sink.port, dsn_bytes("dsn-two-recipients.eml"), address)
    signed_sink.wait_classified(1)
    assert {r[0] for r in result_rows(signed_sink)} == {"carol@example.com", "dave@example.net"}
    assert suppressed(signed_sink) == {}


def test_campaign_from_original_headers_without_verp(make_sink, dsn_bytes):
    sink = make_sink(policy={"confirm_hostunknown_dns": False})
    send(sink.port, dsn_bytes("suppression-hostunknown.eml"), "bounces@" + DOMAIN)
    sink.wait_classified(1)
    assert result_rows(sink)[0][1] == "autumn-news"


# -- hostunknown confirmed by DNS -----------------------------------------------------------
@pytest.fixture
def dns_sink(make_sink):
    server = LoopbackDNS(ZONE)
    sink = make_sink(policy={"dns_resolvers": (f"127.0.0.1:{server.port}",),
                             "dns_timeout": 1.0})
    yield sink
    sink.stop()
    server.close()


def test_hostunknown_suppresses_when_the_domain_is_nxdomain(dns_sink, dsn_bytes):
    send(dns_sink.port, dsn_bytes("suppression-hostunknown.eml"), "bounces@" + DOMAIN)
    dns_sink.wait_classified(1)
    row = suppressed(dns_sink)["someone@nxdomain.example.com"]
    assert (row["type"], row["reason"]) == ("hard", "hostunknown")


def test_hostunknown_counts_as_soft_when_the_domain_resolves(dns_sink, dsn_bytes):
    raw = dsn_bytes("suppression-hostunknown.eml").replace(b"nxdomain.example.com",
                                                          b"example.com")
    send(dns_sink.port, raw, "bounces@" + DOMAIN)
    dns_sink.wait_classified(1)
    assert suppressed(dns_sink) == {}
    assert dns_sink.count("SELECT COUNT(*) FROM events WHERE action = 'count'"
                          " AND rule LIKE '%domain resolves%'") == 1


# -- sender_blocked alerts --------------------------------------------------------------------
def test_burst_of_blocks_logs_one_sender_blocked_and_suppresses_nobody(make_sink, dsn_bytes):
    sink = make_sink(policy={"alert_threshold": 3}, classify_in_process=True)  # capture_logs
    raw = dsn_bytes("suppression-blocked.eml")
    with capture_logs() as logs:
        for _ in range(5):
            send(sink.port, raw, "bounces@" + DOMAIN)
        sink.wait_classified(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(
                e["event"] == "bounce_recorded" for e in logs) < 5:
            time.sleep(0.01)
    alerts = [e for e in logs if e["event"] == "sender_blocked"]
    assert len(alerts) == 1
    (a,) = alerts
    assert (a["domain"], a["count"], a["reasons"]) == ("example.net", 3, {"blocked": 3})
    assert "blocked using" in a["sample"] and a["log_level"] == "warning"
    assert suppressed(sink) == {}


# -- policy over time, through the real store ---------------------------------------------------
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def record(store, type_, reason, at, address="bob@example.com", policy=PolicyConfig()):
    env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["bounces@" + DOMAIN],
                   received_at=at)
    (ref,) = store.add_messages([(env, b"x")])
    parsed = Parsed(kind="dsn", results=[Result(recipient=address, type=type_, reason=reason,
                                                status="4.2.2")])
    return store.record([(ref, env, parsed, None)], policy)[0][1]


def test_soft_bounces_escalate_only_when_spread_and_delivered_resets(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    try:
        for h in range(6):  # a one-day outage: six soft bounces within hours
            assert record(store, "soft", "mailboxfull", T0 + timedelta(hours=h)).action == "count"
        d = record(store, "delivered", "delivered", T0 + timedelta(days=1))
        assert d.action == "reset"
        for day in range(2, 6):
            assert record(store, "soft", "mailboxfull", T0 + timedelta(days=day)).action == "count"
        d = record(store, "soft", "mailboxfull", T0 + timedelta(days=6))
        assert (d.action, d.reason) == ("suppress", "soft-escalated")
        (row,) = store.suppressions()
        assert (row["email"], row["type"], row["count"]) == ("bob@example.com", "soft", 12)
    finally:
        store.close()


# -- the people commands -------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "c.db")
    store = open_store(path)
    record(store, "hard", "userunknown", T0, "gone@example.com")
    store.close()
    return path


def test_suppress_unsuppress_and_why(capsys, db):
    assert run(capsys, "suppress", "Carol@Example.com", "--reason", "asked by phone",
               "--db", db)[0] == 0
    code, out, _ = run(capsys, "unsuppress", "carol@example.com", "--db", db)
    assert code == 0
    code, out, _ = run(capsys, "why", "carol@example.com", "--db", db, "--json")
    h = json.loads(out)
    assert not h["suppressed"]
    assert [(e["action"], e["rule"]) for e in h["events"]] == [
        ("suppress", "asked by phone"), ("unsuppress", "unsuppressed")]
    code, out, _ = run(capsys, "why", "gone@example.com", "--db", db)
    assert "SUPPRESSED" in out and "suppress at once" in out and "userunknown" in out


def test_unsuppress_of_an_address_not_suppressed_fails_with_one_line(capsys, db):
    code, out, err = run(capsys, "unsuppress", "nobody@example.com", "--db", db)
    assert code == 1 and err.count("\n") == 1 and "not suppressed" in err


def test_bad_address_is_exit_2(capsys, db):
    code, _, err = run(capsys, "suppress", "not an address", "--reason", "x", "--db", db)
    assert code == 2 and err.startswith("bouncesink: ")


def test_campaign_sent_and_report_rates(capsys, tmp_path):
    path = str(tmp_path / "r.db")
    store = open_store(path)
    for i, (t, r) in enumerate([("hard", "userunknown"), ("hard", "userunknown"),
                                ("soft", "mailboxfull"), ("complaint", "feedback"),
                                ("autoreply", "vacation")]):
        env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["bounces@" + DOMAIN],
                       received_at=T0)
        (ref,) = store.add_messages([(env, b"x")])
        res = Result(recipient=f"u{i}@example.{'com' if i < 3 else 'net'}", type=t, reason=r)
        store.record([(ref, env, Parsed(kind="dsn", results=[res]), "c1")], PolicyConfig())
    store.close()
    assert run(capsys, "campaign", "sent", "c1", "200", "--db", path)[0] == 0
    code, out, _ = run(capsys, "report", "--db", path, "--json")
    rep = json.loads(out)
    c1 = rep["campaigns"]["c1"]
    assert (c1["sent"], c1["hard"], c1["hard_rate"], c1["complaint"]) == (200, 2, 0.01, 1)
    assert rep["domains"]["example.com"]["hard"] == 2
    assert rep["domains"]["example.net"]["autoreply"] == 1
    code, out, _ = run(capsys, "report", "--db", path, "--campaign", "c1")
    assert "c1" in out and "2 (1.00%)" in out
    assert run(capsys, "campaign", "sent", "c1", "many", "--db", path)[0] == 2


def test_verp_encode_decode_cli(capsys):
    code, out, _ = run(capsys, "verp", "encode", "--recipient", "alice@example.com",
                       "--domain", DOMAIN, "--campaign", "c7", "--verp-secret", SECRET)
    address = out.strip()
    assert code == 0 and address.startswith("bounces+alice=example.com=c_c7=s_")
    code, out, _ = run(capsys, "verp", "decode", address, "--verp-secret", SECRET)
    assert code == 0
    assert json.loads(out)["recipient"] == "alice@example.com"
    assert json.loads(out)["valid"] is True
    code, out, _ = run(capsys, "verp", "decode", address.replace("alice", "eve"),
                       "--verp-secret", SECRET)
    assert code == 1 and json.loads(out)["error"] == "bad signature"
    code, _, err = run(capsys, "verp", "decode", "postmaster@" + DOMAIN)
    assert code == 2 and "not a VERP address" in err
