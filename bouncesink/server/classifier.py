"""Classification after the 250: the classifier process and its idle-priority parser.

`Classifier` reads each committed message back from the store, parses it (in an
`bouncesink.idleparse.IdleParser` child at idle priority, in the classifier process), and
records its results and the policy's decisions. `classifier_main` is that process's loop:
refs in from the server (ingest.Ingest), summaries back. `recover` classifies what a crash
or a fault left pending.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import timedelta

from bouncesink import logs, verp
from bouncesink.config import Config
from bouncesink.dns import HostunknownDNS
from bouncesink.envelope import campaign_of, message_id_of
from bouncesink.idleparse import BusyGate, IdleParser, timed_parse
from bouncesink.model import Envelope, Parsed, utcnow
from bouncesink.store import SQLStore, open_store
from bouncesink.store.base import FAILED


@dataclass
class _Committed:
    """A committed message on its way to classification."""

    ref: int
    message_id: str = ""
    ack_ms: float | None = None
    envelope: Envelope | None = None   # None: read back from the store with the raw bytes
    raw: bytes | None = None


class Classifier:
    """Parse stored messages and record their results: the work after the 250.

    Runs in the classifier process (or a thread, or the supervisor at start-up). It reads
    each message back from the store, so results are computed from the stored copy.
    Recording a message that another process classified meanwhile is a no-op (the store
    records only a message still pending), so two classifiers never double-count.
    """

    def __init__(self, config: Config, store: SQLStore, parse, dns=None) -> None:
        self.config = config
        self.store = store
        self.parse = parse
        self.log = logs.get()
        self.dns = dns or HostunknownDNS(config.policy)  # hostunknown confirmation, cached
        # (ref, started) shared with the server, which kills a classifier stuck on one
        # message (Ingest.PARSE_TIMEOUT); None when classifying in the server's process.
        self.progress = None
        # An IdleParser (the classifier process parses in a child at idle priority), or
        # None: parse here; a BusyGate (the classifier process records when the server is
        # not saturated), or None: record at once.
        self.parser: IdleParser | None = None
        self.gate: BusyGate | None = None
        self.failed = 0  # classifications that failed (each one left pending, or set aside)

    def set_config(self, config: Config) -> None:
        self.config = config
        self.dns.policy = config.policy

    # Messages recorded per transaction: a record transaction holds the store's write lock
    # (SQLite: the whole file), and the server's commits wait behind it.
    RECORD_CHUNK = 32
    # ... and raw bytes read back per chunk: the messages of a chunk are held (and sent to
    # the parser child) together, and 32 messages near the size limit are 320 MB.
    CHUNK_BYTES = 8 * 2**20

    def classify(self, batch: list[_Committed]) -> list[tuple]:
        """Returns a summary per message: (ref, kind, [(type, reason), ...])."""
        out = []
        i = 0
        while i < len(batch):
            summary, used = self._classify_chunk(batch[i:i + self.RECORD_CHUNK])
            out += summary
            i += used
        return out

    def _classify_chunk(self, batch: list[_Committed]) -> tuple[list[tuple], int]:
        """Classify the first messages of `batch`, as many as CHUNK_BYTES of raw holds (at
        least one); returns their summaries and how many of `batch` were taken."""
        todo = []
        used = size = 0
        for c in batch:
            if used and size >= self.CHUNK_BYTES:
                break
            used += 1
            env, raw = c.envelope, c.raw
            if raw is None:
                stored = self.store.message(c.ref)
                if stored is None or stored.state != "pending":
                    continue
                env, raw = stored.envelope, stored.raw
                c.message_id = c.message_id or message_id_of(raw)
            c.raw = None  # held here until recorded, not by the caller's batch after
            size += len(raw)
            todo.append((c, env, raw))
        work = [(c.ref, raw, self._verp_recipient(env)) for c, env, raw in todo]
        if self.parser is not None:
            parsed_ms = self.parser.parse_many(work)
        else:
            parsed_ms = [timed_parse(self.parse, self.progress, *item) for item in work]
        done = [(c, env, len(raw), parsed, ms)
                for (c, env, raw), (parsed, ms) in zip(todo, parsed_ms)]
        items = [(c.ref, env, parsed, self._campaign(env, parsed))
                 for c, env, _, parsed, _ in done]
        if self.gate is not None and items:
            self.gate.wait()
        decisions = self.store.record(items, self.config.policy, **self._record_options(items)) \
            if items else []
        self._log_results(done, decisions)
        return [(c.ref, parsed.kind, [(r.type, r.reason) for r in parsed.results])
                for c, _, _, parsed, _ in done], used

    # A message whose classification fails is tried again by the sweep after RETRY_BASE,
    # then twice as long each time; after MAX_ATTEMPTS it is set aside as 'failed'.
    RETRY_BASE = 60.0
    MAX_ATTEMPTS = 6

    def classify_each(self, batch: list[_Committed]) -> list[tuple]:
        """classify(), one message at a time: what fails stays pending for a later try
        (counted in the store), until it has failed MAX_ATTEMPTS times."""
        out = []
        for c in batch:
            try:
                out += self.classify([c])
            except Exception as exc:
                self.failed += 1
                self.log.error("classify_failed", ref=c.ref, error=str(exc)[:300])
                self._count_failure(c.ref, exc)
        return out

    def _count_failure(self, ref: int, exc: Exception) -> None:
        store_reset(self.store, self.log)
        try:
            attempts = self.store.message_attempts(ref)
            retry_at = utcnow() + timedelta(seconds=self.RETRY_BASE * 2 ** attempts)
            attempts, state = self.store.classification_failed(
                ref, repr(exc), retry_at, self.MAX_ATTEMPTS)
        except Exception as err:  # the store is away: the message stays pending as it was
            self.log.error("record_failed", ref=ref, error=str(err)[:300])
            return
        if state == FAILED:
            self.log.error("classification_abandoned", ref=ref, attempts=attempts,
                           error=str(exc)[:300], state=FAILED)

    def _campaign(self, envelope: Envelope, parsed: Parsed) -> str | None:
        """The VERP campaign, else the original message's campaign header."""
        v = verp.for_envelope(envelope.rcpt_tos, self.config.verp, envelope.received_at)
        return (v.campaign if v else None) or campaign_of(parsed,
                                                          self.config.verp.campaign_headers)

    def _record_options(self, items) -> dict:
        """DNS verdicts for hostunknown results, and each message's VERP recipient (decoded
        again from the stored envelope, so it survives a restart)."""
        cfg = self.config.verp
        verps = {ref: r for ref, env, parsed, _ in items
                 if (r := verp.acting_recipient(env.rcpt_tos, parsed.original, cfg,
                                                env.received_at))}
        return {"dns_verdicts": self.dns.verdicts([p for _, _, p, _ in items]),
                "verp_recipients": verps}

    def _verp_recipient(self, envelope: Envelope) -> str | None:
        v = verp.for_envelope(envelope.rcpt_tos, self.config.verp, envelope.received_at)
        return v.recipient if v else None

    def _log_results(self, done, decisions) -> None:
        decided = {id(r): d for r, d in decisions}
        for c, env, size, parsed, parse_ms in done:
            if parsed.results and not any(id(r) in decided for r in parsed.results):
                self.log.info("message_already_classified", ref=c.ref)
                continue
            for err in parsed.errors:
                self.log.warning("detector_failed", ref=c.ref, error=err)
            self.log.info("message_received", ref=c.ref, peer=env.peer, helo=env.helo,
                          mail_from=env.mail_from, rcpt_to=env.rcpt_tos,
                          message_id=c.message_id, size=size, kind=parsed.kind,
                          results=len(parsed.results), duration_ms=c.ack_ms,
                          parse_ms=parse_ms, reply="250")
            for r in parsed.results:
                d = decided[id(r)]
                self.log.info("bounce_recorded", ref=c.ref, peer=env.peer, recipient=r.recipient,
                              type=r.type, reason=r.reason, status=r.status, rule=r.rule,
                              action=d.action, decision=d.rule, message_id=r.message_id)
                if d.alert:
                    self.log.warning("sender_blocked", **d.alert)

    def recover(self, older_than: float | None = None, before: float | None = None) -> int:
        """Classify messages stored but never classified (a crash between commit and record).

        Only those received more than `older_than` seconds ago, or before the time `before`
        (a timestamp): younger ones are still on their way through a live process.
        """
        total = 0
        seen: set[int] = set()
        while True:
            # Refs only: classify() reads each message back as its chunk comes (a backlog
            # of big messages is never held at once).
            pending = [(ref, at) for ref, at in self.store.pending_refs(limit=500, due=utcnow())
                       if ref not in seen]
            cutoff = before
            if older_than is not None:
                cutoff = utcnow().timestamp() - older_than
            if cutoff is not None:
                pending = [(ref, at) for ref, at in pending if at.timestamp() < cutoff]
            if not pending:
                return total
            seen.update(ref for ref, _ in pending)
            batch = [_Committed(ref) for ref, _ in pending]
            try:
                total += len(self.classify(batch))
            except Exception as exc:
                self.log.error("recover_failed", error=str(exc)[:300], messages=len(batch))
                total += len(self.classify_each(batch))


