"""DragonFly Mail Agent (dma; "This is the DragonFly Mail Agent v0.13 at host.").

Quirks handled: plain text, "There was an error delivering your mail to <addr>." then the
remote server's multi-line reply introduced by "host [ip] did not like our RCPT TO:" or
"... did not like our final DATA:" (the SMTP command), or dma's own words ("unable to
deliver", "Envelope expired"); the original's headers follow "Message headers follow."."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.dragonfly"
_MARK = re.compile(r"This is the DragonFly Mail Agent", re.I)
_START = re.compile(r"There was an error delivering your mail to", re.I)
_END = re.compile(r"^\s*Message headers follow", re.I)


def sniff(ctx) -> bool:
    return "DragonFly Mail Agent" in ctx.body[:1000]  # substring first: sniffs run on every message


def detect(ctx):
    return _base.scan(ctx, NAME, start=_START, end=_END)
