"""MailFoundry appliance ("Message delivery has failed", X-Envelope headers in the copy).

Quirks handled: "Unable to deliver message to: <addr>", "Delivery failed for the following
reason:", then "Server host[ip] failed with: 550 ..." with no SMTP command named (Sisimai
reads a bare "No such user here" there as the filter's answer)."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.mailfoundry"
_START = re.compile(r"Unable to deliver message to:", re.I)
_END = re.compile(r"^This has been a (?:permanent|temporary) failure", re.I)


def sniff(ctx) -> bool:
    return ctx.subject.startswith("Message delivery has failed") and bool(_START.search(ctx.body[:2000]))


def detect(ctx):
    return _base.scan(ctx, NAME, start=_START, end=_END)
