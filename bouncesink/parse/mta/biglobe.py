"""BIGLOBE (postmaster@biglobe.ne.jp; boundary "--_Biglobe..."), a Japanese ISP.

Quirks handled: Sendmail-looking separators "----- The following addresses had delivery
problems -----" (the address alone) and "----- Non-delivered information -----" (BIGLOBE's
own sentence: "The number of messages in recipient's mailbox exceeded the local limit." =
mailboxfull, "User unknown" ...), no DSN part and no status."""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m

NAME = "mta.biglobe"
_ADDRS = re.compile(r"^\s*-+ ?The following addresses had delivery problems ?-+", re.I)
_INFO = re.compile(r"^\s*-+ ?Non-delivered information ?-+", re.I)


def sniff(ctx) -> bool:
    return "biglobe.ne.jp" in ctx.from_ and bool(_ADDRS.search(ctx.body[:3000]))


def detect(ctx):
    addrs: list[str] = []
    words: list[str] = []
    where = None
    for line in ctx.body[:8000].splitlines()[:200]:
        if _ADDRS.match(line):
            where = addrs
            continue
        if _INFO.match(line):
            where = words
            continue
        if where is None or not line.strip():
            continue
        if line.lstrip().startswith("-"):
            break
        if where is addrs:
            addr = m.clean_address(line)
            if addr:
                addrs.append(addr)
        else:
            words.append(line.strip())
    text = " ".join(words)[:1000]
    return [Result(recipient=a, diagnostic=text, detector=NAME) for a in dict.fromkeys(addrs)]
