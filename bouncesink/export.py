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
_SES_BAD = re.compile(r'[\s,"\x00-\x1f\x7f]')


def _chunks(rows, to_item, stats, header: str = "", csv_rows: bool = False) -> Iterator[str]:
    """Text chunks of CHUNK rows; `to_item` gives a line (or CSV fields), None to skip.

    Counting is kept in locals and published to `stats` per chunk: per-row bookkeeping
    costs more than the formatting at a million rows.
    """
    buf = io.StringIO()
    write_row = _csv_writer(buf) if csv_rows else buf.write
    buf.write(header)
    n = skipped = 0
    last = None
    for row in rows:
        n += 1
        last = row
        item = to_item(row)
        if item is None:
            skipped += 1
            continue
        write_row(item)
        if n % CHUNK == 0:
            _publish(stats, n, skipped, last)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    _publish(stats, n, skipped, last)
    if buf.tell():
        yield buf.getvalue()


def _csv_writer(buf):
    """writerow that joins plain fields itself and leaves quoting to csv only when needed."""
    slow = csv.writer(buf, lineterminator="\n").writerow
    write = buf.write

    def writerow(fields):
        line = ",".join(f if type(f) is str else "" if f is None else str(f) for f in fields)
        if (line.count(",") != len(fields) - 1 or '"' in line or "\n" in line
                or "\r" in line):
            slow(fields)
        else:
            write(line + "\n")
    return writerow


def _publish(stats, n, skipped, last) -> None:
    if stats is not None and last is not None:
        stats["rows"], stats["skipped"] = n, skipped
        stats["last_seq"] = last.get("seq", 0)


# json.dumps per row is the slowest part of a large export; the C string encoder is not.
_enc = json.encoder.encode_basestring


def _jstr(v) -> str:
    if isinstance(v, str):
        return _enc(v)
    return "null" if v is None else str(v) if type(v) is int else json.dumps(v)


def _jsonl(row) -> str:
    return (f'{{"email": {_jstr(row["email"])}, "reason": {_jstr(row["reason"])},'
            f' "type": {_jstr(row["type"])}, "status": {_jstr(row["status"])},'
            f' "first_seen": {_jstr(row["first_seen"])}, "last_seen": {_jstr(row["last_seen"])},'
            f' "count": {_jstr(row["count"])}}}\n')


def _listmonk(row):
    email = row["email"]
    attrs = (f'{{"bouncesink":{{"reason":{_jstr(row["reason"])},"type":{_jstr(row["type"])},'
             f'"status":{_jstr(row["status"])},"last_seen":{_jstr(row["last_seen"])}}}}}')
    # The attributes always need CSV quoting: quote here rather than via the csv module.
    return f'{_q(email)},{_q(email.rpartition("@")[0] or email)},"{attrs.replace(chr(34), chr(34) * 2)}"\n'


def _q(field: str) -> str:
    """One CSV field, quoted as the csv module would (only when needed)."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def _ses(row):
    email = row["email"]
    if _SES_BAD.search(email):
        return None  # SES reads plain `address,REASON` lines
    return f"{email},{'COMPLAINT' if row['type'] == 'complaint' else 'BOUNCE'}\n"


def _postfix(row):
    email = row["email"]
    if not _POSTFIX_KEY.fullmatch(email):
        return None
    why = _CTRL.sub(" ", f"{row['type'] or 'manual'} {row['reason'] or ''}".strip())
    return f"{email} REJECT suppressed by bouncesink: {why}\n"


def _fields(row):
    return [row[k] for k in EXPORT_KEYS]


def render(fmt: str, rows: Iterable[dict], stats: dict | None = None) -> Iterator[str]:
    """Text chunks of `rows` in format `fmt`. `stats` (if given) gets rows, skipped, last_seq."""
    if stats is not None:
        stats.setdefault("rows", 0)
        stats.setdefault("skipped", 0)
    if fmt == "csv":
        return _chunks(rows, _fields, stats, ",".join(EXPORT_KEYS) + "\n", csv_rows=True)
    if fmt == "jsonl":
        return _chunks(rows, _jsonl, stats)
    if fmt == "mailchimp":
        return _chunks(rows, lambda r: (r["email"],), stats, "Email Address\n", csv_rows=True)
    if fmt == "listmonk":
        return _chunks(rows, _listmonk, stats, "email,name,attributes\n")
    if fmt == "ses":
        return _chunks(rows, _ses, stats)
    if fmt == "postfix":
        return _chunks(rows, _postfix, stats)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
