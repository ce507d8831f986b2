"""The file road: messages from an mbox, a Maildir, .eml files or standard input (`import`).

Each message is stored as if it had just arrived, through the SMTP store call
(`intake.store`), in transactions of BATCH messages, and classified once stored. The
envelope of a message read from a file is unknown, so it is taken from what local delivery
wrote into its header: the sender from Return-Path, the recipient (our VERP address) from
Delivered-To or X-Original-To, and the time from its Date header (RFC 5322 3.6.1), else now.
A message whose content hash (`messages.digest`, sha256 of the raw bytes) is already stored
is skipped, so importing the same file twice adds nothing. An unreadable file or message
(mailfiles gives it as one line) is reported and the rest goes on.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO

from bouncesink import logs
from bouncesink.config import Config
from bouncesink.mailfiles import MailFilesError, iter_messages
from bouncesink.model import Envelope, utcnow
from bouncesink.roads import intake
from bouncesink.store import SQLStore

BATCH = 500  # messages per transaction (one fsync each)

_HEADER = {name: re.compile(rb"(?im)^" + name + rb":[ \t]*(.{0,998}?)[ \t]*\r?$")
           for name in (rb"date", rb"return-path", rb"delivered-to", rb"x-original-to")}
_ADDR = re.compile(r"<?\s*([^<>\s]*@[^<>\s]+|)\s*>?")


def header_block(raw: bytes) -> bytes:
    """The message's header block (bounded): the headers are all we read here."""
    head = raw[:65536]
    end = head.find(b"\r\n\r\n")
    if end < 0:
        end = head.find(b"\n\n")
    return head if end < 0 else head[:end]


def _header(head: bytes, name: bytes) -> str | None:
    m = _HEADER[name].search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def _address(value: str | None) -> str:
    if not value:
        return ""
    m = _ADDR.fullmatch(value.strip())
    return m.group(1) if m else ""


def date_of(head: bytes) -> datetime | None:
    """The Date header as an aware UTC time; None if absent, unreadable or in the future."""
    value = _header(head, b"date")
    if not value:
        return None
    try:
        t = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if t is None:
        return None
    if t.tzinfo is None:  # RFC 5322 4.3: "-0000" means no zone information: take UTC
        t = t.replace(tzinfo=timezone.utc)
    t = t.astimezone(timezone.utc)
    return None if t > utcnow() else t


def envelope_of(raw: bytes, source: str) -> Envelope:
    """The envelope local delivery recorded in the header, received at its Date."""
    head = header_block(raw)
    rcpt = _address(_header(head, b"delivered-to")) or _address(_header(head, b"x-original-to"))
    return Envelope(peer=source[:200], helo="",
                    mail_from=_address(_header(head, b"return-path")),
                    rcpt_tos=[rcpt] if rcpt else [], received_at=date_of(head) or utcnow())


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0       # already stored (same content hash)
    bad: int = 0           # unreadable files or messages, each reported on one line
    failed: int = 0        # could not be stored (the store failed): exit 75
    refs: list[int] = field(default_factory=list)   # stored now: to classify


def import_paths(config: Config, db: SQLStore, paths: Iterable[str],
                 stdin: BinaryIO | None = None,
                 problem: Callable[[str], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """Store every message under `paths` not stored before. `problem` gets one line per bad
    file or message; `progress(n)` is called as n more messages are done."""
    log = logs.get()
    problem = problem or (lambda line: print(f"bouncesink: {line}", file=sys.stderr))
    report = ImportReport()
    batch: list[tuple[Envelope, bytes]] = []

    def flush() -> None:
        if not batch:
            return
        try:
            # A message stored before (any road, any time) or twice in the files: its
            # content hash is found, it is not stored again.
            for ref, fresh in intake.store(db, batch):
                if fresh:
                    report.refs.append(ref)
                    report.imported += 1
                else:
                    report.skipped += 1
        except Exception as exc:
            report.failed += len(batch)
            problem(f"could not store {len(batch)} messages: {str(exc)[:300]}")
            intake.reset(db, log)
        if progress:
            progress(len(batch))
        batch.clear()

    for path in paths:
        try:
            items = iter_messages(path, max_bytes=config.server.max_message_size, stdin=stdin)
            for item in items:
                if item.error:
                    report.bad += 1
                    problem(f"{item.name}: {item.error}")
                    if progress:
                        progress(1)
                    continue
                batch.append((envelope_of(item.raw, f"import:{item.name}"), item.raw))
                if len(batch) >= BATCH:
                    flush()
        except MailFilesError as exc:
            report.bad += 1
            problem(str(exc))
    flush()
    log.info("import_finished", imported=report.imported, skipped=report.skipped,
             bad=report.bad, failed=report.failed)
    return report
