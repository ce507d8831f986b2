"""The schema, once, in SQL that SQLite and PostgreSQL both speak.

Each migration moves the schema one version up; never edit a released one, append a new one.
Types that differ are written as {pk}, {blob} and {bigint} and spelled by each back-end
(`render`): SQLite needs `INTEGER PRIMARY KEY` for its rowid alias, PostgreSQL BIGSERIAL.
{clustered} after a table stores it in its primary key's order where the back-end can
(SQLite: WITHOUT ROWID; PostgreSQL: nothing).
"""

from __future__ import annotations

from bouncesink.store.rollups import MIGRATION as ROLLUPS, SUPPRESSED_COUNT

MIGRATIONS: list[str] = [
    # 1: messages (raw, compressed), results (append-only), events, suppressions, cursors.
    """
    CREATE TABLE messages (
        id {pk},
        received_at TEXT NOT NULL,
        peer TEXT, helo TEXT, mail_from TEXT, rcpt_to TEXT,
        size {bigint} NOT NULL,
        raw {blob},
        state TEXT NOT NULL,
        kind TEXT, detector TEXT, errors TEXT, message_id TEXT, campaign TEXT
    );
    CREATE INDEX messages_state ON messages (state);
    CREATE INDEX messages_received ON messages (received_at);
    CREATE TABLE results (
        id {pk},
        message_ref {bigint} NOT NULL REFERENCES messages (id),
        received_at TEXT NOT NULL,
        peer TEXT, mail_from TEXT, rcpt_to TEXT,
        recipient TEXT, domain TEXT,
        action TEXT, status TEXT, reply_code TEXT, diagnostic TEXT,
        reason TEXT, type TEXT, rule TEXT,
        reporting_mta TEXT, remote_mta TEXT, message_id TEXT, campaign TEXT, detector TEXT
    );
    CREATE INDEX results_recipient ON results (recipient, received_at);
    CREATE INDEX results_received ON results (received_at);
    CREATE INDEX results_campaign ON results (campaign);
    CREATE TABLE events (
        id {pk},
        at TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT, type TEXT, rule TEXT,
        result_id {bigint} REFERENCES results (id),
        actor TEXT NOT NULL
    );
    CREATE INDEX events_address ON events (address, action, at);
    CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        domain TEXT,
        suppressed INTEGER NOT NULL,
        reason TEXT, type TEXT, status TEXT,
        suppressed_at TEXT NOT NULL,
        seq {bigint} NOT NULL
    );
    CREATE INDEX suppressions_seq ON suppressions (suppressed, seq);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, seq {bigint} NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE campaigns (campaign TEXT PRIMARY KEY, sent {bigint} NOT NULL, updated_at TEXT NOT NULL);
    """,
    # 2: per-address first/last seen and result count, kept at record time so exports need
    # no per-row aggregate; sender_blocked alerts; indexes for alerts, reports and --since.
    """
    CREATE TABLE addresses (
        address TEXT PRIMARY KEY,
        domain TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        results {bigint} NOT NULL
    );
    INSERT INTO addresses (address, domain, first_seen, last_seen, results)
        SELECT recipient, MIN(domain), MIN(received_at), MAX(received_at), COUNT(*)
        FROM results WHERE recipient IS NOT NULL GROUP BY recipient;
    CREATE TABLE alerts (
        id {pk},
        at TEXT NOT NULL,
        domain TEXT NOT NULL,
        count {bigint} NOT NULL,
        reasons TEXT,
        sample TEXT
    );
    CREATE INDEX alerts_domain ON alerts (domain, at);
    CREATE INDEX results_domain ON results (domain, received_at);
    CREATE INDEX suppressions_at ON suppressions (suppressed, suppressed_at);
    """,
    # 3: lookups by message and by result, for `reparse` (a message's results and their
    # latest reclassification); without them each is a scan of the whole table.
    """
    CREATE INDEX results_message ON results (message_ref);
    CREATE INDEX events_result ON events (result_id, action);
    """,
    # 4: the raw message's content hash (sha256, hex) at ingest: a retransmission of a
    # message already stored (an MTA that never saw our 250) and `import` of a message
    # already taken are recognised by it. Rows stored before have none.
    """
    ALTER TABLE messages ADD COLUMN digest TEXT;
    CREATE INDEX messages_digest ON messages (digest);
    """,
    # 5: a message whose classification failed (a parser or store fault) is tried again
    # with a back-off (`attempts`, `retry_at`) and set aside as state 'failed' for a person
    # after the last try (Mailman's shunt queue), never forgotten as pending.
    """
    ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN retry_at TEXT;
    """,
    # 6 (api): the outbox of decisions (change feed, webhooks) with a commit-ordered seq, each
    # webhook's deliveries (claimed with a lease) and its cursor over the outbox.
    """
    CREATE TABLE outbox (
        id {pk},
        seq {bigint} NOT NULL,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        address TEXT NOT NULL,
        uid TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX outbox_seq ON outbox (seq);
    CREATE TABLE deliveries (
        id {pk},
        hook TEXT NOT NULL,
        outbox_seq {bigint} NOT NULL,
        address TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        next_at TEXT NOT NULL,
        lease_until TEXT,
        lease_owner TEXT,
        last_error TEXT,
        delivered_at TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (hook, state, outbox_seq);
    CREATE INDEX deliveries_address ON deliveries (hook, address, state, outbox_seq);
    CREATE TABLE hook_cursors (hook TEXT PRIMARY KEY, seq {bigint} NOT NULL);
    """,
    # 7: rollups (counts per hour, day and all time, kept with the results) so `stats`,
    # `report` and the dashboard cost the same at any size; built from the existing rows.
    ROLLUPS,
    # 8 (roads): the mailbox UIDs already stored (IMAP UIDVALIDITY + UID, POP3 UIDL with an
    # empty validity), so a mailbox pass neither loses nor duplicates a message across a
    # crash.
    """
    CREATE TABLE IF NOT EXISTS mailbox_uids (
        mailbox TEXT NOT NULL,
        validity TEXT NOT NULL,
        uid TEXT NOT NULL,
        ref {bigint},
        at TEXT NOT NULL,
        PRIMARY KEY (mailbox, validity, uid)
    );
    """,
    # 9: the number of addresses suppressed now, kept in the rollups (stats and /metrics no
    # longer count the suppressions table: 50 ms and more at millions of addresses).
    SUPPRESSED_COUNT,
]



def render(migration: str, dialect: dict[str, str]) -> str:
    """A migration in one back-end's spelling."""
    out = migration
    for key, value in dialect.items():
        out = out.replace("{" + key + "}", value)
    return out
