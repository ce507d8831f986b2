"""Shared fixtures: the real server on 127.0.0.1 port 0 with a real SQLite file.

    def test_something(sink):
        with smtplib.SMTP("127.0.0.1", sink.port) as c:
            c.sendmail("", ["bounces@bounces.example.org"], DATA)
        sink.wait_classified(1)              # classification runs after the 250
        store = sink.open_store()            # a second connection to the same file
        ...

`sink` starts `Server(config).serve()` in a background thread with its own event loop and
stops it gracefully at the end of the test. The accepted domain is bounces.example.org.
To change settings, use `make_sink(**sections)` instead, e.g.
`make_sink(server={"max_recipients": 2})`; each keyword is a Config section with the fields
to replace. `DATA_DIR` holds the fixture messages (tests/data/).

Classification (parse, record, the `message_received` / `bounce_recorded` lines) runs after
the 250 in a classifier process of the server's, so `structlog.testing.capture_logs` in the
test process does not see those lines. Either start the sink with
`make_sink(classify_in_process=True)` (the server classifies in a thread of its own process,
its fallback mode) or read the JSON lines the process writes with `capfd` and start the sink
inside the test (see test_server.py::test_one_log_line_per_message_and_per_result).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bouncesink import logs
from bouncesink.config import Config
from bouncesink.server import Server
from bouncesink.store import open_store

DATA_DIR = Path(__file__).parent / "data"
DOMAIN = "bounces.example.org"


def make_config(tmp_path: Path, **sections) -> Config:
    """A config for tests: loopback port 0, a SQLite file in tmp_path, our test domain."""
    cfg = Config()
    cfg = cfg.replace("server", listen="127.0.0.1:0", domains=(DOMAIN,), hostname="sink.test")
    cfg = cfg.replace("store", db=str(tmp_path / "sink.db"), durability="normal")
    # Tests send the same fixture file many times over and count what is stored; the
    # retransmission tests (test_server.py) turn duplicate_window on again.
    cfg = cfg.replace("server", duplicate_window=0.0)
    for name, values in sections.items():
        cfg = cfg.replace(name, **values)
    return cfg


@dataclass
class Sink:
    """A running server: `port`, `config`, `server`, and helpers to read its store."""

    config: Config
    server: Server
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    errors: list = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def db(self) -> str:
        return self.config.store.db

    def open_store(self):
        """A new connection to the sink's store (close it when done)."""
        return open_store(self.db, create=False)

    def count(self, sql: str, params=()) -> int:
        store = self.open_store()
        try:
            return store._execute(sql, params).fetchone()[0]
        finally:
            store.close()

    def wait_classified(self, n: int, timeout: float = 30.0) -> None:
        """Wait until at least n messages are stored and none is pending classification."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            total = self.count("SELECT COUNT(*) FROM messages")
            pending = self.count("SELECT COUNT(*) FROM messages WHERE state = 'pending'")
            if total >= n and pending == 0:
                return
            time.sleep(0.02)
        raise AssertionError(f"{n} messages not classified within {timeout}s")

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(60)
        if self.errors:
            raise self.errors[0]


def start_sink(config: Config, parse=None, classify_in_process: bool = False) -> Sink:
    """Start a Server in a background thread; returns once it listens."""
    ready = threading.Event()
    box: dict = {}

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        server = Server(config, parse=parse, classify_in_process=classify_in_process)
        server.started = asyncio.Event()
        box.update(loop=loop, stop=stop, server=server)

        async def main():
            task = asyncio.ensure_future(server.serve(stop))
            waiter = asyncio.ensure_future(server.started.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            ready.set()
            await task

        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # surfaced by stop() / start
            box.setdefault("errors", []).append(exc)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="sink", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("sink did not start")
    if box.get("errors"):
        raise box["errors"][0]
    return Sink(config, box["server"], thread, box["loop"], box["stop"], box.setdefault("errors", []))


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs():
    logs.setup("json", "info")


@pytest.fixture
def make_sink(tmp_path):
    """Factory: make_sink(server={...}, store={...}) -> a started Sink (stopped at teardown).

    classify_in_process=True: classification in the server's process (for capture_logs)."""
    started: list[Sink] = []

    def factory(parse=None, classify_in_process: bool = False, **sections) -> Sink:
        sink = start_sink(make_config(tmp_path, **sections), parse=parse,
                          classify_in_process=classify_in_process)
        started.append(sink)
        return sink

    yield factory
    for s in started:
        s.stop()


@pytest.fixture
def sink(make_sink) -> Sink:
    """The real server on 127.0.0.1:0 with a SQLite store in tmp_path; domain bounces.example.org."""
    return make_sink()


@pytest.fixture
def dsn_bytes():
    """The fixture DSN files by name, with CRLF line ends as on the wire:
    dsn_bytes('dsn-hard-userunknown.eml') -> bytes."""
    return lambda name: (DATA_DIR / name).read_bytes().replace(b"\r\n", b"\n").replace(
        b"\n", b"\r\n")
