"""Sendmail bounces without a delivery-status part: Sendmail V5 (and V8 with DSNs off).

Quirks handled:
- the only structured part is the session transcript after "----- Transcript of session
  follows -----": one line per recipient, "554 <addr>... <words>" (V8 adds the enhanced status:
  "550 5.1.1 <addr>... User unknown"), between host lines "550 example.org (smtp)... 550 Host
  unknown" that name no recipient;
- the remote server's own reply sits in the "While talking to host:" block before the
  recipient line: ">>> RCPT To:<addr>" (the command) and "<<< 550 ..." (its words); a V5 line
  saying only "Remote protocol error" gets its meaning from that block (a refusal of MAIL
  From is the sender's problem, not the address's);
- V8's "----- The following addresses had permanent fatal errors -----" list with
  "(reason: ...)" lines;
- the returned message starts after "----- Unsent message follows -----" or
  "----- Original message follows -----".
"""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m

NAME = "mta.sendmail"
_TRANSCRIPT = re.compile(r"^[^\S\n]*+-+ ?Transcript of session follows ?-+", re.I | re.M)
_END = re.compile(r"^\s*-+ ?(?:Unsent|Original|Returned) message", re.I)
_TALKING = re.compile(r"^(?:\.\.\. )?while talking to ([^\s:]+)", re.I)
_SENT = re.compile(r"^>>> ?([A-Za-z]{4})\b")
_REPLY = re.compile(r"^<<< ?(.*)$")
_RCPT_LINE = re.compile(r"^([245]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3}))? <?([^\s<>@]+@[^\s<>]+?)>?\.\.\. ?(.*)$")
_COMMANDS = {"MAIL": "MAIL", "RCPT": "RCPT", "DATA": "DATA", "HELO": "HELO", "EHLO": "HELO", "QUIT": ""}
_MAX_LINES = 400


def sniff(ctx) -> bool:
    # substring first: sniffs run on every message
    return (not ctx.dsn_parts and "ranscript of session follows" in ctx.body[:20000]
            and bool(_TRANSCRIPT.search(ctx.body[:20000])))


def detect(ctx):
    body = ctx.body[:m.MAX_TEXT]
    start = _TRANSCRIPT.search(body)
    if start is None or "Final-Recipient:" in body:
        return []  # a DSN written inline (broken MIME): the inline DSN path reads it
    lines = body[start.end():].splitlines()[:_MAX_LINES]
    results: dict[str, Result] = {}
    command, reply = "", ""
    for line in lines:
        if _END.search(line):
            break
        line = line.strip()
        if not line:
            continue
        if _TALKING.match(line):
            command, reply = "", ""
            continue
        sm = _SENT.match(line)
        if sm:
            command, reply = _COMMANDS.get(sm.group(1).upper(), ""), ""
            continue
        rm = _REPLY.match(line)
        if rm:
            reply = (reply + " " + rm.group(1)).strip()
            continue
        am = _RCPT_LINE.match(line)
        if not am:
            continue
        code, status, addr, words = am.groups()
        addr = m.clean_address(addr)
        if not addr or addr.lower() in ctx.exclude:
            continue
        diagnostic = " ".join(w for w in (reply, words) if w)
        r = results.get(addr.lower())
        if r is None:
            results[addr.lower()] = Result(recipient=addr, status=status or "", reply_code=code,
                                           diagnostic=diagnostic[:1000], command=command,
                                           detector=NAME)
        elif not r.diagnostic or reply:
            r.diagnostic, r.command = diagnostic[:1000], command or r.command
        # the block's reply belongs to the first recipient line after it only
        command, reply = "", ""
    return list(results.values())
