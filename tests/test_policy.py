"""The suppression policy (bouncesink.policy): pure decisions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bouncesink.config import PolicyConfig
from bouncesink.model import SENDER_SIDE_REASONS, Result
from bouncesink.policy import (ALERT, ALIVE, COUNT, DEAD, IGNORE, RESET, SOFT_ESCALATED,
                               SUPPRESS, UNKNOWN, decide, needs_dns, sender_alert)

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)
CFG = PolicyConfig()


def r(type_, reason, recipient="alice@example.com"):
    return Result(recipient=recipient, type=type_, reason=reason, status="5.0.0")


@pytest.mark.parametrize("type_, reason, action", [
    ("hard", "userunknown", SUPPRESS),
    ("complaint", "feedback", SUPPRESS),
    ("autoreply", "vacation", IGNORE),
    ("delay", "expired", IGNORE),
    ("delivered", "delivered", RESET),
    ("soft", "mailboxfull", COUNT),
])
def test_default_actions(type_, reason, action):
    assert decide(r(type_, reason), [], NOW, CFG).action == action


@pytest.mark.parametrize("reason", sorted(SENDER_SIDE_REASONS))
@pytest.mark.parametrize("type_", ["hard", "soft"])
def test_sender_side_reasons_alert_and_never_count(reason, type_):
    d = decide(r(type_, reason), [NOW - timedelta(days=i) for i in range(10)], NOW, CFG)
    assert d.action == ALERT


def soft_times(days):
    return [NOW - timedelta(days=d) for d in days]


def test_soft_escalates_at_threshold_over_span():
    d = decide(r("soft", "mailboxfull"), soft_times([1, 2, 3, 4]), NOW, CFG)
    assert (d.action, d.reason) == (SUPPRESS, SOFT_ESCALATED)
    assert "5 soft bounces" in d.rule


def test_soft_below_threshold_counts():
    d = decide(r("soft", "mailboxfull"), soft_times([1, 2, 3]), NOW, CFG)
    assert d.action == COUNT and "soft 4 of 5" in d.rule


def test_one_day_outage_kills_nobody():
    hours = [NOW - timedelta(hours=h) for h in range(1, 30)]
    assert decide(r("soft", "systemerror"), hours, NOW, CFG).action == COUNT


def test_soft_outside_window_is_forgotten():
    d = decide(r("soft", "mailboxfull"), soft_times([31, 32, 33, 34]), NOW, CFG)
    assert d.action == COUNT and "soft 1 of 5" in d.rule


def test_thresholds_configurable():
    cfg = PolicyConfig(soft_threshold=2, soft_min_span_days=0.5)
    assert decide(r("soft", "mailboxfull"), soft_times([1]), NOW, cfg).action == SUPPRESS


def test_hostunknown_suppresses_only_when_dns_says_dead():
    res = r("hard", "hostunknown")
    assert needs_dns(res, CFG)
    assert decide(res, [], NOW, CFG, dns_verdict=DEAD).action == SUPPRESS
    alive = decide(res, [], NOW, CFG, dns_verdict=ALIVE)
    assert alive.action == COUNT and "domain resolves" in alive.rule
    assert decide(res, [], NOW, CFG, dns_verdict=UNKNOWN).action == COUNT


def test_hostunknown_alive_escalates_like_soft():
    d = decide(r("hard", "hostunknown"), soft_times([1, 2, 3, 4]), NOW, CFG, dns_verdict=ALIVE)
    assert (d.action, d.reason) == (SUPPRESS, SOFT_ESCALATED)


def test_hostunknown_without_dns_confirmation_configured_suppresses():
    cfg = PolicyConfig(confirm_hostunknown_dns=False)
    assert not needs_dns(r("hard", "hostunknown"), cfg)
    assert decide(r("hard", "hostunknown"), [], NOW, cfg).action == SUPPRESS


def test_reason_in_table_wins_over_type():
    cfg = PolicyConfig(actions={"mailboxfull": "suppress", "hard": "count"})
    assert decide(r("soft", "mailboxfull"), [], NOW, cfg).action == SUPPRESS
    assert decide(r("hard", "userunknown"), [], NOW, cfg).action == COUNT


def test_table_can_make_a_sender_side_reason_count():
    cfg = PolicyConfig(actions={"blocked": "count"})
    assert decide(r("soft", "blocked"), [], NOW, cfg).action == COUNT


def test_type_entry_does_not_override_sender_side_alert():
    cfg = PolicyConfig(actions={"hard": "suppress"})
    assert decide(r("hard", "blocked"), [], NOW, cfg).action == ALERT


def test_alert_table_entry():
    cfg = PolicyConfig(actions={"autoreply": "alert"})
    assert decide(r("autoreply", "vacation"), [], NOW, cfg).action == ALERT


def test_sender_alert_fires_at_threshold_once():
    cfg = PolicyConfig(alert_threshold=3)
    fails = [("blocked", "550 5.7.1 listed at bl.example.net"), ("spamdetected", "")]
    assert sender_alert("example.net", fails, False, cfg) is None
    fails.append(("blocked", ""))
    a = sender_alert("example.net", fails, False, cfg)
    assert a["domain"] == "example.net" and a["count"] == 3
    assert a["reasons"] == {"blocked": 2, "spamdetected": 1}
    assert a["sample"] == "550 5.7.1 listed at bl.example.net"
    assert sender_alert("example.net", fails, True, cfg) is None


def test_result_about_another_address_than_the_verp_one_acts_on_nothing():
    d = decide(r("hard", "userunknown", "victim@example.net"), [], NOW, CFG,
               verp_recipient="alice@example.com")
    assert d.action == IGNORE and "VERP" in d.rule
    assert decide(r("hard", "userunknown", "Alice@example.com"), [], NOW, CFG,
                  verp_recipient="alice@example.com").action == SUPPRESS
