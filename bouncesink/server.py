"""The SMTP side: the aiosmtpd handler, group commit, limits, and the serve loop.

The protocol engine (aiosmtpd) knows nothing of bounces. `BounceHandler` answers RCPT
(our domains only: the sink never relays, see `is_ours`) and DATA, whose reply is 250 only
after the raw message is committed to the store. `Ingest` batches concurrent messages into
one commit (group commit) in a writer thread; after the 250, a classifier process
(`classifier_main`, running a `Classifier`) reads each message back from the store, parses
it and records the results, so parsing never competes with SMTP for the GIL. What a crash
or a fault leaves pending is classified at the next start-up (and by a periodic sweep).
`SinkSMTP` adds the limits a server on port 25 needs (connections in total and per IP, line
length, command and DATA timeouts, errors per session) and STARTTLS. `Server` owns start-up,
the main loop and graceful shutdown, like uvicorn's; `serve_workers` runs N of them as
processes sharing one port (SO_REUSEPORT).

Seams for other concerns: `Classifier.parser` (where parsing runs), `_campaign` /
`_record_options` (VERP, DNS; they run in the classifier process, from the stored
envelope), `Ingest.on_classified` (counters, in the server process), `Server.apply_config`
(reload).
"""

from __future__ import annotations

import array
import asyncio
import os
import queue
import re
import signal
import socket
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP

from bouncesink import logs, verp
from bouncesink.dns import HostunknownDNS
from bouncesink.idleparse import BusyGate, IdleParser, timed_parse
from bouncesink.config import Config, ConfigError, merge_reload, parse_hostport
from bouncesink.metrics import Metrics, create as create_metrics
from bouncesink.model import Envelope, Parsed, utcnow
from bouncesink.store import SQLStore, open_store

REPLY_TEMPFAIL = "451 4.3.0 Temporary failure storing the message, try again later"
REPLY_RELAY = "550 5.7.1 Relaying denied: not a domain of this server"
REPLY_TOO_MANY_RCPT = "452 4.5.3 Too many recipients"
REPLY_TOO_MANY_CONN = "421 4.7.0 Too many connections, try again later"
REPLY_TOO_MANY_CONN_IP = "421 4.7.0 Too many connections from your address, try again later"
REPLY_TIMEOUT = "421 4.4.2 Timeout, closing connection"
REPLY_TOO_MANY_ERRORS = "421 4.7.0 Too many errors, closing connection"
REPLY_SHUTDOWN = "421 4.3.2 Service shutting down, try again later"

# -- relay safety (RFC 5321 3.6, 4.1.2) ---------------------------------------------------------
# A local part we accept: a dot-atom (RFC 5321 4.1.2) without the characters that old MTAs
# route on: '%' (the percent hack), '!' (UUCP bang paths), '@' and ':' (source routes).
_ATEXT = r"[A-Za-z0-9#$&'*+/=?^_`{|}~-]"
_LOCAL = re.compile(rf"{_ATEXT}+(\.{_ATEXT}+)*")
_DOMAIN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")


def is_ours(address: str, domains: frozenset[str]) -> bool:
    """True only for `local@domain` with a plain local part and one of our domains exactly.

    Everything an MTA might route onwards is refused: foreign domains, subdomains and
    look-alike suffixes (exact match only), IP literals, source routes (@a:b@c), percent
    hacks and bang paths in the local part, quoted local parts, trailing dots.
    """
    if not address or len(address) > 320 or address.count("@") != 1:
        return False
    local, _, domain = address.partition("@")
    if not _LOCAL.fullmatch(local) or len(local) > 64:
        return False
    if not _DOMAIN.fullmatch(domain):
        return False
    return domain.lower() in domains


_PLAIN_ADDR = re.compile(
    rf"\s*<(?P<addr>{_ATEXT}+(?:\.{_ATEXT}+)*@{_DOMAIN.pattern})>(?P<rest>.*)\Z", re.S)
_SOURCE_ROUTE = re.compile(r"(?i)\s*TO:\s*<?\s*@")


def campaign_of(parsed: Parsed, header_names: tuple[str, ...]) -> str | None:
    """The campaign a bounce belongs to, from the original message's headers."""
    for name in header_names:
        value = parsed.original.get(name.lower())
        if value:
            return value.strip()[:200]
    return None


