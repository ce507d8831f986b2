"""migrate: copy a store, with all its history, into a new PostgreSQL store.

`bouncesink migrate --from sqlite:///var/bouncesink.db --to postgresql://user@host/db`
copies every table row for row with its ids (results point at messages, events at results,
export cursors at suppression seqs), in ONE transaction on the destination, so a failure
leaves it empty. The source is read in one transaction too (a consistent snapshot while a
sink keeps writing to it). Both are brought to the newest schema version first.

Only PostgreSQL is a destination: a SQLite store is copied with the file itself, and a
SQLite store numbers new suppression seqs from its event ids, which a PostgreSQL store's
seqs may have outrun (export cursors would skip rows).
"""

from __future__ import annotations

import sys
from contextlib import closing

from bouncesink.cli import CLIError


def register(sub) -> None:
    p = sub.add_parser("migrate", help="copy a store with its history into a new PostgreSQL"
                                       " store")
    p.add_argument("--from", dest="source", required=True, metavar="URL",
                   help="the store to copy: a path, sqlite:///path or postgresql://...")
    p.add_argument("--to", dest="dest", required=True, metavar="URL",
                   help="the new store: postgresql://user@host:port/db (its tables empty)")
    p.set_defaults(func=cmd_migrate)


def cmd_migrate(args) -> int:
    from bouncesink.store import open_store

    if not args.dest.startswith(("postgresql://", "postgres://")):
        raise CLIError("--to: the destination must be a postgresql:// URL (copy a SQLite store"
                       " by copying its file)", 2)
    source = open_store(args.source, durability="off", create=False, readonly=True)
    try:
        dest = open_store(args.dest, durability="full")
        try:
            with closing(Reader(source).tables()) as tables:
                counts = dest.load(tables)
        finally:
            dest.close()
    finally:
        source.close()
    for table, n in counts.items():
        print(f"{table}: {n} rows")
    print(f"copied {sum(counts.values())} rows into {dest.name}", file=sys.stderr)
    return 0


class Reader:
    """The tables of a source store, in foreign-key order, each streamed with its columns."""

    def __init__(self, store) -> None:
        self.store = store
        self.sqlite = not hasattr(store, "load")  # PostgresStore has load(); SQLite does not

    def tables(self):
        conn = self.store._conn
        if self.sqlite:
            conn.execute("BEGIN")  # one snapshot for every table (WAL: writers go on)
        else:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            for table in self._ordered():
                columns = self._columns(table)
                yield table, columns, self._rows(table, columns)
        finally:
            conn.rollback()

    def _catalog(self) -> tuple[list[str], dict[str, set[str]]]:
        """Table names and, per table, the tables its foreign keys point at."""
        conn = self.store._conn
        if self.sqlite:
            names = [n for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            refs = {n: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{n}")')}
                    for n in names}
            return names, refs
        names = [n for (n,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_version'"
            " ORDER BY table_name")]
        refs: dict[str, set[str]] = {n: set() for n in names}
        for child, parent in conn.execute(
                "SELECT c.relname, p.relname FROM pg_constraint k"
                " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid"
                " WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"):
            refs.setdefault(child, set()).add(parent)
        return names, refs

    def _ordered(self) -> list[str]:
        names, refs = self._catalog()
        out: list[str] = []
        while len(out) < len(names):
            ready = [n for n in names if n not in out and refs[n] - {n} <= set(out)]
            if not ready:
                raise CLIError(f"cannot order tables by their foreign keys: {names}")
            out += ready
        return out

    def _columns(self, table: str) -> list[str]:
        conn = self.store._conn
        if self.sqlite:
            return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        return [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = %s ORDER BY ordinal_position", (table,))]

    def _rows(self, table: str, columns: list[str]):
        cols = ", ".join(f'"{c}"' for c in columns)
        order = " ORDER BY id" if "id" in columns else ""
        if self.sqlite:
            yield from self.store._conn.execute(f'SELECT {cols} FROM "{table}"{order}')
        else:
            # A server-side cursor: the source may not fit in memory.
            with self.store._conn.cursor(name=f"migrate_{table}") as cur:
                cur.execute(f'SELECT {cols} FROM "{table}"{order}')
                yield from cur
