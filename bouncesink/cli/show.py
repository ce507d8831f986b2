"""show: print a stored message as it was received (the one a REF in `250 ... queued as REF`
and in the logs names), e.g. one no parser recognised, kept for a person to read.

To a pipe or file the bytes go out untouched (`bouncesink show 42 > msg.eml` is the message);
to a terminal, control characters a stranger put in it (escape sequences that could retitle
or rewrite the screen) are shown escaped, `\\x1b`, never sent raw.
"""

from __future__ import annotations

import sys

from bouncesink.cli import CLIError, add_store_options, opened_store


def register(sub) -> None:
    p = sub.add_parser("show", help="print a stored message as received (decompressed)",
                       description="Print a stored message as received. REF is the number in"
                       " '250 2.0.0 OK queued as REF' and in the logs (ref=). To a terminal,"
                       " control characters are shown escaped; to a pipe, the bytes as stored.")
    add_store_options(p)
    p.add_argument("ref", metavar="REF", help="the message's number (queued as REF; ref= in logs)")
    p.add_argument("--headers", action="store_true", help="print the header section only")
    p.set_defaults(func=cmd_show)


def header_section(raw: bytes) -> bytes:
    """The headers up to and including the blank line that ends them (RFC 5322 2.1)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if not ends:
        return raw
    end = min(ends)
    return raw[:end + (4 if raw.startswith(b"\r\n\r\n", end) else 2)]


def for_terminal(raw: bytes) -> str:
    """Text safe to show on a terminal: line ends kept (CRLF as LF), tabs kept, every other
    control or bidi character escaped by the shared helper (bouncesink.textsafe); bytes that
    are not UTF-8 as \\xNN."""
    from bouncesink.textsafe import escape

    text = raw.replace(b"\r\n", b"\n").decode("utf-8", "backslashreplace")
    return "\n".join("\t".join(escape(part) for part in line.split("\t"))
                     for line in text.split("\n"))


def cmd_show(args) -> int:
    try:
        ref = int(args.ref.strip().lstrip("#"))
        if ref <= 0:
            raise ValueError
    except ValueError:
        raise CLIError(f"REF must be a message number (as in 'queued as 42'), got {args.ref!r}",
                       2) from None
    with opened_store(args) as (cfg, store):
        stored = store.message(ref)
        where = cfg.store.db
    if stored is None:
        raise CLIError(f"no message {ref} in {where}")
    if not stored.raw:
        raise CLIError(f"message {ref} ({stored.state}, received"
                       f" {stored.envelope.received_at:%Y-%m-%d %H:%M}Z): its raw body was"
                       " dropped by `prune`; its results stay (`bouncesink why ADDRESS`)")
    raw = header_section(stored.raw) if args.headers else stored.raw
    out = sys.stdout
    if out.isatty():
        text = for_terminal(raw)
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    else:
        out.flush()
        out.buffer.write(raw)
        out.buffer.flush()
    return 0
