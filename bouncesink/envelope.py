"""Pure facts about an envelope and a raw message, shared by every road in and by `reparse`.

`is_ours` is the relay check (RFC 5321 3.6, 4.1.2): the sink accepts mail only for a plain
local part at one of its own domains. `campaign_of` reads the campaign from a parsed bounce's
original headers; `message_id_of` the bounce's own Message-ID from its header block.
"""

from __future__ import annotations

import re

from bouncesink.model import Parsed

# A local part we accept: a dot-atom (RFC 5321 4.1.2) without the characters that old MTAs
# route on: '%' (the percent hack), '!' (UUCP bang paths), '@' and ':' (source routes).
ATEXT = r"[A-Za-z0-9#$&'*+/=?^_`{|}~-]"
LOCAL = re.compile(rf"{ATEXT}+(\.{ATEXT}+)*")
DOMAIN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")


def is_ours(address: str, domains: frozenset[str]) -> bool:
    """True only for `local@domain` with a plain local part and one of our domains exactly.

    Everything an MTA might route onwards is refused: foreign domains, subdomains and
    look-alike suffixes (exact match only), IP literals, source routes (@a:b@c), percent
    hacks and bang paths in the local part, quoted local parts, trailing dots.
    """
    if not address or len(address) > 320 or address.count("@") != 1:
        return False
    local, _, domain = address.partition("@")
    if not LOCAL.fullmatch(local) or len(local) > 64:
        return False
    if not DOMAIN.fullmatch(domain):
        return False
    return domain.lower() in domains


def campaign_of(parsed: Parsed, header_names: tuple[str, ...]) -> str | None:
    """The campaign a bounce belongs to, from the original message's headers."""
    for name in header_names:
        value = parsed.original.get(name.lower())
        if value:
            return value.strip()[:200]
    return None


_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(.{0,998}?)[ \t]*\r?$")


def message_id_of(raw: bytes) -> str:
    """The bounce's own Message-ID, from its header block only (bounded, no MIME parse)."""
    head = raw[:65536]
    end = head.find(b"\r\n\r\n")
    if end < 0:
        end = head.find(b"\n\n")
    m = _MESSAGE_ID.search(head if end < 0 else head[:end])
    return m.group(1).decode("ascii", "replace") if m else ""
