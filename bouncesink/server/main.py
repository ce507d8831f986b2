"""`Server`: start-up, the serve loop, SIGHUP reload and graceful shutdown (as uvicorn's)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import time

from bouncesink import logs
from bouncesink.config import Config, merge_reload, parse_hostport
from bouncesink.metrics import create as create_metrics
from bouncesink.server.handler import BounceHandler
from bouncesink.server.ingest import Ingest
from bouncesink.server.protocol import ConnectionGate, SinkSMTP, tls_context
from bouncesink.store import SQLStore, open_store


class Server:
    """Owns start-up, the serve loop and graceful shutdown."""

    SHUTDOWN_GRACE = 30.0   # seconds sessions in DATA get to finish after SIGTERM
    # The session class: SinkSMTP, or a subclass speaking another protocol (LMTP) with the
    # same constructor (handler, gate, config, **aiosmtpd keyword arguments).
    session_class = SinkSMTP

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
        self._lmtp: asyncio.base_events.Server | None = None   # roads: [lmtp] listen
        self._pollers: list = []                                # roads: [[mailbox]]
        self.web = None  # bouncesink.web.inprocess.InProcess once started

    def _factory(self):
        cfg = self.config.server
        return self.session_class(
            self.handler, self.gate, self.config, hostname=cfg.hostname or None,
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
        await self._start_roads()
        self.metrics.watch_connections(lambda: self.gate.total)
        self.metrics.watch_store(cfg.store.db)
        self.metrics.start()
        # The HTTP API ([http] listen) and webhook deliveries, beside SMTP (bouncesink.web).
        from bouncesink.web.inprocess import InProcess

        self.web = InProcess(cfg)
        await self.web.start()
        self.log.info("server_started", listen=[s.getsockname()[:2] for s in self.sockets],
                      domains=list(cfg.server.domains), store=_redact(cfg.store.db),
                      tls=self._tls is not None, pid=os.getpid())

    async def _start_roads(self) -> None:
        """LMTP beside SMTP (the same handler, gate and Ingest: server/lmtp.py), and a
        poller per [[mailbox]] (roads/mailbox.py)."""
        cfg = self.config
        if cfg.lmtp.listen:
            from bouncesink.server.lmtp import listen_address, start_lmtp

            self._lmtp = await start_lmtp(self)
            self.log.info("lmtp_started", listen=listen_address(self._lmtp, cfg))
        if cfg.mailbox:
            from bouncesink.roads.mailbox import MailboxPoller

            parse = None if getattr(self.parse, "__module__", "") == "bouncesink.parse" \
                else self.parse
            self._pollers = [MailboxPoller(cfg, box, parse) for box in cfg.mailbox]
            for poller in self._pollers:
                poller.start()

    async def _stop_roads(self) -> None:
        if self._lmtp is not None:
            self._lmtp.close()
            if self.config.lmtp.listen.startswith("unix:"):
                try:
                    os.unlink(self.config.lmtp.listen[len("unix:"):])
                except OSError:
                    pass
        loop = asyncio.get_running_loop()
        for poller in self._pollers:
            await loop.run_in_executor(None, poller.stop)

    @property
    def lmtp_port(self) -> int:
        return self._lmtp.sockets[0].getsockname()[1]

    @property
    def port(self) -> int:
        return self.sockets[0].getsockname()[1]

    async def shutdown(self) -> None:
        """Stop accepting; let messages in flight finish; commit and classify; close."""
        self.log.info("server_stopping", sessions=self.gate.total)
        if self._server is not None:
            self._server.close()
        await self._stop_roads()
        deadline = time.monotonic() + self.SHUTDOWN_GRACE
        while time.monotonic() < deadline:
            for proto in list(self.gate.sessions):
                proto.close_idle()
            if not self.gate.sessions and not (self.handler and self.handler.in_flight):
                break
            await asyncio.sleep(0.02)
        if self.web is not None:
            await self.web.stop()
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
        try:
            await self.startup()
        except BaseException:
            # A listener that cannot bind (an address taken) fails start-up after the
            # classifier process may have been started: stop what did start, so no child is
            # left reading from a parent that has gone.
            await self.shutdown()
            raise
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
