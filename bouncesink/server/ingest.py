"""Group commit of raw messages, then hand-off of the stored refs to classification.

The only way a message becomes durable on the server: `Ingest.submit(envelope, raw)`
returns the message's ref once its commit is done (any road: SMTP, LMTP). What happens
after the commit (classifier.Classifier in a process of its own) never depends on the road.
"""

from __future__ import annotations

import array
import asyncio
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bouncesink import logs
from bouncesink.config import Config
from bouncesink.metrics import Metrics
from bouncesink.model import Envelope, Parsed, utcnow
from bouncesink.server.classifier import (Classifier, _Committed, classifier_main,
                                          recover_logged, store_reset)
from bouncesink.store import SQLStore


@dataclass
class _Job:
    row: tuple               # the message's store row, compressed in the event loop thread
    future: asyncio.Future   # its ref once committed
    t0: float = 0.0



class _Stuck(EOFError):
    """The classifier process was killed for hanging on one message."""


class Ingest:
    """Group commit of raw messages, then classification of the stored copies.

    Commits run in one writer thread: SQLite sees one writer per process and every commit
    holds as many messages as arrived while the previous one was running; each 250 waits
    for the commit that holds its message. The event loop compresses each message into its
    row and hands it straight to that thread, which commits without waiting for the loop,
    in as few statements as it can (so it seldom needs the GIL the loop is using). A store
    fault fails the batch (451 to each sender), the connection is reset, and the next batch
    tries again: the server recovers by itself when the fault clears.

    Classification runs after the 250 in a classifier process of its own (parsing is CPU
    work that would otherwise compete with SMTP for the GIL): it gets the refs, reads the
    messages back from the store and records results. It yields to SMTP (idleparse): its
    parsing runs in a child at idle priority, and it holds back its store writes while
    this process is saturated, so a burst is acknowledged at full speed and classified
    when it ends. Its backlog lives in the store as pending rows; refs it could not take
    are classified by the periodic sweep or at the next start-up. `in_process=True`
    classifies in a thread instead (e.g. a parse function that cannot be sent to another
    process).

    A message sent again with the same content within `server.duplicate_window` (an MTA
    that never saw our 250) is not stored again: `submit` returns the first one's ref.
    """

    SWEEP_INTERVAL = 30.0   # seconds between looks for messages left pending by a fault
    SWEEP_AGE = 60.0        # ... older than this (younger ones are still in someone's hands)
    MAX_BACKLOG = 100_000   # refs held in memory for the classifier; beyond: the sweep
    DRAIN_CLASSIFY = 20.0   # seconds shutdown gives the classifier; the rest waits, pending
    PARSE_TIMEOUT = 10.0    # seconds one message may take to classify (parse is milliseconds)
    metrics: Metrics = Metrics()  # the Server sets its own

    def __init__(self, config: Config, store: SQLStore, parse, in_process: bool = False) -> None:
        self._config = config
        self.store = store
        self.parse = parse
        self.in_process = in_process
        self.log = logs.get()
        self.classifier = Classifier(config, store, parse)
        # Jobs go straight to the writer thread, which commits what has arrived whenever it
        # is free: a commit does not wait for the event loop to get round to it, so the
        # first messages of a busy loop iteration are committed while it reads the rest.
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._commit_thread: threading.Thread | None = None
        self._inflight = 0  # submitted, not yet committed or failed (event loop only)
        self._tasks: list[asyncio.Task] = []
        # When something was last left pending here (a failed classification, a backlog
        # overflow): the sweep goes on until one has covered it. None: nothing left.
        self._left_pending_at: float | None = None
        # Refs waiting for the classifier, with their ack times: 16 bytes a message, so a
        # long burst costs little memory.
        self._backlog = array.array("q")
        self._backlog_ms = array.array("d")
        self._backlog_cv = threading.Condition()
        self._closing = False
        self._proc = None
        self._conn = None
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending_config: Config | None = None
        self._progress = None
        self._recover: float | None = None
        self._sweep_before: float | None = None
        self._abandon = False
        self._lost = 0
        self.stats = {"commits": 0, "messages": 0, "commit_failures": 0, "classified": 0,
                      "duplicates": 0}

    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        """A reload: the classifier (thread or process) takes the new config too."""
        self._config = config
        self.classifier.set_config(config)
        if self._conn is not None:
            with self._backlog_cv:
                self._pending_config = config
                self._backlog_cv.notify()

    @property
    def dns(self):
        return self.classifier.dns

    # -- life cycle -------------------------------------------------------------------------
    def start(self, recover: bool = False) -> None:
        """Start committing; with `recover`, classify what an earlier process left pending
        (in the classifier, in the background: SMTP does not wait for it)."""
        self._loop = asyncio.get_running_loop()
        # Pending before now was left by an earlier process; after, it is ours, in flight.
        self._recover = utcnow().timestamp() if recover else None
        if recover:
            # Start-up recovery skips messages waiting for a retry after a failure: the
            # sweep takes them when they are due (it goes on while any are left).
            self._leave_pending()
        self._threads = [threading.Thread(target=self._feed, name="classify-feed", daemon=True)]
        self._threads[0].start()
        self._commit_thread = threading.Thread(target=self._commit_main, name="store",
                                               daemon=True)
        self._commit_thread.start()
        self._tasks = [asyncio.create_task(self._sweep_loop())]

    def _start_process(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        parse = None if getattr(self.parse, "__module__", "") == "bouncesink.parse" else self.parse
        recover, self._recover = self._recover, None
        self._progress = (ctx.Value("q", 0, lock=False), ctx.Value("d", 0.0, lock=False))
        self._proc = ctx.Process(target=classifier_main,
                                 args=(self.config, parse, child, recover, self._progress),
                                 name="bouncesink-classify", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        self.log.info("classifier_started", pid=self._proc.pid)

    def on_classified(self, summary: list[tuple]) -> None:
        """Called in the event loop with (ref, kind, [(type, reason), ...]) per message
        classified (a seam for counters)."""
        self.stats["classified"] += len(summary)
        for _, _, results in summary:
            for type_, reason in results:
                self.metrics.result_recorded(type_, reason)

    def _feed(self) -> None:
        """Thread: hand committed refs to the classifier, in batches, as it takes them."""
        if self._recover is not None:
            if self.in_process:
                before, self._recover = self._recover, None
                recover_logged(self.classifier, self.log, before)
            else:
                try:
                    self._start_process()
                except Exception as exc:
                    self.log.error("classifier_start_failed", error=str(exc)[:300])
        while True:
            with self._backlog_cv:
                if self._abandon:
                    # Shutting down with a backlog: it stays pending in the store and the
                    # next start-up classifies it.
                    if self._backlog:
                        self.log.warning("classification_deferred", messages=len(self._backlog))
                    del self._backlog[:], self._backlog_ms[:]
                while not (self._backlog or self._closing or self._pending_config
                           or self._sweep_before):
                    self._backlog_cv.wait()
                sweep_before, self._sweep_before = self._sweep_before, None
                batch = [_Committed(r, "", m) for r, m in
                         zip(self._backlog[:256], self._backlog_ms[:256])]
                del self._backlog[:256], self._backlog_ms[:256]
                new_config, self._pending_config = self._pending_config, None
                if not batch and self._closing:
                    break
            try:
                if self._conn is None and not self.in_process and (batch or sweep_before):
                    self._start_process()  # on the first message: idle servers need none
                if sweep_before is not None:
                    if self._conn is not None:
                        self._conn.send(("recover", sweep_before))
                        failed = self._conn.recv()
                    else:
                        failed = self.classifier.failed
                        recover_logged(self.classifier, self.log, sweep_before)
                        failed = self.classifier.failed - failed
                    # Failed again, or waiting for its retry: the sweep must come back.
                    if failed or self._has_pending(sweep_before):
                        self._leave_pending()
                if self._conn is not None:
                    if new_config is not None:
                        self._conn.send(new_config)
                    if not batch:
                        continue
                    self._conn.send(batch)
                    summary = self._await_summary()
                else:
                    try:
                        summary = self.classifier.classify(batch)
                    except Exception as exc:
                        self.log.error("classify_failed", error=str(exc)[:300],
                                       messages=len(batch))
                        store_reset(self.store, self.log)
                        summary = self.classifier.classify_each(batch)
            except (OSError, EOFError) as exc:
                # The classifier process died (or never started, or was stuck on one
                # message): start another; after three deaths in a row classify in this
                # process instead.
                self.log.error("classifier_lost", error=str(exc)[:300])
                with self._backlog_cv:
                    self._backlog[:0] = array.array("q", [c.ref for c in batch])
                    self._backlog_ms[:0] = array.array("d", [c.ack_ms for c in batch])
                self._lost += 0 if isinstance(exc, _Stuck) else 1
                if self._lost >= 3:
                    self.log.error("classifier_in_process", reason="process keeps failing")
                    self._conn = None
                    self.in_process = True
                else:
                    self._restart_process()
                continue
            self._lost = 0
            if len(summary) < len(batch):
                self._leave_pending()
            if self._loop is not None and not self._loop.is_closed():
                try:
                    self._loop.call_soon_threadsafe(self.on_classified, summary)
                except RuntimeError:  # the loop closed meanwhile
                    pass
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass

    def _await_summary(self) -> list[tuple]:
        """The classifier's answer to a batch; a classifier stuck longer than PARSE_TIMEOUT on
        one message (a parser bug: a loop, a runaway regex) is killed, and that message is
        recorded as unrecognised so it is not tried again."""
        while not self._conn.poll(0.5):
            ref, started = self._progress[0].value, self._progress[1].value
            if started and time.monotonic() - started > self.PARSE_TIMEOUT:
                self._proc.kill()
                self._proc.join(5)
                self.log.error("parse_timed_out", ref=ref, seconds=self.PARSE_TIMEOUT)
                self._mark_unparseable(ref)
                raise _Stuck(f"classifier stuck on message {ref}")
            if not self._proc.is_alive():
                raise EOFError("classifier exited")
        return self._conn.recv()

    def _mark_unparseable(self, ref: int) -> None:
        stored = self.store.message(ref)
        if stored is None:
            return
        parsed = Parsed(kind="unrecognised",
                        errors=[f"parse: no result within {self.PARSE_TIMEOUT:g} s"])
        try:
            self.store.record([(ref, stored.envelope, parsed, None)], self.config.policy)
        except Exception as exc:  # left pending: the sweep or a start-up meets it again
            self.log.error("record_failed", ref=ref, error=str(exc)[:300])

    def _restart_process(self) -> None:
        if self._closing or self.in_process:
            return
        try:
            if self._proc is not None:
                self._proc.kill()
                self._proc.join(5)
            self._start_process()
        except Exception as exc:
            self.log.error("classifier_restart_failed", error=str(exc)[:300])
            time.sleep(1)

    def _enqueue(self, items: list[_Committed]) -> None:
        with self._backlog_cv:
            room = self.MAX_BACKLOG - len(self._backlog)
            if room < len(items):
                self._leave_pending()  # still stored as pending: the sweep takes them
            for c in items[:max(0, room)]:
                self._backlog.append(c.ref)
                self._backlog_ms.append(c.ack_ms)
            self._backlog_cv.notify()

    # -- commit ---------------------------------------------------------------------------
    async def submit(self, envelope: Envelope, raw: bytes, t0: float = 0.0) -> int:
        """Store one message; returns its ref once committed. Raises if the commit failed."""
        fut = asyncio.get_running_loop().create_future()
        self._inflight += 1
        self._jobs.put(_Job(self.store.message_row(envelope, raw), fut,
                            t0 or time.perf_counter()))
        return await fut

    def _commit_main(self) -> None:
        """The writer thread: take what has arrived (waiting `commit_interval` for more),
        commit it in one transaction, hand the outcome to the event loop; until None."""
        while True:
            job = self._jobs.get()
            if job is None:
                return
            cfg = self.config.store
            if cfg.commit_interval:
                time.sleep(cfg.commit_interval)
            batch, stop = [job], False
            while len(batch) < cfg.max_batch:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            t0 = time.perf_counter()
            try:
                window = self.config.server.duplicate_window
                if window:
                    since = utcnow() - timedelta(seconds=window)
                    refs = self.store.add_rows_once([j.row for j in batch], since)
                else:
                    refs = [(r, True) for r in self.store.add_rows([j.row for j in batch])]
            except Exception as exc:
                self._in_loop(self._failed, batch, exc)
                store_reset(self.store, self.log)
            else:
                self._in_loop(self._committed, batch, refs, time.perf_counter() - t0)
            if stop:
                return

    def _in_loop(self, fn, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: nobody waits for these any more
            pass

    def _failed(self, batch: list[_Job], exc: Exception) -> None:
        self._inflight -= len(batch)
        self.stats["commit_failures"] += 1
        self.log.error("store_commit_failed", error=str(exc)[:300], messages=len(batch))
        for j in batch:
            if not j.future.done():
                j.future.set_exception(exc)

    def _committed(self, batch: list[_Job], refs: list[tuple[int, bool]], took: float) -> None:
        self._inflight -= len(batch)
        self.metrics.commit_observed(took, len(batch))
        self.stats["commits"] += 1
        self.stats["messages"] += len(batch)
        now = time.perf_counter()
        committed = []
        for j, (ref, fresh) in zip(batch, refs):
            if not j.future.done():
                j.future.set_result(ref)
            if fresh:
                committed.append(_Committed(ref, "", round((now - j.t0) * 1000, 2)))
            else:  # the same message again (its sender missed our 250): stored once
                self.stats["duplicates"] += 1
                self.log.info("duplicate_received", ref=ref, digest=j.row[8])
        self._enqueue(committed)

    # -- messages left pending (a crash, a store fault) -------------------------------------
    def recover(self, older_than: float | None = None) -> int:
        return self.classifier.recover(older_than)

    async def _sweep_loop(self) -> None:
        """Now and then, have the classifier take what was left pending here (a batch that
        failed to record, a backlog beyond MAX_BACKLOG): rows older than SWEEP_AGE."""
        while True:
            await asyncio.sleep(self.SWEEP_INTERVAL)
            left_at = self._left_pending_at
            if left_at is None:
                # Nothing failed here; pending rows belong to a live process or start-up.
                continue
            cutoff = utcnow().timestamp() - self.SWEEP_AGE
            if left_at <= cutoff:
                # This sweep covers everything left so far; what it leaves pending again
                # (a failure, a retry not yet due) sets the time again (_feed).
                self._left_pending_at = None
            with self._backlog_cv:
                self._sweep_before = cutoff
                self._backlog_cv.notify()

    def _leave_pending(self) -> None:
        self._left_pending_at = utcnow().timestamp()

    def _has_pending(self, before: float) -> bool:
        try:
            return self.store.has_pending(datetime.fromtimestamp(before, timezone.utc))
        except Exception as exc:  # the store is away: look again at the next sweep
            self.log.warning("store_unavailable", error=str(exc)[:300])
            return True

    @property
    def busy(self) -> bool:
        return self._inflight > 0

    async def drain(self) -> None:
        """Finish committing and classifying what was accepted, then stop."""
        deadline = time.monotonic() + self.DRAIN_CLASSIFY
        while self.busy and time.monotonic() < deadline:  # a hung store must not hang us
            await asyncio.sleep(0.01)
        hung = self.busy
        for t in self._tasks:
            t.cancel()
        with self._backlog_cv:
            self._closing = True
            self._backlog_cv.notify()
        loop = asyncio.get_running_loop()
        for t in self._threads:
            await loop.run_in_executor(None, t.join, self.DRAIN_CLASSIFY)
            if t.is_alive():
                with self._backlog_cv:
                    self._abandon = True
                    self._backlog_cv.notify()
                await loop.run_in_executor(None, t.join)
        if self._proc is not None:
            await loop.run_in_executor(None, self._proc.join, self.DRAIN_CLASSIFY)
            if self._proc.is_alive():
                self._proc.kill()
        self._jobs.put(None)
        if hung:
            self.log.error("store_commit_hung", messages=self._inflight)
        elif self._commit_thread is not None:
            await loop.run_in_executor(None, self._commit_thread.join, self.DRAIN_CLASSIFY)
