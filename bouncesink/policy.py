"""Bounce events -> suppression decisions. Pure: values in, a Decision out.

Like Mailman 3, we record every bounce event and decide about the address separately.
Defaults: hard and complaint suppress at once; auto-reply, delay and delivered are ignored
(a delivery also restarts the soft count); soft counts, and `soft_threshold` soft bounces
within `soft_window_days`, spread over at least `soft_min_span_days`, suppress the address as
soft-escalated, so a one-day outage at the receiver kills nobody. Sender-side reasons
(blocks for spam, reputation, authentication, policy) alert and never count against the
address: they say our IP or domain is blocked, not that the address is bad. A hostunknown
suppresses only once DNS confirms the domain is dead (NXDOMAIN or a null MX, RFC 7505);
the DNS lookup is done by the caller and its verdict passed in.

`PolicyConfig.actions` maps a reason or a type to suppress, count, ignore or alert; a
reason's entry wins over its type's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bouncesink.config import PolicyConfig
from bouncesink.verp import UNSIGNED
from bouncesink.model import (AUTOREPLY, COMPLAINT, DELAY, DELIVERED, HARD, SENDER_SIDE_REASONS,
                              SOFT, Result)

SUPPRESS, COUNT, IGNORE, ALERT, RESET = "suppress", "count", "ignore", "alert", "reset"
SOFT_ESCALATED = "soft-escalated"

# DNS verdicts about a recipient domain (see bouncesink.dns).
DEAD, ALIVE, UNKNOWN = "dead", "alive", "unknown"

_TYPE_ACTIONS = {HARD: SUPPRESS, COMPLAINT: SUPPRESS, SOFT: COUNT,
                 AUTOREPLY: IGNORE, DELAY: IGNORE, DELIVERED: IGNORE}


@dataclass(frozen=True, slots=True)
class Decision:
    action: str         # suppress, count, ignore, alert, reset
    reason: str         # the reason recorded with a suppression ("soft-escalated" or the result's)
    rule: str           # why, in words a sysadmin can check
    alert: dict | None = None   # a sender_blocked burst this result completed (set by the store)


def action_for(result: Result, cfg: PolicyConfig) -> tuple[str, str]:
    """The configured action for a result and the key that chose it."""
    if result.reason in cfg.actions:
        return cfg.actions[result.reason], f"reason {result.reason}"
    # Sender-side reasons alert whatever the type's action, unless named in the table.
    if result.type in (HARD, SOFT) and result.reason in SENDER_SIDE_REASONS:
        return ALERT, f"sender-side reason {result.reason}"
    if result.type in cfg.actions:
        return cfg.actions[result.type], f"type {result.type}"
    return _TYPE_ACTIONS.get(result.type, IGNORE), f"type {result.type or 'unknown'}"


def needs_dns(result: Result, cfg: PolicyConfig) -> bool:
    """Whether decide() wants a DNS verdict on this result's domain."""
    return (cfg.confirm_hostunknown_dns and result.reason == "hostunknown"
            and bool(result.recipient) and action_for(result, cfg)[0] == SUPPRESS)


def decide(result: Result, soft_history: list[datetime], now: datetime,
           cfg: PolicyConfig, dns_verdict: str | None = None,
           verp_recipient: str | None = None) -> Decision:
    """Decide what one result does to its address.

    `soft_history` holds the times of the address's earlier counted soft bounces since its
    last reset (a delivery or an unsuppress); older ones than the window are ignored here.
    `dns_verdict` (dead, alive, unknown) is about the recipient's domain, for hostunknown.
    `verp_recipient` is the recipient the (verified) VERP bounce address names: a result
    about any other address in the same message acts on nothing, since only the VERP
    address is evidence we sent to it.
    """
    if verp_recipient == UNSIGNED:
        return Decision(IGNORE, result.reason,
                        "not addressed to a signed VERP address (verp.require_signed): ignore")
    if verp_recipient and verp_recipient.lower() not in {(result.recipient or "").lower(),
                                                          (result.suppress_as or "").lower()}:
        return Decision(IGNORE, result.reason,
                        f"recipient is not the VERP recipient {verp_recipient}: ignore")
    if result.type == DELIVERED and DELIVERED not in cfg.actions:
        return Decision(RESET, result.reason or DELIVERED,
                        "type delivered: the address works, soft count restarts")
    action, key = action_for(result, cfg)
    if action == SUPPRESS and needs_dns(result, cfg):
        if dns_verdict == DEAD:
            return Decision(SUPPRESS, result.reason,
                            f"{key}: domain confirmed dead by DNS (NXDOMAIN or null MX): suppress")
        action = COUNT
        key = (f"{key}: domain resolves, counted as soft" if dns_verdict == ALIVE
               else f"{key}: DNS could not confirm, counted as soft")
    if action == SUPPRESS:
        return Decision(SUPPRESS, result.reason, f"{key}: suppress at once")
    if action != COUNT:
        return Decision(action, result.reason, f"{key}: {action}")
    window_start = now - timedelta(days=cfg.soft_window_days)
    times = sorted(t for t in soft_history if window_start <= t <= now) + [now]
    span = times[-1] - times[0]
    n = len(times)
    if n >= cfg.soft_threshold and span >= timedelta(days=cfg.soft_min_span_days):
        return Decision(
            SUPPRESS, SOFT_ESCALATED,
            f"{key}: {n} soft bounces in {cfg.soft_window_days:g} days over "
            f"{span.total_seconds() / 86400:.1f} days (threshold {cfg.soft_threshold}, "
            f"min span {cfg.soft_min_span_days:g} days): suppress",
        )
    return Decision(COUNT, result.reason,
                    f"{key}: soft {n} of {cfg.soft_threshold} in {cfg.soft_window_days:g} days"
                    f" (span {span.total_seconds() / 86400:.1f} of"
                    f" {cfg.soft_min_span_days:g} days)")


def sender_alert(domain: str, failures: list[tuple[str, str]], already_alerted: bool,
                 cfg: PolicyConfig) -> dict | None:
    """One sender_blocked alert when a domain's sender-side failures reach the threshold.

    `failures` are (reason, diagnostic) of the domain's sender-side failures within the
    alert window, newest last; `already_alerted` says an alert was raised in that window.
    """
    if already_alerted or len(failures) < cfg.alert_threshold:
        return None
    reasons = Counter(r for r, _ in failures)
    return {"domain": domain, "count": len(failures), "reasons": dict(reasons.most_common()),
            "window_minutes": cfg.alert_window_minutes,
            "sample": next((d for _, d in reversed(failures) if d), "")[:300]}
