"""The store's behaviour, the same tests on both back-ends: a SQLite file in tmp_path and a
fresh schema on a real PostgreSQL (skipped, saying why, where none answers)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import StoreError, open_store
from bouncesink.store.schema import MIGRATIONS
from pgschema import fresh_schema

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
POLICY = PolicyConfig(soft_threshold=3, soft_window_days=30, soft_min_span_days=1,
                      confirm_hostunknown_dns=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A URL naming an empty store of each back-end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with fresh_schema() as schema:
            yield schema.url()


@pytest.fixture
def store(url):
    s = open_store(url, durability="off")
    yield s
    s.close()


def env(at=T0, rcpt="bounces@bounces.example.org"):
    return Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[rcpt], received_at=at,
                    helo="mx.example.net")


def bounce(store, recipient, type_="hard", reason="userunknown", status="5.1.1", at=T0,
           campaign=None):
    """Store one message and record one classified result for it; returns the decision."""
    e = env(at)
    [ref] = store.add_messages([(e, f"bounce for {recipient}".encode())])
    parsed = Parsed(kind="dsn", detector="test", results=[Result(
        recipient=recipient, action="failed" if type_ != "soft" else "delayed",
        status=status, reason=reason, type=type_, rule=f"status {status}")])
    [(result, decision)] = store.record([(ref, e, parsed, campaign)], POLICY, now=at)
    return decision


def soft(store, recipient, at):
    return bounce(store, recipient, "soft", "mailboxfull", "4.2.2", at)


def exported(store, **kw):
    return [row["email"] for row in store.suppressions(**kw)]


def test_add_messages_commits_all_and_keeps_raw_and_envelope(store):
    raw = b"Subject: x\r\n\r\n" + bytes(range(256)) * 10
    refs = store.add_messages([(env(), raw), (env(rcpt="b+tag@bounces.example.org"), b"two")])
    assert len(refs) == 2 and refs[0] < refs[1]
    got = store.message(refs[0])
    assert got.raw == raw and got.state == "pending"
    assert got.envelope.rcpt_tos == ["bounces@bounces.example.org"]
    assert got.envelope.received_at == T0 and got.envelope.helo == "mx.example.net"
    assert [p.ref for p in store.pending()] == refs
    assert store.message(refs[1] + 1000) is None


def test_record_classifies_and_clears_pending(store):
    bounce(store, "gone@example.com")
    [ref] = store.add_messages([(env(), b"nobody can read this")])
    store.record([(ref, env(), Parsed(kind="unrecognised", errors=["no detector"]), None)],
                 POLICY, now=T0)
    assert store.pending() == []
    assert store.message(ref).state == "unrecognised"
    assert store.stats(now=T0)["all_time"]["unrecognised"] == 1


def test_a_message_recorded_twice_counts_once(store):
    # two sinks may both classify one stored message (one recovering it at start-up)
    e = env()
    [ref] = store.add_messages([(e, b"soft")])
    parsed = Parsed(kind="dsn", results=[Result(recipient="full@example.com", status="4.2.2",
                                                reason="mailboxfull", type="soft")])
    assert len(store.record([(ref, e, parsed, None)], POLICY, now=T0)) == 1
    assert store.record([(ref, e, parsed, None)], POLICY, now=T0) == []
    h = store.history("full@example.com")
    assert (len(h["results"]), len(h["events"])) == (1, 1)


def test_hard_bounce_suppresses_at_once_and_is_exported(store):
    decision = bounce(store, "Gone@Example.COM")
    assert decision.action == "suppress"
    [row] = list(store.suppressions())
    assert row["email"] == "gone@example.com"
    assert (row["reason"], row["type"], row["status"], row["count"]) == (
        "userunknown", "hard", "5.1.1", 1)
    assert row["seq"] > 0


def test_history_holds_results_and_events_in_order(store):
    bounce(store, "gone@example.com", campaign="spring")
    h = store.history("<GONE@example.com>")
    assert h["suppressed"] is True
    assert [r["reason"] for r in h["results"]] == ["userunknown"]
    assert h["results"][0]["campaign"] == "spring"
    assert [e["action"] for e in h["events"]] == ["suppress"]
    assert h["events"][0]["result_id"] == h["results"][0]["id"]


def test_soft_bounces_escalate_at_the_threshold_over_the_min_span(store):
    a = "full@example.com"
    actions = [soft(store, a, T0 + timedelta(hours=h)).action for h in (0, 1, 2)]
    # three within one day: below the min span, they only count
    assert actions == ["count", "count", "count"]
    d = soft(store, a, T0 + timedelta(days=2))
    assert (d.action, d.reason) == ("suppress", "soft-escalated")
    h = store.history(a)
    assert [e["action"] for e in h["events"]] == ["count", "count", "count", "suppress"]
    assert exported(store) == [a]


def test_unsuppress_lifts_keeps_history_and_restarts_the_soft_count(store):
    a = "full@example.com"
    for day in range(3):
        soft(store, a, T0 + timedelta(days=day))
    assert exported(store) == [a]
    assert store.unsuppress(a, reason="mailbox emptied") is True
    assert store.unsuppress(a) is False
    assert exported(store) == []
    h = store.history(a)
    assert h["suppressed"] is False
    assert h["events"][-1]["action"] == "unsuppress"
    # the count starts again from the unsuppress (which happened "now", after T0 + 2 days)
    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert soft(store, a, later).action == "count"
    assert exported(store) == []


def test_suppressions_stream_in_seq_order_and_after_a_seq(store):
    for i in range(7):
        bounce(store, f"u{i}@example.com", at=T0 + timedelta(minutes=i))
    store.suppress_manual("manual@example.org", "asked to stop")
    rows = list(store.suppressions(batch=3))
    assert [r["email"] for r in rows] == [f"u{i}@example.com" for i in range(7)] + [
        "manual@example.org"]
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(set(seqs))
    assert exported(store, after_seq=seqs[4]) == [r["email"] for r in rows[5:]]
    assert exported(store, since=T0 + timedelta(minutes=5)) == [
        "u5@example.com", "u6@example.com", "manual@example.org"]


def test_a_second_hard_bounce_keeps_the_seq(store):
    bounce(store, "gone@example.com")
    [first] = list(store.suppressions())
    bounce(store, "other@example.com")
    bounce(store, "gone@example.com", at=T0 + timedelta(hours=1))
    rows = {r["email"]: r for r in store.suppressions()}
    assert rows["gone@example.com"]["seq"] == first["seq"]
    assert rows["gone@example.com"]["count"] == 2


def test_stats_count_by_type_reason_domain(store):
    bounce(store, "a@example.com", at=T0)
    bounce(store, "b@example.net", at=T0)
    soft(store, "c@example.com", T0)
    s = store.stats(now=T0 + timedelta(hours=1))
    assert s["all_time"]["by_type"] == {"hard": 2, "soft": 1}
    assert s["all_time"]["by_reason"] == {"userunknown": 2, "mailboxfull": 1}
    assert s["all_time"]["by_domain"] == {"example.com": 2, "example.net": 1}
    assert s["last_24h"]["messages"] == 3 and s["suppressed"] == 2 and s["pending"] == 0
    assert store.stats(now=T0 + timedelta(days=2))["last_24h"]["messages"] == 0


def test_odd_characters_pass_as_data(store):
    # % and ? in values must never be read as placeholders by a driver
    a = "100%?x@example.com"
    bounce(store, a)
    assert exported(store) == [a]
    assert store.history(a)["results"][0]["rule"] == "status 5.1.1"


def test_migrations_bring_a_new_store_to_the_newest_version_and_reopen_keeps_it(url):
    s = open_store(url, durability="off")
    try:
        assert s.schema_version() == len(MIGRATIONS)
        bounce(s, "gone@example.com")
        assert s.migrate() == len(MIGRATIONS)
    finally:
        s.close()
    s = open_store(url, durability="off")
    try:
        assert s.schema_version() == len(MIGRATIONS)
        assert exported(s) == ["gone@example.com"]
    finally:
        s.close()


def test_a_store_newer_than_this_code_is_refused(url):
    s = open_store(url, durability="off")
    if url.startswith("sqlite"):
        s._conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        s._execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
        s._commit()
    s.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(url, durability="off")


def test_cursors_and_counts_follow_the_seq(store):
    assert store.cursor("esp") == 0
    bounce(store, "a@example.com")
    [row] = list(store.suppressions())
    store.set_cursor("esp", row["seq"])
    bounce(store, "b@example.com")
    assert store.cursor("esp") == row["seq"]
    assert store.count_suppressions(after_seq=store.cursor("esp")) == 1
    assert exported(store, after_seq=store.cursor("esp")) == ["b@example.com"]


def test_report_counts_results_and_recipients_per_campaign_and_domain(store):
    bounce(store, "a@example.com", campaign="spring")
    soft(store, "a@example.com", T0 + timedelta(hours=1))
    bounce(store, "b@example.net", campaign="spring")
    store.set_campaign_sent("spring", 100)
    rep = store.report()
    assert rep["campaigns"]["spring"] == {"sent": 100, "types": {"hard": [2, 2]}}
    assert rep["domains"]["example.com"] == {"hard": [1, 1], "soft": [1, 1]}


def test_prune_drops_old_raw_bodies_only(store):
    bounce(store, "a@example.com", at=T0)
    bounce(store, "b@example.com", at=T0 + timedelta(days=10))
    [pending] = store.add_messages([(env(T0), b"not classified yet")])
    count, size = store.prune_raw(T0 + timedelta(days=1))
    assert count == 1 and size > 0
    assert store.message(1).raw == b"" and store.message(2).raw != b""
    assert store.message(pending).raw == b"not classified yet"
    assert exported(store) == ["a@example.com", "b@example.com"]
    store.probe_write()  # a write, rolled back
    assert store.cursor("doctor-probe") == 0


def test_a_group_commit_returns_each_message_its_own_ref(store):
    """Refs in order, whatever the batch size (SQLite inserts a batch in a few statements
    of many rows each), after rows already in the table."""
    first = store.add_messages([(env(), b"Subject: before\r\n\r\n0\r\n")])
    for n in (1, 2, 99, 100, 101, 256):
        raws = [b"Subject: m%d\r\n\r\nbody %d of %d\r\n" % (i, i, n) for i in range(n)]
        refs = store.add_messages([(env(), raw) for raw in raws])
        assert len(refs) == n and len(set(refs)) == n and min(refs) > first[0]
        assert [store.message(ref).raw for ref in refs] == raws
        first = [max(refs)]


def test_add_rows_once_stores_a_message_once_within_the_window(store):
    from datetime import timedelta

    first = store.add_rows([store.message_row(env(), b"same"), store.message_row(env(), b"x")])
    later = env(at=T0 + timedelta(hours=1))
    got = store.add_rows_once([store.message_row(later, b"same"),
                               store.message_row(later, b"new"),
                               store.message_row(later, b"new")], since=T0)
    new_ref = got[1][0]
    assert got == [(first[0], False), (new_ref, True), (new_ref, False)]
    assert new_ref > first[1]
    # Outside the window it is stored again.
    [(ref, fresh)] = store.add_rows_once([store.message_row(later, b"same")],
                                         since=T0 + timedelta(minutes=1))
    assert fresh and ref not in first
    assert store._execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 4


def test_a_failed_classification_backs_off_then_is_set_aside(store):
    from datetime import timedelta

    [ref] = store.add_messages([(env(), b"raw")])
    assert store.classification_failed(ref, "boom", T0 + timedelta(minutes=1), 2) == (1, "pending")
    assert store.pending(due=T0) == []                       # waiting for its retry
    assert [p.ref for p in store.pending(due=T0 + timedelta(minutes=2))] == [ref]
    assert store.classification_failed(ref, "boom", T0, 2) == (2, "failed")
    assert store.pending() == [] and not store.has_pending(T0 + timedelta(days=1))
