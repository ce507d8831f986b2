"""PowerMTA (Port25): RFC 3464 DSNs with X-PowerMTA-VirtualMTA and, per recipient,
X-PowerMTA-BounceCategory: PowerMTA's own classification of the remote reply, which decides
where the reply is ambiguous ("550 5.2.1 ... User Unknown" with bad-mailbox is a dead
address). Categories from the PowerMTA user guide's bounce-category list."""

from __future__ import annotations

from .. import dsn
from .. import message as m

NAME = "mta.powermta"
_CATEGORIES = {
    "bad-domain": "hostunknown", "bad-mailbox": "userunknown", "inactive-mailbox": "suspend",
    "message-expired": "expired", "no-answer-from-host": "networkerror",
    "policy-related": "policyviolation", "quota-issues": "mailboxfull",
    "routing-errors": "systemerror", "spam-related": "spamdetected",
    "virus-related": "virusdetected", "relaying-issues": "norelaying",
    "bad-connection": "networkerror", "content-related": "contenterror",
    "invalid-sender": "rejected", "protocol-errors": "syntaxerror",
}


def _categories(ctx) -> dict[str, str]:
    """Final-Recipient (lower case) -> X-PowerMTA-BounceCategory, per DSN block."""
    out: dict[str, str] = {}
    for part in ctx.dsn_parts[:4]:
        for block in dsn.field_blocks_of(part):
            fields = {name.lower(): value for name, value in block}
            category = fields.get("x-powermta-bouncecategory", "").strip().lower()
            rcpt = m.clean_address(fields.get("final-recipient", ""))
            if category and rcpt:
                out[rcpt.lower()] = category
    return out


def _may_have_categories(ctx) -> bool:
    """False when no delivery-status part can hold the field (substring first: sniffs run on
    every message); a part read from decoded text is always read."""
    for part in ctx.dsn_parts[:4]:
        if not isinstance(part.get_payload(), list) or b"-bouncecategory" in part.raw.lower():
            return True
    return False


def sniff(ctx) -> bool:
    return bool(ctx.msg.get("X-PowerMTA-VirtualMTA")) or bool(
        ctx.dsn_parts and _may_have_categories(ctx) and _categories(ctx))


def amend(ctx, results) -> bool:
    by_rcpt = _categories(ctx)
    changed = False
    for r in results:
        reason = _CATEGORIES.get(by_rcpt.get((r.recipient or "").lower(), ""))
        if reason:
            r.reason, r.rule = reason, "mta: powermta bounce category"
            changed = True
    return changed


def detect(ctx):
    return []  # PowerMTA always sends a DSN: nothing to read without one