CLASSIFIER_MEMORY = 2 << 30  # bytes of address space for the classifier process


def classifier_main(config: Config, parse, conn, recover: float | None = None,
                    progress=None) -> None:
    """The classifier process: refs in from the server, summaries back, until None or EOF.

    With `recover` (a timestamp), it first classifies what was left pending before then (a
    crash between commit and classification), while the server already takes mail.
    """
    # Ctrl-C reaches the whole process group: the server says when to stop. SIGTERM (the
    # server's own exit, a `kill` of the group) ends us at once; what we had not classified
    # stays pending, and the server classifies it itself or at its next start.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # A message that makes the parser allocate without end meets MemoryError (parse()
        # keeps it as unrecognised) instead of the machine's OOM killer.
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > CLASSIFIER_MEMORY:
            resource.setrlimit(resource.RLIMIT_AS, (CLASSIFIER_MEMORY, hard))
    except (ImportError, ValueError, OSError):
        pass
    logs.setup(config.log.format, config.log.level)
    if parse is None:
        from bouncesink.parse import parse
    log = logs.get()
    # Parsing at idle priority in a child forked now, before the store is opened; this
    # process records at normal priority (see idleparse).
    parser = IdleParser(parse, progress, log, inherited=[conn]) if IdleParser.available() \
        else None
    if parser is not None:
        parser.start()
    while True:  # the store may be away (PostgreSQL restarting): wait for it
        try:
            store = open_store(config.store.db, durability=config.store.durability)
            break
        except Exception as exc:
            log.error("classifier_store_unavailable", error=str(exc)[:300])
            time.sleep(2)
    work = Classifier(config, store, parse)
    work.progress = progress
    work.parser = parser
    if parser is not None:
        work.gate = BusyGate(os.getppid())
    try:
        if recover is not None:
            recover_logged(work, log, recover)
        while True:
            try:
                batch = conn.recv()
            except EOFError:
                return
            if batch is None:
                return
            if isinstance(batch, Config):  # SIGHUP reload in the server
                work.set_config(batch)
                continue
            if isinstance(batch, tuple) and batch[0] == "recover":  # the server's sweep
                failed = work.failed
                recover_logged(work, log, batch[1])
                conn.send(work.failed - failed)  # failures: those are to be tried again
                continue
            try:
                summary = work.classify(batch)
            except Exception as exc:
                work.log.error("classify_failed", error=str(exc)[:300], messages=len(batch))
                store_reset(store, work.log)
                summary = work.classify_each(batch)
            try:
                conn.send(summary)
            except OSError:
                return
    finally:
        if parser is not None:
            parser.close()
        store.close()


def recover_logged(work: Classifier, log, before: float | None) -> int:
    try:
        n = work.recover(before=before)
    except Exception as exc:  # the sweep or the next start-up tries again
        log.error("recover_failed", error=str(exc)[:300])
        return 0
    if n:
        log.info("pending_recovered", messages=n)
    return n


def store_reset(store: SQLStore, log) -> None:
    """After a failure: drop the connection, so the next call starts afresh."""
    reset = getattr(store, "reconnect", None)
    if reset is None:
        return
    try:
        reset()
    except Exception as exc:  # still broken: the next call fails and tries again
        log.warning("store_reconnect_failed", error=str(exc)[:300])
