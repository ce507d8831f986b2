"""RFC 8098 message disposition notifications: which of them report a refused delivery.

A read receipt ("displayed", "dispatched", "processed", or "deleted" by a person) says
nothing failed and gives no result. A Sieve "reject" (RFC 5429 s2.2) refuses the message at
delivery and tells the sender with an MDN whose disposition is "deleted", sent automatically:
Dovecot Pigeonhole writes "Disposition: automatic-action/MDN-sent-automatically; deleted"
(dovecot/core src/lib-lda/mail-send.c), Cyrus sieve and other RFC 5429 agents alike. The
recipient's own filter refused it: the address is live, so the reason is "filtered" (never
hard), and the human-readable part carries the reason the script gave.
"""

from __future__ import annotations

import re

from ..model import Result
from . import dsn
from . import message as m

# RFC 8098 s3.2.6: action-mode "/" sending-mode ";" disposition-type [ "/" modifiers ]
_REFUSED = re.compile(r"^\s*automatic-action\s*/\s*mdn-sent-automatically\s*;\s*deleted\b", re.I)
_MAX_WORDS = 300


def refusals(msg) -> list[Result]:
    """Results for an MDN reporting an automatic refusal (Sieve reject); [] for a receipt."""
    report = None
    human = ""
    for part, _ in m.walk(msg):
        ctype = part.get_content_type()
        if ctype in ("message/disposition-notification", "message/global-disposition-notification"):
            report = report or part
        elif ctype == "text/plain" and not human and report is None:
            human = m.text_of(part)
    if report is None:
        return []
    results = []
    for block in dsn.field_blocks_of(report):
        fields = {name.lower(): value for name, value in block}
        if not _REFUSED.match(fields.get("disposition", "")):
            continue
        rcpt = m.clean_address(dsn.strip_type(fields.get("final-recipient", "")))
        if not rcpt:
            continue
        words = " ".join(human.split())[:_MAX_WORDS]
        results.append(Result(
            recipient=rcpt, action="failed", diagnostic=words, reason="filtered",
            rule="rfc5429: Sieve reject (MDN disposition 'deleted', sent automatically)",
            reporting_mta=dsn.strip_type(fields.get("reporting-ua", "")),
            original_recipient=m.clean_address(dsn.strip_type(fields.get("original-recipient", ""))),
            message_id=fields.get("original-message-id", "").strip(), detector="mdn.reject"))
    return results
