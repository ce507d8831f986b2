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
7. VERP fallback: a message to one of our VERP addresses whose text shows a failure but
   names no failed address gets one result for the VERP recipient

Before them, a challenge-response request or a read receipt gives no result at all
(parse/notices.py, parse/mdn.py; a Sieve reject, an MDN saying "deleted" automatically, is a
refusal: parse/mdn.py); after them, the results of a delay warning are `delayed`, and every
recipient is checked (see _keep_recipient): never the bounce's own or the original sender's
address, never a contact address quoted in the words, never one holding control or bidi
characters. `Result.suppress_as` names the address to suppress: the VERP recipient, else
the DSN's Original-Recipient (RFC 3464 s2.3.1: the address as the sender gave it, before
any alias expansion), else the recipient.

Hostile input is bounded in parse/message.py (bytes, parts, depth, text length).
"""

from __future__ import annotations

from ..classify import classify
from ..model import KIND_DSN, KIND_UNRECOGNISED, Parsed, Result
import re
from itertools import islice

from . import arf, autoreply, dsn, mdn, notices, text
from . import message as m
from .context import Context
from .mta import candidates

__all__ = ["parse"]


def parse(raw: bytes, *, verp_recipient: str | None = None) -> Parsed:
    """Parse and classify one raw message. Never raises."""
    parsed = Parsed(kind=KIND_UNRECOGNISED)
    verp = verp_recipient if verp_recipient and "@" in verp_recipient else None
    try:
        ctx = _parse_into(parsed, raw)
        if ctx is not None:
            _after(parsed, ctx, verp)
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


def _parse_into(parsed: Parsed, raw: bytes) -> Context | None:
    msg = m.load(raw)
    ctx = Context.of(msg)
    parsed.original = _attempt(parsed, "original", dsn.original_headers, ctx.original_part) or {}
    _read(parsed, ctx)
    return ctx


def _read(parsed: Parsed, ctx: Context) -> None:
    msg = ctx.msg
    if not ctx.dsn_parts:
        if "disposition-notification" in m.header(msg, "Content-Type").lower():
            results = _attempt(parsed, "mdn", mdn.refusals, msg)
            if results:  # a Sieve reject (RFC 5429): the recipient's filter refused it
                parsed.kind, parsed.results, parsed.detector = KIND_DSN, results, "mdn.reject"
                return
            parsed.detector = "mdn"  # a read receipt (RFC 8098): nothing failed
            return
        if notices.is_challenge(ctx.subject, ctx.human or ctx.body):
            parsed.detector = "challenge"  # a challenge-response request: nothing failed
            return

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
            _attempt(parsed, "multiline", text.complete_multiline, ctx.human or ctx.body, results)
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


def _after(parsed: Parsed, ctx: Context, verp: str | None) -> None:
    """What every path shares: recipients checked, warnings made delays, the VERP fallback."""
    if parsed.kind == KIND_DSN:
        generic = any(r.detector in ("text", "flufl", "verp") for r in parsed.results)
        own = _own_addresses(ctx, parsed.original) if generic else set()
        kept: dict[str, Result] = {}
        for r in parsed.results:
            if not _keep_recipient(r, own, parsed.results):
                continue
            key = (r.recipient or "").lower()
            first = kept.get(key) if key else None
            if first is None:
                kept[key or str(id(r))] = r
            elif not first.status and not first.diagnostic:
                kept[key] = r  # "SMTP=a@b" and "a@b" are one recipient: keep the one with words
        parsed.results = list(kept.values())
        if parsed.results and notices.is_warning(ctx.subject, ctx.human or ctx.body):
            notices.mark_delayed(parsed.results)
        if not parsed.results:
            parsed.kind = KIND_UNRECOGNISED
    if not parsed.results and verp and parsed.detector not in ("mdn", "challenge"):
        r = _verp_fallback(ctx, verp)
        if r is not None:
            parsed.kind, parsed.results, parsed.detector = KIND_DSN, [r], "verp"


def _own_addresses(ctx: Context, original: dict[str, str]) -> set[str]:
    """The bounce's own From/To/Sender/Reply-To/Return-Path and the original message's
    sender addresses: the mail system writing to us, and us. None of them failed."""
    own = set(ctx.exclude)
    for name in ("Return-Path", "Sender", "Reply-To"):
        own.update(a.lower() for a in m.addresses(ctx.header(name)))
    for name in ("from", "sender", "return-path", "reply-to"):
        own.update(a.lower() for a in m.addresses(original.get(name, "")))
    # an address the original was sent to may have failed even when it is also the sender's
    # (a message to oneself, a list that mails itself)
    for name in ("to", "cc", "x-original-to", "delivered-to", "envelope-to", "x-envelope-to"):
        own.difference_update(a.lower() for a in m.addresses(original.get(name, "")))
    for a in m.addresses(ctx.header("X-Failed-Recipients")):
        own.discard(a.lower())
    return own


# C0/C1 controls, DEL, and the bidirectional marks and overrides (U+061C, U+200E/F,
# U+202A-E, U+2066-9): an address holding one is a trick on whoever reads it (issue 15).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_PREFIX = re.compile(r"^(?:smtp|rfc822|x400|sip|mailto)\s*[=:;]\s*", re.I)
# the words before an address that make it someone to write to, not someone who failed
_CONTACT = re.compile(
    r"(?:contact|e-?mail(?: us)?(?: at)?|write(?: to)?|send (?:an? )?(?:e-?mail|mail|message|request)s?(?: to)?|"
    r"mailto|reach(?: us)?(?: at)?|questions?|assistance|help ?desk|support|delist(?:ing)?|"
    r"removal|unblock(?:ing)?|report(?: it)?(?: to)?|forward(?: it)?(?: to)?|abuse desk)"
    r"[\s:,(<\"'-]{0,6}$", re.I)
_ROLE = frozenset({"abuse", "postmaster", "hostmaster", "webmaster", "helpdesk", "support",
                   "delist", "unblock", "noc", "security", "spam", "blacklist", "blocklist",
                   "mailer-daemon", "noreply", "no-reply", "help", "admin", "dnsbl"})


def _keep_recipient(r: Result, own: set[str], results: list[Result]) -> bool:
    """Clean r.recipient in place; False when it is not an address that failed."""
    if r.recipient:
        addr = _PREFIX.sub("", r.recipient.strip().strip("<>").strip()).strip("<>").rstrip(".")
        if _UNSAFE.search(addr) or "@" not in addr:
            addr = ""
        r.recipient = addr or None
    if r.original_recipient:
        orig = _PREFIX.sub("", r.original_recipient.strip().strip("<>").strip()).strip("<>").rstrip(".")
        r.original_recipient = "" if _UNSAFE.search(orig) or "@" not in orig else orig
    if not r.recipient:
        return bool(r.status or r.diagnostic) and r.detector.startswith("rfc3464")
    key = r.recipient.lower()
    if r.detector.startswith("rfc3464"):
        return True  # a Final-Recipient field names it: the report's own structure
    if key in own and r.detector in ("text", "flufl", "verp"):
        # a generic scan falls back to the bounce's To when nothing else is named (a null-MX
        # wording about the sender's own domain made the sender hard); an MTA detector reads
        # the MTA's own list of failed addresses, where a message to oneself may stand
        return False
    for other in results:
        text = other.diagnostic
        at = text.lower().find(key)
        if other is not r and at >= 0 and _CONTACT.search(text[max(0, at - 60):at]):
            return False
    at = r.diagnostic.lower().find(key)
    if at >= 0 and _CONTACT.search(r.diagnostic[max(0, at - 60):at]):
        return False
    local = key.split("@", 1)[0]
    if local in _ROLE and any(o is not r and o.recipient and o.recipient.split("@")[0].lower() not in _ROLE
                              for o in results):
        return False
    return True


# failure evidence in a text naming no address: an enhanced status, a reply code at a line
# start or after "said:", or failure words (the classifier's rules decide the reason)
_FAIL_STATUS = re.compile(r"(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?![\d]|\.\d)")
_FAIL_REPLY = re.compile(r"(?:^|said:|replied:|answered:|response:|error:)[ \t]{0,4}+[45]\d\d(?=[\s\-.,:]|$)",
                         re.M | re.I)
_FAIL_WORDS = re.compile(
    r"undeliverable|could not be delivered|delivery (?:has )?failed|failed to deliver|"
    r"permanent(?:ly)? (?:error|failure)|does not exist|user unknown|unknown user|no such (?:user|mailbox)|"
    r"mailbox (?:is )?(?:full|unavailable|not found)|rejected|refused|not delivered", re.I)


def _verp_fallback(ctx: Context, verp: str) -> Result | None:
    """One result for the VERP recipient when the text shows a failure but names nobody."""
    if not ctx.looks_like_bounce() or autoreply.sniff(ctx.msg):
        return None
    body = ctx.human or ctx.body
    lines = text.error_section(body)
    section = "\n".join(lines)[:20000]
    if not (_FAIL_STATUS.search(section) or _FAIL_REPLY.search(section)
            or _FAIL_WORDS.search(section) or _FAIL_WORDS.search(ctx.subject)):
        return None
    diag = text.best_line(lines) or next((ln.strip() for ln in lines if _FAIL_STATUS.search(ln)
                                          or _FAIL_REPLY.search(ln)), "")
    r = Result(recipient=verp, diagnostic=diag[:1000], detector="verp")
    text.fill_codes(r)
    if notices.is_warning(ctx.subject, body):
        notices.mark_delayed([r])
    return r


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

    email = m.load_email(ctx.msg.raw)
    if sum(1 for _ in islice(email.walk(), m.MAX_PARTS + 1)) > m.MAX_PARTS:
        return []  # flufl.bounce's detectors walk every part each: 40 ms for 1 KB of nesting
    temporary, permanent = all_failures(email)
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
        if r.recipient and verp_recipient and r.recipient.lower() == verp_recipient.lower():
            r.suppress_as = r.recipient
        elif r.recipient and r.original_recipient and r.detector.startswith("rfc3464") \
                and r.original_recipient.lower() != r.recipient.lower():
            r.suppress_as = r.original_recipient
        else:
            r.suppress_as = r.recipient or ""
        if message_id and not r.message_id:
            r.message_id = message_id
        if not r.detector:
            r.detector = parsed.detector
        text.fill_codes(r)
        try:
            classify(r)
        except Exception as exc:
            parsed.errors.append(f"classify: {type(exc).__name__}: {exc}"[:300])
        if r.type == "hard" and not r.recipient:
            # hard needs an address that is dead (issue 11): none named, nothing to suppress
            r.type = "soft"
            r.rule = f"{r.rule}; no recipient: not hard"


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
