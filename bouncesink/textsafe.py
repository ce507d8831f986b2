"""Text from strangers, made safe to show a person: control and bidi characters escaped.

A bounce's text (an address, a diagnostic, a header) reaches a terminal through the
console log, `why` and other commands. Raw, ESC sequences (`ESC[2J` clears the reader's
screen), CR (overwrites the line), BEL and NUL act on the terminal, and bidi controls
(RFC 9839 lists them among "problematic" code points; CVE-2021-42574, "Trojan Source")
make text read differently from what it is. `escape` shows each as `\\xNN` / `\\uNNNN`;
`unsafe` says whether a text holds any (an address that does is refused at RCPT).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; the bidi formatting characters (Unicode UAX #9: LRM, RLM,
# ALM, LRE..RLO, LRI..PDI); line and paragraph separators; the BOM / zero-width no-break.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\u2028\u2029\ufeff]")


def _shown(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape(text: str) -> str:
    """`text` with every control and bidi character shown as an escape (\\x1b, \\u202e)."""
    return _UNSAFE.sub(_shown, text) if _UNSAFE.search(text) else text


def unsafe(text: str) -> bool:
    """True if `text` holds a control or bidi character."""
    return _UNSAFE.search(text) is not None
