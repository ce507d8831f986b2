"""reparse and prune, on a real SQLite store, with the real parser over tests/data messages."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bouncesink.cli import main
from bouncesink.config import Config
from bouncesink.model import Envelope, Parsed, utcnow
from bouncesink.parse import parse
from bouncesink.reparse import Change, diff, reparse
from bouncesink.store import open_store

DATA = Path(__file__).parent / "data"
HARD = (DATA / "dsn-hard-userunknown.eml").read_bytes()     # alice@example.com hard/userunknown
SOFT = (DATA / "dsn-soft-mailboxfull.eml").read_bytes()     # bob@example.com soft/mailboxfull
TWO = (DATA / "dsn-two-recipients.eml").read_bytes()        # carol@, dave@ hard/userunknown


def old_rules(raw: bytes, **kw) -> Parsed:
    """A parser with a stale rule: it took every 5.1.1 for a full mailbox (soft)."""
    parsed = parse(raw)
    parsed.results = [dataclasses.replace(r, type="soft", reason="mailboxfull",
                                          rule="old rule") if r.status == "5.1.1" else r
                      for r in parsed.results]
    return parsed


def knew_nothing(raw: bytes, **kw) -> Parsed:
    return Parsed(kind="unrecognised")


def ingest(store, raw: bytes, parser, days_ago: float = 0) -> int:
    """Store and classify one message the way the server does (its Ingest path)."""
    env = Envelope(peer="192.0.2.7", mail_from="", rcpt_tos=["bounces@bounces.example.org"],
                   received_at=utcnow() - timedelta(days=days_ago))
    (ref,) = store.add_messages([(env, raw)])
    store.record([(ref, env, parser(raw), None)], Config().policy)
    return ref


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty store of each back-end (PostgreSQL skips where none answers)."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "store.db"), durability="off")
        yield s
        s.close()
    else:
        from pgschema import fresh_schema

        with fresh_schema() as schema:
            s = open_store(schema.url(), durability="off")
            yield s
            s.close()


def events(store, address, action="reclassified"):
    return [e for e in store.history(address)["events"] if e["action"] == action]


# -- diff (pure) -----------------------------------------------------------------------------
def test_diff_of_an_unchanged_message_is_empty():
    parsed = parse(HARD)
    current = [(1, "alice@example.com", "hard", "userunknown")]
    assert diff(current, parsed) == []


def test_diff_names_changed_new_and_gone_recipients():
    parsed = parse(TWO)
    current = [(1, "carol@example.com", "soft", "mailboxfull"),
               (2, "erin@example.com", "hard", "userunknown")]
    kinds = {(c.kind, c.recipient) for c in diff(current, parsed)}
    assert kinds == {("changed", "carol@example.com"), ("new", "dave@example.net"),
                     ("gone", "erin@example.com")}


def test_diff_of_a_message_recognised_for_the_first_time():
    changes = diff([], parse(TWO))
    assert [c.kind for c in changes] == ["first", "first"]


# -- reparse ----------------------------------------------------------------------------------
def test_better_rules_reclassify_and_suppress(store):
    ref = ingest(store, HARD, old_rules)
    assert not store.history("alice@example.com")["suppressed"]

    summary = reparse(store, Config())

    assert (summary.messages, summary.changed) == (1, 1)
    (event,) = events(store, "alice@example.com")
    assert (event["type"], event["reason"], event["actor"]) == ("hard", "userunknown", "reparse")
    assert event["rule"].startswith("reparse: soft/mailboxfull -> hard/userunknown")
    assert store.current_results(ref)[0][2:] == ("hard", "userunknown")
    assert store.history("alice@example.com")["suppressed"]
    # The old result is kept as it was: history is appended to, never rewritten.
    (result,) = store.history("alice@example.com")["results"]
    assert (result["type"], result["reason"]) == ("soft", "mailboxfull")


def test_second_run_records_nothing(store):
    ingest(store, HARD, old_rules)
    reparse(store, Config())
    before = store.history("alice@example.com")["events"]
    summary = reparse(store, Config())
    assert (summary.messages, summary.changed) == (1, 0)
    assert store.history("alice@example.com")["events"] == before


def test_unchanged_classifications_record_nothing(store):
    ingest(store, SOFT, parse)
    summary = reparse(store, Config())
    assert summary.changed == 0
    assert events(store, "bob@example.com") == []


def test_unrecognised_message_is_classified_when_the_parser_learns_it(store):
    ref = ingest(store, TWO, knew_nothing)
    summary = reparse(store, Config())
    assert summary.newly_recognised == 1 and summary.changed == 2
    assert [r[1:] for r in store.current_results(ref)] == [
        ("carol@example.com", "hard", "userunknown"), ("dave@example.net", "hard", "userunknown")]
    assert store.history("carol@example.com")["suppressed"]
    assert store.stats()["all_time"]["unrecognised"] == 0


def test_since_limits_the_messages(store):
    ingest(store, HARD, old_rules, days_ago=10)
    ingest(store, TWO, old_rules, days_ago=1)
    summary = reparse(store, Config(), since=utcnow() - timedelta(days=2))
    assert summary.messages == 1
    assert events(store, "alice@example.com") == []
    assert len(events(store, "carol@example.com")) == 1


def test_dry_run_records_nothing(store):
    ingest(store, HARD, old_rules)
    summary = reparse(store, Config(), dry_run=True)
    assert summary.changed == 1
    assert events(store, "alice@example.com") == []
    assert not store.history("alice@example.com")["suppressed"]


def test_gone_is_recorded_once(store):
    ref = ingest(store, HARD, parse)
    summary = reparse(store, Config(), parse=knew_nothing)
    assert [c.kind for _, c, _ in summary.changes] == ["gone"]
    assert store.current_results(ref)[0][2:] == ("", "")
    assert reparse(store, Config(), parse=knew_nothing).changed == 0


def test_cli_reparse_prints_one_line_per_change(tmp_path, capsys):
    db = tmp_path / "cli.db"
    s = open_store(str(db))
    ref = ingest(s, HARD, old_rules)
    s.close()
    assert main(["reparse", "--db", str(db), "--no-dns"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"message {ref}: changed alice@example.com  soft/mailboxfull =>"
                      f" hard/userunknown  -> suppress")
    assert out[-1].startswith("1 messages re-parsed, 1 results changed (recorded)")


def test_cli_reparse_rejects_a_bad_since(tmp_path, capsys):
    open_store(str(tmp_path / "x.db")).close()
    assert main(["reparse", "--db", str(tmp_path / "x.db"), "--since", "yesterday"]) == 2
    assert "--since: not an ISO 8601 time" in capsys.readouterr().err


# -- prune ------------------------------------------------------------------------------------
def test_prune_drops_old_raw_bodies_and_keeps_results_and_events(store):
    old = ingest(store, HARD, parse, days_ago=100)
    new = ingest(store, SOFT, parse, days_ago=1)
    before = store.history("alice@example.com")

    count, size = store.prune_raw(utcnow() - timedelta(days=90))

    assert (count, size) == (1, len(HARD))
    assert store.message(old).raw == b""
    assert store.message(new).raw == SOFT
    assert store.history("alice@example.com") == before
    assert reparse(store, Config()).skipped == 1


def test_prune_keeps_unrecognised_and_pending_unless_told(store):
    unrec = ingest(store, b"Subject: hello\r\n\r\nnot a bounce\r\n", parse, days_ago=100)
    env = Envelope(peer="192.0.2.7", mail_from="", rcpt_tos=["b@bounces.example.org"],
                   received_at=utcnow() - timedelta(days=100))
    (pending,) = store.add_messages([(env, HARD)])
    cutoff = utcnow() - timedelta(days=90)

    assert store.prune_raw(cutoff) == (0, 0)
    assert store.prune_raw(cutoff, keep_unrecognised=False)[0] == 1
    assert store.message(unrec).raw == b""
    assert store.message(pending).raw == HARD


def test_prune_works_in_batches(store):
    refs = [ingest(store, SOFT, parse, days_ago=100) for _ in range(5)]
    assert store.prune_raw(utcnow(), batch=2) == (5, 5 * len(SOFT))
    assert all(store.message(r).raw == b"" for r in refs)


def test_cli_prune(tmp_path, capsys):
    db = tmp_path / "cli.db"
    s = open_store(str(db))
    ingest(s, HARD, parse, days_ago=40)
    s.close()
    assert main(["prune", "--db", str(db), "--raw-older-than", "30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dropped the raw bodies of 1 messages received before")
    assert "results and events kept" in out


def test_cli_prune_needs_a_number_of_days(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["prune", "--db", str(tmp_path / "x.db"), "--raw-older-than", "soon"])
    assert exc.value.code == 2
    assert "not a number of days" in capsys.readouterr().err


def test_change_describe_is_bounded():
    c = Change("gone", "a@example.com", None, 1, "hard", "userunknown")
    assert c.describe() == "reparse: hard/userunknown -> not found"


def hangs_on_one(raw: bytes, verp_recipient: str | None = None):
    """A parser bug: an endless loop on one message (as a runaway regex would be)."""
    if b"alice" in raw:
        while True:
            pass
    return parse(raw, verp_recipient=verp_recipient) if verp_recipient else parse(raw)


def test_a_message_the_parser_hangs_on_is_bounded_and_the_rest_reparsed(store):
    stuck = ingest(store, HARD, old_rules)
    other = ingest(store, HARD.replace(b"alice", b"bob"), old_rules)
    lines: list[str] = []
    summary = reparse(store, Config(), parse=hangs_on_one, report=lines.append,
                      parse_timeout=0.5)
    assert summary.messages == 2
    assert f"message {stuck}: parser failed: no result within 0.5 s" in lines
    assert [ref for ref, _, _ in summary.changes] == [other]
    assert store.current_results(stuck)[0][2:] == ("soft", "mailboxfull")  # as old_rules left it
