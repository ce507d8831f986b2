"""Several sinks on one PostgreSQL, and PostgreSQL going away under a running sink.

Real parts only: real sinks on 127.0.0.1 port 0 spoken to with smtplib, a fresh schema on a
real PostgreSQL per test (skipped, saying why, where none answers). Faults are made by
terminating the sink's own backend connections from another connection; the service itself
is never stopped. To stop a sink at a chosen point inside a transaction the tests add a
deferred constraint trigger to their schema that waits for an advisory lock the test holds.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import smtplib
import threading
import time
from datetime import datetime, timezone

import pytest

from bouncesink.cli import main
from bouncesink.config import Config, PolicyConfig, ServerConfig, StoreConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.server import Server
from bouncesink.store import StoreError, open_store
from pgschema import admin_connection, fresh_schema

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
RCPT = "bounces@bounces.example.org"

# An RFC 3464 report; {recipient}, {status} and {text} are filled in per test message.
DSN = """From: MAILER-DAEMON@mx.example.net
To: bounces@bounces.example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <{nonce}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {code} {status} <{recipient}>: {text}

--B
Content-Type: text/rfc822-headers

Message-ID: <campaign-1@example.org>
Subject: Our news

--B--
"""


def hard(recipient: str) -> bytes:
    return DSN.format(recipient=recipient, status="5.1.1", code=550, text="User unknown",
                      nonce=secrets.token_hex(8)).encode()


def soft(recipient: str) -> bytes:
    return DSN.format(recipient=recipient, status="4.2.2", code=452, text="Mailbox full",
                      nonce=secrets.token_hex(8)).encode()


@pytest.fixture
def schema():
    with fresh_schema() as s:
        yield s


def wait_for(predicate, what: str, limit: float = 60.0):
    """Poll until predicate() is true; fail naming `what` if it never becomes so."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


class Sink:
    """A real server in a thread of its own (its own event loop), on 127.0.0.1 port 0."""

    def __init__(self, url: str, policy: PolicyConfig | None = None) -> None:
        cfg = Config(
            server=ServerConfig(listen="127.0.0.1:0", domains=("bounces.example.org",)),
            store=StoreConfig(db=url, durability="off"),
            policy=policy or PolicyConfig(confirm_hostunknown_dns=False))
        self.server = Server(cfg)
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.stop = asyncio.Event()
        try:
            self.loop.run_until_complete(self.server.serve(self.stop))
        except BaseException as exc:  # reported by start() / close()
            self.error = exc

    def __enter__(self) -> "Sink":
        self.thread.start()
        wait_for(lambda: self.server.sockets or not self.thread.is_alive(), "the sink to listen")
        if self.error:
            raise self.error
        return self

    def __exit__(self, *exc) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)
        self.loop.close()

    def send(self, raw: bytes, mail_from: str = "") -> tuple[int, str]:
        """One SMTP transaction; the DATA reply."""
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=60) as c:
            c.ehlo("mx.example.net")
            c.mail(mail_from)
            c.rcpt(RCPT)
            code, msg = c.data(raw)
            return code, msg.decode()


def queued_ref(reply: str) -> int:
    return int(reply.split()[-1])


def count(admin, schema, sql: str, *params) -> int:
    return admin.execute(sql.replace("{s}", schema.name), params).fetchone()[0]


def settled(schema, n_messages: int):
    """True once n messages are stored and none is waiting for classification."""
    def check():
        return (count(schema.admin, schema, "SELECT COUNT(*) FROM {s}.messages") >= n_messages
                and count(schema.admin, schema,
                          "SELECT COUNT(*) FROM {s}.messages WHERE state = 'pending'") == 0)
    return check


# -- several sinks ----------------------------------------------------------------------------

