"""`bouncesink migrate`: a SQLite store copied into PostgreSQL keeps all of its history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bouncesink.cli import main
from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store
from pgschema import fresh_schema

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
POLICY = PolicyConfig(soft_threshold=3, soft_window_days=30, soft_min_span_days=1,
                      confirm_hostunknown_dns=False)
ADDRESSES = ("gone@example.com", "full@example.com", "manual@example.org",
             "lifted@example.net", "never@example.com")


@pytest.fixture
def schema():
    with fresh_schema() as s:
        yield s


def record(store, recipient, type_, reason, status, at, campaign=None):
    e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                 received_at=at)
    [ref] = store.add_messages([(e, f"raw {recipient} {at}".encode() + bytes(range(256)))])
    parsed = Parsed(kind="dsn", results=[Result(recipient=recipient, status=status,
                                                reason=reason, type=type_)])
    store.record([(ref, e, parsed, campaign)], POLICY, now=at)


@pytest.fixture
def sqlite_url(tmp_path):
    """A SQLite store with some of everything: hard and escalated soft suppressions, a
    manual one, a lifted one, an unrecognised and a pending message, a cursor, a campaign."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = open_store(url, durability="off")
    record(s, "gone@example.com", "hard", "userunknown", "5.1.1", T0, campaign="spring")
    for day in range(3):
        record(s, "full@example.com", "soft", "mailboxfull", "4.2.2", T0 + timedelta(days=day),
               campaign="spring")
    s.suppress_manual("manual@example.org", "asked to stop")
    record(s, "lifted@example.net", "hard", "userunknown", "5.1.1", T0)
    s.unsuppress("lifted@example.net", "mailbox restored")
    e = Envelope(peer="192.0.2.9", mail_from="", rcpt_tos=["b@bounces.example.org"],
                 received_at=T0)
    [ref] = s.add_messages([(e, b"nobody reads this")])
    s.record([(ref, e, Parsed(kind="unrecognised"), None)], POLICY, now=T0)
    s.add_messages([(e, b"still pending")])
    s.set_cursor("esp", max(r["seq"] for r in s.suppressions()))
    s.set_campaign_sent("spring", 1000)
    s.close()
    return url


def snapshot(store) -> dict:
    """Everything a person or a tool can read from a store."""
    now = T0 + timedelta(days=10)
    return {
        "suppressions": list(store.suppressions()),
        "history": [store.history(a) for a in ADDRESSES],
        "stats": store.stats(now=now),
        "pending": [(p.ref, p.raw, p.envelope) for p in store.pending()],
        "messages": [(m.ref, m.raw, m.state, m.envelope)
                     for m in map(store.message, range(1, 10)) if m],
        "cursor": store.cursor("esp"),
        "report": store.report(),
    }


def test_migrate_copies_everything_with_ids_and_history(sqlite_url, schema, capsys):
    assert main(["migrate", "--from", sqlite_url, "--to", schema.url()]) == 0
    out = capsys.readouterr().out
    assert "messages: 7 rows" in out and "events: " in out
    old = open_store(sqlite_url, durability="off", create=False)
    new = open_store(schema.url(), durability="off")
    try:
        before = snapshot(old)
        assert snapshot(new) == before
        assert [r["email"] for r in before["suppressions"]] == [
            "gone@example.com", "full@example.com", "manual@example.org"]
        assert len(before["history"][1]["events"]) == 3
    finally:
        old.close()
        new.close()


def test_a_migrated_store_goes_on_numbering_after_the_copied_rows(sqlite_url, schema, capsys):
    assert main(["migrate", "--from", sqlite_url, "--to", schema.url()]) == 0
    capsys.readouterr()
    store = open_store(schema.url(), durability="off")
    try:
        cursor = store.cursor("esp")
        old_refs = [p.ref for p in store.pending()]
        record(store, "new@example.com", "hard", "userunknown", "5.1.1", T0 + timedelta(days=5))
        # an export under the copied cursor returns exactly the new suppression
        assert [r["email"] for r in store.suppressions(after_seq=cursor)] == ["new@example.com"]
        h = store.history("new@example.com")
        assert h["results"][0]["message_ref"] > max(old_refs)
        assert h["events"][0]["id"] > max(
            e["id"] for a in ADDRESSES for e in store.history(a)["events"])
    finally:
        store.close()


def test_migrate_refuses_a_destination_that_is_not_empty(sqlite_url, schema, capsys):
    assert main(["migrate", "--from", sqlite_url, "--to", schema.url()]) == 0
    capsys.readouterr()
    assert main(["migrate", "--from", sqlite_url, "--to", schema.url()]) == 1
    err = capsys.readouterr().err
    assert "not empty" in err and len(err.strip().splitlines()) == 1
    store = open_store(schema.url(), durability="off")
    try:
        assert store.stats()["all_time"]["messages"] == 7  # nothing copied twice
    finally:
        store.close()


def test_migrate_needs_an_existing_source_and_a_postgresql_destination(tmp_path, capsys):
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    assert main(["migrate", "--from", missing, "--to", f"sqlite:///{tmp_path}/x.db"]) == 2
    assert "postgresql://" in capsys.readouterr().err
    assert main(["migrate", "--from", missing,
                 "--to", "postgresql://postgres@127.0.0.1:1/test"]) == 1
    assert "no such store" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
