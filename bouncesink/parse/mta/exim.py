"""Exim (and Exim-based relays: GMX, cPanel hosts, mail.ru's older front ends).

Quirks handled:
- the failed addresses are in X-Failed-Recipients; the body lists each one indented, followed
  by the remote server's words on indented lines ("SMTP error from remote mail server after
  RCPT TO:<...>: host ...: 550 ...");
- a failure without any SMTP reply carries only Exim's own words: "retry timeout exceeded",
  "all hosts have been failing for a long time" (expired), "Unrouteable address" (userunknown
  or hostunknown), "all relevant MX records point to non-existent hosts" (hostunknown);
- "Warning: message ... delayed" notices are delays, not failures;
- the copy of the message starts after "------ This is a copy of the message".
"""

from __future__ import annotations

import re

from . import _base

NAME = "mta.exim"
_BODY = re.compile(r"This message was created automatically by mail delivery software|"
                   r"could not be delivered to (?:one or more|all) of its|"
                   r"following address\(es\) failed|This message was created automatically by the SMTP relay")
_START = re.compile(r"following address(?:\(es\))?(?: failed|:)|address\(es\) failed|"
                    r"could not be delivered to one or more of its|has not yet been delivered|"
                    r"following address failed")
_DELAY = re.compile(r"has not yet been delivered|Warning: message .{0,40}delayed", re.I)
_EXPIRED = re.compile(r"retry timeout exceeded|all hosts have been failing|retry time not reached", re.I)


def sniff(ctx) -> bool:
    if ctx.msg.get("X-Failed-Recipients") and "googlemail" not in ctx.from_:
        return True
    return "mailer-daemon" in ctx.from_ and bool(_BODY.search(ctx.body[:4000]))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START, only=_base.failed_recipients(ctx) or None)
    if not results:
        results = _base.scan(ctx, NAME, only=_base.failed_recipients(ctx) or None)
    delayed = bool(_DELAY.search(ctx.subject) or _DELAY.search(ctx.body[:4000]))
    for r in results:
        if delayed:
            r.action = "delayed"
        if _EXPIRED.search(r.diagnostic) and not r.reply_code:
            r.reason, r.rule = "expired", "mta: exim retry timeout"
    return results
