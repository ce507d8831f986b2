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
DIALECT = {"pk": "INTEGER PRIMARY KEY", "blob": "BLOB", "bigint": "INTEGER",
           # a table stored in its primary key's order (the rollups: read by key ranges)
           "clustered": "WITHOUT ROWID"}

_SYNC = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}


def path_of(url: str) -> Path:
    return Path(url[len("sqlite://"):] if url.startswith("sqlite://") else url)


class SQLiteStore(SQLStore):
    def __init__(self, url: str, durability: str = "full", create: bool = True,
                 readonly: bool = False) -> None:
        super().__init__()
        self.path = path_of(url)
        self.durability = durability
        self.readonly = readonly
        try:
            if self.path.exists() and not self.path.is_file():
                # /dev/null, a FIFO, a directory: SQLite would make `<path>-journal` beside it.
                raise StoreError(f"{self.path}: not a bouncesink store (not a regular file)")
            if create and not readonly:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise StoreError(f"{self.path}: no such store")
            if readonly:
                self._open_readonly()
            else:
                self._connect(check=True)
                self.migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: cannot open store: {exc}") from None
        except OSError as exc:
            self.close()
            raise StoreError(f"{self.path}: cannot open store: {exc.strerror or exc}") from None
        except StoreError:
            self.close()
            raise

    # Tables every version of the schema has: a file with a user_version but without them
    # belongs to another application.
    OUR_TABLES = frozenset({"messages", "results", "events", "suppressions"})

    def _check_ours(self, empty_ok: bool) -> None:
        """Refuse a SQLite file that is not a bouncesink store: never create our tables in
        another application's database, nor switch it to WAL."""
        version = self.schema_version()
        tables = {r[0] for r in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables:
            if empty_ok:
                return
            raise StoreError(f"{self.path}: not a bouncesink store (an empty database)")
        if version == 0 or not self.OUR_TABLES <= tables:
            raise StoreError(f"{self.path}: not a bouncesink store (a SQLite database of"
                             f" something else)")

    def _open_readonly(self) -> None:
        """For commands that only read: SQLite's read-only mode (no journal, no WAL switch,
        no migration); an older store of ours is brought up to date first, read-write."""
        self._connect()
        self._check_ours(empty_ok=False)
        if self.schema_version() < len(MIGRATIONS):
            self.close()
            self.readonly = False
            self._connect()
            self.migrate()
            self.close()
            self.readonly = True
            self._connect()

    def _connect(self, check: bool = False) -> None:
        """Connect; with `check`, refuse a file that is not ours before changing anything
        (the WAL switch below is written into the file)."""
        if self.readonly:
            conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True,
                                   timeout=10.0, check_same_thread=False,
                                   isolation_level="DEFERRED")
            try:
                conn.execute("PRAGMA query_only=ON")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            return
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False,
                               isolation_level="DEFERRED")
        try:
            if check:
                self._conn = conn
                self._check_ours(empty_ok=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={_SYNC[self.durability]}")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            self._conn = None
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
        """Bring the schema to the newest version; returns it.

        Several processes may open a new store at once (workers, two `deliver`s): each step
        takes the write lock, and one that finds the step already taken by another (its
        CREATE fails) reads the version again and goes on from there."""
        with self._lock:
            for attempt in range(20):
                version = self.schema_version()
                if version > len(MIGRATIONS):
                    raise StoreError(f"{self.path}: schema version {version} is newer than"
                                     f" this bouncesink knows ({len(MIGRATIONS)})")
                try:
                    for n in range(version, len(MIGRATIONS)):
                        # executescript commits first; the version bump is inside the script.
                        self._conn.executescript(
                            f"BEGIN IMMEDIATE; {render(MIGRATIONS[n], DIALECT)};"
                            f" PRAGMA user_version = {n + 1}; COMMIT;")
                    return len(MIGRATIONS)
                except sqlite3.OperationalError:
                    if self._conn.in_transaction:
                        self._conn.rollback()
                    if attempt == 19:
                        raise
                    time.sleep(0.05)
            return len(MIGRATIONS)  # pragma: no cover - the loop returns or raises
