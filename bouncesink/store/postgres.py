"""The PostgreSQL store: one database shared by every sink of a return-path domain.

All store logic is `SQLStore`'s; this module adds what only matters with several writers
and a server that can go away:

- Decisions about one address are serialised across sinks by a transaction-level advisory
  lock on the address (`_lock_address`), taken before its history is read, so concurrent
  soft bounces for one address are counted once each (no lost updates).
- A suppression's `seq` is assigned at COMMIT, under a transaction-level advisory lock held
  until the commit is visible, from the `events` id sequence. Seqs therefore grow in
  commit order and `export --cursor` (rows with seq > last) never skips a row that
  committed late with a lower number. Until commit the row carries a provisional -1.
- Two sinks may both classify one pending message (one recovering at start-up what the
  other just stored): the message row is locked and skipped when already classified.
- A connection that broke is replaced at the start of the next transaction; a statement
  that fails because the connection broke is retried once on a new connection when it was
  the first of its transaction (nothing of it can have committed). A break later in a
  transaction, or in COMMIT, raises: the server answers 451 4.3.0, never 250.
- Deadlocks between two sinks' record batches (addresses locked in different orders) are
  retried: the transaction rolled back as a whole.
- Migrations: a `schema_version` table, applied under a session advisory lock so two sinks
  starting together do not race.

The driver is psycopg 3, used synchronously: the store API is synchronous by design (the
server calls it from one writer thread, doing group commit), and psycopg's async API would
need a second copy of every query path. `durability` maps to synchronous_commit: full waits
for the WAL flush on the server (a 250 survives a server crash); normal and off do not wait
(a server crash may lose the last fraction of a second; a crash of the sink loses nothing).
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bouncesink.store.base import PENDING, SQLStore, StoreError
from bouncesink.store.schema import MIGRATIONS, render

# How the portable DDL of schema.py is spelled in PostgreSQL.
DIALECT = {"pk": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "bigint": "BIGINT", "clustered": ""}

_SYNC = {"full": "on", "normal": "off", "off": "off"}

# Advisory locks are database-wide: the first key names our use ("bsk" + n), the second
# the object (an address hash, or the schema for locks that are per store).
LOCK_ADDRESS = 0x62736B01
LOCK_SEQ = 0x62736B02
LOCK_MIGRATE = 0x62736B03

# Extra PostgreSQL-only DDL, idempotent, applied after the portable migrations.
_EXTRA_DDL = (
    # The provisional seqs a commit replaces; the index stays empty outside transactions.
    "CREATE INDEX IF NOT EXISTS suppressions_provisional ON suppressions (seq) WHERE seq < 0",
)

# The rollups' dim and period are read together, and their values are far from independent
# (`period = 'all'` is 0.6% of the rows, 'all' with dim 'domain' is 20,000 of 3,200,000 at
# ten million results): without statistics on the pair the planner took the key range for a
# quarter of the table and scanned it whole (126 ms for stats' all-time domains instead of
# 13 ms). Created once, then ANALYZE fills it; autovacuum keeps it current afterwards.
ROLLUP_STATISTICS = "rollups_dim_period"
# The rollups' key index also carries the two counts (INCLUDE), so the dashboard's 30 days
# and `report --since` are read from the index alone (an index-only scan where autovacuum has
# marked the pages all-visible, as it does for every day but the latest): 178,000 rows of 30
# days at ten million results took 167 ms through the table, 50 ms from the index.
ROLLUP_KEY = ("ALTER TABLE rollups DROP CONSTRAINT rollups_pkey, ADD CONSTRAINT rollups_pkey"
              " PRIMARY KEY (dim, period, campaign, name, type) INCLUDE (results, recipients)")

RETRIES = 5

KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10",
              "keepalives_count": "3", "tcp_user_timeout": "60000"}


def redact(url: str) -> str:
    """A connection URL fit for a log line or an error message (no password)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://?"
    host, port, db = params.get("host", ""), params.get("port", ""), params.get("dbname", "")
    user = params.get("user", "")
    return f"postgresql://{user + '@' if user else ''}{host}{':' + port if port else ''}/{db}"


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class PostgresStore(SQLStore):
    placeholder = "%s"

    def __init__(self, url: str, durability: str = "full", create: bool = True,
                 connect_timeout: int = 5) -> None:
        super().__init__()
        self.url = url
        self.name = redact(url)
        self.create = create
        self.sync = _SYNC[durability]
        self.connect_timeout = connect_timeout
        self._in_tx = False          # a statement ran since the last commit / rollback
        self._seq_pending = False    # this transaction suppressed: assign seqs at commit
        self.reconnects = 0
        self._connect()
        try:
            self.migrate()
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"{self.name}: cannot migrate store: {one_line(exc)}") from None
        except StoreError:
            self.close()
            raise

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        params = conninfo_to_dict(self.url)
        params.setdefault("connect_timeout", str(self.connect_timeout))
        params.setdefault("application_name", "bouncesink")
        # A database host that vanishes without closing the connection (power, network):
        # noticed in about a minute rather than at the kernel's default two hours.
        for key, value in KEEPALIVES.items():
            params.setdefault(key, value)
        try:
            conn = psycopg.connect(make_conninfo(**params), autocommit=False)
            conn.execute(f"SET synchronous_commit = {self.sync}")
            # ... and the locks of a sink that vanished mid-transaction are freed.
            conn.execute("SET idle_in_transaction_session_timeout = '60s'")
            conn.commit()
        except psycopg.Error as exc:
            raise StoreError(f"{self.name}: cannot connect: {one_line(exc)}") from None
        self._conn = conn
        self._in_tx = self._seq_pending = False

    def _usable(self) -> bool:
        return self._conn is not None and not self._conn.closed and not self._conn.broken

    def _drop_connection(self) -> None:
        """Close the connection, whatever state it is in; the next statement opens one."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def _reconnect(self) -> None:
        self._drop_connection()
        self._connect()
        self.reconnects += 1

    # -- back-end hooks -----------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        # psycopg reads % in every query it is given parameters for: LIKE 'x%' must be %%.
        return sql.replace("%", "%%").replace("?", "%s")

    def _run(self, fn):
        """Run a statement; transparently on a new connection when nothing is lost by it."""
        first = not self._in_tx
        if not self._usable():
            if not first:
                raise psycopg.OperationalError("connection lost inside a transaction")
            self._reconnect()
        self._in_tx = True
        try:
            return fn()
        except psycopg.OperationalError:
            if self._usable():
                raise
            self._in_tx = False  # the server dropped the transaction with the connection
            if not first:
                raise
            # The first statement of a transaction on a connection that turned out dead
            # (the server restarted, the backend was terminated): nothing of this
            # transaction exists yet, so run it again on a new connection.
            self._reconnect()
            self._in_tx = True
            return fn()

    def _execute(self, sql, params=()):
        sql, params = self._sql(sql), tuple(params)

        def go():
            cur = self._conn.cursor()
            cur.execute(sql, params)
            return cur
        return self._run(go)

    def _executemany(self, sql, rows) -> None:
        sql = self._sql(sql)
        self._run(lambda: self._conn.cursor().executemany(sql, rows))

    def _insert_id(self, sql, params) -> int:
        return self._execute(sql + " RETURNING id", params).fetchone()[0]

    def _insert_ids(self, sql, rows) -> list[int]:
        # One pipelined round trip for a whole group commit instead of one per message.
        sql = self._sql(sql + " RETURNING id")

        def go():
            cur = self._conn.cursor()
            cur.executemany(sql, rows, returning=True)
            ids = []
            while True:
                ids.append(cur.fetchone()[0])
                if not cur.nextset():
                    return ids
        return self._run(go) if rows else []

    def _lock_address(self, address: str) -> None:
        self._execute(f"SELECT pg_advisory_xact_lock({LOCK_ADDRESS}, hashtext(?))", (address,))

    def _next_seq(self) -> int:
        self._seq_pending = True
        return -1

    # Dispatchers on several hosts claim deliveries without waiting on one another.
    _skip_locked = " FOR UPDATE OF d SKIP LOCKED"

    def _next_outbox_seq(self) -> int:
        self._seq_pending = True
        return -1

    def _commit(self) -> None:
        try:
            if self._seq_pending:
                if not self._usable():
                    raise psycopg.OperationalError("connection lost inside a transaction")
                # Held until the commit is visible: the next suppressing commit takes its
                # seqs after ours are readable, so seqs are in commit order.
                self._conn.execute(
                    f"SELECT pg_advisory_xact_lock({LOCK_SEQ}, hashtext(current_schema()))")
                self._conn.execute(
                    "UPDATE suppressions SET seq = nextval(pg_get_serial_sequence('events', 'id'))"
                    " WHERE seq < 0")
                # Outbox rows (change feed, webhooks) the same way, in insertion order.
                self._conn.execute(
                    "UPDATE outbox o SET seq = n.s FROM (SELECT x.id,"
                    " nextval(pg_get_serial_sequence('events', 'id')) AS s FROM"
                    " (SELECT id FROM outbox WHERE seq < 0 ORDER BY id) x) n WHERE o.id = n.id")
            if self._conn is not None:
                self._conn.commit()
        finally:
            self._in_tx = self._seq_pending = False

    def _rollback(self) -> None:
        self._in_tx = self._seq_pending = False
        try:
            if self._conn is not None:
                self._conn.rollback()
        except Exception:  # the connection may be gone; the next call reconnects
            pass

    def close(self) -> None:
        with self._lock:
            self._in_tx = self._seq_pending = False
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def reconnect(self) -> None:
        """Drop the connection after a failure; the next transaction opens a new one.

        Never raises (the server calls it after a failed commit, when the database may
        still be away): connecting happens, and fails, at the next statement.
        """
        with self._lock:
            self._rollback()
            self._drop_connection()

    # -- several writers ----------------------------------------------------------------------
    def _retrying(self, fn, *args, **kwargs):
        """Run an idempotent transaction again after a deadlock or a lost connection."""
        for attempt in range(RETRIES):
            try:
                return fn(*args, **kwargs)
            except (pgerrors.DeadlockDetected, pgerrors.SerializationFailure):
                # The whole transaction was rolled back; nothing of it exists.
                if attempt == RETRIES - 1:
                    raise
            except psycopg.OperationalError:
                # The connection broke, maybe in COMMIT, so the transaction may or may not
                # have committed: only idempotent ones come here. The next attempt's first
                # statement connects afresh (or raises StoreError if the server is away).
                if self._usable() or attempt == RETRIES - 1:
                    raise

    def record(self, items, *args, **kwargs):
        """`SQLStore.record` for the messages no other sink has classified meanwhile.

        Another sink may be classifying the same stored message (it recovers pending
        messages at start-up): the pending rows are locked first, in id order, and whoever
        gets them second finds them classified and records nothing for them. That also
        makes a retry after a lost connection safe, even when COMMIT itself was lost.
        """
        def attempt():
            with self._lock:
                try:
                    claimed = {ref for (ref,) in self._execute(
                        "SELECT id FROM messages WHERE id = ANY(?) AND state = ?"
                        " ORDER BY id FOR UPDATE", (sorted({i[0] for i in items}), PENDING))}
                except BaseException:
                    self._rollback()
                    raise
                return SQLStore.record(self, [i for i in items if i[0] in claimed],
                                       *args, **kwargs)
        return self._retrying(attempt)

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self._lock:
            row = self._execute(
                "SELECT version FROM schema_version" if self._has_version_table() else
                "SELECT 0").fetchone()
            self._commit()
        return row[0] if row else 0

    def _has_version_table(self) -> bool:
        return self._execute(
            "SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns it. Safe with sinks starting together."""
        with self._lock:
            conn = self._conn
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            if schema is None:
                raise StoreError(f"{self.name}: no schema to use: the search_path names none"
                                 " that exists (CREATE SCHEMA it first)")
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))",
                         (LOCK_MIGRATE,))
            conn.commit()
            try:
                exists = conn.execute(
                    "SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
                if not exists:
                    if not self.create:
                        raise StoreError(f"{self.name}: no bouncesink store in schema {schema}")
                    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                    conn.execute("INSERT INTO schema_version VALUES (0)")
                    conn.commit()
                version = conn.execute("SELECT version FROM schema_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise StoreError(f"{self.name}: schema version {version} is newer than"
                                     f" this bouncesink knows ({len(MIGRATIONS)})")
                for n in range(version, len(MIGRATIONS)):
                    conn.execute(render(MIGRATIONS[n], DIALECT))
                    conn.execute("UPDATE schema_version SET version = %s", (n + 1,))
                    conn.commit()
                for ddl in _EXTRA_DDL:
                    conn.execute(ddl)
                covered = conn.execute(
                    "SELECT indnatts > indnkeyatts FROM pg_index"
                    " WHERE indexrelid = to_regclass('rollups_pkey')").fetchone()
                if covered is not None and not covered[0]:
                    conn.execute(ROLLUP_KEY)
                if not conn.execute(
                        "SELECT 1 FROM pg_statistic_ext WHERE stxname = %s AND stxnamespace ="
                        " current_schema()::regnamespace", (ROLLUP_STATISTICS,)).fetchone():
                    conn.execute(f"CREATE STATISTICS {ROLLUP_STATISTICS} (ndistinct,"
                                 " dependencies, mcv) ON dim, period FROM rollups")
                    conn.execute("ANALYZE rollups")
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))",
                             (LOCK_MIGRATE,))
                conn.commit()
            return len(MIGRATIONS)

    # -- bulk load (bouncesink migrate) ---------------------------------------------------------
    def load(self, tables) -> dict[str, int]:
        """Copy rows in with their ids, in ONE transaction, into an empty store.

        `tables` yields (table, columns, rows) in an order that respects foreign keys.
        Returns the rows copied per table. Sequences are moved past the copied ids.
        """
        counts: dict[str, int] = {}
        with self._lock:
            try:
                # The first statement may reconnect; from here on a break raises.
                self._execute("SELECT 1")
                for table, columns, rows in tables:
                    if self._execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
                        raise StoreError(f"{self.name}: table {table} is not empty: copy only"
                                         " into a new store")
                    counts[table] = self._copy(table, columns, rows)
                self._reset_sequences()
                self._commit()
            except BaseException:
                self._rollback()
                raise
        return counts

    def _copy(self, table: str, columns: list[str], rows) -> int:
        cols = ", ".join(f'"{c}"' for c in columns)
        n = 0
        with self._conn.cursor().copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n

    def _reset_sequences(self) -> None:
        """Move every id sequence past the ids copied in, and the events one (which also
        numbers suppression seqs) past every seq as well."""
        tables = self._execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'id'"
            " AND column_default LIKE 'nextval%'").fetchall()
        for (table,) in tables:
            top = self._execute(f'SELECT MAX(id) FROM "{table}"').fetchone()[0] or 0
            if table == "events":
                # ... and the outbox's (change feed, webhook cursors), numbered from it too.
                for sql in ("SELECT MAX(seq) FROM suppressions", "SELECT MAX(seq) FROM cursors",
                            "SELECT MAX(seq) FROM outbox", "SELECT MAX(seq) FROM hook_cursors"):
                    top = max(top, self._execute(sql).fetchone()[0] or 0)
            if top:
                self._execute("SELECT setval(pg_get_serial_sequence(?, 'id'), ?)",
                              (f'"{table}"', top))
