"""Metamorphic check: does a bounce read the same after changes that cannot change its meaning?

    python bench/metamorphic.py ../shared/corpus/dev [-v]

Rules fitted to particular messages break when an incidental detail moves; rules that read
what a bounce says do not. This script needs no labels: it parses each message of
CORPUS_DIR (every *.eml below it), changes it in ways that keep its meaning, parses it again
and compares (recipient, status, reason, type) per result:

    renamed     every failed recipient's local part replaced by another, wherever it appears
                (header, body, DSN fields, any case): the same results for the new addresses
    lf / crlf   every line end made LF, or CRLF
    noise       harmless headers added at the top, after an mbox "From " line (a Received
                line of ours, X-Spam-Score, List-Unsubscribe): a relay or filter adds such
    indented    (free-text bounces only: no delivery-status or feedback-report part) the
                text lines that quote the failed recipient (not "Name: value" fields)
                indented by two more spaces, as another MTA version or a forward lays them out
    base64      the text/plain parts sent in base64 (Exchange's and web mailers' habit), the
                message written back by the standard library

Printed per change: messages compared, messages whose results moved; `-v` lists each moved
message with its results before and after. Only messages that give at least one result are
compared (a change may rightly turn a non-bounce into nothing).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bouncesink.parse import parse  # noqa: E402

NOISE = (b"Received: from relay.example.net (relay.example.net [192.0.2.77])\r\n"
         b"\tby bounces.example.org with ESMTP id 4Xy; Sat, 5 Dec 2026 08:00:00 +0000\r\n"
         b"X-Spam-Score: 0.1\r\n"
         b"List-Unsubscribe: <mailto:unsubscribe@lists.example.org>\r\n")


def results(raw: bytes) -> list[tuple]:
    out = []
    for r in parse(raw).results:
        out.append(((r.recipient or "").lower(), r.status or "", r.reason or "", r.type or ""))
    return sorted(out)


def _newline(raw: bytes, eol: bytes) -> bytes:
    return re.sub(rb"\r\n|\r|\n", eol, raw)


def renamed(raw: bytes, found: list[tuple]) -> tuple[bytes, dict[str, str]]:
    mapping: dict[str, str] = {}
    for rcpt, *_ in found:
        local, at, domain = rcpt.rpartition("@")
        if not at or not local or rcpt in mapping:
            continue
        new_local = "r" + hashlib.sha256(rcpt.encode()).hexdigest()[:10]
        mapping[rcpt] = f"{new_local}@{domain}"
    for old, new in mapping.items():
        raw = re.sub(re.escape(old.encode()), new.encode(), raw, flags=re.I)
    return raw, mapping


def noise(raw: bytes) -> bytes:
    eol = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    head = b""
    if raw.startswith(b"From "):  # an mbox "From " line stays first
        cut = raw.find(b"\n") + 1
        head, raw = raw[:cut], raw[cut:]
    return head + NOISE.replace(b"\r\n", eol) + raw


_FIELD = re.compile(rb"[a-z][a-z0-9-]{0,40}:[ \t]")  # a header-like "Name: value" line


def indented(raw: bytes, found: list[tuple]) -> bytes | None:
    if b"delivery-status" in raw.lower() or b"feedback-report" in raw.lower():
        return None
    addrs = [r[0].encode() for r in found if r[0]]
    lines = raw.split(b"\n")
    head_end = next((i for i, line in enumerate(lines) if not line.strip(b"\r")), len(lines))
    changed = False
    for i in range(head_end + 1, len(lines)):
        low = lines[i].lower()
        if any(a in low for a in addrs) and not _FIELD.match(low) and not low.startswith(b"--"):
            lines[i] = b"  " + lines[i]
            changed = True
    return b"\n".join(lines) if changed else None


def base64_text(raw: bytes) -> bytes | None:
    """The text/plain parts (not a delivery-status or an attached message's own parts) sent
    in base64 instead, as Exchange and many web mailers send them; None if there is none."""
    import base64
    from email import message_from_bytes
    from email.policy import compat32

    msg = message_from_bytes(raw, policy=compat32)
    changed = False

    def walk(part) -> None:
        nonlocal changed
        if part.is_multipart():
            for sub in part.get_payload():
                walk(sub)
            return
        if part.get_content_type() != "text/plain":
            return
        cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
        if cte == "base64":
            return
        body = part.get_payload(decode=True) or b""
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(base64.encodebytes(body).decode("ascii"))
        changed = True

    walk(msg)
    if not changed:
        return None
    try:
        return msg.as_bytes()
    except Exception:  # a message the standard library cannot write back
        return None


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    verbose = "-v" in argv
    if not args:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    files = sorted(Path(args[0]).rglob("*.eml"))
    moved: dict[str, list[str]] = {k: [] for k in ("renamed", "lf", "crlf", "noise", "indented",
                                                  "base64")}
    compared = dict.fromkeys(moved, 0)
    for path in files:
        raw = path.read_bytes()
        before = results(raw)
        if not before:
            continue
        variants: dict[str, tuple[bytes, list[tuple]]] = {}
        new_raw, mapping = renamed(raw, before)
        variants["renamed"] = (new_raw, sorted((mapping.get(r, r), *rest) for r, *rest in before))
        variants["lf"] = (_newline(raw, b"\n"), before)
        variants["crlf"] = (_newline(raw, b"\r\n"), before)
        variants["noise"] = (noise(raw), before)
        ind = indented(raw, before)
        if ind is not None:
            variants["indented"] = (ind, before)
        b64 = base64_text(raw)
        if b64 is not None:
            variants["base64"] = (b64, before)
        for name, (changed, want) in variants.items():
            compared[name] += 1
            got = results(changed)
            if got != want:
                moved[name].append(f"{path.name}\n      want {want}\n      got  {got}")
    for name in moved:
        print(f"{name:<9} {compared[name]:4d} messages compared, {len(moved[name]):3d} moved")
        if verbose:
            for line in moved[name]:
                print("    " + line)
    total = sum(len(v) for v in moved.values())
    print(f"metamorphic: {total} moved of {sum(compared.values())} comparisons")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
