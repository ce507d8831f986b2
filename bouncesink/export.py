"""Suppression rows -> each tool's import format. Pure: rows in, text chunks out.

Rows are the dicts of `SQLStore.suppressions()` (EXPORT_KEYS plus `seq`) or, with removals,
of `SQLStore.change_rows()` (the same keys plus `action`: suppress or unsuppress). `render`
streams: it yields one text chunk per `CHUNK` rows, so an export of any size runs in
constant memory. Each format follows its tool's documented import format (checked December
2026; the page is cited beside each):

- csv, jsonl: ours; every row has EXPORT_KEYS (and `action` with removals).
- plain: one address per line: Mailman 3's `mailman delmembers -f FILE`
  (https://docs.mailman3.org/projects/mailman/en/latest/src/mailman/commands/docs/members.html)
  and SendGrid's suppression upload (a CSV whose only column is the address,
  https://www.twilio.com/docs/sendgrid/ui/sending-email/index-suppressions).
- mailchimp: a CSV whose `Email Address` column Mailchimp's contact import maps to the
  address (https://mailchimp.com/help/import-contacts-mailchimp/); import complaints as
  unsubscribed and bounces as cleaned: split them with `--type`.
- listmonk: the subscriber-import CSV `email,name,attributes` (attributes JSON;
  https://listmonk.app/docs/apis/import/), for its blocklist mode. listmonk requires a name
  (we give the local part) and refuses an address unless Go's net/mail.ParseAddress returns
  it unchanged (internal/subimporter SanitizeEmail): such rows are skipped.
- mailgun: the bounces import CSV, header `address,code,error,created_at`
  (https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Bounces/).
- ses: the account-level suppression list bulk import (CreateImportJob, CSV, no header):
  `address,BOUNCE` or `address,COMPLAINT`
  (https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html). SES takes
  ASCII addresses only: the domain goes out in Punycode (IDNA), a non-ASCII local part
  cannot be sent and is skipped. With removals, the caller writes one file per
  SuppressionListImportAction (PUT and DELETE): `render_ses_actions`.
- postfix: an access(5) table, `address REJECT text`, for postmap and
  check_recipient_access. access(5) keys cannot hold white space and `#` starts a comment,
  so addresses that cannot be keys are skipped (and counted). A map must be whole: it is
  always a complete snapshot of what is suppressed.

Spreadsheets run a cell that begins with `=`, `+`, `-`, `@`, tab or CR as a formula (CSV
injection). As OWASP's CSV Injection page recommends
(https://owasp.org/www-community/attacks/CSV_Injection), such cells are prefixed with a
single quote in every CSV we write. An address is a cell too: in csv it is neutralised the
same way; the tool formats (mailchimp, listmonk, mailgun) skip such an address instead, since
a quoted one would import as a different address.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator

EXPORT_KEYS = ("email", "reason", "type", "status", "first_seen", "last_seen", "count")
FORMATS = ("csv", "jsonl", "plain", "mailchimp", "listmonk", "mailgun", "ses", "postfix")
# Formats that can say "this address is no longer suppressed".
REMOVAL_FORMATS = ("csv", "jsonl", "ses")
CHUNK = 2000

_POSTFIX_KEY = re.compile(r"[^\s#][^\s]*")
_CTRL = re.compile(r"[\x00-\x1f\x7f]+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
# RFC 5322 3.2.3 atext (net/mail's isAtext; it also takes UTF-8), dot-atom local part.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LISTMONK_SOURCE = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_ATEXT}+(?:\.{_ATEXT}+)*|\[[\x21-\x5a\x5e-\x7e]*\])"


def _listmonk_ok(email: str) -> bool:
    """Compiled on first use: the class up to U+10FFFF costs ~10 ms, and every command that
    builds the CLI's parser imports this module for its format names."""
    return re.fullmatch(_LISTMONK_SOURCE, email) is not None  # re's own cache keeps it
_SES_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+")


def neutralise(cell):
    """A cell a spreadsheet will not run (OWASP CSV Injection): prefix a single quote."""
    if isinstance(cell, str) and cell.startswith(_FORMULA):
        return "'" + cell
    return cell


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
    """writerow that neutralises formula cells, joins plain fields itself and leaves quoting
    to csv only when needed."""
    slow = csv.writer(buf, lineterminator="\n").writerow
    write = buf.write

    def writerow(fields):
        fields = [("'" + f if f.startswith(_FORMULA) else f) if type(f) is str else f
                  for f in fields]
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
    action = f', "action": {_jstr(row["action"])}' if "action" in row else ""
    return (f'{{"email": {_jstr(row["email"])}, "reason": {_jstr(row["reason"])},'
            f' "type": {_jstr(row["type"])}, "status": {_jstr(row["status"])},'
            f' "first_seen": {_jstr(row["first_seen"])}, "last_seen": {_jstr(row["last_seen"])},'
            f' "count": {_jstr(row["count"])}{action}}}\n')


