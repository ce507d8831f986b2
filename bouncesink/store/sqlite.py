"""The SQLite store: one file, WAL mode, versioned migrations.

WAL lets `export`, `stats` and `why` read while the server writes. `durability` maps to
PRAGMA synchronous: full fsyncs the WAL at every commit (a 250 survives power loss),
normal survives a crash of the process, off is for tests and benchmarks only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bouncesink.store.base import SQLStore, StoreError

# Each entry moves the schema one version up; never edit a released one, append.
MIGRATIONS: list[str] = [
    # 1: messages (raw, compressed), results (append-only), events, suppressions, cursors.
    """
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        peer TEXT, helo TEXT, mail_from TEXT, rcpt_to TEXT,
        size INTEGER NOT NULL,
        raw BLOB,
        state TEXT NOT NULL,
        kind TEXT, detector TEXT, errors TEXT, message_id TEXT, campaign TEXT
    );
    CREATE INDEX messages_state ON messages (state);
    CREATE INDEX messages_received ON messages (received_at);
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        message_ref INTEGER NOT NULL REFERENCES messages (id),
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
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT, type TEXT, rule TEXT,
        result_id INTEGER REFERENCES results (id),
        actor TEXT NOT NULL
    );
    CREATE INDEX events_address ON events (address, action, at);
    CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        domain TEXT,
        suppressed INTEGER NOT NULL,
        reason TEXT, type TEXT, status TEXT,
        suppressed_at TEXT NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX suppressions_seq ON suppressions (suppressed, seq);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE campaigns (campaign TEXT PRIMARY KEY, sent INTEGER NOT NULL, updated_at TEXT NOT NULL);
    """,
]

_SYNC = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}


def path_of(url: str) -> Path:
    return Path(url[len("sqlite://"):] if url.startswith("sqlite://") else url)


class SQLiteStore(SQLStore):
    def __init__(self, url: str, durability: str = "full", create: bool = True) -> None:
        super().__init__()
        self.path = path_of(url)
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise StoreError(f"{self.path}: no such store")
            self._conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False,
                                         isolation_level="DEFERRED")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={_SYNC[durability]}")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc.strerror or exc}") from None

    def _insert_id(self, sql, params) -> int:
        return self._execute(sql, params).lastrowid

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
                    f"BEGIN; {MIGRATIONS[n]}; PRAGMA user_version = {n + 1}; COMMIT;")
            return len(MIGRATIONS)
