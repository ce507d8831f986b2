"""Microsoft Exchange 2000/2003 (and the Internet Mail Service of Exchange 5.5).

Quirks handled:
- no DSN part: "Your message ... did not reach the following recipient(s):" then
  "<addr> on <date>" and the reason on the following indented lines;
- the reason is an English phrase plus an MSEXCH code; the phrases map as Sisimai does:
  "The recipient name is not recognized" / "Unknown Recipient" -> userunknown,
  "The message could not be delivered because the recipient's destination email system is
  unknown or invalid" -> hostunknown, "Recipient Not Found" with MSEXCH:IMC -> filtered
  (the IMC connector's content rules), "too large" -> mesgtoobig;
- the "To:" block of the original summary names the recipient too; it is not the failure;
- the later wording "Your message did not reach some or all of the intended recipients" /
  "The following recipient(s) could not be reached:" is the same report (an MSEXCH code
  below each address tells it from other MTAs' texts).
"""

from __future__ import annotations

import re

from . import _base

NAME = "mta.exchange2003"
_START = re.compile(r"did not reach the following recipient|could not be delivered to|"
                    r"following recipient\(s\) could not be reached", re.I)
_CODES = (
    (re.compile(r"recipient name is not recognized|Unknown Recipient|000C05A6|MSEXCH:IMS.{0,80}\(000C05A6\)", re.I), "userunknown"),
    (re.compile(r"Recipient Not Found|000B09AA|000B0981", re.I), "filtered"),
    (re.compile(r"destination (?:email|e-mail) system is unknown|00010900|hostunknown", re.I), "hostunknown"),
    (re.compile(r"too large|000D06B5", re.I), "mesgtoobig"),
)


def sniff(ctx) -> bool:
    xm = ctx.header("X-Mailer") + ctx.header("X-MimeOLE")
    if "Internet Mail Service" in xm or "Microsoft Exchange" in xm or "X-MS-Embedded-Report" in ctx.msg:
        return True
    head = ctx.body[:3000]
    return ("did not reach the following recipient" in head
            or ("could not be reached" in head and "MSEXCH:" in ctx.body[:8000]))


def detect(ctx):
    results = _base.scan(ctx, NAME, start=_START)
    for r in results:
        for pattern, reason in _CODES:
            if pattern.search(r.diagnostic):
                r.reason, r.rule = reason, f"mta: exchange {pattern.pattern.split('|')[0]}"
                break
    return results
