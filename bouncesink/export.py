"""Suppression rows -> each tool's import format. Pure: rows in, text chunks out.

Rows are the dicts of `SQLStore.suppressions()` (EXPORT_KEYS plus `seq`). `render` streams:
it yields one text chunk per `CHUNK` rows, so an export of any size runs in constant memory.
Each format follows its tool's documented import format:

- csv, jsonl: ours; every row has `email` and the rest of EXPORT_KEYS.
- mailchimp: a CSV whose `Email Address` column Mailchimp's audience import maps to the
  address (import the file as unsubscribed / cleaned contacts).
- listmonk: the subscriber-import CSV (`email,name,attributes`; attributes is JSON), for
  its "blocklist" import mode. listmonk requires a name; we give the local part.
- ses: the SES account-level suppression list bulk import (CreateImportJob, CSV):
  `address,BOUNCE` or `address,COMPLAINT`, no header.
- postfix: an access(5) table, `address REJECT text`, for postmap and
  check_recipient_access. access(5) keys cannot hold white space and `#` starts a comment,
  so addresses that cannot be keys are skipped (and counted).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator

EXPORT_KEYS = ("email", "reason", "type", "status", "first_seen", "last_seen", "count")
FORMATS = ("csv", "jsonl", "mailchimp", "listmonk", "ses", "postfix")
CHUNK = 2000

_POSTFIX_KEY = re.compile(r"[^\s#][^\s]*")
_CTRL = re.compile(r"[\x00-\x1f\x7f]+")


def _csv_chunks(header, rows, to_fields, stats) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(header)
    n = 0
    for row in rows:
        fields = to_fields(row)
        _count(stats, row, fields is None)
        if fields is None:
            continue
        w.writerow(fields)
        n += 1
        if n % CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def _count(stats, row, skipped: bool) -> None:
    if stats is None:
        return
    stats["rows"] = stats.get("rows", 0) + 1
    if skipped:
        stats["skipped"] = stats.get("skipped", 0) + 1
    stats["last_seq"] = row.get("seq", stats.get("last_seq", 0))


def _line_chunks(rows, to_line, stats) -> Iterator[str]:
    out: list[str] = []
    for row in rows:
        line = to_line(row)
        _count(stats, row, line is None)
        if line is None:
            continue
        out.append(line)
        if len(out) >= CHUNK:
            yield "".join(out)
            out.clear()
    if out:
        yield "".join(out)


def _jsonl(row) -> str:
    return json.dumps({k: row[k] for k in EXPORT_KEYS}, ensure_ascii=False) + "\n"


def _listmonk(row):
    email = row["email"]
    attrs = {"bouncesink": {"reason": row["reason"], "type": row["type"],
                            "status": row["status"], "last_seen": row["last_seen"]}}
    return [email, email.rpartition("@")[0] or email, json.dumps(attrs, separators=(",", ":"))]


def _ses(row):
    email = row["email"]
    if any(c in email for c in ',"') or _CTRL.search(email) or " " in email:
        return None  # SES reads plain `address,REASON` lines
    return [email, "COMPLAINT" if row["type"] == "complaint" else "BOUNCE"]


def _postfix(row):
    email = row["email"]
    if not _POSTFIX_KEY.fullmatch(email):
        return None
    why = _CTRL.sub(" ", f"{row['type'] or 'manual'} {row['reason'] or ''}".strip())
    return f"{email} REJECT suppressed by bouncesink: {why}\n"


def render(fmt: str, rows: Iterable[dict], stats: dict | None = None) -> Iterator[str]:
    """Text chunks of `rows` in format `fmt`. `stats` (if given) gets rows, skipped, last_seq."""
    if stats is not None:
        stats.setdefault("rows", 0)
        stats.setdefault("skipped", 0)
    if fmt == "csv":
        return _csv_chunks(EXPORT_KEYS, rows, lambda r: [r[k] for k in EXPORT_KEYS], stats)
    if fmt == "jsonl":
        return _line_chunks(rows, _jsonl, stats)
    if fmt == "mailchimp":
        return _csv_chunks(("Email Address",), rows, lambda r: [r["email"]], stats)
    if fmt == "listmonk":
        return _csv_chunks(("email", "name", "attributes"), rows, _listmonk, stats)
    if fmt == "ses":
        return _csv_chunks(None, rows, _ses, stats)
    if fmt == "postfix":
        return _line_chunks(rows, _postfix, stats)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
