"""OpenSMTPD ("Delivery status notification: failed|delayed", From MAILER-DAEMON,
"This is the MAILER-DAEMON, please DO NOT REPLY to this email.").

Quirks handled:
- the human-readable part lists "<addr>: <words>" one per line after "An error has occurred
  while attempting to deliver a message for the following list of recipients:"; older
  versions send only that text, newer ones add a message/delivery-status part;
- that part is vague: Status 5.0.0 or 4.0.0, and an expired envelope (the final bounce) comes
  as "Action: delayed / Status: 4.4.7" with the words "Envelope expired"; the words are
  OpenSMTPD's own fixed texts and say more, so they decide (as Sisimai's OpenSMTPD module
  does), and the vague Status is dropped for the pseudo code;
- the returned headers follow "Below is a copy of the original message:".
"""

from __future__ import annotations

import re

from ...classify.prefilter import guard
from ...model import Result
from . import _base

NAME = "mta.opensmtpd"
_MARK = re.compile(r"This is the MAILER-DAEMON, please DO NOT REPLY|"
                   r"error has occurred while attempting to deliver a message", re.I)
_START = re.compile(r"for the following|list of recipients|error has occurred while attempting", re.I)
_END = re.compile(r"Below is a copy of the original message", re.I)
_LINE = re.compile(r"^\s*+<?([^\s<>:@]+@[^\s<>:]+?)>?:\s*+(.+)$")
# OpenSMTPD's own texts (smtpd/mta.c, smtpd/lka.c)
_WORDS = (
    (re.compile(r"Envelope expired|Loop detected", re.I), "expired"),
    (re.compile(r"Domain does not exist|Invalid domain name|Address is not routable|Unable to resolve", re.I), "hostunknown"),
    (re.compile(r"No MX found for domain|Network error on destination MXs? .{0,20}null MX", re.I), "notaccept"),
    (re.compile(r"Invalid recipient|Unknown user|mailbox not found", re.I), "userunknown"),
    (re.compile(r"Network error on destination MX|Could not retrieve source address|No valid route", re.I), "networkerror"),
    (re.compile(r"TLS required but not supported|Could not establish TLS", re.I), "securityerror"),
)

_SNIFF = guard(_MARK)  # substring test first: the re.I alternation is slow on long bodies


def sniff(ctx) -> bool:
    return (ctx.subject.startswith("Delivery status notification")
            or bool(_SNIFF.search(ctx.body[:2000])))


def _lines(ctx) -> dict[str, str]:
    out: dict[str, str] = {}
    text = ctx.human or ctx.body
    started = False
    for line in text[:20000].splitlines()[:300]:
        if _END.search(line):
            break
        if not started:
            started = bool(_START.search(line))
            continue
        lm = _LINE.match(line)
        if lm:
            out.setdefault(lm.group(1).lower(), lm.group(2).strip()[:1000])
    return out


def _apply(r: Result, words: str) -> None:
    r.diagnostic = r.diagnostic or words
    for pattern, reason in _WORDS:
        if pattern.search(words):
            r.reason, r.rule = reason, "mta: opensmtpd " + pattern.pattern.split("|")[0]
            break


def amend(ctx, results) -> bool:
    said = _lines(ctx)
    if not said:
        return False
    for r in results:
        words = said.get((r.recipient or "").lower())
        if words is None and len(results) == 1 and len(said) == 1:
            words = next(iter(said.values()))
        if words is None:
            continue
        _apply(r, words)
        if r.action == "delayed" or r.status.endswith(".0.0"):
            # the Status is OpenSMTPD's placeholder: the words (and any code in the remote
            # server's reply) decide, an expired envelope is a final failure
            r.action, r.status = "failed", ""
    return True


def detect(ctx):
    said = _lines(ctx)
    results = []
    for addr, words in said.items():
        r = Result(recipient=addr, detector=NAME)
        _apply(r, words)
        results.append(r)
    return results or _base.scan(ctx, NAME, start=_START, end=_END)
