"""Lotus Notes / HCL Domino (postmaster, "Undeliverable message", "DELIVERY FAILURE").

Quirks handled:
- the reason comes BEFORE the address ("------- Failure Reasons --------" then the reason
  line, then the address), often in Japanese in ISO-2022-JP: "ディレクトリのリストにありません"
  (not listed in the directory) = userunknown;
- "User ... not listed in Domino Directory" / "not listed in public Name & Address Book".
"""

from __future__ import annotations

import re

from . import _base

NAME = "mta.lotusnotes"
_START = re.compile(r"Failure Reasons|DELIVERY FAILURE|was not delivered to", re.I)
_END = re.compile(r"^-+ ?Returned Message|^-+ ?Original message", re.I)
_UNKNOWN = re.compile(r"ディレクトリのリストにありません|ディレクトリに.{0,20}見つかりません|"
                      r"not listed in (?:Domino Directory|public Name|the Domino)|Unable to find user|"
                      r"User not listed", re.I)


def sniff(ctx) -> bool:
    body = ctx.body[:3000]
    return ("Failure Reasons" in body or "Domino" in body or "Lotus" in ctx.header("X-Mailer")
            or ("notes" in ctx.from_ and "DELIVERY FAILURE" in body))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START, end=_END)
    lines = ctx.body[:8000]
    for r in results:
        if _UNKNOWN.search(r.diagnostic) or (len(results) == 1 and _UNKNOWN.search(lines)):
            r.reason, r.rule = "userunknown", "mta: notes directory lookup failed"
    return results


def amend(ctx, results) -> bool:
    changed = False
    for r in results:
        if _UNKNOWN.search(r.diagnostic) or (not r.diagnostic and _UNKNOWN.search(ctx.body[:8000])):
            r.reason, r.rule = "userunknown", "mta: notes directory lookup failed"
            changed = True
    return changed
