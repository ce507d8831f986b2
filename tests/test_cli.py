"""The CLI's own contract: exit codes, one-line errors, the core commands' output."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from bouncesink.cli import main
from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store

DSN = b"""From: MAILER-DAEMON@mx.example.net
To: bounces@bounces.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

Message-ID: <campaign-1@example.org>
Subject: Our news

--B--
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store_path(tmp_path):
    """A real SQLite store holding one hard bounce and one soft bounce."""
    path = tmp_path / "store.db"
    store = open_store(str(path))
    env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"])
    refs = store.add_messages([(env, b"raw-1"), (env, b"raw-2")])
    store.record([
        (refs[0], env, Parsed("dsn", [Result("Gone@Example.com", status="5.1.1", reason="userunknown",
                                             type="hard", rule="status 5.1.1")]), None),
        (refs[1], env, Parsed("dsn", [Result("full@example.net", status="4.2.2", reason="mailboxfull",
                                             type="soft", rule="status 4.2.2")]), None),
    ], PolicyConfig())
    store.close()
    return path


def test_parse_prints_one_json_line_per_result(tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(DSN)
    code, out, err = run(capsys, "parse", str(tmp_path))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    for key in ("file", "recipient", "action", "status", "reply_code", "diagnostic", "reason",
                "type", "rule", "reporting_mta", "remote_mta", "message_id"):
        assert key in row
    assert row["recipient"] == "gone@example.com"
    assert (row["status"], row["reason"], row["type"]) == ("5.1.1", "userunknown", "hard")
    assert row["file"].endswith("a.eml")


def test_parse_reads_a_tree_in_path_order_without_entering_linked_directories(tmp_path, capsys):
    # path order compares names part by part: "a/x" before "a-b/y" though "-" sorts before "/"
    for rel in ("a-b/y.eml", "a/x.eml", "a/sub/z.eml", ".hidden/h.eml", "b.eml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(DSN)
    (tmp_path / "linked").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "c.eml").symlink_to(tmp_path / "b.eml")
    code, out, err = run(capsys, "parse", str(tmp_path) + "/")
    assert code == 0, err
    files = [json.loads(line)["file"] for line in out.splitlines()]
    assert files == [f"{tmp_path}/{rel}" for rel in
                     (".hidden/h.eml", "a/sub/z.eml", "a/x.eml", "a-b/y.eml", "b.eml", "c.eml")]


def test_parse_prints_nothing_for_a_plain_message(tmp_path, capsys):
    (tmp_path / "plain.eml").write_bytes(b"From: a@example.com\nTo: b@example.org\nSubject: hi\n\nhello\n")
    code, out, _ = run(capsys, "parse", str(tmp_path / "plain.eml"))
    assert (code, out) == (0, "")


def test_parse_missing_file_is_one_line_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "parse", str(tmp_path / "nope.eml"))
    assert code == 2
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_export_csv_has_the_contract_columns(store_path, capsys):
    code, out, err = run(capsys, "export", "--db", str(store_path), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["email"] for r in rows] == ["gone@example.com"]  # the soft one is not suppressed
    assert set(rows[0]) >= {"email", "reason", "type", "status", "first_seen", "last_seen", "count"}
    assert rows[0]["reason"] == "userunknown" and rows[0]["type"] == "hard"
    assert rows[0]["count"] == "1"


def test_export_jsonl(store_path, capsys):
    code, out, _ = run(capsys, "export", "--db", str(store_path), "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["email"] for line in out.splitlines()] == ["gone@example.com"]


def test_export_since_the_future_is_empty(store_path, capsys):
    code, out, _ = run(capsys, "export", "--db", str(store_path), "--format", "jsonl",
                       "--since", "2999-01-01T00:00:00Z")
    assert (code, out) == (0, "")


def test_export_bad_since_is_one_line_exit_2(store_path, capsys):
    code, _, err = run(capsys, "export", "--db", str(store_path), "--since", "yesterday")
    assert code == 2 and "--since" in err and err.count("\n") == 1


def test_stats_json_counts_by_type_reason_domain(store_path, capsys):
    code, out, _ = run(capsys, "stats", "--db", str(store_path), "--json")
    assert code == 0
    stats = json.loads(out)
    for label in ("last_24h", "all_time"):
        assert stats[label]["by_type"] == {"hard": 1, "soft": 1}
        assert stats[label]["by_reason"] == {"mailboxfull": 1, "userunknown": 1}
        assert stats[label]["by_domain"] == {"example.com": 1, "example.net": 1}
    assert stats["suppressed"] == 1


def test_stats_text(store_path, capsys):
    code, out, _ = run(capsys, "stats", "--db", str(store_path))
    assert code == 0 and "userunknown 1" in out


def test_missing_store_is_one_line_exit_1(tmp_path, capsys):
    code, _, err = run(capsys, "stats", "--db", str(tmp_path / "missing.db"))
    assert code == 1 and "no such store" in err and err.count("\n") == 1


def test_unreadable_store_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    code, _, err = run(capsys, "export", "--db", str(bad))
    assert code == 1 and "cannot open store" in err and "Traceback" not in err


def test_malformed_config_is_one_line_exit_2(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[server\nlisten = ")
    code, _, err = run(capsys, "stats", "--config", str(cfg))
    assert code == 2 and "invalid TOML" in err and err.count("\n") == 1


def test_serve_without_domain_refuses(tmp_path, capsys):
    code, _, err = run(capsys, "serve", "--db", str(tmp_path / "s.db"))
    assert code == 2 and "domain" in err


def test_console_script_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "bouncesink", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("bouncesink ")
