"""RFC 3464 delivery status notifications: multipart/report; report-type=delivery-status.

Handles the quirks seen in the wild:
- the message/delivery-status part is parsed by the email package into a list of header
  blocks; some MTAs leave out the blank line between recipients (one block, several
  Final-Recipient fields), so recipients are split on a repeated recipient field, not on
  blocks only;
- a delivery-status part sent base64-encoded, or as text/plain inside a multipart/mixed
  (Exchange 2003, some appliances), is parsed from its text;
- Diagnostic-Code continuation lines are unfolded; the "smtp;" type prefix is dropped;
- the RFC 6533 message/global-delivery-status variant is treated the same.
"""

from __future__ import annotations

import re
from .message import Part as Message

from ..model import Result
from . import message as m

DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status",
                       "text/delivery-status"})
ORIGINAL_TYPES = frozenset({"message/rfc822", "message/global", "text/rfc822-headers",
                            "message/rfc822-headers", "message/global-headers", "message/partial"})
_RECIPIENT_FIELDS = ("final-recipient", "original-recipient")
# Per-recipient fields some MTAs write BEFORE the recipient field in the same block
# (Facebook: Diagnostic-Code and Status, then Final-Recipient): they belong to it.
_PER_RECIPIENT = frozenset({"action", "status", "diagnostic-code", "remote-mta", "last-attempt-date",
                            "x-actual-recipient"})
_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})\s*:\s*+(.*)$")  # *+: linear on blank runs
# A reply code after a blank, ";", ":", "(" or "[" (or at the start). The class check is a
# lookbehind after the first digit, so that the pattern starts with [245] and the engine skips
# to those characters (r"(?:^|[\s;:(\[])([245][0-7][0-9])..." tried every position: 3x slower).
REPLY_RE = re.compile(r"([245](?<![^\s;:(\[][245])[0-7][0-9])(?=[\s\-.,:)\]]|$)")
_TYPE_PREFIX = re.compile(r"^\s*(smtp|x-postfix|x-unix|x-local|x-exim|x-notes|rfc822|x-[a-z-]+|mta|dns|utf-8)\s*;\s*", re.I)


def find_parts(msg: Message) -> tuple[list[Message], Message | None, str]:
    """(delivery-status parts, original part, first human-readable text)."""
    dsn_parts: list[Message] = []
    original: Message | None = None
    human = ""
    inside_original = 0
    for part, depth in m.walk(msg):
        ctype = part.get_content_type()
        if inside_original and depth > inside_original:
            continue
        inside_original = 0
        if ctype in DSN_TYPES:
            dsn_parts.append(part)
        elif ctype in ORIGINAL_TYPES:
            if original is None:
                original = part
            inside_original = depth
        elif ctype == "text/plain" and not human and part is not msg:
            human = m.text_of(part)
    return dsn_parts, original, human


def field_blocks_of(part: Message) -> list[list[tuple[str, str]]]:
    """The blocks of fields of a delivery-status (or feedback-report) part, read once per part:
    the PowerMTA sniff, the DSN reader and the ARF reader all ask (callers do not change them)."""
    if isinstance(part, m.Part):
        if part.fields is None:
            part.fields = _field_blocks_of(part)
        return part.fields
    return _field_blocks_of(part)


def _field_blocks_of(part: Message) -> list[list[tuple[str, str]]]:
    payload = part.get_payload()
    blocks: list[list[tuple[str, str]]] = []
    if isinstance(payload, list):
        for block in payload[:200]:
            if not isinstance(block, Message):
                continue
            fields = [(k, " ".join(str(v).split())) for k, v in block.items()[:100]]
            inner = block.get_payload()
            if isinstance(inner, str) and ":" in inner:
                # a malformed block: the parser stopped at a bad line; the rest are fields too
                blocks.append(fields)
                blocks.extend(field_blocks_of_text(inner))
                continue
            blocks.append(fields)
        return blocks
    return field_blocks_of_text(m.text_of(part))


def field_blocks_of_text(text: str) -> list[list[tuple[str, str]]]:
    blocks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text[:65536].splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        if line[0] in " \t" and current:
            name, value = current[-1]
            current[-1] = (name, value + " " + line.strip())
            continue
        fm = _FIELD_RE.match(line)
        if fm:
            current.append((fm.group(1), fm.group(2).strip()))
    if current:
        blocks.append(current)
    return blocks


