"""fml, the Japanese mailing-list manager (X-MLServer: fml [fml 4.0.3 ...]).

Quirks handled: not a DSN at all: the list answers the poster with a notice whose Subject
says what happened ("You <addr> are not member (<list> ML)", "Loop Alert: Duplicated
Message-ID", "Security Alert"), the body names the list address in angle brackets. The
failed recipient is the list; the reasons follow Sisimai's fml table."""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m

NAME = "mta.fml"
_SUBJECTS = (
    (re.compile(r"NOT MEMBER article from|reject mail |Spam mail from a spammer is rejected|"
                r"You .{1,200} are not member|are not a member", re.I), "rejected"),
    (re.compile(r"fml system error message|Loop Alert:|Loop Back Warning:|UNIX FROM Loop", re.I), "systemerror"),
    (re.compile(r"Security Alert", re.I), "securityerror"),
)
_BRACKETED = re.compile(r"<([^\s<>]{1,128}@[A-Za-z0-9.-]{1,255})>")


def sniff(ctx) -> bool:
    return ctx.header("X-MLServer").lower().startswith("fml")


def detect(ctx):
    for pattern, reason in _SUBJECTS:
        if pattern.search(ctx.subject):
            break
    else:
        return []
    body = ctx.body[:4000]
    am = _BRACKETED.search(body)
    addr = m.clean_address(am.group(1)) if am else ""
    if not addr:
        return []
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return [Result(recipient=addr, diagnostic=first[:1000], reason=reason,
                   rule="mta: fml " + pattern.pattern.split("|")[0], detector=NAME)]
