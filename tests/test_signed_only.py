"""With VERP secrets, only a bounce that carries a valid signed VERP address acts.

A forged bounce sent to postmaster@ (or any plain address of ours) is stored and recorded,
and suppresses nobody; a feedback report sent to a fixed address acts when the reported
message's Return-Path is our signed VERP address for that recipient.
"""

from __future__ import annotations

import smtplib

import pytest

from bouncesink import verp
from bouncesink.config import PolicyConfig, VerpConfig
from bouncesink.model import Result
from bouncesink.policy import decide

DOMAIN = "bounces.example.org"
SECRET = "test-secret"
CFG = VerpConfig(secrets=(SECRET,))


def signed(recipient: str) -> str:
    return verp.encode(recipient, DOMAIN, secret=SECRET)


def arf(return_path: str) -> bytes:
    return f"""From: Feedback Loop <fbl@isp.example.net>
To: fbl@{DOMAIN}
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b3"

--b3
Content-Type: text/plain

This is an email abuse report.

--b3
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <erin@example.net>

--b3
Content-Type: message/rfc822

Return-Path: <{return_path}>
From: News <news@example.com>
To: erin@example.net
Subject: Offer
Message-ID: <offer-1@example.com>

Hello
--b3--
""".replace("\n", "\r\n").encode()


# -- the rule, as a value ------------------------------------------------------------------
def test_the_envelope_verp_recipient_acts():
    assert verp.acting_recipient([signed("alice@example.com")], {}, CFG) == "alice@example.com"


def test_without_a_signed_address_nothing_acts():
    assert verp.acting_recipient([f"postmaster@{DOMAIN}"], {}, CFG) == verp.UNSIGNED


def test_a_signed_return_path_in_the_bounced_message_acts():
    original = {"return-path": f"<{signed('erin@example.net')}>"}
    assert verp.acting_recipient([f"fbl@{DOMAIN}"], original, CFG) == "erin@example.net"


def test_an_unsigned_return_path_does_not_act():
    original = {"return-path": f"<bounces+erin=example.net@{DOMAIN}>"}
    assert verp.acting_recipient([f"fbl@{DOMAIN}"], original, CFG) == verp.UNSIGNED


@pytest.mark.parametrize("cfg", [VerpConfig(), VerpConfig(secrets=(SECRET,), require_signed=False)],
                         ids=["no-secrets", "not-required"])
def test_without_secrets_or_requirement_any_named_address_acts(cfg):
    assert verp.acting_recipient([f"postmaster@{DOMAIN}"], {}, cfg) is None


def test_policy_ignores_an_unsigned_bounce_and_says_why():
    from datetime import datetime, timezone
    r = Result("alice@example.com", status="5.1.1", reason="userunknown", type="hard")
    d = decide(r, [], datetime.now(timezone.utc), PolicyConfig(), verp_recipient=verp.UNSIGNED)
    assert d.action == "ignore" and "signed VERP" in d.rule


# -- through the real server -------------------------------------------------------------------
def send(port, raw, rcpt):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.sendmail("", [rcpt], raw)


def suppressed(sink) -> set:
    store = sink.open_store()
    try:
        return {r["email"] for r in store.suppressions()}
    finally:
        store.close()


def recipients(sink) -> list:
    store = sink.open_store()
    try:
        return [r for (r,) in store._execute("SELECT recipient FROM results ORDER BY id")]
    finally:
        store.close()


def test_forged_bounce_to_postmaster_is_kept_and_suppresses_nobody(make_sink, dsn_bytes):
    sink = make_sink(verp={"secrets": (SECRET,)})
    send(sink.port, dsn_bytes("dsn-hard-userunknown.eml"), f"postmaster@{DOMAIN}")
    sink.wait_classified(1)
    assert recipients(sink)            # recorded: the sysadmin can still see it
    assert suppressed(sink) == set()


def test_same_bounce_suppresses_when_signing_is_not_required(make_sink, dsn_bytes):
    sink = make_sink(verp={"secrets": (SECRET,), "require_signed": False})
    send(sink.port, dsn_bytes("dsn-hard-userunknown.eml"), f"postmaster@{DOMAIN}")
    sink.wait_classified(1)
    assert suppressed(sink) == set(recipients(sink)) != set()


def test_feedback_report_with_our_signed_return_path_suppresses(make_sink):
    sink = make_sink(verp={"secrets": (SECRET,)})
    send(sink.port, arf(f"bounces+erin=example.net@{DOMAIN}"), f"fbl@{DOMAIN}")
    sink.wait_classified(1)
    assert recipients(sink) == ["erin@example.net"] and suppressed(sink) == set()
    send(sink.port, arf(signed("erin@example.net")), f"fbl@{DOMAIN}")
    sink.wait_classified(2)
    assert suppressed(sink) == {"erin@example.net"}
