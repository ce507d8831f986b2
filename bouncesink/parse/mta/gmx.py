"""GMX / web.de / 1&1 (MAILER-DAEMON@mail.gmx.com, X-GMX-Antispam, kundenserver.de).

Quirks handled: Exim-derived text without X-Failed-Recipients: "Mail delivery failed:
returning message to sender", the address indented after "The following address(es)
failed:", then "Reason: ..." (often "delivery retry timeout exceeded") or "SMTP error from
remote server after RCPT command: host: ... 5.2.1 ...". Unlike Exim's, GMX's retry timeout
is reported as a permanent failure (pseudo status 5.0.947)."""

from __future__ import annotations

import re

from ...classify.prefilter import guard
from . import _base

NAME = "mta.gmx"
# guarded: a substring test first, re.I alternations are tried at every character
_START = guard(re.compile(r"following address(?:\(es\))? failed|could not be delivered to one or more", re.I))
_EXPIRED = guard(re.compile(r"retry timeout exceeded|retry time not reached", re.I))


def sniff(ctx) -> bool:
    return ("gmx." in ctx.from_ or "kundenserver.de" in ctx.from_ or "web.de" in ctx.from_
            or bool(ctx.msg.get("X-GMX-Antispam")) and "mailer-daemon" in ctx.from_)


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START) or _base.scan(ctx, NAME)
    for r in results:
        if _EXPIRED.search(r.diagnostic) and not r.reply_code:
            r.reason, r.rule = "expired", "mta: gmx retry timeout"
    return results