_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(.{0,998}?)[ \t]*\r?$")


def message_id_of(raw: bytes) -> str:
    """The bounce's own Message-ID, from its header block only (bounded, no MIME parse)."""
    head = raw[:65536]
    end = head.find(b"\r\n\r\n")
    if end < 0:
        end = head.find(b"\n\n")
    m = _MESSAGE_ID.search(head if end < 0 else head[:end])
    return m.group(1).decode("ascii", "replace") if m else ""


# -- connections ----------------------------------------------------------------------------
class ConnectionGate:
    """Counts open sessions, in total and per client IP; refuses beyond the limits."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.total = 0
        self.per_ip: dict[str, int] = defaultdict(int)
        self.sessions: set[SinkSMTP] = set()

    def enter(self, proto: SinkSMTP, ip: str) -> str | None:
        """None if admitted, else the 421 reply to send."""
        cfg = self.config.server
        if self.total >= cfg.max_connections:
            return REPLY_TOO_MANY_CONN
        if self.per_ip[ip] >= cfg.max_connections_per_ip:
            return REPLY_TOO_MANY_CONN_IP
        self.total += 1
        self.per_ip[ip] += 1
        self.sessions.add(proto)
        return None

    def leave(self, proto: SinkSMTP, ip: str) -> None:
        self.total -= 1
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]
        self.sessions.discard(proto)


class SinkSMTP(SMTP):
    """aiosmtpd's SMTP with our limits and RFC 3463 enhanced codes on its own replies."""

    _REWRITE = {
        "552 Error: Too much mail data": "552 5.3.4 Message too big for this system",
        "552 Error: message size exceeds fixed maximum message size":
            "552 5.3.4 Message size exceeds fixed maximum message size",
        # In DATA, a line longer than the reader's limit (which we set to the size limit).
        "500 Line too long (see RFC5321 4.5.3.1.6)": "552 5.3.4 Message too big for this system",
        "500 Command line too long": "500 5.5.2 Line too long",
    }

    def __init__(self, handler, gate: ConnectionGate, config: Config, **kwargs) -> None:
        cfg = config.server
        # The reader's limit bounds what one command line may buffer (RFC 5321 4.5.3.1.4);
        # the room above it is for CRLF and the SIZE / SMTPUTF8 parameters aiosmtpd allows
        # on MAIL beyond the command limit.
        self.line_length_limit = cfg.max_line_length + 64
        super().__init__(handler, **kwargs)
        self.command_size_limit = cfg.max_line_length
        self.command_size_limits = defaultdict(lambda: cfg.max_line_length)
        self.gate = gate
        self.config = config
        self.log = logs.get()
        self.errors = 0
        self.in_data = False
        self._admitted: str | None = None
        self._refusal: str | None = None
        self._closing = False
        self._held: list[bytes] = []  # 250 replies to pipelined commands, not yet sent

    @property
    def peer_ip(self) -> str:
        peer = self.session.peer if self.session else None
        return peer[0] if isinstance(peer, tuple) else str(peer or "")

    def connection_made(self, transport) -> None:
        first = self._original_transport is None and self.transport is None
        super().connection_made(transport)
        if first:  # not the second call that STARTTLS makes
            ip = self.peer_ip
            self._refusal = self.gate.enter(self, ip)
            if self._refusal is None:
                self._admitted = ip
            else:
                self.log.warning("connection_refused", peer=ip, reply=self._refusal,
                                 limit="max_connections" if "from your" not in self._refusal
                                 else "max_connections_per_ip")

    def connection_lost(self, error) -> None:
        if self._admitted is not None:
            self.gate.leave(self, self._admitted)
            self._admitted = None
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        if self._refusal is not None:
            self.event_handler.metrics.reply_sent(self._refusal)
            self._writer.write(self._refusal.encode() + b"\r\n")
            self._closing = True
            self.transport.close()
            return
        await super()._handle_client()

    def _timeout_cb(self) -> None:
        limit = "data_timeout" if self.in_data else "command_timeout"
        self.log.warning("session_timed_out", peer=self.peer_ip, limit=limit)
        if self.transport is not None and not self._closing and not self.transport.is_closing():
            self._closing = True
            try:
                self.transport.write(REPLY_TIMEOUT.encode() + b"\r\n")
            except Exception:  # a TLS transport whose peer has just gone
                pass
        if self.transport is not None:
            super()._timeout_cb()

    def _getaddr(self, arg):
        # aiosmtpd parses every MAIL/RCPT address with the email header parser (and defines
        # a class per call): a plain <local@domain> is most of them and needs a regex only.
        # The null sender of every bounce (MAIL FROM:<>) too.
        m = _PLAIN_ADDR.match(arg) if arg else None
        if m is not None and len(m["addr"]) <= 320:
            return m["addr"], m["rest"].lstrip()
        if arg and arg.lstrip().startswith("<>"):
            return "<>", arg.lstrip()[2:]
        return super()._getaddr(arg)

    async def smtp_RCPT(self, arg) -> None:
        # aiosmtpd drops a source route (<@a,@b:user@c>) and keeps user@c; RFC 5321 C allows
        # that, but we refuse any route outright so nothing routed is ever accepted.
        if arg and _SOURCE_ROUTE.match(arg):
            self.log.info("recipient_rejected", peer=self.peer_ip, rcpt_to=arg[3:].strip())
            await self.push(REPLY_RELAY)
            return
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg) -> None:
        # The whole transfer (and the commit) must end within data_timeout; a DATA line may
        # be as long as the message may be big (real bounces quote overlong lines).
        self.in_data = True
        self._reset_timeout(self.config.server.data_timeout)
        reader, command_limit = self._reader, self.line_length_limit
        self.line_length_limit = max(command_limit, (self.data_size_limit or 0) + 2)
        reader._limit = self.line_length_limit
        try:
            await super().smtp_DATA(arg)
        finally:
            self.line_length_limit = reader._limit = command_limit
            self.in_data = False
            if self.transport is not None:
                self._reset_timeout()

    async def push(self, status) -> None:
        if isinstance(status, str):
            status = self._REWRITE.get(status, status)
            self.event_handler.metrics.reply_sent(status)
            if status[:1] in ("4", "5") and not status.startswith("421"):
                self.errors += 1
                if status.startswith("500 5.5.2"):
                    self.log.warning("limit_exceeded", peer=self.peer_ip,
                                     limit="max_line_length")
                elif status.startswith("552"):
                    self.log.warning("limit_exceeded", peer=self.peer_ip,
                                     limit="max_message_size")
                if self.errors > self.config.server.max_errors:
                    self.log.warning("limit_exceeded", peer=self.peer_ip, limit="max_errors",
                                     errors=self.errors)
                    await self._send(status)
                    await self._send(REPLY_TOO_MANY_ERRORS)
                    self._closing = True
                    if self.transport is not None:
                        self.transport.close()
                    return
        if self._closing and self.transport is None:
            return
        await self._send(status)

    def _more_input(self) -> bool:
        """Another command already waits in the input (the client pipelines)."""
        reader = self._reader
        return reader is not None and b"\n" in reader._buffer

    async def _send(self, status) -> None:
        """RFC 2920: the replies to a group of pipelined commands go out together, in one
        write, once the group is read. Only 250s wait; anything else (354, which the client
        waits for, 220 before TLS, errors, 221) goes at once with what was held."""
        if isinstance(status, str):
            status = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii")
        if status[:3] == b"250" and self._more_input() and not self._closing:
            self._held.append(status + b"\r\n")
            return
        if self._held:
            status, self._held = b"".join(self._held) + status, []
        self._writer.write(status + b"\r\n")
        await self._writer.drain()

    def close_idle(self) -> bool:
        """At shutdown: say 421 and close unless a message is being received or stored."""
        if self.in_data or self.transport is None:
            return False
        if self._closing or self.transport.is_closing():
            return True
        self._closing = True
        try:
            self.transport.write(REPLY_SHUTDOWN.encode() + b"\r\n")
        except Exception:  # a TLS transport whose peer has just gone: nothing to tell
            pass
        self.transport.close()
        return True


