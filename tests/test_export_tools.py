"""Exports that import cleanly and carry removals: --include-removals (csv, jsonl, SES PUT
and DELETE files), --type, manual reasons, plain and mailgun, SES-acceptable addresses,
listmonk's parser, CSV formula neutralisation (OWASP), --output safety and row counts."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from bouncesink import export
from bouncesink.store import open_store
from test_export import ROWS, row, run, suppress_many, text


def complaint(db, address):
    from test_store import bounce
    s = open_store(db)
    try:
        bounce(s, address, "complaint", "abuse", "")
    finally:
        s.close()


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "t.db")
    suppress_many(path, ["a@example.com", "b@example.com"])
    s = open_store(path)
    s.suppress_manual("m@example.com", "asked by phone")
    s.unsuppress("a@example.com", "resubscribed")
    s.close()
    complaint(path, "c@example.com")
    return path


def test_include_removals_csv_has_an_action_column_in_commit_order(capsys, db):
    code, out, _ = run(capsys, "export", "--db", db, "--include-removals")
    got = list(csv.DictReader(io.StringIO(out)))
    assert tuple(got[0]) == export.EXPORT_KEYS + ("action",)
    assert [(g["email"], g["action"]) for g in got] == [
        ("a@example.com", "suppress"), ("b@example.com", "suppress"), ("m@example.com", "suppress"),
        ("a@example.com", "unsuppress"), ("c@example.com", "suppress")]
    assert got[3]["reason"] == "resubscribed" and got[3]["type"] == "hard"


def test_cursor_with_removals_sees_an_unsuppression(capsys, db):
    code, out, _ = run(capsys, "export", "--db", db, "--format", "jsonl", "--include-removals",
                       "--cursor", "sync")
    assert code == 0 and len(out.splitlines()) == 5
    s = open_store(db)
    s.unsuppress("b@example.com", "fixed")
    s.close()
    code, out, _ = run(capsys, "export", "--db", db, "--format", "jsonl", "--include-removals",
                       "--cursor", "sync")
    [line] = out.splitlines()
    assert json.loads(line)["email"] == "b@example.com" and json.loads(line)["action"] == "unsuppress"
    code, out, _ = run(capsys, "export", "--db", db, "--format", "jsonl", "--include-removals",
                       "--cursor", "sync")
    assert out == ""


def test_ses_with_removals_writes_a_put_and_a_delete_file(capsys, db, tmp_path):
    out = tmp_path / "ses.csv"
    code, _, err = run(capsys, "export", "--db", db, "--format", "ses", "--include-removals",
                       "--output", str(out))
    assert code == 0
    assert (tmp_path / "ses.put.csv").read_text().splitlines() == [
        "a@example.com,BOUNCE", "b@example.com,BOUNCE", "m@example.com,BOUNCE",
        "c@example.com,COMPLAINT"]
    assert (tmp_path / "ses.delete.csv").read_text().splitlines() == ["a@example.com,BOUNCE"]
    assert "wrote 5 row(s)" in err
    code, _, err = run(capsys, "export", "--db", db, "--format", "ses", "--include-removals")
    assert code == 2 and "--output" in err


def test_ses_takes_ascii_local_parts_and_punycode_domains():
    rows = [row("ok@example.com"), row("ünï@example.com"), row("user@bücher.example"),
            row('"q x"@example.com')]
    stats: dict = {}
    got = text("ses", rows, stats).splitlines()
    assert got == ["ok@example.com,BOUNCE", "user@xn--bcher-kva.example,BOUNCE"]
    assert stats["skipped"] == 2


def test_ses_skips_are_counted_on_stderr(capsys, tmp_path):
    db = str(tmp_path / "s.db")
    suppress_many(db, ["ok@example.com", "ünï@example.com"])
    code, out, err = run(capsys, "export", "--db", db, "--format", "ses")
    assert out.splitlines() == ["ok@example.com,BOUNCE"]
    assert "skipped 1 address(es): SES takes ASCII addresses only" in err


def test_type_filter_splits_complaints_from_bounces(capsys, db):
    code, out, _ = run(capsys, "export", "--db", db, "--format", "mailchimp", "--type", "complaint")
    assert out.splitlines() == ["Email Address", "c@example.com"]
    code, out, _ = run(capsys, "export", "--db", db, "--format", "plain", "--type", "hard,soft")
    assert out.splitlines() == ["b@example.com"]
    code, _, err = run(capsys, "export", "--db", db, "--type", "bogus")
    assert code == 2 and "bogus" in err


def test_manual_suppression_carries_the_persons_reason(capsys, db):
    code, out, _ = run(capsys, "export", "--db", db, "--type", "manual")
    [got] = list(csv.DictReader(io.StringIO(out)))
    assert (got["type"], got["reason"]) == ("manual", "asked by phone")
    code, out, _ = run(capsys, "export", "--db", db, "--format", "postfix", "--type", "manual")
    assert out == "m@example.com REJECT suppressed by bouncesink: manual asked by phone\n"


def test_plain_and_mailgun_formats():
    assert text("plain").splitlines() == [r["email"] for r in ROWS]
    got = list(csv.DictReader(io.StringIO(text("mailgun"))))
    assert tuple(got[0]) == ("address", "code", "error", "created_at")
    assert (got[0]["address"], got[0]["code"]) == ("alice@example.com", "550")
    assert got[0]["error"] == "hard userunknown 5.1.1"


@pytest.mark.parametrize("fmt", ["csv", "mailchimp", "listmonk", "mailgun"])
def test_formula_cells_are_neutralised_as_owasp_recommends(fmt):
    evil = [row("=cmd|' /C calc'!A0@example.com", reason="=HYPERLINK(\"http://x\")"),
            row("+1@example.com"), row("-2@example.com"), row("@3@example.com"),
            row("ok@example.com", reason="+SUM(A1)")]
    evil[-1]["status"] = "\tx"
    out = text(fmt, evil)
    for r in csv.reader(io.StringIO(out)):
        for cell in r:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (fmt, cell)
    if fmt == "csv":   # our own file keeps every row, neutralised
        emails = [r["email"] for r in csv.DictReader(io.StringIO(out))]
        assert emails[0] == "'=cmd|' /C calc'!A0@example.com" and len(emails) == 5
        assert list(csv.DictReader(io.StringIO(out)))[4]["reason"] == "'+SUM(A1)"
    else:              # a tool would import a quoted address as another one: skipped
        assert "ok@example.com" in out and "+1@example.com" not in out


def test_output_refuses_a_symlink_a_fifo_and_a_device(capsys, db, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target, word in ((link, "symbolic link"), (fifo, "FIFO"), ("/dev/null", "device"),
                         (tmp_path, "directory")):
        code, _, err = run(capsys, "export", "--db", db, "--output", str(target))
        assert code == 2 and word in err and err.count("\n") == 1, err
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_replaces_a_regular_file_atomically_and_counts_rows(capsys, db, tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("old\n")
    code, stdout, err = run(capsys, "export", "--db", db, "--format", "plain", "--output", str(out))
    assert code == 0 and stdout == ""
    assert out.read_text().splitlines() == ["b@example.com", "m@example.com", "c@example.com"]
    assert err.strip() == f"bouncesink: wrote 3 row(s) to {out}"


def test_postfix_map_is_always_a_complete_snapshot(capsys, db):
    code, _, err = run(capsys, "export", "--db", db, "--format", "postfix", "--cursor", "x")
    assert code == 2 and "complete snapshot" in err
    code, _, err = run(capsys, "export", "--db", db, "--format", "postfix", "--include-removals")
    assert code == 2
    code, out, _ = run(capsys, "export", "--db", db, "--format", "postfix")
    assert [line.split()[0] for line in out.splitlines()] == [
        "b@example.com", "m@example.com", "c@example.com"]


def test_why_shows_recorded_decisions_only_and_escapes_control_characters(capsys, tmp_path):
    from test_store import bounce
    db = str(tmp_path / "w.db")
    s = open_store(db)
    bounce(s, "x@example.com", "autoreply", "vacation", "")
    s.suppress_manual("x@example.com", "evil \x1b[2J\x07 reason \u202e")
    s.close()
    code, out, _ = run(capsys, "why", "x@example.com", "--db", db)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\u202e" in out
    assert "-> ignore: type autoreply: ignore" in out
    assert "no event recorded" not in out