def test_two_sinks_on_one_database_lose_nothing_and_either_exports_everything(schema, capsys):
    n = 15  # per sink: n hard bounces for distinct addresses, n soft for one shared address
    replies: dict[int, list] = {0: [], 1: []}
    with Sink(schema.url("s1")) as s1, Sink(schema.url("s2")) as s2:
        def client(i, sink):
            for j in range(n):
                replies[i].append(sink.send(hard(f"h{i}-{j}@example.com")))
                replies[i].append(sink.send(soft("full@example.com")))
        threads = [threading.Thread(target=client, args=(i, s)) for i, s in enumerate((s1, s2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        codes = [code for i in replies for code, _ in replies[i]]
        assert codes == [250] * (4 * n)
        wait_for(settled(schema, 4 * n), "both sinks to classify everything")
    refs = sorted(queued_ref(msg) for i in replies for _, msg in replies[i])
    assert len(set(refs)) == 4 * n

    store = open_store(schema.url("reader"), durability="off")
    try:
        for ref in refs:
            assert store.message(ref).state == "classified"
        exported = {r["email"] for r in store.suppressions()}
        assert exported == {f"h{i}-{j}@example.com" for i in (0, 1) for j in range(n)}
        h = store.history("full@example.com")
        assert len(h["results"]) == 2 * n
        # each soft bounce counted once: one event per result, none lost, none doubled
        assert sorted(e["result_id"] for e in h["events"]) == sorted(
            r["id"] for r in h["results"])
        stats = store.stats()
        assert stats["all_time"]["by_type"] == {"hard": 2 * n, "soft": 2 * n}
    finally:
        store.close()
    # the CLI of either host reads the same store
    capsys.readouterr()  # drop the sinks' log lines
    assert main(["export", "--db", schema.url("cli"), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {json.loads(line)["email"] for line in lines} == exported


def record_soft(store, address: str, policy: PolicyConfig):
    e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[RCPT], received_at=T0)
    [ref] = store.add_messages([(e, b"soft")])
    parsed = Parsed(kind="dsn", results=[Result(recipient=address, action="delayed",
                                                status="4.2.2", reason="mailboxfull",
                                                type="soft")])
    [(_, decision)] = store.record([(ref, e, parsed, None)], policy, now=T0)
    return decision


def test_concurrent_soft_bounces_for_one_address_escalate_exactly_at_the_threshold(schema):
    k = 12  # per writer
    policy = PolicyConfig(soft_threshold=2 * k, soft_window_days=30, soft_min_span_days=0)
    stores = [open_store(schema.url(f"w{i}"), durability="off") for i in (0, 1)]
    barrier = threading.Barrier(2)
    decisions: list = []
    errors: list = []

    def writer(store):
        try:
            for _ in range(k):
                barrier.wait(30)
                decisions.append(record_soft(store, "full@example.com", policy).action)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
    try:
        threads = [threading.Thread(target=writer, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        # every soft bounce saw all the ones committed before it: the 2k-th, and only it,
        # reaches the threshold (a lost update would leave it at "count")
        assert sorted(decisions) == ["count"] * (2 * k - 1) + ["suppress"]
        h = stores[0].history("full@example.com")
        assert [e["action"] for e in h["events"]] == ["count"] * (2 * k - 1) + ["suppress"]
        assert h["suppression"]["reason"] == "soft-escalated"
    finally:
        for s in stores:
            s.close()


def test_a_stored_message_is_classified_once_when_two_sinks_both_try(schema):
    a, b = (open_store(schema.url(n), durability="off") for n in ("a", "b"))
    try:
        e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[RCPT], received_at=T0)
        [ref] = a.add_messages([(e, b"hard")])
        parsed = Parsed(kind="dsn", results=[Result(recipient="gone@example.com",
                                                    status="5.1.1", reason="userunknown",
                                                    type="hard")])
        policy = PolicyConfig(confirm_hostunknown_dns=False)
        # b recovers it at start-up while a classifies it after the ack
        assert [p.ref for p in b.pending()] == [ref]
        assert len(a.record([(ref, e, parsed, None)], policy, now=T0)) == 1
        assert b.record([(ref, e, parsed, None)], policy, now=T0) == []
        assert len(b.history("gone@example.com")["results"]) == 1
    finally:
        a.close()
        b.close()


# -- export --cursor with concurrent writers ----------------------------------------------------

def hold_commits(schema, table: str, column: str, value: str, key: int) -> None:
    """Make COMMIT of a transaction that wrote `value` into table.column wait for lock `key`."""
    s = schema.name
    schema.admin.execute(
        f"CREATE FUNCTION {s}.hold_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN IF NEW.{column} = '{value}' THEN PERFORM pg_advisory_xact_lock_shared({key});"
        f" END IF; RETURN NULL; END $$")
    schema.admin.execute(
        f"CREATE CONSTRAINT TRIGGER hold_{table} AFTER INSERT OR UPDATE ON {s}.{table}"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {s}.hold_{table}()")


def test_a_suppression_committed_late_is_not_skipped_by_a_cursor(schema):
    key = secrets.randbelow(2**31)
    slow, fast, reader = (open_store(schema.url(n), durability="off")
                          for n in ("slow", "fast", "reader"))
    hold_commits(schema, "suppressions", "address", "slow@example.com", key)
    gate = admin_connection()
    gate.execute("SELECT pg_advisory_lock(%s)", (key,))
    threads = [threading.Thread(target=slow.suppress_manual, args=("slow@example.com", "x")),
               threading.Thread(target=fast.suppress_manual, args=("fast@example.com", "x"))]
    try:
        threads[0].start()   # suppresses first, then stalls in COMMIT
        wait_for(lambda: schema.waiting("slow"), "the first writer to stall in COMMIT")
        threads[1].start()   # suppresses second: must not become visible before the first
        wait_for(lambda: schema.waiting("fast") or not threads[1].is_alive(),
                 "the second writer to commit or wait")
        first = list(reader.suppressions())
        cursor = max([r["seq"] for r in first], default=0)
        gate.execute("SELECT pg_advisory_unlock(%s)", (key,))
        for t in threads:
            t.join(60)
        rest = list(reader.suppressions(after_seq=cursor))
        assert {r["email"] for r in first + rest} == {"slow@example.com", "fast@example.com"}
        assert [r["email"] for r in reader.suppressions()] == [
            "slow@example.com", "fast@example.com"]
    finally:
        gate.close()
        for s in (slow, fast, reader):
            s.close()


def test_a_cursor_following_two_busy_writers_sees_every_suppression(schema):
    n = 40
    writers = [open_store(schema.url(f"w{i}"), durability="off") for i in (0, 1)]
    reader = open_store(schema.url("reader"), durability="off")
    done = threading.Event()
    seen: list[str] = []

    def write(i, store):
        for j in range(n):
            store.suppress_manual(f"w{i}-{j}@example.com", "test")
    try:
        threads = [threading.Thread(target=write, args=(i, s)) for i, s in enumerate(writers)]
        for t in threads:
            t.start()
        cursor = 0
        while not done.is_set():
            done.set() if not any(t.is_alive() for t in threads) else None
            for row in reader.suppressions(after_seq=cursor, batch=7):
                seen.append(row["email"])
                cursor = row["seq"]
        assert sorted(seen) == sorted(f"w{i}-{j}@example.com" for i in (0, 1) for j in range(n))
    finally:
        for s in writers + [reader]:
            s.close()


# -- PostgreSQL going away ----------------------------------------------------------------------

def test_terminated_connections_are_replaced_without_losing_a_message(schema):
    with Sink(schema.url("sink")) as sink:
        first = sink.send(hard("a@example.com"))
        assert first[0] == 250
        wait_for(settled(schema, 1), "the first message to be classified")
        assert schema.terminate("sink") >= 1
        # the connection is dead; the next transaction's first statement finds out, and the
        # transaction (nothing of which exists yet) runs again on a new connection
        second = sink.send(hard("b@example.com"))
        third = sink.send(hard("c@example.com"))
        assert (second[0], third[0]) == (250, 250)
        wait_for(settled(schema, 3), "all messages to be classified")
        assert sink.server.store.reconnects >= 1
    for _, reply in (first, second, third):
        assert count(schema.admin, schema, "SELECT COUNT(*) FROM {s}.messages WHERE id = %s",
                     queued_ref(reply)) == 1
    assert count(schema.admin, schema,
                 "SELECT COUNT(*) FROM {s}.suppressions WHERE suppressed = 1") == 3


def test_a_connection_lost_in_commit_gets_451_and_the_sink_recovers(schema):
    key = secrets.randbelow(2**31)
    with Sink(schema.url("sink")) as sink:
        assert sink.send(hard("a@example.com"))[0] == 250
        hold_commits(schema, "messages", "mail_from", "held@example.net", key)
        gate = admin_connection()
        gate.execute("SELECT pg_advisory_lock(%s)", (key,))
        reply: list = []
        t = threading.Thread(
            target=lambda: reply.append(sink.send(hard("b@example.com"), "held@example.net")))
        try:
            t.start()
            wait_for(lambda: schema.waiting("sink"), "the sink to stall in COMMIT")
            assert schema.terminate("sink") >= 1
            t.join(60)
        finally:
            gate.close()
        [(code, msg)] = reply
        assert code == 451 and msg.startswith("4.3.0")
        assert count(schema.admin, schema,
                     "SELECT COUNT(*) FROM {s}.messages WHERE mail_from = 'held@example.net'") == 0
        # by itself, no restart: the next messages are stored and acknowledged
        again = sink.send(hard("b@example.com"), "held@example.net")
        other = sink.send(hard("c@example.com"))
        assert (again[0], other[0]) == (250, 250)
        wait_for(settled(schema, 3), "the sink to classify after recovering")
    assert count(schema.admin, schema, "SELECT COUNT(*) FROM {s}.messages") == 3
    assert count(schema.admin, schema,
                 "SELECT COUNT(*) FROM {s}.suppressions WHERE suppressed = 1") == 3


def test_no_database_is_one_clear_error():
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://postgres@127.0.0.1:1/test", durability="off")


def test_recording_survives_a_connection_lost_mid_transaction(schema):
    from bouncesink.store.postgres import LOCK_ADDRESS

    store = open_store(schema.url("classifier"), durability="off")
    gate = admin_connection()
    try:
        e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[RCPT], received_at=T0)
        [ref] = store.add_messages([(e, b"hard")])
        parsed = Parsed(kind="dsn", results=[Result(recipient="gone@example.com",
                                                    status="5.1.1", reason="userunknown",
                                                    type="hard")])
        # hold the address: record() stalls after its first statements, inside the transaction
        gate.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                     (LOCK_ADDRESS, "gone@example.com"))
        out: list = []
        t = threading.Thread(target=lambda: out.append(store.record(
            [(ref, e, parsed, None)], PolicyConfig(confirm_hostunknown_dns=False), now=T0)))
        t.start()
        wait_for(lambda: schema.waiting("classifier"), "record() to wait for the address")
        assert schema.terminate("classifier") == 1
        gate.execute("SELECT pg_advisory_unlock_all()")
        t.join(60)
        [[(result, decision)]] = out
        assert decision.action == "suppress"
        h = store.history("gone@example.com")
        assert (len(h["results"]), len(h["events"]), h["suppressed"]) == (1, 1, True)
        assert store.message(ref).state == "classified"
    finally:
        gate.close()
        store.close()


def _rollup_index_and_statistics(store) -> tuple:
    covered = store._execute("SELECT indnatts > indnkeyatts FROM pg_index"
                             " WHERE indexrelid = to_regclass('rollups_pkey')").fetchone()[0]
    stats = store._execute("SELECT COUNT(*) FROM pg_statistic_ext WHERE stxname ="
                           " 'rollups_dim_period' AND stxnamespace = current_schema()::regnamespace"
                           ).fetchone()[0]
    store._commit()
    return covered, stats


def test_rollups_are_read_from_their_key_index_with_statistics_on_dim_and_period(schema):
    """A new store, and one made before: the rollups' key carries the counts (index-only
    reads) and the planner has statistics on (dim, period) together."""
    store = open_store(schema.url(), durability="off")
    try:
        assert _rollup_index_and_statistics(store) == (True, 1)
        e = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=[RCPT], received_at=T0)
        [ref] = store.add_messages([(e, b"x")])
        store.record([(ref, e, Parsed(kind="dsn", results=[Result(
            recipient="a@example.com", status="5.1.1", reason="userunknown", type="hard")]),
            None)], PolicyConfig(confirm_hostunknown_dns=False), now=T0)
        want = store.stats(now=T0)
        # As a store opened by an earlier bouncesink left them:
        store._execute("DROP STATISTICS rollups_dim_period")
        store._execute("ALTER TABLE rollups DROP CONSTRAINT rollups_pkey, ADD CONSTRAINT"
                       " rollups_pkey PRIMARY KEY (dim, period, campaign, name, type)")
        store._commit()
        assert _rollup_index_and_statistics(store) == (False, 0)
    finally:
        store.close()
    store = open_store(schema.url(), durability="off")
    try:
        assert _rollup_index_and_statistics(store) == (True, 1)
        assert store.stats(now=T0) == want and want["suppressed"] == 1
    finally:
        store.close()
