"""Amazon SES inbound (receiving) rules answering for a domain (Reporting-MTA
inbound-smtp.<region>.amazonaws.com, X-SES-Outgoing): "This message could not be
delivered." plus a DSN whose Diagnostic-Code is one of the texts of the SES receipt-rule
"Bounce" action templates; those are chosen by the domain owner, so "Mailbox does not exist"
is a filter's answer, not proof of a dead address (Sisimai's ReceivingSES: filtered)."""

from __future__ import annotations

import re

NAME = "mta.receivingses"
_TEMPLATES = (
    (re.compile(r"Mailbox does not exist", re.I), "filtered"),
    (re.compile(r"Mailbox full", re.I), "mailboxfull"),
    (re.compile(r"Message too large", re.I), "mesgtoobig"),
    (re.compile(r"Message content rejected", re.I), "contenterror"),
)


def sniff(ctx) -> bool:
    return bool(ctx.msg.get("X-SES-Outgoing")) and "amazonses.com" not in ctx.from_ and bool(ctx.dsn_parts)


def amend(ctx, results) -> bool:
    changed = False
    for r in results:
        if "amazonaws.com" not in r.reporting_mta:
            continue
        for pattern, reason in _TEMPLATES:
            if pattern.search(r.diagnostic):
                r.reason, r.rule = reason, "mta: ses receipt rule " + pattern.pattern
                changed = True
                break
    return changed


def detect(ctx):
    return []
