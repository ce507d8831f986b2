"""Ipswitch IMail Server (X-Mailer: <SMTP32 vNNN>), "Undeliverable Mail".

Quirks handled: the reason comes first on the address line ("Unknown user: <addr>",
"Body of message generated response:"), the original follows "Original message follows.";
"Unknown user" is a userunknown even without an SMTP reply."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.imailserver"
_END = re.compile(r"^Original message follows", re.I)
_REASONS = (
    (re.compile(r"^[^\S\n]*+Unknown user|Invalid final delivery userid", re.I | re.M), "userunknown"),
    (re.compile(r"User mailbox exceeds allowed size", re.I), "mailboxfull"),
    (re.compile(r"Requested action not taken: mailbox unavailable", re.I), "userunknown"),
    (re.compile(r"host not found|Unknown host", re.I), "hostunknown"),
    (re.compile(r"spam", re.I), "spamdetected"),
)


def sniff(ctx) -> bool:
    return "SMTP32" in ctx.header("X-Mailer") or (
        "postmaster" in ctx.from_ and ctx.subject.lower().startswith("undeliverable mail"))


def detect(ctx):
    results = _base.scan(ctx, NAME, end=_END)
    for r in results:
        for pattern, reason in _REASONS:
            if pattern.search(r.diagnostic):
                r.reason, r.rule = reason, "mta: imail " + pattern.pattern[:30]
                break
    return results
