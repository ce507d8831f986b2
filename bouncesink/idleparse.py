"""Classification yields to SMTP: parsing on CPU time SMTP leaves idle, recording at
normal priority when the server is not saturated.

The classifier process does two kinds of work after the 250: parsing (CPU, the bulk of it)
and recording (short store transactions that hold the store's write lock; SQLite: the whole
file). SMTP must come first, so parsing runs at idle priority (SCHED_IDLE): under a burst it
waits and the backlog stays pending in the store. But a process at idle priority that holds
the write lock is preempted by every busy server process, and the servers' group commits
then wait behind a lock whose holder gets no CPU: the cores go idle exactly when they are
wanted. So the two are split: the classifier process records at normal priority (its
transactions end promptly), and a child it forks parses at idle priority and holds no lock.

Recording still holds the write lock (~0.06 ms a message on SQLite), and every moment it
does, the server's group commits (and so its 250s) wait. While the server process keeps
more than half a core busy, the recorder holds back (`BusyGate`), for at most `max_defer`
seconds in a row: a burst is taken at full speed and classified as soon as it ends, and a
load that never ends still gets classified.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import time

CLASSIFIER_NICE = 19
_LEN = struct.Struct("!Q")


def lower_priority() -> str:
    """Run only on CPU time nothing else wants (SCHED_IDLE); where the scheduling class
    cannot be changed, at the lowest nice value. Returns what was applied."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "sched_idle"
    except (AttributeError, OSError):
        pass
    try:
        os.nice(CLASSIFIER_NICE)
        return f"nice {CLASSIFIER_NICE}"
    except OSError:
        return "unchanged"


def parse_safely(parse, raw: bytes, verp_recipient: str | None):
    """parse(raw) (with the VERP recipient if any); an exception becomes an unrecognised
    result: parse() never raises by contract, and the message is kept anyway."""
    try:
        if verp_recipient:
            return parse(raw, verp_recipient=verp_recipient)
        return parse(raw)
    except Exception as exc:
        from bouncesink.model import Parsed

        return Parsed(kind="unrecognised", errors=[f"parse: {exc!r}"])


def timed_parse(parse, progress, ref: int, raw: bytes, verp_recipient: str | None) -> tuple:
    """(parsed, ms), with the (ref, started) progress the server watches for a message
    that hangs the parser (None: nobody watches)."""
    t0 = time.perf_counter()
    if progress is not None:
        progress[0].value, progress[1].value = ref, time.monotonic()
    parsed = parse_safely(parse, raw, verp_recipient)
    if progress is not None:
        progress[1].value = 0.0
    return parsed, round((time.perf_counter() - t0) * 1000, 2)


