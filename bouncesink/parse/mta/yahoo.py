"""Yahoo! Mail (and Yahoo! JAPAN) outbound bounces (MAILER-DAEMON@yahoo.com, "Failure
Notice").

Quirks handled: a qmail-derived text: "Sorry, we were unable to deliver your message to the
following address.", then "<addr>:" and "Remote host said: 550 ... [RCPT_TO]": the bracketed
suffix names the SMTP command ([RCPT_TO], [DATA], [MAIL_FROM], [BODY]), the only place it is
given; Yahoo's own texts ("No MX or A records for <domain>", "Host unknown", "Message expired")
when no remote host spoke. The original follows "--- Below this line is a copy of the
message.".
"""

from __future__ import annotations

import re

from . import _base

NAME = "mta.yahoo"
_START = re.compile(r"unable to deliver your message to the following address", re.I)
_END = re.compile(r"^--- Below this line is a copy of the message", re.I)
_BRACKET = re.compile(r"\[(RCPT_TO|DATA|BODY|MAIL_FROM|CONNECT)\]")
_COMMANDS = {"RCPT_TO": "RCPT", "DATA": "DATA", "BODY": "DATA", "MAIL_FROM": "MAIL", "CONNECT": "CONN"}
_OWN = (
    (re.compile(r"No MX or A records for|No mx record found", re.I), "notaccept"),
    (re.compile(r"Message expired|delivery attempts? (?:failed|timed out) for", re.I), "expired"),
)


def sniff(ctx) -> bool:
    return ("yahoo" in ctx.from_ and "mailer-daemon" in ctx.from_) or (
        ctx.subject == "Failure Notice" and bool(_START.search(ctx.body[:2000])))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START, end=_END)
    for r in results:
        bm = _BRACKET.search(r.diagnostic)
        if bm:
            r.command = _COMMANDS[bm.group(1)]
        for pattern, reason in _OWN:
            if pattern.search(r.diagnostic) and not r.reply_code:
                r.reason, r.rule = reason, "mta: yahoo " + pattern.pattern.split("|")[0]
                break
    return results
