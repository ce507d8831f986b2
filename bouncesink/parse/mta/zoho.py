"""Zoho Mail (mailer-daemon@mail.zoho.com, X-ZohoMail headers).

Quirks handled: text bounces "This message was created automatically by mail delivery
software." listing "<addr>, ERROR_CODE :550, ERROR_CODE :5.2.1 ..." or "Invalid Address,
ERROR_CODE :550..."; a delay report ("Delivery has been delayed") whose words are only
"Host not reachable" with reply 421 means the retries ran out (Sisimai: expired)."""

from __future__ import annotations

import re

from ...classify.prefilter import guard
from . import _base

NAME = "mta.zoho"
_START = re.compile(r"could not be delivered to one or more|following address\(es\) failed|"
                    r"has been delayed|following recipients?", re.I)
_EXPIRED = guard(re.compile(r"Host not reachable", re.I))


def sniff(ctx) -> bool:
    return "zoho" in ctx.from_ and "mailer-daemon" in ctx.from_ or bool(ctx.msg.get("X-ZohoMail"))


def _fix(results):
    for r in results:
        if _EXPIRED.search(r.diagnostic):
            r.reason, r.rule = "expired", "mta: zoho host not reachable"
    return results


def detect(ctx):
    failed = _base.failed_recipients(ctx) or None
    return _fix(_base.scan(ctx, NAME, start=_START, only=failed) or _base.scan(ctx, NAME, only=failed))


def amend(ctx, results) -> bool:
    _fix(results)
    return any(r.reason for r in results)