# -- group commit, then classification -------------------------------------------------------
@dataclass
class _Job:
    row: tuple               # the message's store row, compressed in the event loop thread
    future: asyncio.Future   # its ref once committed
    t0: float = 0.0


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

    def set_config(self, config: Config) -> None:
        self.config = config
        self.dns.policy = config.policy

    # Messages recorded per transaction: a record transaction holds the store's write lock
    # (SQLite: the whole file), and the server's commits wait behind it.
    RECORD_CHUNK = 32

    def classify(self, batch: list[_Committed]) -> list[tuple]:
        """Returns a summary per message: (ref, kind, [(type, reason), ...])."""
        out = []
        for i in range(0, len(batch), self.RECORD_CHUNK):
            out += self._classify_chunk(batch[i:i + self.RECORD_CHUNK])
        return out

    def _classify_chunk(self, batch: list[_Committed]) -> list[tuple]:
        todo = []
        for c in batch:
            env, raw = c.envelope, c.raw
            if raw is None:
                stored = self.store.message(c.ref)
                if stored is None or stored.state != "pending":
                    continue
                env, raw = stored.envelope, stored.raw
                c.message_id = c.message_id or message_id_of(raw)
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
                for c, _, _, parsed, _ in done]

    def classify_each(self, batch: list[_Committed]) -> list[tuple]:
        """classify(), one message at a time: what keeps failing stays pending, logged."""
        out = []
        for c in batch:
            try:
                out += self.classify([c])
            except Exception as exc:
                self.log.error("classify_failed", ref=c.ref, error=str(exc)[:300])
        return out

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
            pending = [p for p in self.store.pending(limit=500) if p.ref not in seen]
            cutoff = before
            if older_than is not None:
                cutoff = utcnow().timestamp() - older_than
            if cutoff is not None:
                pending = [p for p in pending if p.envelope.received_at.timestamp() < cutoff]
            if not pending:
                return total
            seen.update(p.ref for p in pending)
            batch = [_Committed(p.ref, message_id_of(p.raw), None, p.envelope, p.raw)
                     for p in pending]
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
                recover_logged(work, log, batch[1])
                conn.send([])
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
    are classified by the periodic sweep or at the next start-up. `in_process=True` classifies in a thread instead (e.g. a parse function
    that cannot be sent to another process).
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
        self._left_pending = False
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
        self.stats = {"commits": 0, "messages": 0, "commit_failures": 0, "classified": 0}

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
                        self._conn.recv()
                    else:
                        recover_logged(self.classifier, self.log, sweep_before)
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
                self._left_pending = True
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
                self._left_pending = True  # still stored as pending: the sweep takes them
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
                refs = self.store.add_rows([j.row for j in batch])
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

    def _committed(self, batch: list[_Job], refs: list[int], took: float) -> None:
        self._inflight -= len(batch)
        self.metrics.commit_observed(took, len(batch))
        self.stats["commits"] += 1
        self.stats["messages"] += len(batch)
        now = time.perf_counter()
        committed = []
        for j, ref in zip(batch, refs):
            if not j.future.done():
                j.future.set_result(ref)
            committed.append(_Committed(ref, "", round((now - j.t0) * 1000, 2)))
        self._enqueue(committed)

    # -- messages left pending (a crash, a store fault) -------------------------------------
    def recover(self, older_than: float | None = None) -> int:
        return self.classifier.recover(older_than)

    async def _sweep_loop(self) -> None:
        """Now and then, have the classifier take what was left pending here (a batch that
        failed to record, a backlog beyond MAX_BACKLOG): rows older than SWEEP_AGE."""
        while True:
            await asyncio.sleep(self.SWEEP_INTERVAL)
            if not self._left_pending:
                # Nothing failed here; pending rows belong to a live process or start-up.
                continue
            self._left_pending = False
            with self._backlog_cv:
                self._sweep_before = utcnow().timestamp() - self.SWEEP_AGE
                self._backlog_cv.notify()

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


