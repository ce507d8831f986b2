"""The bouncesink under test: `bouncesink serve` as deployed, in a process of its own.

It listens on 127.0.0.1 with its own SQLite file; the MTAs deliver their DSNs to it for
SINK_DOMAIN. Results are read back from that file (read-only) once every DSN is classified.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

SINK_DOMAIN = "bounces.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Row:
    """One stored DSN and one of its results (recipient None when nothing was recognised)."""

    envelope_to: str
    state: str
    recipient: str | None
    type: str | None
    reason: str | None
    rule: str | None
    status: str | None
    diagnostic: str | None
    action: str | None
    message_ref: int


class Sink:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = workdir / "sink.db"
        self.log = workdir / "sink.log"
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "Sink":
        self.port = free_port()
        cmd = [sys.executable, "-m", "bouncesink", "serve", "--listen",
               f"127.0.0.1:{self.port}", "--domain", SINK_DOMAIN, "--db", str(self.db),
               "--log-format", "json"]
        self._logf = open(self.log, "wb")
        # cwd: the work directory, so that `-m` imports the installed bouncesink (or the one
        # PYTHONPATH names), not whatever the caller's directory holds.
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bouncesink serve exited ({self.proc.returncode}):"
                                   f" {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as c:
                    if c.recv(512).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("bouncesink serve did not answer within the time-out")

    def _query(self, sql: str, params=()) -> list[tuple]:
        if not self.db.exists():
            return []
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, params).fetchall()
        except sqlite3.OperationalError:    # schema not created yet
            return []
        finally:
            con.close()

    def stored(self, envelope_prefix: str) -> tuple[int, int]:
        """(distinct envelope recipients starting with the prefix that have a message
        stored, messages of theirs still pending classification)."""
        rows = self._query("SELECT rcpt_to, state FROM messages WHERE rcpt_to LIKE ?",
                           (f'%"{envelope_prefix}%',))
        return len({r for r, _ in rows}), sum(1 for _, s in rows if s == "pending")

    def rows(self, envelope_prefix: str) -> list[Row]:
        sql = ("SELECT m.rcpt_to, m.state, r.recipient, r.type, r.reason, r.rule, r.status,"
               " r.diagnostic, r.action, m.id FROM messages m"
               " LEFT JOIN results r ON r.message_ref = m.id"
               " WHERE m.rcpt_to LIKE ? ORDER BY m.id, r.id")
        out = []
        for rcpt_to, *rest in self._query(sql, (f'%"{envelope_prefix}%',)):
            tos = json.loads(rcpt_to or "[]")
            out.append(Row(tos[0] if tos else "", *rest))
        return out

    def raw(self, message_ref: int) -> bytes:
        got = self._query("SELECT raw FROM messages WHERE id = ?", (message_ref,))
        return zlib.decompress(got[0][0]) if got and got[0][0] else b""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_logf", None):
            self._logf.close()
