"""The SMTP side: the aiosmtpd handler, group commit, and the serve loop.

The protocol engine (aiosmtpd) knows nothing of bounces. `BounceHandler` answers RCPT
(our domains only: the sink never relays) and DATA, whose reply is 250 only after the raw
message is committed to the store. `Ingest` batches concurrent messages into one commit
(group commit) in a writer thread, then classifies the stored copies after the ack; at
start-up it classifies whatever a dead process left stored but unclassified.
`Server` owns start-up, the main loop and graceful shutdown, like uvicorn's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import time
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP

from bouncesink import logs
from bouncesink.config import Config, parse_hostport
from bouncesink.model import Envelope, Parsed, utcnow
from bouncesink.store import SQLStore, open_store

REPLY_TEMPFAIL = "451 4.3.0 Temporary failure storing the message, try again later"


def domain_of_rcpt(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""


def campaign_of(parsed: Parsed, header_names: tuple[str, ...]) -> str | None:
    """The campaign a bounce belongs to, from the original message's headers."""
    for name in header_names:
        value = parsed.original.get(name.lower())
        if value:
            return value.strip()[:200]
    return None


class SinkSMTP(SMTP):
    """aiosmtpd's SMTP with RFC 3463 enhanced codes on the replies it writes itself."""

    _REWRITE = {
        "552 Error: Too much mail data": "552 5.3.4 Message too big for this system",
        "552 Error: message size exceeds fixed maximum message size":
            "552 5.3.4 Message size exceeds fixed maximum message size",
    }

    async def push(self, status):
        if isinstance(status, str):
            status = self._REWRITE.get(status, status)
        await super().push(status)


@dataclass
class _Job:
    envelope: Envelope
    raw: bytes
    future: asyncio.Future


class Ingest:
    """Group commit of raw messages, then classification of the stored copies.

    All store calls run in one writer thread, so SQLite sees one writer and every commit
    holds as many messages as arrived while the previous one was running.
    """

    def __init__(self, config: Config, store: SQLStore, parse) -> None:
        self.config = config
        self.store = store
        self.parse = parse
        self.log = logs.get()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._classify_queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store")
        self._tasks: list[asyncio.Task] = []
        self.stats = {"commits": 0, "messages": 0}

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._commit_loop()),
                       asyncio.create_task(self._classify_loop())]

    async def submit(self, envelope: Envelope, raw: bytes) -> int:
        """Store one message; returns its ref once committed. Raises if the commit failed."""
        fut = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(envelope, raw, fut))
        return await fut

    async def _commit_loop(self) -> None:
        loop = asyncio.get_running_loop()
        cfg = self.config.store
        while True:
            batch = [await self._queue.get()]
            if cfg.commit_interval:
                await asyncio.sleep(cfg.commit_interval)
            while len(batch) < cfg.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            items = [(j.envelope, j.raw) for j in batch]
            try:
                refs = await loop.run_in_executor(self._writer, self.store.add_messages, items)
            except Exception as exc:
                self.log.error("store_commit_failed", error=str(exc), messages=len(batch))
                for j in batch:
                    if not j.future.done():
                        j.future.set_exception(exc)
                continue
            self.stats["commits"] += 1
            self.stats["messages"] += len(batch)
            for j, ref in zip(batch, refs):
                if not j.future.done():
                    j.future.set_result(ref)
                self._classify_queue.put_nowait(ref)

    async def _classify_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            ref = await self._classify_queue.get()
            if ref is None:
                return
            refs = [ref]
            while not self._classify_queue.empty() and len(refs) < 256:
                nxt = self._classify_queue.get_nowait()
                if nxt is None:
                    self._classify_queue.put_nowait(None)
                    break
                refs.append(nxt)
            try:
                await loop.run_in_executor(self._writer, self.classify_refs, refs)
            except Exception as exc:
                # Still stored as pending: classified again at the next start-up.
                self.log.error("classify_failed", error=str(exc), refs=len(refs))

    def classify_refs(self, refs: list[int]) -> int:
        """Parse stored messages and record their results (runs in the writer thread)."""
        items, started = [], {}
        for ref in refs:
            stored = self.store.message(ref)
            if stored is None:
                continue
            t0 = time.perf_counter()
            parsed = self._parse(stored.raw, stored.envelope)
            started[ref] = (stored.envelope, parsed, time.perf_counter() - t0)
            items.append((ref, stored.envelope, parsed,
                          campaign_of(parsed, self.config.verp.campaign_headers)))
        decisions = self.store.record(items, self.config.policy)
        self._log_results(started, decisions)
        return len(items)

    def _parse(self, raw: bytes, envelope: Envelope) -> Parsed:
        try:
            return self.parse(raw)
        except Exception as exc:  # parse() never raises by contract; keep the message anyway
            return Parsed(kind="unrecognised", errors=[f"parse: {exc!r}"])

    def _log_results(self, started, decisions) -> None:
        it = iter(decisions)
        for ref, (env, parsed, dt) in started.items():
            for err in parsed.errors:
                self.log.warning("detector_failed", ref=ref, error=err)
            if not parsed.results:
                self.log.info("message_unrecognised", ref=ref, peer=env.peer,
                              mail_from=env.mail_from, rcpt_to=env.rcpt_tos,
                              message_id=parsed.original.get("message-id", ""))
            for _ in parsed.results:
                r, d = next(it)
                self.log.info("bounce_recorded", ref=ref, peer=env.peer, recipient=r.recipient,
                              type=r.type, reason=r.reason, status=r.status, rule=r.rule,
                              action=d.action, decision=d.rule, message_id=r.message_id)

    def recover(self) -> int:
        """Classify messages stored by a process that died before classifying them."""
        total = 0
        while True:
            pending = self.store.pending(limit=500)
            if not pending:
                return total
            total += self.classify_refs([p.ref for p in pending])

    async def drain(self) -> None:
        """Finish committing and classifying what was accepted, then stop."""
        while not self._queue.empty():
            await asyncio.sleep(0.01)
        self._classify_queue.put_nowait(None)
        await self._tasks[1]
        self._tasks[0].cancel()
        self._writer.shutdown(wait=True)


