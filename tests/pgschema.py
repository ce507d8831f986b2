"""A fresh PostgreSQL schema per test, so tests never see each other's rows.

The server is BOUNCESINK_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test);
tests that need it skip, saying why, where none answers. Each store URL carries the schema
in its search_path and a unique application_name, by which a test finds (and terminates)
exactly its own backend connections.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager

import pytest

BASE = os.environ.get("BOUNCESINK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def admin_connection():
    """An autocommit connection to the test server, or skip the test."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'bouncesink[postgres]')")
    try:
        return psycopg.connect(BASE, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(f"no PostgreSQL answers at {BASE}: {' '.join(str(exc).split())}")


class Schema:
    """One test schema; `url(app)` names it for a store, with application_name `app`."""

    def __init__(self, admin) -> None:
        self.admin = admin
        self.name = "t_" + secrets.token_hex(6)
        admin.execute(f"CREATE SCHEMA {self.name}")

    def url(self, app: str = "store") -> str:
        sep = "&" if "?" in BASE else "?"
        return (f"{BASE}{sep}options=-csearch_path%3D{self.name}"
                f"&application_name={self.app(app)}")

    def app(self, app: str) -> str:
        return f"{self.name}-{app}"

    def backends(self, app: str | None = None) -> list[int]:
        like = self.app(app) if app else f"{self.name}-%"
        return [pid for (pid,) in self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s", (like,))]

    def terminate(self, app: str | None = None) -> int:
        """Terminate this schema's store connections (all, or those of one app)."""
        pids = self.backends(app)
        for pid in pids:
            self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return len(pids)

    def waiting(self, app: str) -> bool:
        """Is a connection of `app` waiting for a lock?"""
        return bool(self.admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s"
            " AND wait_event_type = 'Lock'", (self.app(app),)).fetchone())

    def drop(self) -> None:
        self.terminate()
        self.admin.execute(f"DROP SCHEMA {self.name} CASCADE")


@contextmanager
def fresh_schema():
    admin = admin_connection()
    schema = Schema(admin)
    try:
        yield schema
    finally:
        try:
            schema.drop()
        finally:
            admin.close()
