"""Exports (bouncesink.export and `bouncesink export`): each tool's import format, cursors."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from bouncesink import export
from bouncesink.cli import main
from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def row(email, type_="hard", reason="userunknown", seq=1):
    return {"email": email, "reason": reason, "type": type_, "status": "5.1.1",
            "first_seen": "2025-03-01T09:00:00.000000Z", "last_seen": "2025-03-02T09:00:00.000000Z",
            "count": 2, "seq": seq}


ROWS = [row("alice@example.com", seq=1), row("bob@example.net", "complaint", "feedback", seq=2),
        row("carol@example.org", "soft", "soft-escalated", seq=3)]


def text(fmt, rows=ROWS, stats=None):
    return "".join(export.render(fmt, rows, stats))


def test_csv_has_the_contract_columns():
    got = list(csv.DictReader(io.StringIO(text("csv"))))
    assert tuple(got[0]) == export.EXPORT_KEYS
    assert [g["email"] for g in got] == [r["email"] for r in ROWS]


def test_jsonl_every_row_has_email():
    lines = [json.loads(line) for line in text("jsonl").splitlines()]
    assert [line["email"] for line in lines] == [r["email"] for r in ROWS]
    assert set(lines[0]) == set(export.EXPORT_KEYS)


def test_mailchimp_has_an_email_address_column():
    got = list(csv.DictReader(io.StringIO(text("mailchimp"))))
    assert [g["Email Address"] for g in got] == [r["email"] for r in ROWS]


def test_listmonk_import_csv():
    got = list(csv.DictReader(io.StringIO(text("listmonk"))))
    assert list(got[0]) == ["email", "name", "attributes"]
    assert (got[0]["email"], got[0]["name"]) == ("alice@example.com", "alice")
    assert json.loads(got[1]["attributes"])["bouncesink"]["type"] == "complaint"


def test_ses_suppression_import_lines():
    assert text("ses").splitlines() == ["alice@example.com,BOUNCE", "bob@example.net,COMPLAINT",
                                        "carol@example.org,BOUNCE"]


def test_ses_and_postfix_skip_what_they_cannot_hold_and_count_it():
    rows = [row('"a b"@example.com'), row("ok@example.com", seq=2)]
    stats = {}
    assert text("ses", rows, stats) == "ok@example.com,BOUNCE\n"
    assert (stats["rows"], stats["skipped"], stats["last_seq"]) == (2, 1, 2)
    assert text("postfix", [row("#x@example.com"), row('"a b"@example.com')]) == ""


def test_postfix_access_lines():
    assert text("postfix").splitlines()[0] == \
        "alice@example.com REJECT suppressed by bouncesink: hard userunknown"


def postfix_config_dir(tmp_path) -> str:
    """A config directory of our own: postmap reads main.cf, and this machine's Postfix is
    not configured (nor should a test depend on it)."""
    d = tmp_path / "postfix-etc"
    d.mkdir(exist_ok=True)
    (d / "main.cf").write_text("compatibility_level = 3.6\n")
    return str(d)


@pytest.mark.skipif(not shutil.which("postmap"), reason="postfix's postmap is not installed")
def test_postmap_loads_the_postfix_export(tmp_path):
    table = tmp_path / "suppressed"
    table.write_text(text("postfix"))
    conf = postfix_config_dir(tmp_path)
    subprocess.run(["postmap", "-c", conf, f"hash:{table}"], check=True, capture_output=True)
    got = subprocess.run(["postmap", "-c", conf, "-q", "bob@example.net", f"hash:{table}"],
                         capture_output=True, text=True, check=True).stdout
    assert got.strip() == "REJECT suppressed by bouncesink: complaint feedback"


def test_unknown_format_raises():
    with pytest.raises(ValueError):
        export.render("xml", ROWS)


def test_render_streams_in_chunks():
    rows = (row(f"u{i}@example.com", seq=i) for i in range(export.CHUNK * 2 + 5))
    chunks = list(export.render("csv", rows))
    assert len(chunks) == 3
    assert sum(c.count("\n") for c in chunks) == export.CHUNK * 2 + 5 + 1


# -- the command ------------------------------------------------------------------------------
def suppress_many(path, addresses, at=T0):
    store = open_store(path)
    try:
        for i, a in enumerate(addresses):
            env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                           received_at=at + timedelta(minutes=i))
            (ref,) = store.add_messages([(env, b"x")])
            res = Result(recipient=a, type="hard", reason="userunknown", status="5.1.1")
            store.record([(ref, env, Parsed(kind="dsn", results=[res]), None)], PolicyConfig())
    finally:
        store.close()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cursor_exports_only_what_is_new(capsys, tmp_path):
    db = str(tmp_path / "e.db")
    suppress_many(db, ["a@example.com", "b@example.com"])
    code, out, _ = run(capsys, "export", "--db", db, "--format", "ses", "--cursor", "cron")
    assert code == 0 and out.splitlines() == ["a@example.com,BOUNCE", "b@example.com,BOUNCE"]
    code, out, _ = run(capsys, "export", "--db", db, "--format", "ses", "--cursor", "cron")
    assert out == ""
    suppress_many(db, ["c@example.com"])
    code, out, _ = run(capsys, "export", "--db", db, "--format", "ses", "--cursor", "cron")
    assert out.splitlines() == ["c@example.com,BOUNCE"]
    # another cursor name starts from the beginning
    code, out, _ = run(capsys, "export", "--db", db, "--format", "ses", "--cursor", "other")
    assert len(out.splitlines()) == 3


def test_output_file_and_since(capsys, tmp_path):
    db = str(tmp_path / "e.db")
    suppress_many(db, ["a@example.com", "b@example.com", "c@example.com"])
    target = tmp_path / "out.csv"
    code, out, _ = run(capsys, "export", "--db", db, "--output", str(target),
                       "--since", "2025-03-01T09:01:00Z")
    assert code == 0 and out == ""
    got = list(csv.DictReader(target.open()))
    assert [g["email"] for g in got] == ["b@example.com", "c@example.com"]
    assert got[0]["count"] == "1" and got[0]["first_seen"].startswith("2025-03-01T09:01")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unsuppressed_and_manual_rows(capsys, tmp_path):
    db = str(tmp_path / "e.db")
    suppress_many(db, ["a@example.com"])
    assert run(capsys, "unsuppress", "a@example.com", "--db", db)[0] == 0
    assert run(capsys, "suppress", "m@example.com", "--reason", "asked", "--db", db)[0] == 0
    code, out, _ = run(capsys, "export", "--db", db, "--format", "jsonl")
    (only,) = [json.loads(line) for line in out.splitlines()]
    assert (only["email"], only["type"], only["count"]) == ("m@example.com", "manual", 0)


def test_bad_since_and_unwritable_output_are_one_line(capsys, tmp_path):
    db = str(tmp_path / "e.db")
    suppress_many(db, ["a@example.com"])
    code, _, err = run(capsys, "export", "--db", db, "--since", "yesterday")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "export", "--db", db, "--output",
                       str(tmp_path / "no" / "such" / "dir.csv"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


def test_missing_store_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "export", "--db", str(tmp_path / "nope.db"))
    assert code == 1 and err.count("\n") == 1


def test_csv_quotes_what_needs_quoting():
    rows = [row('"odd,one"@example.com'), row("plain@example.com", seq=2)]
    rows[0]["status"] = rows[1]["reason"] = None
    got = list(csv.reader(io.StringIO(text("csv", rows))))
    assert got[1][0] == '"odd,one"@example.com' and got[1][3] == ""
    assert got[2][:2] == ["plain@example.com", ""] and len(got[2]) == len(export.EXPORT_KEYS)


def test_listmonk_skips_what_its_parser_rejects_and_keeps_the_rest():
    """listmonk takes an address only if Go's net/mail gives it back unchanged: a quoted
    local part, a display name or upper case come back different."""
    rows = [row('"x,y"@example.com'), row("o'brien+tag@example.com"), row("Ann@Example.com"),
            row("a..b@example.com"), row("ünï@example.com")]
    stats: dict = {}
    got = list(csv.DictReader(io.StringIO("".join(export.render("listmonk", rows, stats)))))
    assert [g["email"] for g in got] == ["o'brien+tag@example.com", "ünï@example.com"]
    assert got[0]["name"] == "o'brien+tag"
    assert json.loads(got[0]["attributes"])["bouncesink"]["reason"] == "userunknown"
    assert stats["skipped"] == 3


