"""The SQLite store: one file, WAL mode, versioned migrations.

WAL lets `export`, `stats` and `why` read while the server writes. `durability` maps to
PRAGMA synchronous: full fsyncs the WAL at every commit (a 250 survives power loss),
normal survives a crash of the process, off is for tests and benchmarks only.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bouncesink.store.base import PENDING, SQLStore, StoreError

# Migrations live in store/schema.py (portable DDL shared with PostgreSQL): append there.
from bouncesink.store.schema import MIGRATIONS, render

# How the portable DDL of schema.py is spelled in SQLite.
DIALECT = {"pk": "INTEGER PRIMARY KEY", "blob": "BLOB", "bigint": "INTEGER"}

_SYNC = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}


def path_of(url: str) -> Path:
    return Path(url[len("sqlite://"):] if url.startswith("sqlite://") else url)


class SQLiteStore(SQLStore):
    def __init__(self, url: str, durability: str = "full", create: bool = True) -> None:
        super().__init__()
        self.path = path_of(url)
        self.durability = durability
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise StoreError(f"{self.path}: no such store")
            self._connect()
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc.strerror or exc}") from None

    def _connect(self) -> None:
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False,
                               isolation_level="DEFERRED")
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={_SYNC[self.durability]}")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # -- faults: disk full, read-only, locked, file gone -----------------------------------
    def reconnect(self) -> None:
        """Drop the connection after a failure; the next call opens a fresh one.

        The server calls this after a failed commit, so a fault that clears (space freed,
        permissions restored, lock released) needs no restart.
        """
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None
            self._connect()

    def _execute(self, sql, params=()):
        if self._conn is None:
            self._connect()
        return super()._execute(sql, params)

    # SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20 ms... between tries: far longer
    # than a group commit holds the lock, so processes sharing the file (workers, their
    # classifiers) would idle behind one another. The write lock is taken up front
    # (BEGIN IMMEDIATE: nothing done yet, so a retry is safe) and retried every 0.1-2 ms.
    LOCK_WAIT = 10.0  # seconds before "database is locked" reaches the caller

    def _begin_write(self) -> None:
        if self._conn is None:
            self._connect()
        conn = self._conn
        if conn.in_transaction:
            return
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            delay, deadline = 0.0001, time.monotonic() + self.LOCK_WAIT
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(delay)
                delay = min(delay * 1.5, 0.002)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.LOCK_WAIT * 1000)}")

    def _record_one(self, ref, *args, **kwargs):
        # Claim the message first (a write, so the transaction holds the write lock from
        # its first statement): two processes may both classify one pending message (one
        # recovering what the other just stored); the second records nothing.
        cur = self._execute("UPDATE messages SET state = state WHERE id = ? AND state = ?",
                            (ref, PENDING))
        if cur.rowcount == 0:
            return []
        return super()._record_one(ref, *args, **kwargs)

    def _insert_id(self, sql, params) -> int:
        return self._execute(sql, params).lastrowid

    def _insert_ids(self, sql, rows) -> list[int]:
        # A statement per ROWS_PER_INSERT rows, not per row: one step of the engine each
        # (the writer thread takes the GIL back once a statement). Rows of one INSERT get
        # consecutive rowids (max(rowid) + 1 onwards: no AUTOINCREMENT, no explicit ids).
        head, _, values = sql.rpartition(" VALUES ")
        ids: list[int] = []
        for i in range(0, len(rows), self.ROWS_PER_INSERT):
            part = rows[i:i + self.ROWS_PER_INSERT]
            cur = self._execute(f"{head} VALUES {', '.join([values] * len(part))}",
                                [v for row in part for v in row])
            ids += range(cur.lastrowid - len(part) + 1, cur.lastrowid + 1)
        return ids

    ROWS_PER_INSERT = 100  # 9 columns: within SQLite's 999 bound variables of old

    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns it."""
        with self._lock:
            version = self.schema_version()
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.path}: schema version {version} is newer than this"
                                 f" bouncesink knows ({len(MIGRATIONS)})")
            for n in range(version, len(MIGRATIONS)):
                # executescript commits first; the version bump is inside the script.
                self._conn.executescript(
                    f"BEGIN; {render(MIGRATIONS[n], DIALECT)}; PRAGMA user_version = {n + 1}; COMMIT;")
            return len(MIGRATIONS)
