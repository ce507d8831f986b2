"""Apache James ("[BOUNCE]", a JavaMail Message-ID, "JAMES SMTP Server" in Received).

Quirks handled (Sisimai's Lhost::ApacheJames, James 2.3 AbstractNotify):
- the text starts like qmail's ("I'm afraid I wasn't able to deliver your message"), so this
  detector runs before qmail's;
- the recipient is named only in the "Message details:" block, as "RCPT TO: <addr>" (the
  "To:" line there is the original header, possibly other people);
- the remote server's words follow "Error message below:" up to a blank line.
"""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m

NAME = "mta.apachejames"
_RCPT = re.compile(r"^[^\S\n]*+RCPT TO:\s*(.{1,1000})$", re.M)
_ERROR = "Error message below:"
_ERROR_LINE = re.compile(r"^Error:[ \t]+(.{1,1000})$", re.M)  # Verizon's vtext.com gateway (James)


def sniff(ctx) -> bool:
    return (ctx.subject.startswith("[BOUNCE]") or ".JavaMail." in ctx.header("Message-ID")
            or "JAMES SMTP Server" in ctx.header("Received")
            or "This is the James mail server" in ctx.body[:1000])


def detect(ctx):
    return recipients_and_error(ctx, NAME)


def recipients_and_error(ctx, name: str):
    """One Result per "RCPT TO:" address of the "Message details:" block, with the words
    after "Error message below:" (or on an "Error: " line)."""
    body = ctx.body[:m.MAX_TEXT]
    addrs: list[str] = []
    for line in _RCPT.findall(body[:20000]):
        for found in m.ADDR_RE.findall(line):
            if found.lower() not in (a.lower() for a in addrs):
                addrs.append(found)
    if not addrs:
        return []
    words = ""
    at = body.find(_ERROR)
    if at >= 0:
        lines = []
        for line in body[at + len(_ERROR):].splitlines()[:40]:
            if not line.strip():
                if lines:
                    break
                continue
            lines.append(line.strip())
        words = " ".join(lines)[:1000]
    else:
        found = _ERROR_LINE.search(body[:20000])
        words = found.group(1).strip() if found else ""
    return [Result(recipient=a, diagnostic=words, detector=name) for a in addrs]
