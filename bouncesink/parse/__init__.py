"""Raw bounce bytes -> `Parsed`, every result classified.

Paths, in order (the first that yields results wins; a path that raises is recorded in
`Parsed.errors` and the next one is tried):

1. ARF feedback reports (parse/arf.py)
2. RFC 3464 DSNs (parse/dsn.py); the sniffed MTA module may then amend results it knows to
   be incomplete (reason only in the human-readable text, missing Status...)
3. MTA detectors (parse/mta/, one explicit ordered list, picked by cheap sniffing)
4. RFC 3834 auto-replies (parse/autoreply.py)
5. DSN fields written inline in a text body, then the generic free-text scanner (parse/text.py)
6. flufl.bounce, addresses only, plus a diagnostic line found near each address

Hostile input is bounded in parse/message.py (bytes, parts, depth, text length).
"""

from __future__ import annotations

from ..classify import classify
from ..model import KIND_DSN, KIND_UNRECOGNISED, Parsed, Result
from . import arf, autoreply, dsn, text
from . import message as m
from .context import Context
from .mta import candidates

__all__ = ["parse"]


def parse(raw: bytes, *, verp_recipient: str | None = None) -> Parsed:
    """Parse and classify one raw message. Never raises."""
    parsed = Parsed(kind=KIND_UNRECOGNISED)
    try:
        _parse_into(parsed, raw)
    except Exception as exc:  # the message must never be lost to a parser bug
        parsed.errors.append(f"parse: {type(exc).__name__}: {exc}"[:300])
    try:
        _finish(parsed, verp_recipient)
    except Exception as exc:
        parsed.errors.append(f"finish: {type(exc).__name__}: {exc}"[:300])
    return parsed


def _attempt(parsed: Parsed, name: str, fn, *args):
    try:
        return fn(*args)
    except Exception as exc:
        parsed.errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
        return None


def _parse_into(parsed: Parsed, raw: bytes) -> None:
    msg = m.load(raw)
    ctx = Context.of(msg)
    parsed.original = _attempt(parsed, "original", dsn.original_headers, ctx.original_part) or {}

    if arf.sniff(msg, ctx.ctype):
        got = _attempt(parsed, "arf", arf.parse_arf, msg)
        if got:
            parsed.kind, parsed.results, original = got
            parsed.original = original or parsed.original
            parsed.detector = parsed.results[0].detector if parsed.results else "arf"
            return

    mtas = _attempt(parsed, "sniff", candidates, ctx) or []

    if ctx.dsn_parts:
        results = _attempt(parsed, "rfc3464", dsn.parse_dsn_parts, ctx.dsn_parts) or []
        results = [r for r in results if r.recipient or r.status or r.diagnostic]
        if results:
            parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, "rfc3464"
            for mod in mtas:
                amend = getattr(mod, "amend", None)
                if amend is not None and _attempt(parsed, mod.NAME, amend, ctx, results):
                    parsed.detector = f"rfc3464+{mod.NAME}"
                    break
            _fill_from_text(ctx, results)
            _attempt(parsed, "commands", text.fill_commands, ctx.human or ctx.body, results)
            return

    for mod in mtas:
        results = _attempt(parsed, mod.NAME, mod.detect, ctx)
        if results:
            for r in results:
                r.detector = r.detector or mod.NAME
            parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, mod.NAME
            return

    if autoreply.sniff(msg):
        got = _attempt(parsed, "rfc3834", autoreply.parse_autoreply, msg)
        if got:
            parsed.kind, parsed.results = got
            parsed.detector = "rfc3834"
            return

    if not ctx.looks_like_bounce():
        return

    body = ctx.body
    if "Final-Recipient:" in body or "Final-recipient:" in body:
        results = _attempt(parsed, "rfc3464-text", dsn.parse_dsn_text, body) or []
        results = [r for r in results if r.recipient]
        if results:
            _fill_from_text(ctx, results)
            parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, "rfc3464-text"
            return

    results = _attempt(parsed, "text", _generic_text, ctx) or []
    results = text.drop_bystanders(results, parsed.original)
    if results:
        parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, "text"
        return

    results = _attempt(parsed, "flufl", _flufl, ctx) or []
    if results:
        parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, "flufl"


def _generic_text(ctx: Context) -> list[Result]:
    failed = [a for a in m.addresses(ctx.header("X-Failed-Recipients"))]
    lines = text.error_section(ctx.body)
    return text.scan(lines, ctx.exclude, only=failed or None, detector="text") or (
        [] if failed else text.scan(lines, ctx.from_exclude, detector="text"))


def _fill_from_text(ctx: Context, results: list[Result]) -> None:
    """A DSN without Diagnostic-Code: take the words from the human-readable part."""
    if all(r.diagnostic for r in results):
        return
    lines = text.error_section(ctx.human or ctx.body)
    if not lines:
        return
    found = {r.recipient.lower(): r for r in text.scan(lines, set()) if r.recipient}
    for r in results:
        if r.diagnostic or not r.recipient:
            continue
        hit = found.get(r.recipient.lower())
        if hit is None and len(results) == 1 and len(found) == 1:
            hit = next(iter(found.values()))
        if hit is not None and hit.diagnostic:
            r.diagnostic = hit.diagnostic
            r.reply_code = r.reply_code or hit.reply_code
            if not r.status or r.status.endswith(".0.0"):
                r.status = hit.status or r.status


def _flufl(ctx: Context) -> list[Result]:
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(m.load_email(ctx.msg.raw))
    addrs: list[str] = []
    for raw_addr in list(permanent) + list(temporary):
        try:
            addr = raw_addr.decode("utf-8") if isinstance(raw_addr, bytes) else str(raw_addr)
        except UnicodeDecodeError:
            continue
        addr = m.clean_address(addr)
        if addr and addr.lower() not in ctx.exclude and addr not in addrs:
            addrs.append(addr)
    if not addrs:
        return []
    lines = text.error_section(ctx.body)
    results = text.scan(lines, set(), only=addrs, detector="flufl")
    temp = {a.decode("utf-8", "replace").lower() if isinstance(a, bytes) else str(a).lower() for a in temporary}
    for r in results:
        if r.recipient and r.recipient.lower() in temp:
            r.action = "delayed"
    return results


def _finish(parsed: Parsed, verp_recipient: str | None) -> None:
    original = parsed.original
    message_id = original.get("message-id", "")
    if verp_recipient:
        _apply_verp(parsed, verp_recipient)
    for r in parsed.results:
        if message_id and not r.message_id:
            r.message_id = message_id
        if not r.detector:
            r.detector = parsed.detector
        text.fill_codes(r)
        try:
            classify(r)
        except Exception as exc:
            parsed.errors.append(f"classify: {type(exc).__name__}: {exc}"[:300])


def _apply_verp(parsed: Parsed, verp: str) -> None:
    """The envelope VERP address names the recipient we sent to: the most reliable source."""
    results = parsed.results
    if not results:
        return
    key = verp.lower()
    if any(r.recipient and r.recipient.lower() == key for r in results):
        return
    if len(results) == 1:
        r = results[0]
        if r.recipient and r.recipient.lower() != key and not r.original_recipient:
            r.original_recipient = r.recipient
        r.recipient = verp
