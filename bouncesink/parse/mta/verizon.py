"""Verizon Wireless gateways: vtext.com (SMS, "post_master@vtext.com") and vzwpix.com (MMS,
"sysadmin@...vzwpix.com"), "Undeliverable Message".

Quirks handled (Sisimai's Lhost::Verizon):
- vtext.com runs Apache James: the recipient is the "RCPT TO:" line of "Message details:",
  the reason the "Error: <reply>" line; "550 - Requested action not taken: no such user
  here" there is a number that does not exist (userunknown, not a filter's answer);
- vzwpix.com writes "Message could not be delivered to mobile." and "Error: No valid
  recipients for this MM" (the number does not exist: userunknown); the recipient is the
  "To:" line that follows.
"""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m
from .apachejames import recipients_and_error

NAME = "mta.verizon"
_MMS_START = "Message could not be delivered to mobile"
_ERROR = re.compile(r"^Error:[ \t]+(.{1,1000})$", re.M)
_TO = re.compile(r"^To:[ \t]+(.{1,1000})$", re.M)


def sniff(ctx) -> bool:
    return "vtext.com" in ctx.from_ or "vzwpix.com" in ctx.from_


def detect(ctx):
    if "vtext.com" in ctx.from_:
        results = recipients_and_error(ctx, NAME)
        for r in results:
            if "no such user here" in r.diagnostic.lower():
                # Sisimai's vtext table: the gateway says so only of numbers it does not serve
                r.reason, r.rule = "userunknown", "mta: verizon no such user here"
        return results
    body = ctx.body[:20000]
    at = body.find(_MMS_START)
    if at < 0:
        return []
    error = _ERROR.search(body, at)
    words = error.group(1).strip() if error else ""
    out = []
    for line in _TO.findall(body, at):
        for addr in m.ADDR_RE.findall(line):
            if addr.lower() not in ctx.exclude:
                r = Result(recipient=addr, diagnostic=words, detector=NAME)
                if "No valid recipients for this MM" in words:
                    r.reason, r.rule = "userunknown", "mta: verizon no valid recipients"
                out.append(r)
    return out[:1]