def results_from_blocks(blocks: list[list[tuple[str, str]]]) -> tuple[dict[str, str], list[dict[str, str]]]:
    per_message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    for block in blocks:
        names = {n.lower() for n, _ in block}
        if not names.intersection(_RECIPIENT_FIELDS):
            target = recipients[-1] if recipients else per_message
            for name, value in block:
                target.setdefault(name.lower(), value)
            continue
        current: dict[str, str] | None = None
        pending: dict[str, str] = {}
        for name, value in block:
            key = name.lower()
            if key in _RECIPIENT_FIELDS and (current is None or key in current):
                current = {}
                recipients.append(current)
                if pending:
                    current.update(pending)
                    pending = {}
            if current is None:
                if key in _PER_RECIPIENT:
                    pending.setdefault(key, value)
                else:
                    per_message.setdefault(key, value)
            else:
                current.setdefault(key, value)
    return per_message, recipients


def strip_type(value: str) -> str:
    value = " ".join(value.split())
    tm = _TYPE_PREFIX.match(value)
    if tm and tm.group(1).lower() != "x-unix":
        value = value[tm.end():]
    return value


# A multi-line SMTP reply: every line starts with the code, "-" after it on all but the last
# (RFC 5321 4.2.1), and with the enhanced code too where the server sends one (RFC 2034).
_MULTILINE_HEAD = re.compile(r"([245]\d\d)-((?:[245]\.\d{1,3}\.\d{1,3} )?)")


def join_reply_lines(diagnostic: str) -> str:
    """Drop the repeated code prefixes of a multi-line reply that the reporting MTA joined
    into one Diagnostic-Code ("450-4.2.1 ... at a rate that 450-4.2.1 prevents ..."; Postfix
    folds the lines, Exim keeps them as continuation lines): they are framing, and left in
    place they split the server's sentences. The first line's prefix stays."""
    head = _MULTILINE_HEAD.match(diagnostic)
    if head is None:
        return diagnostic
    prefix = re.compile(r" %s[ -]%s" % (head.group(1), re.escape(head.group(2))))
    return diagnostic[:head.end()] + prefix.sub(" ", diagnostic[head.end():])


def reply_code(diagnostic: str, status: str = "") -> str:
    for rm in REPLY_RE.finditer(diagnostic[:300]):
        code = rm.group(1)
        if not status or status[0] == code[0]:
            return code
    return ""


def to_result(fields: dict[str, str], per_message: dict[str, str]) -> Result:
    final = m.clean_address(fields.get("final-recipient", ""))
    original = m.clean_address(fields.get("original-recipient", ""))
    if not final:
        final = m.clean_address(fields.get("x-actual-recipient", "")) or original
    diagnostic = join_reply_lines(strip_type(fields.get("diagnostic-code", "")))
    if "\x1b$" in diagnostic:
        # Domino writes its Japanese Diagnostic-Code in raw ISO-2022-JP (RFC 1468)
        try:
            diagnostic = diagnostic.encode("latin-1").decode("iso-2022-jp")
        except (UnicodeError, LookupError):
            pass
    status = fields.get("status", "").strip()
    return Result(
        recipient=final or None,
        action=fields.get("action", "").strip().lower().split(" ")[0] if fields.get("action") else "",
        status=status,
        reply_code=reply_code(diagnostic, status.strip()[:1]),
        diagnostic=diagnostic[:1000],
        reporting_mta=strip_type(per_message.get("reporting-mta", "") or fields.get("reporting-mta", "")),
        remote_mta=strip_type(fields.get("remote-mta", "")),
        original_recipient=original,
        last_attempt=fields.get("last-attempt-date", "") or per_message.get("arrival-date", ""),
        detector="rfc3464",
    )


def parse_dsn_parts(parts: list[Message]) -> list[Result]:
    results: list[Result] = []
    for part in parts:
        per_message, recipients = results_from_blocks(field_blocks_of(part))
        for fields in recipients:
            results.append(to_result(fields, per_message))
    return results


def parse_dsn_text(text: str) -> list[Result]:
    """DSN fields written inline in a text body (no delivery-status part)."""
    per_message, recipients = results_from_blocks(field_blocks_of_text(text))
    return [to_result(fields, per_message) for fields in recipients]


def original_headers(part: Message | None) -> dict[str, str]:
    if part is None:
        return {}
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return m.headers_dict(payload[0])
    return m.parse_headers_text(m.text_of(part))
