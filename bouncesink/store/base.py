"""The store interface and the SQL both back-ends share.

The store is append-only where it matters: `messages` keeps every raw message (compressed)
with its envelope, `results` every recipient result, `events` every suppression decision.
`suppressions` is the current state per address, derived from events and kept in the same
transaction, so exports do not have to replay history. Nothing is ever deleted; pruning only
drops old raw bodies.

Back-ends differ in connection handling, parameter style and DDL only: `SQLStore` holds the
logic, written in the SQL that SQLite and PostgreSQL both speak, with `?` placeholders that
a back-end may rewrite.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bouncesink.config import PolicyConfig
from bouncesink.model import (COMPLAINT, HARD, SENDER_SIDE_REASONS, SOFT, Envelope, Parsed, Result,
                              utcnow)
from bouncesink.policy import (ALERT, COUNT, RESET, SOFT_ESCALATED, SUPPRESS, Decision, decide,
                               needs_dns, sender_alert)
from bouncesink.store.rollups import ALL, SUPPRESSED_DIM, RollupMixin
from bouncesink.verp import UNSIGNED

PENDING, CLASSIFIED, UNRECOGNISED = "pending", "classified", "unrecognised"
FAILED = "failed"  # classification kept failing: set aside for a person (see `reparse`)


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line for a person."""


def iso(t: datetime) -> str:
    """Times are stored as ISO 8601 UTC text, so they sort and compare as strings."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def digest_of(raw: bytes) -> str:
    """A raw message's content hash, as stored in `messages.digest`: sha256, hex."""
    return hashlib.sha256(raw).hexdigest()


def domain_of(address: str | None) -> str:
    return address.rpartition("@")[2].lower() if address and "@" in address else ""


def normalise(address: str) -> str:
    """Addresses are compared case-insensitively (in practice local parts are too)."""
    return address.strip().strip("<>").lower()


def attributed_campaign(campaign: str | None, r: Result, verp_recipient: str | None):
    """The campaign a result counts towards: the message's campaign, unless the message's
    (verified) VERP address names another recipient, or it came without the signed VERP
    address the config requires: then only the named recipient is that campaign's (a DSN's
    other recipients were not sent by it, and the policy ignores them too)."""
    if campaign is None or not verp_recipient:
        return campaign
    if verp_recipient == UNSIGNED:
        return None
    return campaign if (r.recipient or "").lower() == verp_recipient.lower() else None


@dataclass(slots=True)
class Stored:
    """A raw message as kept in the store."""

    ref: int
    envelope: Envelope
    raw: bytes
    state: str


RESULT_COLUMNS = (
    "message_ref", "received_at", "peer", "mail_from", "rcpt_to", "recipient", "domain",
    "action", "status", "reply_code", "diagnostic", "reason", "type", "rule",
    "reporting_mta", "remote_mta", "message_id", "campaign", "detector",
)

EXPORT_KEYS = ("email", "reason", "type", "status", "first_seen", "last_seen", "count")


