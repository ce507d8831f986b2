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

import json
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bouncesink.config import PolicyConfig
from bouncesink.model import SOFT, Envelope, Parsed, Result, utcnow
from bouncesink.policy import COUNT, RESET, SUPPRESS, Decision, decide

PENDING, CLASSIFIED, UNRECOGNISED = "pending", "classified", "unrecognised"


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line for a person."""


def iso(t: datetime) -> str:
    """Times are stored as ISO 8601 UTC text, so they sort and compare as strings."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def domain_of(address: str | None) -> str:
    return address.rpartition("@")[2].lower() if address and "@" in address else ""


def normalise(address: str) -> str:
    """Addresses are compared case-insensitively (in practice local parts are too)."""
    return address.strip().strip("<>").lower()


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


class SQLStore:
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

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        try:
            self._conn.rollback()
        except Exception:  # the connection may be gone; the next call reconnects
            pass

    def _lock_address(self, address: str) -> None:
        """Serialise decisions about one address across writers (PostgreSQL: row lock)."""

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- ingest ---------------------------------------------------------------------------
    def add_messages(self, items: list[tuple[Envelope, bytes]]) -> list[int]:
        """Store raw messages with their envelopes in ONE transaction (a group commit).

        Returns their refs once committed; raises on failure, in which case none is stored.
        """
        with self._lock:
            try:
                refs = [
                    self._insert_id(
                        "INSERT INTO messages (received_at, peer, helo, mail_from, rcpt_to, size,"
                        " raw, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (iso(env.received_at), env.peer, env.helo, env.mail_from,
                         json.dumps(env.rcpt_tos), len(raw), zlib.compress(raw, 1), PENDING),
                    )
                    for env, raw in items
                ]
                self._commit()
                return refs
            except BaseException:
                self._rollback()
                raise

    def pending(self, limit: int = 1000) -> list[Stored]:
        """Messages stored but not yet classified (e.g. the process died in between)."""
        with self._lock:
            rows = self._execute(
                "SELECT id, received_at, peer, helo, mail_from, rcpt_to, raw FROM messages"
                " WHERE state = ? ORDER BY id LIMIT ?", (PENDING, limit)).fetchall()
            self._commit()
        return [self._stored(r, PENDING) for r in rows]

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
               policy: PolicyConfig, now: datetime | None = None) -> list[tuple[Result, Decision]]:
        """Store the parse results of stored messages and apply the policy, in ONE transaction.

        Each item is (message ref, envelope, parsed, campaign). Returns every result with
        the decision it led to.
        """
        now = now or utcnow()
        out: list[tuple[Result, Decision]] = []
        with self._lock:
            try:
                for ref, env, parsed, campaign in items:
                    out += self._record_one(ref, env, parsed, campaign, policy, now)
                self._commit()
            except BaseException:
                self._rollback()
                raise
        return out

    def _record_one(self, ref, env, parsed: Parsed, campaign, policy, now):
        state = CLASSIFIED if parsed.results else UNRECOGNISED
        self._execute(
            "UPDATE messages SET state = ?, kind = ?, detector = ?, errors = ?, message_id = ?,"
            " campaign = ? WHERE id = ?",
            (state, parsed.kind, parsed.detector, "\n".join(parsed.errors)[:4000] or None,
             parsed.original.get("message-id", "")[:998], campaign, ref))
        out = []
        for r in parsed.results:
            rid = self._insert_result(ref, env, r, campaign, iso(env.received_at))
            out.append((r, self._apply_policy(r, rid, policy, env.received_at, now)))
        return out

    def _insert_result(self, ref, env, r: Result, campaign, at: str) -> int:
        recipient = normalise(r.recipient) if r.recipient else None
        return self._insert_id(
            f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) VALUES"
            f" ({', '.join('?' * len(RESULT_COLUMNS))})",
            (ref, at, env.peer, env.mail_from, ",".join(env.rcpt_tos), recipient,
             domain_of(recipient), r.action, r.status, r.reply_code, r.diagnostic[:2000],
             r.reason, r.type, r.rule, r.reporting_mta, r.remote_mta, r.message_id[:998],
             campaign, r.detector))

    def _apply_policy(self, r: Result, result_id: int, policy: PolicyConfig,
                      received_at: datetime, now: datetime) -> Decision:
        if not r.recipient:
            return Decision("ignore", r.reason, "no recipient")
        address = normalise(r.recipient)
        self._lock_address(address)
        since = self._last_reset(address)
        window = iso(now - timedelta(days=policy.soft_window_days))
        rows = self._execute(
            "SELECT at FROM events WHERE address = ? AND action = ? AND at > ? AND at >= ?",
            (address, COUNT, since, window)).fetchall()
        decision = decide(r, [from_iso(a) for (a,) in rows], received_at, policy)
        if decision.action in (COUNT, SUPPRESS, RESET) or decision.action == "alert":
            self._add_event(address, decision.action, decision.reason, r.type, decision.rule,
                            result_id, "policy", received_at)
        if decision.action == SUPPRESS:
            self._suppress(address, decision.reason, r.type if decision.reason != "soft-escalated"
                           else SOFT, r.status, received_at)
        return decision

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

    def _suppress(self, address, reason, type_, status, at: datetime) -> None:
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
                self._suppress(address, "manual", "manual", "", now)
                self._commit()
            except BaseException:
                self._rollback()
                raise

    def unsuppress(self, address: str, reason: str = "", actor: str = "cli") -> bool:
        """Lift a suppression (an event; the history stays). False if it was not suppressed."""
        address = normalise(address)
        now = utcnow()
        with self._lock:
            try:
                self._lock_address(address)
                row = self._execute("SELECT suppressed FROM suppressions WHERE address = ?",
                                    (address,)).fetchone()
                if not row or not row[0]:
                    self._rollback()
                    return False
                self._add_event(address, "unsuppress", "manual", "", reason or "unsuppressed",
                                None, actor, now)
                self._execute("UPDATE suppressions SET suppressed = 0 WHERE address = ?",
                              (address,))
                self._commit()
                return True
            except BaseException:
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
                rows = self._execute(
                    "SELECT s.address, s.reason, s.type, s.status, s.seq,"
                    " (SELECT MIN(received_at) FROM results r WHERE r.recipient = s.address),"
                    " (SELECT MAX(received_at) FROM results r WHERE r.recipient = s.address),"
                    " (SELECT COUNT(*) FROM results r WHERE r.recipient = s.address),"
                    " s.suppressed_at"
                    " FROM suppressions s WHERE s.suppressed = 1 AND s.seq > ?"
                    " AND s.suppressed_at >= ? ORDER BY s.seq LIMIT ?",
                    (last, since_s, batch)).fetchall()
                self._commit()
            for (addr, reason, type_, status, seq, first, lastseen, count, sat) in rows:
                yield {"email": addr, "reason": reason, "type": type_, "status": status or "",
                       "first_seen": first or sat, "last_seen": lastseen or sat,
                       "count": count, "seq": seq}
            if len(rows) < batch:
                return
            last = rows[-1][4]

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
        """Counts by type, reason and recipient domain, last 24 h and all time."""
        now = now or utcnow()
        day = iso(now - timedelta(hours=24))
        out: dict = {}
        with self._lock:
            for label, since in (("last_24h", day), ("all_time", "")):
                part = {}
                for col in ("type", "reason", "domain"):
                    rows = self._execute(
                        f"SELECT {col}, COUNT(*) FROM results WHERE received_at >= ?"
                        f" GROUP BY {col} ORDER BY COUNT(*) DESC, {col}", (since,)).fetchall()
                    part[f"by_{col}"] = {(k or ""): n for k, n in rows}
                part["messages"] = self._execute(
                    "SELECT COUNT(*) FROM messages WHERE received_at >= ?", (since,)).fetchone()[0]
                part["unrecognised"] = self._execute(
                    "SELECT COUNT(*) FROM messages WHERE received_at >= ? AND state = ?",
                    (since, UNRECOGNISED)).fetchone()[0]
                out[label] = part
            out["suppressed"] = self._execute(
                "SELECT COUNT(*) FROM suppressions WHERE suppressed = 1").fetchone()[0]
            out["pending"] = self._execute(
                "SELECT COUNT(*) FROM messages WHERE state = ?", (PENDING,)).fetchone()[0]
            self._commit()
        return out
