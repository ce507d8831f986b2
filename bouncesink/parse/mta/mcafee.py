"""McAfee Email and Web Security Appliance (X-NAI-Header: Modified by McAfee ...).

Quirks handled: a multipart/mixed "Delivery Status" with a deliveryproblems.txt part
"<addr>   (Unknown user addr)" and a delivery-status part holding only Original-Recipient
and Diagnostic-Code (no Status, no Final-Recipient). The appliance checked the address
against its recipient list, so "Unknown user" / "User not exist" is a dead address whatever
the SMTP phase (Sisimai's McAfee module: userunknown)."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.mcafee"
_UNKNOWN = re.compile(r"\bUnknown user\b|\bUser not exist|\bUser \(.{1,80}\) unknown|\bno such user", re.I)


def sniff(ctx) -> bool:
    return "McAfee" in ctx.header("X-NAI-Header")


def amend(ctx, results) -> bool:
    changed = False
    for r in results:
        if _UNKNOWN.search(r.diagnostic):
            r.reason, r.rule = "userunknown", "mta: mcafee recipient check"
            changed = True
    return changed


def detect(ctx):
    results = _base.scan(ctx, NAME)
    amend(ctx, results)
    return results
