"""Trustwave (Marshal) MailMarshal SMTP ("Undeliverable Mail: \"<subject>\"").

Quirks handled (Sisimai's Lhost::MailMarshalSMTP):
- the reason comes BEFORE the recipients: "Could not be delivered because of" then the
  remote server's reply on the following lines;
- "The following recipients were affected:" then one indented address per line, every one
  failed for that same reason;
- "Additional Information" / "======" closes the list, with "Remote-MTA: <ip>" and
  "Reporting-MTA: <host>" below it; "Original Sender:" there is the sender, not a recipient.
"""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m

NAME = "mta.mailmarshal"
_REASON = "Could not be delivered because of"
_RCPTS = "The following recipients were affected"
_INFO = re.compile(r"^[^\S\n]*+(Remote-MTA|Reporting-MTA)\s*:\s*<?([^<>\s]{1,255})>?", re.M)


def sniff(ctx) -> bool:
    return ctx.subject.startswith("Undeliverable Mail: \"") or _RCPTS in ctx.body[:4000]


def detect(ctx):
    body = ctx.body[:m.MAX_TEXT]
    at_reason, at_rcpts = body.find(_REASON), body.find(_RCPTS)
    if at_reason < 0 or at_rcpts < 0:
        return []
    words = " ".join(line.strip() for line in body[at_reason + len(_REASON):at_rcpts].splitlines()
                     if line.strip())[:1000]
    addrs: list[str] = []
    for line in body[at_rcpts:].splitlines()[1:200]:
        if line.strip().startswith(("Additional Information", "=====")):
            break
        for found in m.ADDR_RE.findall(line):
            if found.lower() not in (a.lower() for a in addrs):
                addrs.append(found)
    info = {k.lower(): v for k, v in _INFO.findall(body[at_rcpts:at_rcpts + 4000])}
    return [Result(recipient=a, diagnostic=words, detector=NAME,
                   remote_mta=info.get("remote-mta", ""), reporting_mta=info.get("reporting-mta", ""))
            for a in addrs]