class SQLStore(RollupMixin):
    """Everything the server and CLI need from a store, on a DB-API connection.

    Calls are synchronous and serialised by a lock: the server calls them from its one
    writer thread (group commit), the CLI directly.
    """

    placeholder = "?"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._conn = None

    # -- back-end hooks -------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _execute(self, sql: str, params: Iterable = ()):
        cur = self._conn.cursor()
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def _executemany(self, sql: str, rows: list) -> None:
        self._conn.cursor().executemany(self._sql(sql), rows)

    def _insert_id(self, sql: str, params: Iterable) -> int:
        """Insert one row and return its id (back-ends use lastrowid or RETURNING)."""
        raise NotImplementedError

    def _insert_ids(self, sql: str, rows: list) -> list[int]:
        """Insert several rows; their ids in order (a back-end may do it in one round trip)."""
        return [self._insert_id(sql, params) for params in rows]

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        try:
            self._conn.rollback()
        except Exception:  # the connection may be gone; the next call reconnects
            pass

    def _begin_write(self) -> None:
        """Start a transaction that writes (SQLite: take the write lock now, see there)."""

    def _lock_address(self, address: str) -> None:
        """Serialise decisions about one address across writers (PostgreSQL: row lock)."""

    def ping(self) -> None:
        """A round trip to the store; raises if it does not answer (`/readyz`)."""
        with self._lock:
            try:
                self._execute("SELECT 1").fetchone()
            finally:
                self._rollback()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- ingest ---------------------------------------------------------------------------
    @staticmethod
    def message_row(envelope: Envelope, raw: bytes) -> tuple:
        """The `messages` row of one message (compressed): built before the transaction, so
        the write lock is held for the inserts and the commit only."""
        return (iso(envelope.received_at), envelope.peer, envelope.helo, envelope.mail_from,
                json.dumps(envelope.rcpt_tos), len(raw), zlib.compress(raw, 1), PENDING,
                digest_of(raw))

    def add_messages(self, items: list[tuple[Envelope, bytes]]) -> list[int]:
        """Store raw messages with their envelopes in ONE transaction (a group commit).

        Returns their refs once committed; raises on failure, in which case none is stored.
        """
        return self.add_rows([self.message_row(env, raw) for env, raw in items])

    def add_rows(self, rows: list[tuple]) -> list[int]:
        """add_messages() of rows made by message_row()."""
        with self._lock:
            try:
                self._begin_write()
                refs = self._insert_ids(
                    "INSERT INTO messages (received_at, peer, helo, mail_from, rcpt_to, size,"
                    " raw, state, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                for row in rows:
                    self._bump_message(row[0])
                self._flush_rollups()
                self._commit()
                return refs
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise

    def add_rows_once(self, rows: list[tuple], since: datetime) -> list[tuple[int, bool]]:
        """add_rows(), except a row whose digest is already stored (received at or after
        `since`) or repeated earlier in `rows`: it is not stored again and gets the first
        one's ref. Returns (ref, stored_now) per row, in order, once committed.

        One transaction: on SQLite the write lock is taken first, so no other writer can
        store the same message in between; PostgreSQL writers may each store it once."""
        with self._lock:
            try:
                self._begin_write()
                first: dict[str, int] = {}
                digests = list({r[8] for r in rows})
                for i in range(0, len(digests), self.ROWS_PER_LOOKUP):
                    part = digests[i:i + self.ROWS_PER_LOOKUP]
                    found = self._execute(
                        "SELECT digest, MIN(id) FROM messages WHERE digest IN"
                        f" ({', '.join('?' * len(part))}) AND received_at >= ?"
                        " GROUP BY digest", [*part, iso(since)]).fetchall()
                    first.update(found)
                new_rows, where = [], []
                for r in rows:
                    if r[8] in first or r[8] in where:
                        continue
                    where.append(r[8])
                    new_rows.append(r)
                refs = self._insert_ids(
                    "INSERT INTO messages (received_at, peer, helo, mail_from, rcpt_to, size,"
                    " raw, state, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", new_rows) \
                    if new_rows else []
                for row in new_rows:
                    self._bump_message(row[0])
                self._flush_rollups()
                self._commit()
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise
        fresh = dict(zip(where, refs))
        out, seen = [], set()
        for r in rows:
            d = r[8]
            if d in fresh and d not in seen:
                seen.add(d)
                out.append((fresh[d], True))
            else:
                out.append((first.get(d) or fresh[d], False))
        return out

    ROWS_PER_LOOKUP = 200

    def message_by_digest(self, digest: str, since: datetime | None = None) -> int | None:
        """The ref of the first message stored with this content hash (`digest_of(raw)`),
        received at or after `since` if given; None if there is none."""
        sql, params = "SELECT MIN(id) FROM messages WHERE digest = ?", [digest]
        if since is not None:
            sql += " AND received_at >= ?"
            params.append(iso(since))
        with self._lock:
            row = self._execute(sql, params).fetchone()
            self._commit()
        return row[0] if row and row[0] is not None else None

    # -- mailboxes (roads/mailbox.py) --------------------------------------------------------
    def mailbox_uids(self, mailbox: str, validity: str) -> set[str]:
        """The UIDs of `mailbox` (under UIDVALIDITY `validity`) whose messages are stored."""
        with self._lock:
            rows = self._execute("SELECT uid FROM mailbox_uids WHERE mailbox = ? AND validity = ?",
                                 (mailbox, validity)).fetchall()
            self._commit()
        return {r[0] for r in rows}

    def track_mailbox_uids(self, mailbox: str, validity: str, taken: list[tuple[str, int]]) -> None:
        """Record (uid, ref) pairs of stored messages, in one transaction; a pair recorded
        before is left as it is."""
        at = iso(utcnow())
        with self._lock:
            try:
                self._begin_write()
                self._executemany(
                    "INSERT INTO mailbox_uids (mailbox, validity, uid, ref, at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(mailbox, validity, uid, ref, at) for uid, ref in taken])
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def pending(self, limit: int = 1000, due: datetime | None = None) -> list[Stored]:
        """Messages stored but not yet classified (e.g. the process died in between); with
        `due`, only those not waiting for a retry after a failure (retry_at after `due`)."""
        sql, params = ("SELECT id, received_at, peer, helo, mail_from, rcpt_to, raw FROM messages"
                       " WHERE state = ?"), [PENDING]
        if due is not None:
            sql += " AND (retry_at IS NULL OR retry_at <= ?)"
            params.append(iso(due))
        with self._lock:
            rows = self._execute(sql + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
            self._commit()
        return [self._stored(r, PENDING) for r in rows]

    def pending_refs(self, limit: int = 1000,
                     due: datetime | None = None) -> list[tuple[int, datetime]]:
        """pending() without the messages: (ref, received_at) of each."""
        sql, params = "SELECT id, received_at FROM messages WHERE state = ?", [PENDING]
        if due is not None:
            sql += " AND (retry_at IS NULL OR retry_at <= ?)"
            params.append(iso(due))
        with self._lock:
            rows = self._execute(sql + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
            self._commit()
        return [(r[0], from_iso(r[1])) for r in rows]

    def has_pending(self, before: datetime) -> bool:
        """Is any message received before `before` still pending classification?"""
        with self._lock:
            row = self._execute("SELECT 1 FROM messages WHERE state = ? AND received_at < ?"
                                " LIMIT 1", (PENDING, iso(before))).fetchone()
            self._commit()
        return row is not None

    def message_attempts(self, ref: int) -> int:
        """How often classifying this message has failed."""
        with self._lock:
            row = self._execute("SELECT attempts FROM messages WHERE id = ?", (ref,)).fetchone()
            self._commit()
        return (row[0] or 0) if row else 0

    def classification_failed(self, ref: int, error: str, retry_at: datetime,
                              max_attempts: int) -> tuple[int, str]:
        """Count a failed classification of a pending message: it is tried again after
        `retry_at`, or after `max_attempts` failures set aside as FAILED (with the error).
        Returns (attempts, state)."""
        with self._lock:
            try:
                self._begin_write()
                row = self._execute("SELECT attempts, state FROM messages WHERE id = ?",
                                    (ref,)).fetchone()
                if row is None or row[1] != PENDING:
                    self._commit()
                    return (row[0], row[1]) if row else (0, "")
                attempts = (row[0] or 0) + 1
                state = FAILED if attempts >= max_attempts else PENDING
                self._execute("UPDATE messages SET attempts = ?, retry_at = ?, state = ?,"
                              " errors = ? WHERE id = ?",
                              (attempts, iso(retry_at), state,
                               f"classify: {error}"[:4000], ref))
                self._commit()
                return attempts, state
            except BaseException:
                self._rollback()
                raise

    def message(self, ref: int) -> Stored | None:
        with self._lock:
            r = self._execute(
                "SELECT id, received_at, peer, helo, mail_from, rcpt_to, raw, state"
                " FROM messages WHERE id = ?", (ref,)).fetchone()
            self._commit()
        return self._stored(r[:7], r[7]) if r else None

    @staticmethod
    def _stored(r, state: str) -> Stored:
        env = Envelope(peer=r[2] or "", helo=r[3] or "", mail_from=r[4] or "",
                       rcpt_tos=json.loads(r[5] or "[]"), received_at=from_iso(r[1]))
        return Stored(ref=r[0], envelope=env, raw=zlib.decompress(bytes(r[6])) if r[6] else b"",
                      state=state)

    def record(self, items: list[tuple[int, Envelope, Parsed, str | None]],
               policy: PolicyConfig, now: datetime | None = None,
               dns_verdicts: dict[str, str] | None = None,
               verp_recipients: dict[int, str] | None = None) -> list[tuple[Result, Decision]]:
        """Store the parse results of stored messages and apply the policy, in ONE transaction.

        Each item is (message ref, envelope, parsed, campaign). `dns_verdicts` maps recipient
        domains to dead / alive / unknown, looked up by the caller for results that
        `policy.needs_dns`; `verp_recipients` maps message refs to the recipient their VERP
        address names. Returns every result with the decision it led to.
        """
        now = now or utcnow()
        out: list[tuple[Result, Decision]] = []
        with self._lock:
            try:
                self._begin_write()
                for ref, env, parsed, campaign in items:
                    out += self._record_one(ref, env, parsed, campaign, policy, now,
                                            dns_verdicts or {},
                                            (verp_recipients or {}).get(ref))
                self._flush_rollups()
                self._commit()
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise
        return out

    def _record_one(self, ref, env, parsed: Parsed, campaign, policy, now, dns_verdicts,
                    verp_recipient=None):
        state = CLASSIFIED if parsed.results else UNRECOGNISED
        self._execute(
            "UPDATE messages SET state = ?, kind = ?, detector = ?, errors = ?, message_id = ?,"
            " campaign = ? WHERE id = ?",
            (state, parsed.kind, parsed.detector, "\n".join(parsed.errors)[:4000] or None,
             parsed.original.get("message-id", "")[:998], campaign, ref))
        if state == UNRECOGNISED:
            self._bump_message(iso(env.received_at), UNRECOGNISED)
        out = []
        for r in parsed.results:
            attributed = attributed_campaign(campaign, r, verp_recipient)
            rid = self._insert_result(ref, env, r, attributed, iso(env.received_at))
            out.append((r, self._apply_policy(r, rid, policy, env.received_at, now,
                                              dns_verdicts, verp_recipient, attributed)))
        return out

    def _insert_result(self, ref, env, r: Result, campaign, at: str) -> int:
        """`campaign` is the campaign the result is attributed to (attributed_campaign)."""
        recipient = normalise(r.recipient) if r.recipient else None
        if recipient:
            self._execute(
                "INSERT INTO addresses (address, domain, first_seen, last_seen, results)"
                " VALUES (?, ?, ?, ?, 1) ON CONFLICT (address) DO UPDATE SET"
                " results = addresses.results + 1,"
                " first_seen = CASE WHEN excluded.first_seen < addresses.first_seen"
                "   THEN excluded.first_seen ELSE addresses.first_seen END,"
                " last_seen = CASE WHEN excluded.last_seen > addresses.last_seen"
                "   THEN excluded.last_seen ELSE addresses.last_seen END",
                (recipient, domain_of(recipient), at, at))
        rid = self._insert_id(
            f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) VALUES"
            f" ({', '.join('?' * len(RESULT_COLUMNS))})",
            (ref, at, env.peer, env.mail_from, ",".join(env.rcpt_tos), recipient,
             domain_of(recipient), r.action, r.status, r.reply_code, r.diagnostic[:2000],
             r.reason, r.type, r.rule, r.reporting_mta, r.remote_mta, r.message_id[:998],
             campaign, r.detector))
        self._count_result(rid, recipient, at, domain_of(recipient), campaign, r.type or "",
                           r.reason or "")
        return rid

    def _apply_policy(self, r: Result, result_id: int, policy: PolicyConfig,
                      received_at: datetime, now: datetime, dns_verdicts=None,
                      verp_recipient: str | None = None, campaign: str | None = None) -> Decision:
        if not r.recipient:
            return Decision("ignore", r.reason, "no recipient")
        # The address the sender's list holds: a DSN's Original-Recipient where an alias was
        # expanded into another Final-Recipient (RFC 3464 2.3.1), else the recipient.
        address = normalise(r.suppress_as or r.recipient)
        self._lock_address(address)
        since = self._last_reset(address)
        window = iso(received_at - timedelta(days=policy.soft_window_days))
        rows = self._execute(
            "SELECT at FROM events WHERE address = ? AND action = ? AND at > ? AND at >= ?",
            (address, COUNT, since, window)).fetchall()
        verdict = (dns_verdicts or {}).get(domain_of(address)) if needs_dns(r, policy) else None
        decision = decide(r, [from_iso(a) for (a,) in rows], received_at, policy, verdict,
                          verp_recipient)
        # Every decision is recorded, ignoring included, so `why` and the API show what the
        # policy did with each result and never have to guess it afterwards.
        self._add_event(address, decision.action, decision.reason, r.type, decision.rule,
                        result_id, "policy", received_at)
        if decision.action in (COUNT, SUPPRESS) and r.type in (HARD, SOFT, COMPLAINT):
            self._outbox(COMPLAINT if r.type == COMPLAINT else "bounce", address, received_at, {
                "email": address, "reason": r.reason, "type": r.type, "status": r.status,
                "rule": decision.rule, "campaign": campaign, "action": decision.action,
                "diagnostic": r.diagnostic[:500]})
        if decision.action == SUPPRESS:
            self._suppress(address, decision.reason, r.type if decision.reason != SOFT_ESCALATED
                           else SOFT, r.status, received_at, rule=decision.rule,
                           campaign=campaign)
        if decision.action == ALERT and r.reason in SENDER_SIDE_REASONS:
            alert = self._sender_alert(domain_of(address), policy, received_at)
            if alert:
                decision = Decision(decision.action, decision.reason, decision.rule, alert)
        return decision

    def _sender_alert(self, domain: str, policy: PolicyConfig, at: datetime) -> dict | None:
        """A sender_blocked alert when this domain's sender-side failures reach the threshold
        within the alert window; at most one per window per domain (kept in `alerts`)."""
        start = iso(at - timedelta(minutes=policy.alert_window_minutes))
        marks = ", ".join("?" * len(SENDER_SIDE_REASONS))
        rows = self._execute(
            f"SELECT reason, diagnostic FROM results WHERE domain = ? AND received_at >= ?"
            f" AND received_at <= ? AND reason IN ({marks}) ORDER BY received_at, id LIMIT ?",
            (domain, start, iso(at), *sorted(SENDER_SIDE_REASONS),
             max(policy.alert_threshold, 1) * 10)).fetchall()
        if len(rows) < policy.alert_threshold:
            return None
        done = self._execute("SELECT 1 FROM alerts WHERE domain = ? AND at >= ? LIMIT 1",
                             (domain, start)).fetchone()
        alert = sender_alert(domain, [(a, b or "") for a, b in rows], bool(done), policy)
        if alert:
            self._outbox("sender_blocked", "", at, {
                "email": "", "domain": domain, "reason": ",".join(alert["reasons"]),
                "type": "", "status": "", "rule": f"{alert['count']} sender-side failures in"
                f" {policy.alert_window_minutes:g} minutes", "campaign": None,
                "count": alert["count"], "reasons": alert["reasons"], "sample": alert["sample"]})
            self._execute("INSERT INTO alerts (at, domain, count, reasons, sample)"
                          " VALUES (?, ?, ?, ?, ?)",
                          (iso(at), domain, alert["count"], json.dumps(alert["reasons"]),
                           alert["sample"]))
        return alert

    def _last_reset(self, address: str) -> str:
        """Time of the last event that restarts the soft count (a delivery, an unsuppress)."""
        row = self._execute(
            "SELECT MAX(at) FROM events WHERE address = ? AND action IN ('reset', 'unsuppress')",
            (address,)).fetchone()
        return row[0] if row and row[0] else ""

    def _add_event(self, address, action, reason, type_, rule, result_id, actor, at) -> int:
        return self._insert_id(
            "INSERT INTO events (at, address, action, reason, type, rule, result_id, actor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (iso(at), address, action, reason, type_, rule, result_id, actor))

    def _next_seq(self) -> int:
        """The seq of a new suppression. It must grow in COMMIT order, or `export --cursor`
        skips a row committed late with a lower seq: SQLite has one writer; PostgreSQL
        overrides this (the seq is assigned at commit, under a lock)."""
        return self._execute("SELECT MAX(id) FROM events").fetchone()[0]

    def _suppress(self, address, reason, type_, status, at: datetime, rule: str = "",
                  campaign: str | None = None) -> None:
        was = self._execute("SELECT suppressed FROM suppressions WHERE address = ?",
                            (address,)).fetchone()
        if not (was and was[0]):  # a change of state: the feed and webhooks hear of it
            self._bump_suppressed(1)
            self._outbox("suppressed", address, at, {
                "email": address, "reason": reason, "type": type_, "status": status or "",
                "rule": rule, "campaign": campaign})
        seq = self._next_seq()
        self._execute(
            "INSERT INTO suppressions (address, domain, suppressed, reason, type, status,"
            " suppressed_at, seq) VALUES (?, ?, 1, ?, ?, ?, ?, ?)"
            " ON CONFLICT (address) DO UPDATE SET suppressed = 1, reason = excluded.reason,"
            " type = excluded.type, status = excluded.status,"
            " suppressed_at = CASE WHEN suppressions.suppressed = 1"
            "   THEN suppressions.suppressed_at ELSE excluded.suppressed_at END,"
            " seq = CASE WHEN suppressions.suppressed = 1 THEN suppressions.seq"
            "   ELSE excluded.seq END",
            (address, domain_of(address), reason, type_, status, iso(at), seq))

    # -- people -----------------------------------------------------------------------------
    def suppress_manual(self, address: str, reason: str, actor: str = "cli") -> None:
        address = normalise(address)
        now = utcnow()
        with self._lock:
            try:
                self._lock_address(address)
                self._add_event(address, SUPPRESS, "manual", "manual", reason, None, actor, now)
                # The suppression carries the person's words as its reason (exports show it).
                self._suppress(address, reason, "manual", "", now, rule=f"manual by {actor}")
                self._flush_rollups()
                self._commit()
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise

    def unsuppress(self, address: str, reason: str = "", actor: str = "cli") -> bool:
        """Lift a suppression (an event; the history stays). False if it was not suppressed."""
        address = normalise(address)
        now = utcnow()
        with self._lock:
            try:
                self._lock_address(address)
                row = self._execute("SELECT suppressed, type FROM suppressions WHERE address = ?",
                                    (address,)).fetchone()
                if not row or not row[0]:
                    self._rollback()
                    return False
                self._add_event(address, "unsuppress", "manual", "", reason or "unsuppressed",
                                None, actor, now)
                self._outbox("unsuppressed", address, now, {
                    "email": address, "reason": reason or "unsuppressed", "type": row[1],
                    "status": "", "rule": f"unsuppressed by {actor}", "campaign": None})
                self._execute("UPDATE suppressions SET suppressed = 0 WHERE address = ?",
                              (address,))
                self._bump_suppressed(-1)
                self._flush_rollups()
                self._commit()
                return True
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise

    # -- reading ----------------------------------------------------------------------------
    def suppressions(self, since: datetime | None = None, after_seq: int = 0,
                     batch: int = 5000) -> Iterator[dict]:
        """Suppressed addresses in suppression order, streamed in batches (constant memory).

        Each row has EXPORT_KEYS plus `seq`, the position a cursor remembers.
        """
        since_s = iso(since) if since else ""
        last = after_seq
        while True:
            with self._lock:
                # first/last seen and count live on `addresses`, kept at record time:
                # one primary-key probe per row instead of three aggregates.
                rows = self._execute(
                    "SELECT s.address, s.reason, s.type, s.status, s.seq,"
                    " a.first_seen, a.last_seen, a.results, s.suppressed_at"
                    " FROM suppressions s LEFT JOIN addresses a ON a.address = s.address"
                    " WHERE s.suppressed = 1 AND s.seq > ?"
                    " AND s.suppressed_at >= ? ORDER BY s.seq LIMIT ?",
                    (last, since_s, batch)).fetchall()
                self._commit()
            for (addr, reason, type_, status, seq, first, lastseen, count, sat) in rows:
                yield {"email": addr, "reason": reason, "type": type_, "status": status or "",
                       "first_seen": first or sat, "last_seen": lastseen or sat,
                       "count": count or 0, "seq": seq}
            if len(rows) < batch:
                return
            last = rows[-1][4]

    def suppression_page(self, after_seq: int = 0, limit: int = 1000, type_: str | None = None,
                         reason: str | None = None, since: datetime | None = None) -> list[dict]:
        """One page of suppressed addresses after `after_seq`, in seq order (the API's cursor
        pagination: each page is one bounded query, whatever the table's size)."""
        sql = ("SELECT s.address, s.reason, s.type, s.status, s.seq, a.first_seen, a.last_seen,"
               " a.results, s.suppressed_at FROM suppressions s"
               " LEFT JOIN addresses a ON a.address = s.address"
               " WHERE s.suppressed = 1 AND s.seq > ?")
        params: list = [after_seq]
        for col, value in (("type", type_), ("reason", reason)):
            if value is not None:
                sql += f" AND s.{col} = ?"
                params.append(value)
        if since is not None:
            sql += " AND s.suppressed_at >= ?"
            params.append(iso(since))
        with self._lock:
            rows = self._execute(sql + " ORDER BY s.seq LIMIT ?", (*params, limit)).fetchall()
            self._commit()
        return [{"email": a, "reason": r, "type": t, "status": st or "", "seq": seq,
                 "first_seen": f or sat, "last_seen": ls or sat, "count": n or 0,
                 "suppressed_at": sat}
                for a, r, t, st, seq, f, ls, n, sat in rows]

    def count_suppressions(self, since: datetime | None = None, after_seq: int = 0) -> int:
        """How many rows suppressions() would yield (for a progress bar)."""
        sql = "SELECT COUNT(*) FROM suppressions WHERE suppressed = 1 AND seq > ?"
        params: tuple = (after_seq,)
        if since:  # without it the count reads the (suppressed, seq) index only
            sql, params = sql + " AND suppressed_at >= ?", (after_seq, iso(since))
        with self._lock:
            n = self._execute(sql, params).fetchone()[0]
            self._commit()
        return n

    # -- cursors and campaigns ----------------------------------------------------------------
    def cursor(self, name: str) -> int:
        """The seq where the last export under this cursor name ended (0: never ran)."""
        with self._lock:
            row = self._execute("SELECT seq FROM cursors WHERE name = ?", (name,)).fetchone()
            self._commit()
        return row[0] if row else 0

    def set_cursor(self, name: str, seq: int) -> None:
        with self._lock:
            try:
                self._execute(
                    "INSERT INTO cursors (name, seq, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq,"
                    " updated_at = excluded.updated_at", (name, seq, iso(utcnow())))
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def set_campaign_sent(self, campaign: str, sent: int) -> None:
        if not 0 <= sent < 2**63:  # both back-ends keep a signed 64-bit integer
            raise StoreError(f"sent count out of range (0 to {2**63 - 1}): {sent}")
        with self._lock:
            try:
                self._execute(
                    "INSERT INTO campaigns (campaign, sent, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (campaign) DO UPDATE SET sent = excluded.sent,"
                    " updated_at = excluded.updated_at", (campaign, sent, iso(utcnow())))
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def report(self, campaign: str | None = None, since: datetime | None = None,
               domains: bool = True) -> dict:
        """Per campaign and per receiving domain: results and distinct recipients by type,
        from the rollups (`since` counts whole UTC days, from the start of its day).

        {"campaigns": {name: {"sent": N|None, "types": {type: [results, recipients]}}},
         "domains": {domain: {type: [results, recipients]}}}
        """
        with self._lock:
            out = self.rollup_report(campaign, since, domains)
            sent = self._execute("SELECT campaign, sent FROM campaigns" +
                                 (" WHERE campaign = ?" if campaign is not None else ""),
                                 [campaign] if campaign is not None else []).fetchall()
            self._commit()
        for name, n in sent:
            out["campaigns"].setdefault(name, {"sent": None, "types": {}})["sent"] = n
        return out

    def history(self, address: str) -> dict:
        """An address's results and decisions, oldest first, for `why`."""
        address = normalise(address)
        with self._lock:
            results = self._execute(
                "SELECT id, received_at, type, reason, status, reply_code, rule, diagnostic,"
                " campaign, message_ref FROM results WHERE recipient = ? ORDER BY id",
                (address,)).fetchall()
            events = self._execute(
                "SELECT id, at, action, reason, type, rule, result_id, actor FROM events"
                " WHERE address = ? ORDER BY id", (address,)).fetchall()
            state = self._execute(
                "SELECT suppressed, reason, type, suppressed_at FROM suppressions"
                " WHERE address = ?", (address,)).fetchone()
            self._commit()
        rk = ("id", "received_at", "type", "reason", "status", "reply_code", "rule",
              "diagnostic", "campaign", "message_ref")
        ek = ("id", "at", "action", "reason", "type", "rule", "result_id", "actor")
        return {
            "address": address,
            "suppressed": bool(state and state[0]),
            "suppression": dict(zip(("suppressed", "reason", "type", "since"), state))
            if state else None,
            "results": [dict(zip(rk, r)) for r in results],
            "events": [dict(zip(ek, e)) for e in events],
        }

    def stats(self, now: datetime | None = None) -> dict:
        """Counts by type, reason and recipient domain, last 24 h and all time (rollups)."""
        now = now or utcnow()
        with self._lock:
            out = self.rollup_stats(now)
            out["suppressed"] = self._total(SUPPRESSED_DIM, "period = ?", (ALL,))
            out["pending"] = self._execute(
                "SELECT COUNT(*) FROM messages WHERE state = ?", (PENDING,)).fetchone()[0]
            self._commit()
        return out

    # == outbox, change feed and webhook deliveries (the API engineer's) =======================
    # Every decision a tool should hear of (suppressed, unsuppressed, complaint, bounce,
    # sender_blocked) is an `outbox` row written in the transaction that made it, with a
    # `seq` that grows in COMMIT order (SQLite: one writer; PostgreSQL: assigned at commit,
    # as suppression seqs are). The change feed reads it; each webhook copies the rows it
    # wants into `deliveries` behind its own cursor (so a hook sees every row exactly once,
    # however late it committed), and dispatchers claim deliveries with a lease.

    def _next_outbox_seq(self) -> int:
        """The seq of a new outbox row (SQLite: the next number; one writer at a time)."""
        return self._execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]

    def _outbox(self, event: str, address: str, at: datetime, data: dict) -> None:
        import uuid

        self._execute(
            "INSERT INTO outbox (seq, at, event, address, uid, data) VALUES (?, ?, ?, ?, ?, ?)",
            (self._next_outbox_seq(), iso(at), event, address, f"msg_{uuid.uuid4().hex}",
             json.dumps(data, separators=(",", ":"))))

    def changes(self, after: int = 0, limit: int = 1000) -> list[dict]:
        """Suppressions and unsuppressions with seq > after, in commit order."""
        with self._lock:
            rows = self._execute(
                "SELECT seq, address, event, data, at FROM outbox WHERE seq > ?"
                " AND event IN ('suppressed', 'unsuppressed') ORDER BY seq LIMIT ?",
                (after, limit)).fetchall()
            self._commit()
        out = []
        for seq, address, event, data, at in rows:
            d = json.loads(data)
            out.append({"seq": seq, "email": address,
                        "action": "suppress" if event == "suppressed" else "unsuppress",
                        "reason": d.get("reason"), "type": d.get("type"),
                        "status": d.get("status") or "", "at": at})
        return out

    def change_rows(self, after_seq: int = 0, since: datetime | None = None,
                    batch: int = 5000) -> Iterator[dict]:
        """Export rows of every suppress and unsuppress after `after_seq`, in commit order,
        streamed in batches: EXPORT_KEYS, `action` (suppress / unsuppress) and `seq`."""
        since_s = iso(since) if since else ""
        last = after_seq
        while True:
            with self._lock:
                rows = self._execute(
                    "SELECT o.seq, o.address, o.event, o.data, o.at, a.first_seen, a.last_seen,"
                    " a.results FROM outbox o LEFT JOIN addresses a ON a.address = o.address"
                    " WHERE o.seq > ? AND o.event IN ('suppressed', 'unsuppressed') AND o.at >= ?"
                    " ORDER BY o.seq LIMIT ?", (last, since_s, batch)).fetchall()
                self._commit()
            for seq, address, event, data, at, first, lastseen, count in rows:
                d = json.loads(data)
                yield {"email": address, "reason": d.get("reason"), "type": d.get("type"),
                       "status": d.get("status") or "", "first_seen": first or at,
                       "last_seen": lastseen or at, "count": count or 0,
                       "action": "suppress" if event == "suppressed" else "unsuppress",
                       "seq": seq}
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def last_outbox_seq(self) -> int:
        with self._lock:
            n = self._execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
            self._commit()
        return n

    # Back-ends that can skip rows another transaction holds say so (PostgreSQL).
    _skip_locked = ""

    def _lock_hook_cursor(self, hook: str) -> int | None:
        row = self._execute("SELECT seq FROM hook_cursors WHERE hook = ?" + (
            " FOR UPDATE" if self._skip_locked else ""), (hook,)).fetchone()
        return row[0] if row else None

    def webhook_fill(self, hook: str, events: tuple[str, ...] | None, batch: int = 1000) -> int:
        """Copy the outbox rows after the hook's cursor that it wants into its deliveries,
        and move the cursor past them, in one transaction. A hook seen for the first time
        starts at the end of the outbox (it is not sent the store's whole past). Returns how
        many deliveries were added."""
        with self._lock:
            try:
                self._begin_write()
                cursor = self._lock_hook_cursor(hook)
                if cursor is None:
                    self._execute(
                        "INSERT INTO hook_cursors (hook, seq) SELECT ?, COALESCE(MAX(seq), 0)"
                        " FROM outbox WHERE true ON CONFLICT (hook) DO NOTHING", (hook,))
                    self._commit()
                    return 0
                rows = self._execute(
                    "SELECT seq, event, address FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                    (cursor, batch)).fetchall()
                if not rows:
                    self._rollback()
                    return 0
                now = iso(utcnow())
                wanted = [(hook, seq, address or "", "pending", 0, now, now)
                          for seq, event, address in rows if not events or event in events]
                if wanted:
                    self._executemany(
                        "INSERT INTO deliveries (hook, outbox_seq, address, state, attempts,"
                        " created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)", wanted)
                self._execute("UPDATE hook_cursors SET seq = ? WHERE hook = ?",
                              (rows[-1][0], hook))
                self._commit()
                return len(wanted)
            except BaseException:
                self._rollback()
                raise

    def webhook_claim(self, hook: str, owner: str, lease_seconds: float,
                      limit: int = 50) -> list[dict]:
        """Due deliveries of a hook, leased to `owner` for `lease_seconds`: at most one per
        address, and only the address's oldest undelivered one (order per address). Another
        process skips what is leased (and, on PostgreSQL, what is being claimed)."""
        now = utcnow()
        with self._lock:
            try:
                self._begin_write()
                rows = self._execute(
                    "SELECT d.id FROM deliveries d WHERE d.hook = ? AND d.state = 'pending'"
                    " AND d.next_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)"
                    " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.hook = d.hook"
                    "   AND e.address = d.address AND e.state = 'pending'"
                    "   AND e.outbox_seq < d.outbox_seq AND d.address <> '')"
                    " ORDER BY d.outbox_seq LIMIT ?" + self._skip_locked,
                    (hook, iso(now), iso(now), limit)).fetchall()
                if not rows:
                    self._rollback()
                    return []
                ids = [r[0] for r in rows]
                marks = ", ".join("?" * len(ids))
                self._execute(
                    f"UPDATE deliveries SET lease_until = ?, lease_owner = ? WHERE id IN ({marks})",
                    (iso(now + timedelta(seconds=lease_seconds)), owner, *ids))
                got = self._execute(
                    f"SELECT d.id, d.address, d.attempts, d.created_at, o.seq, o.uid, o.event,"
                    f" o.at, o.data FROM deliveries d JOIN outbox o ON o.seq = d.outbox_seq"
                    f" WHERE d.id IN ({marks}) ORDER BY d.outbox_seq", ids).fetchall()
                self._commit()
            except BaseException:
                self._rollback()
                raise
        keys = ("id", "address", "attempts", "created_at", "seq", "uid", "event", "at", "data")
        out = [dict(zip(keys, r)) for r in got]
        for d in out:
            d["data"] = json.loads(d["data"])
        # One per address: the NOT EXISTS leaves only each address's oldest pending one.
        return out

    def webhook_finish(self, done: list[int], failed: list[tuple[int, str, datetime | None]]
                       ) -> None:
        """Record a round of attempts in one transaction: `done` ids delivered; `failed`
        (id, error, retry_at or None for dead)."""
        now = iso(utcnow())
        with self._lock:
            try:
                self._begin_write()
                if done:
                    marks = ", ".join("?" * len(done))
                    self._execute(
                        f"UPDATE deliveries SET state = 'delivered', delivered_at = ?, attempts ="
                        f" attempts + 1, lease_until = NULL, last_error = NULL"
                        f" WHERE id IN ({marks})", (now, *done))
                for delivery_id, error, retry_at in failed:
                    self._execute(
                        "UPDATE deliveries SET attempts = attempts + 1, lease_until = NULL,"
                        " last_error = ?, state = ?, next_at = ? WHERE id = ?",
                        (error[:500], "pending" if retry_at else "dead",
                         iso(retry_at) if retry_at else now, delivery_id))
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def webhook_deliveries(self, states=("pending", "dead"), hook: str | None = None,
                           limit: int = 1000) -> list[dict]:
        """Deliveries in these states, oldest first (for `bouncesink webhooks`)."""
        marks = ", ".join("?" * len(states))
        sql = (f"SELECT d.id, d.hook, d.state, d.attempts, d.created_at, d.next_at,"
               f" d.last_error, o.event, o.address, o.uid, o.seq FROM deliveries d"
               f" JOIN outbox o ON o.seq = d.outbox_seq WHERE d.state IN ({marks})")
        params: list = list(states)
        if hook is not None:
            sql += " AND d.hook = ?"
            params.append(hook)
        with self._lock:
            rows = self._execute(sql + " ORDER BY d.outbox_seq LIMIT ?",
                                 (*params, limit)).fetchall()
            self._commit()
        keys = ("id", "hook", "state", "attempts", "created_at", "next_at", "last_error",
                "event", "email", "webhook_id", "seq")
        return [dict(zip(keys, r)) for r in rows]

    def webhook_backlog(self) -> dict[str, int]:
        """Deliveries waiting ({"pending": n, "dead": m}), for /metrics."""
        with self._lock:
            rows = self._execute("SELECT state, COUNT(*) FROM deliveries WHERE state IN"
                                 " ('pending', 'dead') GROUP BY state").fetchall()
            self._commit()
        out = {"pending": 0, "dead": 0}
        out.update({state: n for state, n in rows})
        return out

    def webhook_retry_dead(self, hook: str | None = None) -> int:
        """Dead deliveries back to pending, due now, with a fresh retry window."""
        now = iso(utcnow())
        sql = ("UPDATE deliveries SET state = 'pending', next_at = ?, created_at = ?,"
               " lease_until = NULL WHERE state = 'dead'")
        params: list = [now, now]
        if hook is not None:
            sql += " AND hook = ?"
            params.append(hook)
        with self._lock:
            try:
                self._begin_write()
                n = self._execute(sql, params).rowcount
                self._commit()
            except BaseException:
                self._rollback()
                raise
        return n

    # == operations: doctor, reparse, prune (owned by the operations engineer) ================
    # Re-parsing never rewrites a result: a changed classification is a `reclassified` event
    # on the old result (reason/type are the new ones, rule says what changed), and the
    # latest such event is the result's current classification. Pruning drops raw bodies
    # only; results, events and the message rows stay.

    def probe_write(self) -> None:
        """Insert a row and roll it back; raises if the store cannot be written."""
        with self._lock:
            try:
                self._execute("INSERT INTO cursors (name, seq, updated_at) VALUES (?, ?, ?)",
                              ("doctor-probe", 0, iso(utcnow())))
            finally:
                self._rollback()

    def reparse_batch(self, since: datetime | None = None, after_ref: int = 0,
                      limit: int = 200) -> list[Stored]:
        """Classified or unrecognised messages that still have their raw body, by ref."""
        with self._lock:
            rows = self._execute(
                "SELECT id, received_at, peer, helo, mail_from, rcpt_to, raw, state FROM messages"
                " WHERE id > ? AND received_at >= ? AND raw IS NOT NULL AND state IN (?, ?)"
                " ORDER BY id LIMIT ?",
                (after_ref, iso(since) if since else "", CLASSIFIED, UNRECOGNISED, limit)
            ).fetchall()
            self._commit()
        return [self._stored(r[:7], r[7]) for r in rows]

    def count_without_raw(self, since: datetime | None = None) -> int:
        with self._lock:
            n = self._execute("SELECT COUNT(*) FROM messages WHERE raw IS NULL AND received_at >= ?",
                              (iso(since) if since else "",)).fetchone()[0]
            self._commit()
        return n

    def current_results(self, ref: int) -> list[tuple[int, str, str, str]]:
        """(result id, recipient, type, reason) of a message, as last (re)classified."""
        with self._lock:
            rows = self._execute(
                "SELECT r.id, r.recipient, r.type, r.reason,"
                " (SELECT e.type FROM events e WHERE e.result_id = r.id"
                "   AND e.action = 'reclassified' ORDER BY e.id DESC LIMIT 1),"
                " (SELECT e.reason FROM events e WHERE e.result_id = r.id"
                "   AND e.action = 'reclassified' ORDER BY e.id DESC LIMIT 1),"
                " (SELECT COUNT(*) FROM events e WHERE e.result_id = r.id"
                "   AND e.action = 'reclassified')"
                " FROM results r WHERE r.message_ref = ? ORDER BY r.id", (ref,)).fetchall()
            self._commit()
        return [(rid, rcpt or "", (t2 or "") if n else (t or ""), (r2 or "") if n else (r or ""))
                for rid, rcpt, t, r, t2, r2, n in rows]

    def record_reparse(self, stored: Stored, parsed: Parsed, changes: list, campaign,
                       policy: PolicyConfig, now: datetime | None = None,
                       dns_verdicts: dict[str, str] | None = None,
                       verp_recipient: str | None = None, dry_run: bool = False) -> list:
        """Record what re-parsing one stored message changed, in ONE transaction.

        `changes` come from `bouncesink.reparse.diff`. A message nothing recognised before is
        classified as if it had just arrived; a changed result gets a `reclassified` event and,
        when its type changed, the policy runs on the new classification; a recipient the
        parser finds for the first time becomes a new result. Returns (change, decision) pairs;
        `dry_run` rolls everything back.
        """
        now = now or utcnow()
        env = stored.envelope
        verdicts = dns_verdicts or {}
        out = []
        with self._lock:
            try:
                if changes and changes[0].kind == "first":
                    # The base method: back-ends override _record_one to claim PENDING
                    # messages only, and this one is already classified (unrecognised).
                    decisions = SQLStore._record_one(self, stored.ref, env, parsed, campaign,
                                                     policy, now, verdicts, verp_recipient)
                    out = [(c, d) for c, (_, d) in zip(changes, decisions)]
                    if decisions and stored.state == UNRECOGNISED:  # it leaves that count
                        self._bump_message(iso(env.received_at), UNRECOGNISED, -1)
                else:
                    for c in changes:
                        decision = None
                        if c.kind == "new":
                            attributed = attributed_campaign(campaign, c.result, verp_recipient)
                            rid = self._insert_result(stored.ref, env, c.result, attributed,
                                                      iso(env.received_at))
                            decision = self._apply_policy(c.result, rid, policy, env.received_at,
                                                          now, verdicts, verp_recipient, attributed)
                        else:
                            r = c.result
                            self._move_result(c.result_id, c.old_type, c.old_reason,
                                              r.type if r else None, r.reason if r else None)
                            self._add_event(
                                normalise(c.recipient) if c.recipient else "", "reclassified",
                                r.reason if r else "", r.type if r else "", c.describe(),
                                c.result_id, "reparse", now)
                            if r is not None and r.type != c.old_type:
                                decision = self._apply_policy(
                                    r, c.result_id, policy, env.received_at, now, verdicts,
                                    verp_recipient, attributed_campaign(campaign, r, verp_recipient))
                        out.append((c, decision))
                if dry_run:
                    self._drop_rollup_deltas()
                    self._rollback()
                else:
                    self._flush_rollups()
                    self._commit()
            except BaseException:
                self._drop_rollup_deltas()
                self._rollback()
                raise
        return out

    def prune_raw(self, before: datetime, keep_unrecognised: bool = True,
                  batch: int = 1000) -> tuple[int, int]:
        """Drop the raw bodies of messages received before `before`; (messages, bytes).

        Pending messages keep theirs (they are not classified yet) and, unless told
        otherwise, so do unrecognised ones: for those the raw body is all there is.
        """
        states = (CLASSIFIED,) if keep_unrecognised else (CLASSIFIED, UNRECOGNISED)
        marks = ", ".join("?" * len(states))
        count = size = 0
        while True:
            with self._lock:
                try:
                    rows = self._execute(
                        f"SELECT id, size FROM messages WHERE received_at < ? AND raw IS NOT NULL"
                        f" AND state IN ({marks}) ORDER BY id LIMIT ?",
                        (iso(before), *states, batch)).fetchall()
                    if rows:
                        ids = [r[0] for r in rows]
                        self._execute(
                            f"UPDATE messages SET raw = NULL WHERE id IN ({', '.join('?' * len(ids))})",
                            ids)
                    self._commit()
                except BaseException:
                    self._rollback()
                    raise
            count += len(rows)
            size += sum(r[1] or 0 for r in rows)
            if len(rows) < batch:
                return count, size