def listmonk_accepts(email: str) -> bool:
    """Whether listmonk's importer takes the address: net/mail.ParseAddress must give it
    back unchanged (so no display name, no quoted local part, no comments), at most 1,000
    characters (internal/subimporter: SanitizeEmail, ValidateFields)."""
    return len(email) <= 1000 and email == email.strip().lower() and bool(
        _listmonk_ok(email))


def _listmonk(row):
    email = row["email"]
    if not listmonk_accepts(email) or email.startswith(_FORMULA):
        return None
    attrs = (f'{{"bouncesink":{{"reason":{_jstr(row["reason"])},"type":{_jstr(row["type"])},'
             f'"status":{_jstr(row["status"])},"last_seen":{_jstr(row["last_seen"])}}}}}')
    name = neutralise(email.rpartition("@")[0] or email)
    # The attributes always need CSV quoting: quote here rather than via the csv module.
    return f'{_q(email)},{_q(name)},"{attrs.replace(chr(34), chr(34) * 2)}"\n'


def _q(field: str) -> str:
    """One CSV field, quoted as the csv module would (only when needed)."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def ses_address(email: str) -> str | None:
    """The address as SES takes it (ASCII local part, Punycode domain), or None."""
    local, at, domain = email.rpartition("@")
    if not at or not local or not _SES_LOCAL.fullmatch(local) or ".." in local \
            or local.startswith(".") or local.endswith("."):
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None
    if not re.fullmatch(r"(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+",
                        ascii_domain):
        return None
    return f"{local}@{ascii_domain}"


def _ses(row):
    email = ses_address(row["email"])
    if email is None:
        return None
    return f"{email},{'COMPLAINT' if row['type'] == 'complaint' else 'BOUNCE'}\n"


def _postfix(row):
    email = row["email"]
    if not _POSTFIX_KEY.fullmatch(email):
        return None
    why = _CTRL.sub(" ", f"{row['type'] or 'manual'} {row['reason'] or ''}".strip())
    return f"{email} REJECT suppressed by bouncesink: {why}\n"


def _plain(row):
    email = row["email"]
    return None if _CTRL.search(email) or not email.strip() else email + "\n"


def _tool_email(email: str) -> bool:
    """An address a tool's CSV import can take as it is (not formula-leading)."""
    return not email.startswith(_FORMULA)


def _mailgun(row):
    email = row["email"]
    if not _tool_email(email):
        return None
    # code: the SMTP reply code Mailgun shows; ours is the enhanced status's class.
    status = row["status"] or ""
    code = "550" if status.startswith("5") or not status else "450" if status.startswith("4") else "550"
    error = f"{row['type'] or ''} {row['reason'] or ''} {status}".strip()
    return (email, code, error, row["last_seen"] or "")


def _fields(row):
    return [row[k] for k in EXPORT_KEYS]


def _fields_action(row):
    return [row[k] for k in EXPORT_KEYS] + [row["action"]]


def render(fmt: str, rows: Iterable[dict], stats: dict | None = None,
           removals: bool = False) -> Iterator[str]:
    """Text chunks of `rows` in format `fmt`. `stats` (if given) gets rows, skipped, last_seq.

    `removals`: the rows carry an `action` column (csv, jsonl)."""
    if stats is not None:
        stats.setdefault("rows", 0)
        stats.setdefault("skipped", 0)
    if fmt == "csv":
        if removals:
            return _chunks(rows, _fields_action, stats, ",".join(EXPORT_KEYS) + ",action\n",
                           csv_rows=True)
        return _chunks(rows, _fields, stats, ",".join(EXPORT_KEYS) + "\n", csv_rows=True)
    if fmt == "jsonl":
        return _chunks(rows, _jsonl, stats)
    if fmt == "plain":
        return _chunks(rows, _plain, stats)
    if fmt == "mailchimp":
        return _chunks(rows, lambda r: (r["email"],) if _tool_email(r["email"]) else None,
                       stats, "Email Address\n", csv_rows=True)
    if fmt == "listmonk":
        return _chunks(rows, _listmonk, stats, "email,name,attributes\n")
    if fmt == "mailgun":
        return _chunks(rows, _mailgun, stats, "address,code,error,created_at\n", csv_rows=True)
    if fmt == "ses":
        return _chunks(rows, _ses, stats)
    if fmt == "postfix":
        return _chunks(rows, _postfix, stats)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
