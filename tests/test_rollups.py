"""Rollups: kept with the results (record, reparse), built by the migration for old stores,
untouched by prune, copied by migrate; stats and report read them. Both back-ends."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from bouncesink.model import Envelope, Parsed, Result
from bouncesink.reparse import Change
from bouncesink.store import open_store
from bouncesink.store.schema import MIGRATIONS, ROLLUPS
from pgschema import fresh_schema
from test_store import POLICY

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
KINDS = [("hard", "userunknown", "5.1.1"), ("soft", "mailboxfull", "4.2.2"),
         ("blocked", "blocked", "5.7.1"), ("complaint", "feedback", ""),
         ("hard", "hostunknown", "5.1.2")]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
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


def ingest(store, rng: random.Random, n: int) -> None:
    """n messages over 5 days (a few out of order), 1-2 recipients each, some unrecognised,
    campaigns mixed."""
    times = sorted(T0 + timedelta(minutes=rng.randrange(5 * 24 * 60)) for _ in range(n))
    for i in range(0, n - 1, 7):
        times[i], times[i + 1] = times[i + 1], times[i]
    for at in times:
        e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                     received_at=at)
        [ref] = store.add_messages([(e, b"x")])
        if rng.random() < 0.1:
            store.record([(ref, e, Parsed(kind="unrecognised"), None)], POLICY, now=at)
            continue
        results = []
        for _ in range(rng.choice((1, 1, 2))):
            type_, reason, status = rng.choice(KINDS)
            rcpt = f"u{rng.randrange(12)}@{rng.choice(('example.com', 'example.net'))}"
            results.append(Result(recipient=rcpt, status=status, reason=reason, type=type_,
                                  rule="test"))
        store.record([(ref, e, Parsed(kind="dsn", results=results),
                       rng.choice((None, "spring", "summer")))], POLICY, now=at)


def truth(store) -> dict:
    """What the rollups must say, recounted from the results (current classification)."""
    rows = store._execute(
        "SELECT r.id, r.received_at, r.recipient, COALESCE(r.domain, ''),"
        " COALESCE(r.campaign, ''), r.type, r.reason FROM results r ORDER BY r.id").fetchall()
    latest = {}
    for rid, t, reason in store._execute(
            "SELECT result_id, type, reason FROM events WHERE action = 'reclassified'"
            " ORDER BY id").fetchall():
        latest[rid] = (t or "", reason or "")
    out = {"type": Counter(), "reason": Counter(), "domain": Counter(), "campaign": Counter(),
           "day_type": Counter(), "campaign_recipients": {}}
    for rid, at, rcpt, domain, campaign, t, reason in rows:
        t, reason = latest.get(rid, (t, reason))
        if not t and not reason:
            continue
        out["type"][t] += 1
        out["reason"][reason] += 1
        out["domain"][domain] += 1
        out["campaign"][(campaign, t)] += 1
        out["day_type"][(at[:10], t)] += 1
        if rcpt:
            out["campaign_recipients"].setdefault((campaign, t), set()).add(rcpt)
    msgs = store._execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall()
    out["messages"] = sum(n for _, n in msgs)
    out["unrecognised"] = sum(n for s, n in msgs if s == "unrecognised")
    return out


def check_counts(store) -> None:
    want = truth(store)
    stats = store.stats(now=T0 + timedelta(days=30))
    suppressed = store._execute(
        "SELECT COUNT(*) FROM suppressions WHERE suppressed = 1").fetchone()[0]
    assert stats["suppressed"] == suppressed == store.metrics_snapshot()["suppressed"]
    s = stats["all_time"]
    assert s["by_type"] == dict(want["type"])
    assert s["by_reason"] == dict(want["reason"])
    assert s["by_domain"] == dict(want["domain"])
    assert s["messages"] == want["messages"] and s["unrecognised"] == want["unrecognised"]
    rep = store.report()
    got = {(c, t): v[0] for c, part in rep["campaigns"].items() for t, v in part["types"].items()}
    assert got == dict(want["campaign"])
    days = Counter()
    for d, _, t, n in store.per_day("reason", T0 - timedelta(days=1)):
        days[(d, t)] += n
    assert days == want["day_type"]


def test_record_keeps_rollups_equal_to_a_recount(store):
    ingest(store, random.Random(1), 120)
    check_counts(store)
    want = truth(store)
    rep = store.report()
    for (campaign, t), rcpts in want["campaign_recipients"].items():
        assert rep["campaigns"][campaign]["types"][t][1] == len(rcpts)


def test_last_24h_counts_the_hours_of_the_last_day_only(store):
    ingest(store, random.Random(2), 60)
    newest = store._execute("SELECT MAX(received_at) FROM messages").fetchone()[0]
    now = datetime.fromisoformat(newest.replace("Z", "+00:00")) + timedelta(minutes=30)
    last = store.stats(now=now)["last_24h"]
    lo = (now - timedelta(hours=24)).strftime("%Y-%m-%dT%H")
    hi = now.strftime("%Y-%m-%dT%H")
    n = store._execute("SELECT COUNT(*) FROM messages WHERE substr(received_at, 1, 13) >= ?"
                       " AND substr(received_at, 1, 13) <= ?", (lo, hi)).fetchone()[0]
    assert last["messages"] == n > 0
    types = Counter(t for (t,) in store._execute(
        "SELECT type FROM results WHERE substr(received_at, 1, 13) >= ?"
        " AND substr(received_at, 1, 13) <= ?", (lo, hi)).fetchall())
    assert last["by_type"] == dict(types)


def test_report_since_counts_whole_days_and_a_campaign_filter_narrows_domains(store):
    ingest(store, random.Random(3), 80)
    since = T0 + timedelta(days=2, hours=7)
    rep = store.report(campaign="spring", since=since)
    rows = store._execute(
        "SELECT domain, type, COUNT(*), COUNT(DISTINCT recipient) FROM results"
        " WHERE campaign = 'spring' AND received_at >= ? GROUP BY domain, type",
        (since.strftime("%Y-%m-%d"),)).fetchall()
    assert {(d, t): n for d, part in rep["domains"].items() for t, (n, _) in part.items()} == \
        {(d, t): n for d, t, n, _ in rows}
    assert set(rep["campaigns"]) == {"spring"}


def test_reparse_moves_counts_and_dry_run_moves_nothing(store):
    e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                 received_at=T0)
    [ref] = store.add_messages([(e, b"x")])
    old = Result(recipient="a@example.com", status="5.1.1", reason="mailboxfull", type="soft")
    store.record([(ref, e, Parsed(kind="dsn", results=[old]), "spring")], POLICY, now=T0)
    [(rid, _, _, _)] = store.current_results(ref)
    new = Result(recipient="a@example.com", status="5.1.1", reason="userunknown", type="hard")
    change = Change("changed", "a@example.com", new, rid, "soft", "mailboxfull")
    stored = store.message(ref)
    store.record_reparse(stored, Parsed(kind="dsn", results=[new]), [change], "spring",
                         POLICY, now=T0, dry_run=True)
    assert store.stats(now=T0)["all_time"]["by_type"] == {"soft": 1}
    store.record_reparse(stored, Parsed(kind="dsn", results=[new]), [change], "spring",
                         POLICY, now=T0)
    s = store.stats(now=T0)["all_time"]
    assert s["by_type"] == {"hard": 1} and s["by_reason"] == {"userunknown": 1}
    assert store.report()["campaigns"]["spring"]["types"] == {"hard": [1, 1]}
    gone = Change("gone", "a@example.com", None, rid, "hard", "userunknown")
    store.record_reparse(stored, Parsed(kind="dsn"), [gone], "spring", POLICY, now=T0)
    assert store.stats(now=T0)["all_time"]["by_type"] == {}
    check_counts(store)


def test_reparse_of_an_unrecognised_message_leaves_the_unrecognised_count(store):
    e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                 received_at=T0)
    [ref] = store.add_messages([(e, b"x")])
    store.record([(ref, e, Parsed(kind="unrecognised"), None)], POLICY, now=T0)
    assert store.stats(now=T0)["all_time"]["unrecognised"] == 1
    r = Result(recipient="a@example.com", status="5.1.1", reason="userunknown", type="hard")
    store.record_reparse(store.message(ref), Parsed(kind="dsn", results=[r]),
                         [Change("first", "a@example.com", r)], None, POLICY, now=T0)
    s = store.stats(now=T0)["all_time"]
    assert s["unrecognised"] == 0 and s["by_type"] == {"hard": 1} and s["messages"] == 1
    check_counts(store)


def test_hour_rows_older_than_two_days_are_dropped(store):
    ingest(store, random.Random(7), 40)
    hours = [p for (p,) in store._execute(
        "SELECT DISTINCT period FROM rollups WHERE period >= 'h' ORDER BY 1").fetchall()]
    newest = store._execute("SELECT MAX(received_at) FROM messages").fetchone()[0]
    assert hours and hours[-1] == "h" + newest[:13]
    span = datetime.strptime(hours[-1][1:], "%Y-%m-%dT%H") - \
        datetime.strptime(hours[0][1:], "%Y-%m-%dT%H")
    assert span <= timedelta(hours=48)
    # days and all time keep everything
    check_counts(store)


def test_prune_leaves_the_rollups_alone(store):
    ingest(store, random.Random(4), 30)
    before = (store.stats(now=T0), store.report())
    assert store.prune_raw(T0 + timedelta(days=30), keep_unrecognised=False)[0] > 0
    assert (store.stats(now=T0), store.report()) == before


def test_a_failed_transaction_counts_nothing(store):
    e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"],
                 received_at=T0)
    ref, ref2 = store.add_messages([(e, b"x"), (e, b"y")])
    r = Result(recipient="a@example.com", status="5.1.1", reason="userunknown", type="hard")
    bad = Result(recipient="b@example.com", status="5.1.1", reason="userunknown", type="hard",
                 diagnostic=None)  # fails inside the transaction, after the first result
    with pytest.raises(TypeError):
        store.record([(ref, e, Parsed(kind="dsn", results=[r]), None),
                      (ref2, e, Parsed(kind="dsn", results=[bad]), None)], POLICY, now=T0)
    assert store.stats(now=T0)["all_time"]["by_type"] == {}
    store.record([(ref, e, Parsed(kind="dsn", results=[r]), None)], POLICY, now=T0)
    assert store.stats(now=T0)["all_time"]["by_type"] == {"hard": 1}
    check_counts(store)


def test_the_suppressed_count_follows_people_and_the_policy(store):
    ingest(store, random.Random(9), 60)
    check_counts(store)
    before = store.stats()["suppressed"]
    assert before > 0
    store.suppress_manual("new.person@example.org", "asked to stop")
    store.suppress_manual("new.person@example.org", "asked again")  # no change of state
    assert store.stats()["suppressed"] == before + 1
    address = store._execute("SELECT address FROM suppressions WHERE suppressed = 1"
                             " AND type = 'hard' LIMIT 1").fetchone()[0]
    assert store.unsuppress(address, "fixed their mailbox")
    assert not store.unsuppress(address, "twice")  # nothing to lift: no change
    assert store.stats()["suppressed"] == before
    check_counts(store)
    # A failed transaction moves nothing.
    store._execute = _failing_after(store._execute, "UPDATE suppressions")
    with pytest.raises(RuntimeError):
        store.unsuppress("new.person@example.org")
    del store._execute
    assert store.stats()["suppressed"] == before
    check_counts(store)


def _failing_after(execute, prefix: str):
    def run(sql, *args):
        out = execute(sql, *args)
        if sql.startswith(prefix):
            raise RuntimeError("store failed")
        return out
    return run


def dump(store) -> list:
    return sorted(store._execute("SELECT dim, period, campaign, name, type, results, recipients"
                                 " FROM rollups WHERE results <> 0 OR recipients <> 0").fetchall())


def test_the_migration_builds_the_same_rollups_for_an_existing_store(url):
    store = open_store(url, durability="off")
    try:
        ingest(store, random.Random(5), 100)
        kept = dump(store)
        # Take the store back to the version before rollups (later migrations run again
        # too), then open it again.
        before = MIGRATIONS.index(ROLLUPS)
        store._execute("DROP TABLE rollups")
        if hasattr(store, "load"):
            store._execute("UPDATE schema_version SET version = ?", (before,))
            store._commit()
        else:
            store._commit()
            store._conn.execute(f"PRAGMA user_version = {before}")
    finally:
        store.close()
    store = open_store(url, durability="off")
    try:
        assert store.schema_version() == len(MIGRATIONS)
        rebuilt = dump(store)
        # Days and all time alike; hours only kept for the latest two days (the migration)
        # or 48 hours (at run time): alike where both have them.
        assert [r for r in rebuilt if r[1][0] != "h"] == [r for r in kept if r[1][0] != "h"]
        hours = {r[1] for r in rebuilt if r[1][0] == "h"} & {r[1] for r in kept if r[1][0] == "h"}
        assert len(hours) > 10
        assert [r for r in rebuilt if r[1] in hours] == [r for r in kept if r[1] in hours]
        check_counts(store)
    finally:
        store.close()


def test_rebuild_runs_the_migrations_counting_sql_to_the_same_rollups(url):
    """`rebuild_rollups` (the migration's counting SQL) over a store's rows gives the
    rollups that recording kept."""
    from bouncesink.store.rollups import MIGRATION, REBUILD

    assert REBUILD.strip() in MIGRATION and "CREATE TABLE rollups" in MIGRATION
    store = open_store(url, durability="off")
    try:
        ingest(store, random.Random(5), 100)
        kept = dump(store)
        store.rebuild_rollups()
        rebuilt = dump(store)
        # Days and all time alike; hours only kept for the latest two days (the migration)
        # or 48 hours (at run time): alike where both have them.
        assert [r for r in rebuilt if r[1][0] != "h"] == [r for r in kept if r[1][0] != "h"]
        hours = {r[1] for r in rebuilt if r[1][0] == "h"} & {r[1] for r in kept if r[1][0] == "h"}
        assert len(hours) > 10
        assert [r for r in rebuilt if r[1] in hours] == [r for r in kept if r[1] in hours]
        check_counts(store)
    finally:
        store.close()


def test_migrate_copies_the_rollups(tmp_path):
    from bouncesink.cli import main

    src = f"sqlite:///{tmp_path / 'old.db'}"
    s = open_store(src, durability="off")
    ingest(s, random.Random(6), 40)
    want = (s.stats(now=T0), s.report())
    s.close()
    with fresh_schema() as schema:
        assert main(["migrate", "--from", src, "--to", schema.url()]) == 0
        d = open_store(schema.url())
        try:
            assert (d.stats(now=T0), d.report()) == want
        finally:
            d.close()


def test_report_without_domains_has_the_same_campaigns(store):
    ingest(store, random.Random(8), 30)
    store.set_campaign_sent("spring", 50)
    full, lean = store.report(), store.report(domains=False)
    assert lean["domains"] == {} and full["domains"]
    assert lean["campaigns"] == full["campaigns"] and full["campaigns"]["spring"]["sent"] == 50
