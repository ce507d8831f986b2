"""Gmail / Google Workspace (mailer-daemon@googlemail.com, "Delivery Status Notification").

Quirks handled:
- older bounces are text/plain: "Delivery to the following recipient failed permanently:",
  the address indented, then "Technical details of permanent failure:" with the remote
  server's reply on the next lines;
- "(Delay)" notices: "Delivery to the following recipient has been delayed ... Message will
  be retried for N more day(s)" are delays whose reason is expired;
- the reason may only be in the human-readable part of a multipart/report (amend).
"""

from __future__ import annotations

import re

from ...classify.prefilter import guard
from . import _base

NAME = "mta.gmail"
# guarded: a substring test first, re.I alternations are tried at every character
_START = guard(re.compile(r"Delivery to the following recipients? (?:failed|has been delayed)|"
                          r"Your message wasn't delivered to|Message not delivered|"
                          r"There was a temporary problem delivering|Address not found", re.I))


def sniff(ctx) -> bool:
    return "googlemail.com" in ctx.from_ or "mailer-daemon@google.com" in ctx.from_


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START) or _base.scan(
        ctx, NAME, only=_base.failed_recipients(ctx) or None)
    delayed = "(delay)" in ctx.subject.lower() or "has been delayed" in ctx.body[:3000]
    for r in results:
        if delayed:
            r.action = "delayed"
            if not r.reply_code:
                r.reason, r.rule = "expired", "mta: gmail will retry"
    return results
