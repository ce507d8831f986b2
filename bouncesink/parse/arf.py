"""RFC 5965 Abuse Reporting Format: feedback-loop complaints.

Quirks handled:
- the standard multipart/report; report-type=feedback-report with a message/feedback-report
  part (Yahoo, AOL, Comcast, Mail.ru...); several Original-Rcpt-To fields -> one complaint each;
- Outlook.com / Hotmail JMRP complaints: multipart/mixed with only the enclosed message,
  whose X-HmXmrOriginalRecipient header names the complaining recipient;
- Apple Mail "unsubscribe" opt-outs: X-Apple-Unsubscribe: true, the complainer is From;
- when Original-Rcpt-To is absent, the recipient is the enclosed message's To (one address).
"""

from __future__ import annotations

from email.message import Message

from ..model import KIND_ARF, Result
from . import dsn
from . import message as m

_HOTMAIL_HEADER = "x-hmxmroriginalrecipient"


def sniff(msg: Message, ctype: str) -> bool:
    if ctype == "multipart/report":
        return (msg.get_param("report-type") or "").lower() == "feedback-report" or _has_report(msg)
    if msg.get("X-Apple-Unsubscribe", "").strip().lower() == "true":
        return True
    if ctype == "multipart/mixed":
        return "complaint" in m.header(msg, "Subject").lower() or _has_report(msg)
    return False


def _has_report(msg: Message) -> bool:
    return any(p.get_content_type() == "message/feedback-report" for p, _ in m.walk(msg))


def parse_arf(msg: Message) -> tuple[str, list[Result], dict[str, str]] | None:
    if msg.get("X-Apple-Unsubscribe", "").strip().lower() == "true":
        sender = m.clean_address(m.header(msg, "From"))
        return KIND_ARF, [Result(recipient=sender or None, feedback_type="opt-out",
                                 reason="feedback", detector="arf.apple")], {}
    report = None
    original_part = None
    for part, _ in m.walk(msg):
        ctype = part.get_content_type()
        if ctype == "message/feedback-report" and report is None:
            report = part
        elif ctype in dsn.ORIGINAL_TYPES and original_part is None:
            original_part = part
    original = dsn.original_headers(original_part)
    if report is None:
        rcpt = m.clean_address(original.get(_HOTMAIL_HEADER, ""))
        if not rcpt:
            return None
        return KIND_ARF, [Result(recipient=rcpt, feedback_type="abuse", reason="feedback",
                                 message_id=original.get("message-id", ""),
                                 detector="arf.hotmail")], original
    fields: dict[str, list[str]] = {}
    for block in dsn.field_blocks_of(report):
        for name, value in block:
            fields.setdefault(name.lower(), []).append(value)
    feedback_type = (fields.get("feedback-type") or ["abuse"])[0].strip().lower()
    recipients = [m.clean_address(v) for v in fields.get("original-rcpt-to", [])]
    recipients = [r for r in recipients if r]
    if not recipients:
        to = m.addresses(original.get("to", ""))
        recipients = to[:1] if len(to) == 1 else []
    if not recipients:
        recipients = [m.clean_address(original.get(_HOTMAIL_HEADER, ""))] if original.get(_HOTMAIL_HEADER) else [None]
    reporting = (fields.get("reporting-mta") or fields.get("user-agent") or [""])[0]
    results = [Result(recipient=r, feedback_type=feedback_type, reason="feedback",
                      reporting_mta=dsn.strip_type(reporting),
                      last_attempt=(fields.get("arrival-date") or fields.get("received-date") or [""])[0],
                      message_id=original.get("message-id", ""), detector="arf")
               for r in dict.fromkeys(recipients)]
    return KIND_ARF, results, original
