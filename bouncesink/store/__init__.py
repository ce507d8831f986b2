"""Stores: chosen by URL. A path or sqlite:///path -> SQLite; postgresql://... -> PostgreSQL."""

from __future__ import annotations

from bouncesink.store.base import SQLStore, StoreError


def open_store(url: str, durability: str = "full", create: bool = True,
               readonly: bool = False) -> SQLStore:
    """Open (and migrate) the store a URL names. Raises StoreError with a one-line message.

    `readonly`: for commands that only read (SQLite: opened in read-only mode; it must be
    an existing bouncesink store). A file that is not a bouncesink store is refused."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from bouncesink.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(f"PostgreSQL store needs the postgres extra"
                             f" (pip install 'bouncesink[postgres]'): {exc}") from None
        return PostgresStore(url, durability=durability, create=create)
    from bouncesink.store.sqlite import SQLiteStore

    return SQLiteStore(url, durability=durability, create=create, readonly=readonly)


__all__ = ["open_store", "SQLStore", "StoreError"]