# -- the handler -------------------------------------------------------------------------------
class BounceHandler:
    """aiosmtpd handler: the hook's return value is the SMTP reply."""

    metrics: Metrics = Metrics()  # the Server sets its own

    def __init__(self, config: Config, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self.log = logs.get()
        self.domains = frozenset(d.lower() for d in config.server.domains)
        self.in_flight = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """aiosmtpd's EHLO reply, with PIPELINING (RFC 2920) before its last line."""
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        peer = session.peer[0] if session.peer else ""
        if not is_ours(address, self.domains):
            self.log.info("recipient_rejected", peer=peer, rcpt_to=address)
            return REPLY_RELAY
        if len(envelope.rcpt_tos) >= self.config.server.max_recipients:
            self.log.warning("limit_exceeded", peer=peer, limit="max_recipients",
                             rcpt_to=address)
            return REPLY_TOO_MANY_RCPT
        refused = verp.refusal(address, self.config.verp)
        if refused:
            self.log.warning("verp_rejected", peer=peer, rcpt_to=address, reply=refused)
            return refused
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        t0 = time.perf_counter()
        raw = envelope.original_content or b""
        env = Envelope(peer=session.peer[0] if session.peer else "",
                       mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                       helo=session.host_name or "", received_at=utcnow())
        self.in_flight += 1
        try:
            ref = await self.ingest.submit(env, raw, t0=t0)
            self.metrics.message_received()
            # Logged with its results once classified (Ingest._log_results).
            return f"250 2.0.0 OK queued as {ref}"
        except Exception as exc:
            self.log.error("message_tempfailed", peer=env.peer, mail_from=env.mail_from,
                           rcpt_to=env.rcpt_tos, message_id=message_id_of(raw), size=len(raw),
                           error=str(exc)[:300], reply="451",
                           duration_ms=round((time.perf_counter() - t0) * 1000, 2))
            return REPLY_TEMPFAIL
        finally:
            self.in_flight -= 1


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context for STARTTLS (RFC 3207); clients are not asked for certificates."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([f"server.tls_cert / tls_key: cannot load {cert}, {key}:"
                           f" {getattr(exc, 'strerror', None) or exc}"]) from None
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# -- the server --------------------------------------------------------------------------------
class Server:
    """Owns start-up, the serve loop and graceful shutdown."""

    SHUTDOWN_GRACE = 30.0   # seconds sessions in DATA get to finish after SIGTERM

    def __init__(self, config: Config, parse=None, recover: bool = True,
                 reload_config=None, classify_in_process: bool = False) -> None:
        if parse is None:
            from bouncesink.parse import parse
        self.classify_in_process = classify_in_process
        self.config = config
        # SIGHUP calls this to build the config again (file + flags); None: no reload.
        self.reload_config = reload_config
        self.metrics = create_metrics(config.metrics)
        self.parse = parse
        self.recover = recover
        self.log = logs.get()
        self.store: SQLStore | None = None
        self.ingest: Ingest | None = None
        self.handler: BounceHandler | None = None
        self.gate = ConnectionGate(config)
        self._server: asyncio.base_events.Server | None = None
        self._tls: ssl.SSLContext | None = None
        self.started = None  # set to an asyncio.Event in serve()
        self.sockets: list[socket.socket] = []

    def _factory(self):
        cfg = self.config.server
        return SinkSMTP(self.handler, self.gate, self.config, hostname=cfg.hostname or None,
                        data_size_limit=cfg.max_message_size, timeout=cfg.command_timeout,
                        ident="bouncesink ESMTP", decode_data=False, tls_context=self._tls,
                        require_starttls=cfg.require_tls)

    async def startup(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        if cfg.server.tls_cert and cfg.server.tls_key:  # a bad certificate fails start-up
            self._tls = tls_context(cfg.server.tls_cert, cfg.server.tls_key)
        self.store = open_store(cfg.store.db, durability=cfg.store.durability)
        self.ingest = Ingest(cfg, self.store, self.parse, in_process=self.classify_in_process)
        self.ingest.metrics = self.metrics
        self.ingest.start(recover=self.recover)
        self.handler = BounceHandler(cfg, self.ingest)
        self.handler.metrics = self.metrics
        host, port = parse_hostport(cfg.server.listen)
        self._server = await loop.create_server(
            self._factory, host=host, port=port, reuse_address=True,
            reuse_port=cfg.server.workers > 1, backlog=min(4096, cfg.server.max_connections))
        self.sockets = list(self._server.sockets)
        self.metrics.watch_connections(lambda: self.gate.total)
        self.metrics.start()
        self.log.info("server_started", listen=[s.getsockname()[:2] for s in self.sockets],
                      domains=list(cfg.server.domains), store=_redact(cfg.store.db),
                      tls=self._tls is not None, pid=os.getpid())

    @property
    def port(self) -> int:
        return self.sockets[0].getsockname()[1]

    async def shutdown(self) -> None:
        """Stop accepting; let messages in flight finish; commit and classify; close."""
        self.log.info("server_stopping", sessions=self.gate.total)
        if self._server is not None:
            self._server.close()
        deadline = time.monotonic() + self.SHUTDOWN_GRACE
        while time.monotonic() < deadline:
            for proto in list(self.gate.sessions):
                proto.close_idle()
            if not self.gate.sessions and not (self.handler and self.handler.in_flight):
                break
            await asyncio.sleep(0.02)
        if self.ingest is not None:
            await self.ingest.drain()
        if self.store is not None:
            self.store.close()
        self.metrics.stop()
        self.log.info("server_stopped")

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Run until SIGTERM/SIGINT (or `stop` is set), then shut down gracefully."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        try:
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass
        await self.startup()
        if self.started is not None:
            self.started.set()
        try:
            await stop.wait()
        finally:
            await self.shutdown()


    def reload(self) -> None:
        """SIGHUP: take domains, limits, policy, VERP and the log level from the config
        again. A config that does not load is logged and the running one kept."""
        if self.reload_config is None:
            self.log.warning("config_reload_skipped", reason="started without a config to reload")
            return
        try:
            new = self.reload_config()
        except Exception as exc:  # ConfigError, CLIError: keep serving with what we have
            problems = getattr(exc, "problems", None) or [str(exc)]
            self.log.error("config_reload_failed", problems=problems, kept="running config")
            return
        merged, applied, restart = merge_reload(self.config, new)
        self.apply_config(merged)
        if "log.level" in applied:
            logs.setup(merged.log.format, merged.log.level)
        self.log.info("config_reloaded", pid=os.getpid(), changed=applied, needs_restart=restart,
                      domains=list(merged.server.domains))

    def apply_config(self, config: Config) -> None:
        """Switch to `config`: new sessions get its limits; RCPT, policy and VERP use it
        at once. Sessions already open keep the limits they started with."""
        self.config = config
        self.gate.config = config
        if self.ingest is not None:
            self.ingest.config = config
            self.ingest.dns.policy = config.policy
        if self.handler is not None:
            self.handler.config = config
            self.handler.domains = frozenset(d.lower() for d in config.server.domains)


def _redact(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.rpartition('@')[2]}"
    return url


# -- several processes on one port ------------------------------------------------------------
def serve_workers(config: Config, parse=None, reload_config=None) -> int:
    """Run `config.server.workers` server processes sharing one port (SO_REUSEPORT).

    The parent migrates the store, then forks the workers, forwards SIGTERM/SIGINT (and
    SIGHUP) to them, restarts one that dies, and exits 0 once all have stopped cleanly. Each
    worker has its own store connection, group commit and classifier; the first (and any
    restarted one) also classifies what an earlier process left pending.
    """
    log = logs.get()
    n = config.server.workers
    host, port = parse_hostport(config.server.listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Reserve the port (port 0 becomes one port for all); bound but never listening, so the
    # kernel hands no connection to it.
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    port = holder.getsockname()[1]
    config = config.replace("server", listen=f"[{host}]:{port}" if family == socket.AF_INET6
                            else f"{host}:{port}")

    # Open (and migrate) the store once, before the workers race to do it.
    open_store(config.store.db, durability=config.store.durability).close()
    stopping = False
    children: dict[int, int] = {}

    def spawn(slot: int, recover: bool = False) -> None:
        pid = os.fork()
        if pid == 0:
            holder.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the worker's own handler
            code = 0
            try:
                asyncio.run(Server(config, parse=parse, recover=recover,
                                   reload_config=reload_config).serve())
            except BaseException as exc:  # noqa: BLE001 - report, then leave the child
                log.error("worker_failed", error=str(exc)[:300], pid=os.getpid())
                code = 1
            os._exit(code)
        children[pid] = slot

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def on_hangup(signum, frame):
        for pid in list(children):  # each worker reloads its own config
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hangup)
    for slot in range(n):
        spawn(slot, recover=slot == 0)
    log.info("workers_started", workers=n, listen=config.server.listen,
             pids=sorted(children))
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        slot = children.pop(pid, None)
        if slot is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        if not stopping:
            log.error("worker_died", pid=pid, exit=code)
            time.sleep(0.2)
            spawn(slot, recover=True)  # classifies what the dead one left pending
        elif code != 0:
            failed = True
    holder.close()
    log.info("workers_stopped")
    return 1 if failed else 0
