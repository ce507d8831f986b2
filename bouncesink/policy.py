"""Bounce events -> suppression decisions. Pure: values in, a Decision out.

Like Mailman 3, we record every bounce event and decide about the address separately.
Defaults: hard and complaint suppress at once; auto-reply, delay and delivered are ignored;
soft counts, and `soft_threshold` soft bounces within `soft_window_days`, spread over at
least `soft_min_span_days`, suppress the address as soft-escalated. Sender-side reasons
(blocks for spam, reputation, authentication, policy) alert and never count against the
address. Reasons in `PolicyConfig.actions` override the action of a type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bouncesink.config import PolicyConfig
from bouncesink.model import (AUTOREPLY, COMPLAINT, DELAY, DELIVERED, HARD, SENDER_SIDE_REASONS,
                              SOFT, Result)

SUPPRESS, COUNT, IGNORE, ALERT, RESET = "suppress", "count", "ignore", "alert", "reset"

_TYPE_ACTIONS = {HARD: SUPPRESS, COMPLAINT: SUPPRESS, SOFT: COUNT,
                 AUTOREPLY: IGNORE, DELAY: IGNORE, DELIVERED: RESET}


@dataclass(frozen=True, slots=True)
class Decision:
    action: str         # suppress, count, ignore, alert, reset
    reason: str         # the reason recorded with a suppression ("soft-escalated" or the result's)
    rule: str           # why, in words a sysadmin can check


def action_for(result: Result, cfg: PolicyConfig) -> tuple[str, str]:
    """The configured action for a result and the key that chose it."""
    if result.reason in cfg.actions:
        return cfg.actions[result.reason], f"reason {result.reason}"
    if result.type in cfg.actions:
        return cfg.actions[result.type], f"type {result.type}"
    if result.type == SOFT and result.reason in SENDER_SIDE_REASONS:
        return ALERT, f"sender-side reason {result.reason}"
    return _TYPE_ACTIONS.get(result.type, IGNORE), f"type {result.type or 'unknown'}"


def decide(result: Result, soft_history: list[datetime], now: datetime,
           cfg: PolicyConfig) -> Decision:
    """Decide what one result does to its address.

    `soft_history` holds the times of the address's earlier counted soft bounces since its
    last reset (a delivery or an unsuppress); older ones than the window are ignored here.
    """
    action, key = action_for(result, cfg)
    if action == SUPPRESS:
        return Decision(SUPPRESS, result.reason, f"{key}: suppress at once")
    if action != COUNT:
        return Decision(action, result.reason, f"{key}: {action}")
    window_start = now - timedelta(days=cfg.soft_window_days)
    times = sorted(t for t in soft_history if t >= window_start) + [now]
    span = times[-1] - times[0]
    n = len(times)
    if n >= cfg.soft_threshold and span >= timedelta(days=cfg.soft_min_span_days):
        return Decision(
            SUPPRESS, "soft-escalated",
            f"{n} soft bounces in {cfg.soft_window_days:g} days over "
            f"{span.total_seconds() / 86400:.1f} days (threshold {cfg.soft_threshold}, "
            f"min span {cfg.soft_min_span_days:g} days)",
        )
    return Decision(COUNT, result.reason,
                    f"{key}: soft {n} of {cfg.soft_threshold} in {cfg.soft_window_days:g} days")
