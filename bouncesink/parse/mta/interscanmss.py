"""Trend Micro InterScan Messaging Security Suite: "Unable to deliver message to <addr>
(and other recipients in the same domain)." with no reply; Sisimai and the MSS manual treat
it as an unknown recipient (the appliance verified the address against the directory)."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.interscanmss"
_UNABLE = re.compile(r"Unable to deliver message to <", re.I)


def sniff(ctx) -> bool:
    return "interscan" in ctx.from_ or "InterScan" in ctx.body[:2000]


def detect(ctx):
    results = _base.scan(ctx, NAME)
    for r in results:
        if _UNABLE.search(ctx.body[:4000]) and not r.reply_code:
            r.reason, r.rule = "userunknown", "mta: interscan recipient check"
    return results
