"""qmail and its descendants (netqmail, s/qmail, vpopmail, Yahoo's old front ends).

Quirks handled:
- "Hi. This is the qmail-send program at ..." then "<addr>:" and the reason on the next lines,
  "Remote host said: 550 ..." for remote refusals;
- qmail's own status notation "(#5.1.1)" and "I'm not going to try again; this message has
  been in the queue too long." (expired, unless the remote words say more; after qmail-remote's
  "wasn't able to establish an SMTP connection" still expired, as Sisimai reads a queue that
  ran out on connection failures);
- "Sorry, I couldn't find any host named ..." (hostunknown), "Sorry, no mailbox here by that
  name." (userunknown), "does not like recipient." (RCPT-time refusal);
- the original starts after "--- Below this line is a copy of the message.".
"""

from __future__ import annotations

import re

from ...classify.prefilter import guard

from . import _base

NAME = "mta.qmail"
_BODY = re.compile(r"This is the qmail-send program|qmail-send|I'm afraid I wasn't able to deliver|"
                   r"couldn't deliver your message|wasn't able to deliver your message", re.I)
# guarded (here and below): a substring test first, re.I alternations are tried at every character
_START = guard(re.compile(r"I'm afraid I wasn't able to deliver|This is a permanent error|"
                          r"wasn't able to deliver|could not deliver|couldn't deliver|unable to deliver", re.I))
_END = re.compile(r"^--- (?:Below this line|Enclosed)", re.I)
# qmail-remote's own texts that say more than the remote reply (Sisimai's qmail table)
_OWN = tuple((guard(pattern), reason) for pattern, reason in (
    (re.compile(r"wasn't able to establish an SMTP connection", re.I), "networkerror"),
    (re.compile(r"Sorry, I couldn't find any host (?:by that name|named)", re.I), "hostunknown"),
    (re.compile(r"Connected to .{1,80} but my name was rejected", re.I), "blocked"),
    (re.compile(r"Unable to contact LDAP server|LDAP server", re.I), "systemerror"),
    (re.compile(r"Sorry, no mailbox here by that name", re.I), "userunknown"),
))
_QUEUE = guard(re.compile(r"I'm not going to try again; this message has been in the queue too long", re.I))

_SNIFF = guard(_BODY)  # substring test first: the re.I alternation is slow on long bodies


def sniff(ctx) -> bool:
    return bool(_SNIFF.search(ctx.body[:3000]))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START, end=_END) or _base.scan(ctx, NAME, end=_END)
    for r in results:
        if "does not like recipient" in r.diagnostic and not r.command:
            r.command = "RCPT"
        queued_out = bool(_QUEUE.search(r.diagnostic))
        for pattern, reason in _OWN:
            if pattern.search(r.diagnostic):
                if queued_out and reason == "networkerror":
                    # no connection until queuelifetime ran out (qmail-send.c turns the last
                    # temporary failure permanent): Sisimai's "expired"
                    r.reason, r.rule = "expired", "mta: qmail queue lifetime after connection failures"
                else:
                    r.reason, r.rule = reason, "mta: qmail " + pattern.pattern[:40]
                break
        if queued_out and not r.reason:
            words = _QUEUE.sub("", r.diagnostic)
            from ...classify.rules import match
            rule = match(words)
            if rule is None:
                r.reason, r.rule = "expired", "mta: qmail queue lifetime"
            else:
                r.diagnostic = words.strip()
    return results
