"""m-FILTER (Digital Arts; X-Mailer: m-FILTER), a Japanese mail gateway.

Quirks handled: a Japanese (ISO-2022-JP) explanation, the failed address alone on a line,
then "-------server message" with the remote reply and "-------SMTP command" with the
command it answered (the only place the command is given); the original follows
"-------original message"."""

from __future__ import annotations

import re

from . import _base

NAME = "mta.mfilter"
_END = re.compile(r"^-+original (?:message|mail info)", re.I)
_COMMAND = re.compile(r"^-+SMTP command[^\S\n]*+\n\s*+([A-Z]{4})", re.I | re.M)
_COMMANDS = {"RCPT": "RCPT", "DATA": "DATA", "MAIL": "MAIL", "HELO": "HELO", "EHLO": "HELO", "CONN": "CONN"}


def sniff(ctx) -> bool:
    return "m-FILTER" in ctx.header("X-Mailer") or "-------server message" in ctx.body[:4000]


def detect(ctx):
    results = _base.scan(ctx, NAME, end=_END)
    cm = _COMMAND.search(ctx.body[:8000])
    for r in results:
        r.diagnostic = r.diagnostic.split("-------SMTP command")[0].replace("-------server message", "").strip()
        if cm and not r.command:
            r.command = _COMMANDS.get(cm.group(1).upper(), "")
    return results
