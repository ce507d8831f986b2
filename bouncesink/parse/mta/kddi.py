"""au / KDDI (ezweb.ne.jp, dion.ne.jp, auone-net.jp: Postmaster@ezweb.ne.jp, "Mail System
Error - Returned Mail").

Quirks handled: a Japanese explanation in ISO-2022-JP, then either the transcript "Each of
the following recipients was rejected by a remote mail server." with "Recipient: <addr>",
">>> RCPT TO:<addr>" (the command) and "<<< 550 ..." lines, or KDDI's own sentence
"Could not be delivered to: <addr> As their mailbox is full." (mailboxfull), "... because
the address is not found" / "... has been disabled" (Sisimai's KDDI/EZweb tables)."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.kddi"
_START = re.compile(r"following recipients was rejected|Could not be delivered to:|"
                    r"following recipients? (?:could not|was not|were not)", re.I)
_OWN = (
    (re.compile(r"As their mailbox is full|mailbox is full", re.I), "mailboxfull"),
    (re.compile(r"address is not found|does not exist|User unknown", re.I), "userunknown"),
    (re.compile(r"has been disabled|suspended", re.I), "suspend"),
    (re.compile(r"Message expired|delivery time expired", re.I), "expired"),
)


def sniff(ctx) -> bool:
    f = ctx.from_
    return ("ezweb.ne.jp" in f or "dion.ne.jp" in f or "auone-net.jp" in f or "kddi" in f) and (
        "postmaster" in f or "no-reply" in f or ctx.subject.startswith("Mail System Error"))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START)
    for r in results:
        if r.reply_code or r.command:
            continue  # the remote server spoke: its words decide
        for pattern, reason in _OWN:
            if pattern.search(r.diagnostic):
                r.reason, r.rule = reason, "mta: kddi " + pattern.pattern.split("|")[0]
                break
    return results