def _die_with_parent() -> None:
    """Linux: SIGKILL when the process that forked us exits (or is killed: the server kills
    a classifier stuck on one message, and its parser must not outlive it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _send(sock: socket.socket, obj) -> None:
    data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LEN.pack(len(data)) + data)


def _recv(sock: socket.socket):
    head = _recv_exactly(sock, _LEN.size)
    return pickle.loads(_recv_exactly(sock, _LEN.unpack(head)[0]))


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("parser exited")
        buf += chunk
    return bytes(buf)


class BusyGate:
    """Wait while process `pid` (the server) uses more than `busy` of a core, measured over
    `window` seconds from /proc; for at most `max_defer` seconds in a row. Where /proc is
    not there, never waits."""

    def __init__(self, pid: int, busy: float = 0.5, window: float = 0.1,
                 max_defer: float = 30.0) -> None:
        self.path = f"/proc/{pid}/stat"
        self.busy, self.window, self.max_defer = busy, window, max_defer
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._t, self._cpu = time.monotonic(), self._cpu_seconds()
        self.load = 0.0
        self._deferring: float | None = None
        self.deferred = 0.0  # seconds waited in all, for the log

    def _cpu_seconds(self) -> float | None:
        try:
            with open(self.path, "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
            return (int(fields[11]) + int(fields[12])) / self._tick
        except (OSError, IndexError, ValueError):
            return None

    def _server_busy(self) -> bool:
        now = time.monotonic()
        if now - self._t >= self.window:
            cpu = self._cpu_seconds()
            if cpu is None or self._cpu is None:
                self.load = 0.0
            else:
                self.load = (cpu - self._cpu) / (now - self._t)
            self._t, self._cpu = now, cpu
        return self.load > self.busy

    def wait(self) -> None:
        while self._server_busy():
            now = time.monotonic()
            if self._deferring is None:
                self._deferring = now
            if now - self._deferring >= self.max_defer:
                return  # busy for long: record anyway, alongside
            time.sleep(self.window)
            self.deferred += time.monotonic() - now
        self._deferring = None


class IdleParser:
    """A forked child that parses at idle priority: `parse_many([(ref, raw, verp), ...])`
    returns [(parsed, parse_ms), ...] in order, as timed_parse() would.

    `progress` is the shared (ref, started) pair the server watches for a message that
    hangs the parser; `inherited` objects with a close() (the classifier's pipe to the
    server) are closed in the child. If the child dies, the next call forks another; if
    that fails too, the call parses in this process (never at the cost of a message).
    """

    # A parse of a big message leaves the child's heap big (CPython keeps its arenas): once
    # the child's resident size has grown by this much since the fork, it is replaced by a
    # fresh one. Growth, not size: a forked child's resident size starts at its parent's
    # (the pages it shares), whatever the parent holds.
    MAX_RSS = 200 * 2**20

    def __init__(self, parse, progress=None, log=None, inherited=(),
                 max_rss: int | None = None, timeout: float | None = None,
                 idle: bool = True) -> None:
        self.max_rss = self.MAX_RSS if max_rss is None else max_rss
        # Seconds one message may take; past them the child is killed and the message's
        # result is unrecognised with the reason (None: the caller watches, see Ingest).
        self.timeout = timeout
        self.idle = idle  # parse at idle priority (the server's classifier) or as we are
        self.parse = parse
        self.progress = progress
        self.log = log
        self.inherited = list(inherited)
        self.pid = 0
        self._base_rss = 0  # the child's resident size when forked (shared with us)
        self._sock: socket.socket | None = None

    @staticmethod
    def available() -> bool:
        return hasattr(os, "fork") and hasattr(os, "SCHED_IDLE")

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the child: parse until EOF; never return into the caller's code
            code = 0
            try:
                ours.close()
                for obj in self.inherited:
                    obj.close()
                _die_with_parent()
                if self.idle:
                    lower_priority()
                self._serve(theirs)
            except BaseException:  # noqa: BLE001 - the parent sees EOF and carries on
                code = 1
            os._exit(code)
        theirs.close()
        self.pid, self._sock = pid, ours
        self._base_rss = self.rss()
        if self.log is not None:
            self.log.debug("parser_started", pid=pid)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                items = _recv(sock)
            except EOFError:
                return
            _send(sock, [timed_parse(self.parse, self.progress, *item) for item in items])

    def parse_many(self, items: list[tuple]) -> list[tuple]:
        if self.timeout is not None:
            return [self._parse_bounded(item) for item in items]
        for attempt in (1, 2):
            try:
                if self._sock is None:
                    self.start()
                _send(self._sock, items)
                out = _recv(self._sock)
                self._recycle_if_big()
                return out
            except (OSError, EOFError, pickle.PickleError) as exc:
                if self.log is not None:
                    self.log.error("parser_lost", error=str(exc)[:300], attempt=attempt)
                self.close()
        return [timed_parse(self.parse, self.progress, *item) for item in items]

    def _parse_bounded(self, item: tuple) -> tuple:
        """One message, answered within `timeout` seconds or given up (the child killed:
        a parser stuck in a loop or a runaway regex never frees itself)."""
        for attempt in (1, 2):
            try:
                if self._sock is None:
                    self.start()
                self._sock.settimeout(None)
                _send(self._sock, [item])
                self._sock.settimeout(self.timeout)
                (out,) = _recv(self._sock)
                self._recycle_if_big()
                return out
            except TimeoutError:
                if self.log is not None:
                    self.log.error("parse_timed_out", ref=item[0], seconds=self.timeout)
                self.close()
                from bouncesink.model import Parsed

                return (Parsed(kind="unrecognised",
                               errors=[f"parse: no result within {self.timeout:g} s"]),
                        round(self.timeout * 1000, 2))
            except (OSError, EOFError, pickle.PickleError, ValueError) as exc:
                if self.log is not None:
                    self.log.error("parser_lost", error=str(exc)[:300], attempt=attempt)
                self.close()
        return timed_parse(self.parse, self.progress, *item)

    def rss(self) -> int:
        """The child's resident size in bytes (0 if unknown)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def growth(self) -> int:
        """Bytes the child's resident size has grown by since it was forked."""
        return max(0, self.rss() - self._base_rss) if self.pid else 0

    def _recycle_if_big(self) -> None:
        growth = self.growth()
        if growth > self.max_rss:
            if self.log is not None:
                self.log.info("parser_recycled", pid=self.pid, rss=self.rss(), growth=growth)
            self.close()  # the next batch forks a fresh child

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0