class BounceHandler:
    """aiosmtpd handler: the hook's return value is the SMTP reply."""

    def __init__(self, config: Config, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self.log = logs.get()
        self.domains = frozenset(config.server.domains)
        self.in_flight = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if domain_of_rcpt(address) not in self.domains:
            self.log.info("recipient_rejected", peer=session.peer[0], rcpt_to=address)
            return "550 5.7.1 Relaying denied: not a domain of this server"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        t0 = time.perf_counter()
        raw = envelope.original_content or b""
        env = Envelope(peer=session.peer[0] if session.peer else "",
                       mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                       helo=session.host_name or "", received_at=utcnow())
        self.in_flight += 1
        try:
            ref = await self.ingest.submit(env, raw)
            reply = f"250 2.0.0 OK queued as {ref}"
        except Exception as exc:
            ref, reply = None, REPLY_TEMPFAIL
            self.log.error("message_tempfailed", peer=env.peer, error=str(exc))
        finally:
            self.in_flight -= 1
        self.log.info("message_received", ref=ref, peer=env.peer, mail_from=env.mail_from,
                      rcpt_to=env.rcpt_tos, size=len(raw), reply=reply[:3],
                      duration_ms=round((time.perf_counter() - t0) * 1000, 2))
        return reply


class Server:
    """Owns start-up, the serve loop and graceful shutdown."""

    def __init__(self, config: Config, parse=None) -> None:
        if parse is None:
            from bouncesink.parse import parse
        self.config = config
        self.parse = parse
        self.log = logs.get()
        self.store: SQLStore | None = None
        self.ingest: Ingest | None = None
        self.handler: BounceHandler | None = None
        self._server: asyncio.base_events.Server | None = None
        self.started = None  # set to an asyncio.Event in serve()
        self.sockets: list[socket.socket] = []

    def _factory(self):
        cfg = self.config.server
        return SinkSMTP(self.handler, hostname=cfg.hostname or None,
                        data_size_limit=cfg.max_message_size, timeout=cfg.command_timeout,
                        ident="bouncesink ESMTP", decode_data=False)

    async def startup(self) -> None:
        cfg = self.config
        self.store = open_store(cfg.store.db, durability=cfg.store.durability)
        self.ingest = Ingest(cfg, self.store, self.parse)
        loop = asyncio.get_running_loop()
        recovered = await loop.run_in_executor(self.ingest._writer, self.ingest.recover)
        if recovered:
            self.log.info("pending_recovered", messages=recovered)
        self.ingest.start()
        self.handler = BounceHandler(cfg, self.ingest)
        host, port = parse_hostport(cfg.server.listen)
        self._server = await loop.create_server(self._factory, host=host, port=port,
                                                reuse_address=True)
        self.sockets = list(self._server.sockets)
        self.log.info("server_started", listen=[s.getsockname()[:2] for s in self.sockets],
                      domains=list(cfg.server.domains), store=cfg.store.db)

    @property
    def port(self) -> int:
        return self.sockets[0].getsockname()[1]

    async def shutdown(self) -> None:
        """Stop accepting; let messages in flight finish; commit and classify; close."""
        self.log.info("server_stopping")
        if self._server is not None:
            self._server.close()
        deadline = time.monotonic() + 30
        while self.handler and self.handler.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self.ingest is not None:
            await self.ingest.drain()
        if self.store is not None:
            self.store.close()
        self.log.info("server_stopped")

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Run until SIGTERM/SIGINT (or `stop` is set), then shut down gracefully."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        await self.startup()
        if self.started is not None:
            self.started.set()
        try:
            await stop.wait()
        finally:
            await self.shutdown()
