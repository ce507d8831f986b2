"""Courier MTA ("Courier mail server at <host>", Subject "NOTICE: mail delivery status.").

Quirks handled (courier/module.dsn/dsn*.txt, Sisimai's Lhost::Courier):
- the human-readable part is framed by dashed lines with the heading "UNDELIVERABLE MAIL"
  (or "DELAYS IN DELIVERING YOUR MESSAGE"), words that elsewhere mark the returned copy: the
  recipients are read after "Your message to the following recipients ...", each "<addr>:"
  followed by the remote host and a ">>> RCPT TO" / "<<< 550 ..." transcript;
- Courier's own words for a failed lookup (module.esmtp/esmtpclient.c) mean: "No such
  domain." hostunknown, "This domain's DNS violates RFC 1035." systemerror, "DNS lookup
  failed." a temporary networkerror (not a dead domain).
"""

from __future__ import annotations

import re

from . import _base

NAME = "mta.courier"
_START = re.compile(r"^Your message to the following recipients (?:cannot be delivered|has not been delivered|has been delayed)", re.I)
_OWN = (
    ("No such domain.", "hostunknown"),
    ("This domain's DNS violates RFC 1035.", "systemerror"),
    ("DNS lookup failed.", "networkerror"),
)


def sniff(ctx) -> bool:
    return "courier mail server at " in ctx.from_ or "running the Courier mail server" in ctx.body[:2000]


def _own_words(results) -> bool:
    changed = False
    for r in results:
        for words, reason in _OWN:
            if words in r.diagnostic:
                r.reason, r.rule = reason, f"mta: courier {words}"
                changed = True
                break
    return changed


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START)
    if "DELAYS IN DELIVERING YOUR MESSAGE" in ctx.body[:4000]:
        for r in results:
            r.action = "delayed"
    _own_words(results)
    return results


def amend(ctx, results) -> bool:
    return _own_words(results)
