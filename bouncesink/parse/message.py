"""Bounded access to a raw message: load it, walk its parts, decode text.

Everything a stranger controls is capped here: the bytes parsed, the MIME parts visited, the
nesting depth, the characters of text handed to the detectors.
"""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

MAX_BYTES = 1 << 20          # first 1 MiB of the raw message is examined
MAX_PARTS = 64               # MIME parts visited
MAX_DEPTH = 8                # nesting of multiparts / message/rfc822
MAX_TEXT = 256 * 1024        # characters of decoded text handed to detectors
MAX_HEADER_LINE = 4096       # a header line longer than this is cut before parsing

ADDR_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,128}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+")
_QUOTED_ADDR_RE = re.compile(r'"[^"\s\\]{1,64}"@[A-Za-z0-9][A-Za-z0-9.-]{1,250}[A-Za-z0-9]')
_LONG_LINE = re.compile(rb"[^\n]{%d,}" % MAX_HEADER_LINE)


def load(raw: bytes) -> Message:
    raw = raw[:MAX_BYTES]
    head_end = raw.find(b"\n\n")
    head = raw if head_end < 0 else raw[:head_end]
    if _LONG_LINE.search(head):
        head = _LONG_LINE.sub(lambda m: m.group(0)[:MAX_HEADER_LINE], head)
        raw = head if head_end < 0 else head + raw[head_end:]
    return message_from_bytes(raw, policy=compat32)


def walk(msg: Message):
    """Depth-first parts, bounded in count and depth; yields (part, depth)."""
    stack = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part, depth
        if depth >= MAX_DEPTH:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in reversed(payload):
                if isinstance(sub, Message):
                    stack.append((sub, depth + 1))


def text_of(part: Message) -> str:
    """The decoded text of a non-multipart part (transfer encoding and charset undone)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        raw = part.get_payload()
        return raw[:MAX_TEXT] if isinstance(raw, str) else ""
    payload = payload[:MAX_TEXT * 2]
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")[:MAX_TEXT]
    except LookupError:
        return payload.decode("latin-1")[:MAX_TEXT]


def header(msg: Message, name: str) -> str:
    """One header as a plain, unfolded, decoded-enough string ("" when absent)."""
    value = msg.get(name)
    if value is None:
        return ""
    value = str(value)
    if "=?" in value:
        value = decode_words(value)
    return " ".join(value.split())


def decode_words(value: str) -> str:
    from email.header import decode_header
    try:
        out = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                try:
                    chunk = chunk.decode(charset or "utf-8", "replace")
                except LookupError:
                    chunk = chunk.decode("latin-1")
            out.append(chunk)
        return "".join(out)
    except Exception:  # malformed encoded words: keep them as sent
        return value


def headers_dict(msg: Message) -> dict[str, str]:
    """Headers of an (original) message, lower-case names, first occurrence wins."""
    out: dict[str, str] = {}
    for name, value in msg.items()[:200]:
        key = name.strip().lower()
        if key and key not in out:
            value = str(value)
            if "=?" in value:
                value = decode_words(value)
            out[key] = " ".join(value.split())[:2000]
    return out


def parse_headers_text(text: str) -> dict[str, str]:
    """Headers from a block of text (text/rfc822-headers, or an inlined original)."""
    text = text.lstrip("\r\n")[:65536]
    cut = text.find("\n\n")
    if cut >= 0:
        text = text[:cut]
    out: dict[str, str] = {}
    name = None
    for line in text.splitlines()[:500]:
        if not line.strip():
            break
        if line[0] in " \t" and name:
            out[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep or " " in key.strip() or not key.strip():
            name = None
            continue
        name = key.strip().lower()
        if name in out:
            name = None
            continue
        out[name] = value.strip()
    for key, value in out.items():
        if "=?" in value:
            out[key] = decode_words(value)
    return out


def addresses(text: str) -> list[str]:
    return ADDR_RE.findall(text)


def clean_address(value: str) -> str:
    """'rfc822; <Kijitora@example.jp>' -> 'Kijitora@example.jp' ("" if no address)."""
    if not value:
        return ""
    if ";" in value:
        kind, _, rest = value.partition(";")
        if "@" not in kind or kind.strip().lower() in ("rfc822", "x-unix"):
            value = rest
    q = _QUOTED_ADDR_RE.search(value)
    if q:
        return q.group(0)  # RFC 5321 quoted local part: "neko..nyaan"@example.org
    m = ADDR_RE.search(value)
    if not m:
        return ""
    addr = m.group(0).strip(".'")
    return addr
