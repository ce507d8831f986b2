"""PowerMTA (Port25): RFC 3464 DSNs with X-PowerMTA-VirtualMTA and, per recipient,
X-PowerMTA-BounceCategory: PowerMTA's own classification of the remote reply, which decides
where the reply is ambiguous ("550 5.2.1 ... User Unknown" with bad-mailbox is a dead
address). Categories from the PowerMTA user guide's bounce-category list."""

from __future__ import annotations

import re

NAME = "mta.powermta"
_FIELD = re.compile(r"^X-PowerMTA-BounceCategory:\s*([a-z-]+)", re.I | re.M)
_FINAL = re.compile(r"^Final-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$", re.I | re.M)
_CATEGORIES = {
    "bad-domain": "hostunknown", "bad-mailbox": "userunknown", "inactive-mailbox": "suspend",
    "message-expired": "expired", "no-answer-from-host": "networkerror",
    "policy-related": "policyviolation", "quota-issues": "mailboxfull",
    "routing-errors": "systemerror", "spam-related": "spamdetected",
    "virus-related": "virusdetected", "relaying-issues": "norelaying",
    "bad-connection": "networkerror", "content-related": "contenterror",
    "invalid-sender": "rejected", "protocol-errors": "syntaxerror",
}


def sniff(ctx) -> bool:
    return bool(ctx.msg.get("X-PowerMTA-VirtualMTA")) or any(
        "X-PowerMTA" in p.get_payload(decode=True).decode("latin-1", "replace")[:4000]
        for p in ctx.dsn_parts[:2] if not p.is_multipart() and p.get_payload(decode=True))


def amend(ctx, results) -> bool:
    text = "\n\n".join(p.get_payload(decode=True).decode("latin-1", "replace")[:65536]
                       for p in ctx.dsn_parts[:4] if not p.is_multipart() and p.get_payload(decode=True))
    if not text:
        return False
    by_rcpt: dict[str, str] = {}
    for block in text.split("\n\n")[:200]:
        fm, cm = _FINAL.search(block), _FIELD.search(block)
        if fm and cm:
            by_rcpt[fm.group(1).lower()] = cm.group(1).lower()
    changed = False
    for r in results:
        reason = _CATEGORIES.get(by_rcpt.get((r.recipient or "").lower(), ""))
        if reason:
            r.reason, r.rule = reason, "mta: powermta bounce category"
            changed = True
    return changed
