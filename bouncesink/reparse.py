"""Re-parse stored raw messages with the current parser and record what changed.

Better rules should fix old classifications, but history is never rewritten: `diff` compares
a message's current classification (its results, as last reclassified) with what the parser
says now, and the store records each difference as an event (`SQLStore.record_reparse`).
Running it twice records nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bouncesink import verp
from bouncesink.config import Config
from bouncesink.envelope import campaign_of
from bouncesink.idleparse import IdleParser, parse_safely
from bouncesink.model import Parsed, Result, utcnow
from bouncesink.policy import needs_dns
from bouncesink.store.base import normalise


@dataclass
class Change:
    """One difference between the stored classification and the current parser's.

    kind: first (the message was unrecognised, now it is not), new (a recipient found for
    the first time), changed (type or reason differ), gone (the parser no longer finds it).
    """

    kind: str
    recipient: str
    result: Result | None = None          # the current parser's result (None when gone)
    result_id: int | None = None          # the stored result it changes
    old_type: str = ""
    old_reason: str = ""

    def describe(self) -> str:
        new = f"{self.result.type}/{self.result.reason}" if self.result else "not found"
        rule = f" ({self.result.rule})" if self.result and self.result.rule else ""
        return f"reparse: {self.old_type}/{self.old_reason} -> {new}{rule}"[:500]


def diff(current: list[tuple[int, str, str, str]], parsed: Parsed) -> list[Change]:
    """Changes from `current` (result id, recipient, type, reason) to `parsed` (pure)."""
    if not current:
        return [Change("first", r.recipient or "", r) for r in parsed.results]
    left = list(current)
    changes = []
    for r in parsed.results:
        key = normalise(r.recipient) if r.recipient else ""
        match = next((c for c in left if (c[1] or "") == key), None)
        if match is None:
            changes.append(Change("new", r.recipient or "", r))
            continue
        left.remove(match)
        rid, _, old_type, old_reason = match
        if (old_type, old_reason) != (r.type, r.reason):
            changes.append(Change("changed", r.recipient or "", r, rid, old_type, old_reason))
    for rid, rcpt, old_type, old_reason in left:
        if old_type or old_reason:  # already recorded as gone: nothing new
            changes.append(Change("gone", rcpt, None, rid, old_type, old_reason))
    return changes


@dataclass
class Summary:
    messages: int = 0
    changed: int = 0
    newly_recognised: int = 0
    skipped: int = 0
    changes: list = field(default_factory=list)


PARSE_TIMEOUT = 10.0  # seconds one message may take to parse, as in the server


def reparse(store, cfg: Config, *, since: datetime | None = None, parse=None, checker=None,
            dry_run: bool = False, report: Callable[[str], None] | None = None,
            batch: int = 200, parse_timeout: float | None = PARSE_TIMEOUT) -> Summary:
    """Re-parse every stored raw message received since `since`; record the changes.

    Messages are parsed and attributed as the server does (VERP recipient and campaign).
    `checker` is a `bouncesink.dns.HostunknownDNS` for hostunknown confirmation (the server's
    rule); without one, a result that needs DNS is decided as if DNS could not tell.
    Parsing runs in a child process (idleparse.IdleParser), each message within
    `parse_timeout` seconds: one that takes longer (a parser bug) is reported and skipped.
    """
    if parse is None:
        from bouncesink.parse import parse
    parser = None
    if parse_timeout is not None and IdleParser.available():
        parser = IdleParser(parse, timeout=parse_timeout, idle=False)
    try:
        return _reparse(store, cfg, since, parse, parser, checker, dry_run, report, batch)
    finally:
        if parser is not None:
            parser.close()


def _reparse(store, cfg, since, parse, parser, checker, dry_run, report, batch) -> Summary:
    summary = Summary(skipped=store.count_without_raw(since))
    now = utcnow()
    after = 0
    while True:
        stored_batch = store.reparse_batch(since=since, after_ref=after, limit=batch)
        if not stored_batch:
            return summary
        verps = [verp.for_envelope(s.envelope.rcpt_tos, cfg.verp, s.envelope.received_at)
                 for s in stored_batch]
        items = [(s.ref, s.raw, v.recipient if v else None) for s, v in zip(stored_batch, verps)]
        if parser is not None:
            parsed_all = [p for p, _ in parser.parse_many(items)]
        else:
            parsed_all = [parse_safely(parse, raw, rcpt) for _, raw, rcpt in items]
        for stored, v, parsed in zip(stored_batch, verps, parsed_all):
            after = stored.ref
            summary.messages += 1
            env = stored.envelope
            failure = next((e for e in parsed.errors if e.startswith("parse: ")), None)
            if parsed.kind == "unrecognised" and failure:
                # parse() never raises by contract, nor hangs: a bug; keep the old results
                if report:
                    report(f"message {stored.ref}: parser failed: {failure[7:]}")
                continue
            changes = diff(store.current_results(stored.ref), parsed)
            if not changes:
                continue
            verdicts = {}
            if checker is not None and any(c.result is not None and needs_dns(c.result, cfg.policy)
                                           for c in changes):
                verdicts = checker.verdicts([parsed])
            campaign = (v.campaign if v else None) or campaign_of(parsed,
                                                                 cfg.verp.campaign_headers)
            done = store.record_reparse(stored, parsed, changes, campaign, cfg.policy, now=now,
                                        dns_verdicts=verdicts,
                                        verp_recipient=verp.acting_recipient(
                                            env.rcpt_tos, parsed.original, cfg.verp,
                                            env.received_at),
                                        dry_run=dry_run)
            summary.newly_recognised += changes[0].kind == "first"
            for change, decision in done:
                summary.changed += 1
                summary.changes.append((stored.ref, change, decision))
                if report:
                    report(line_of(stored.ref, change, decision))


def line_of(ref: int, change: Change, decision) -> str:
    """One line per change, for the person running `reparse`."""
    new = f"{change.result.type}/{change.result.reason}" if change.result else "-"
    old = f"{change.old_type}/{change.old_reason}" if change.kind in ("changed", "gone") else "-"
    action = f"  -> {decision.action}" if decision is not None else ""
    return f"message {ref}: {change.kind:<7} {change.recipient or '-'}  {old} => {new}{action}"
