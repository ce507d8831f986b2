"""The SMTP session: aiosmtpd's engine with the limits a server on port 25 needs.

`SinkSMTP` adds connections in total and per IP (`ConnectionGate`), line length, command
and DATA timeouts, errors per session, RFC 2920 pipelining of replies, RFC 3463 enhanced
codes on aiosmtpd's own replies, and STARTTLS (`tls_context`). It knows nothing of bounces:
the handler (handler.BounceHandler) answers RCPT and DATA.
"""

from __future__ import annotations

import re
import ssl
from collections import defaultdict

from aiosmtpd.smtp import SMTP

from bouncesink import logs
from bouncesink.config import Config, ConfigError
from bouncesink.envelope import ATEXT, DOMAIN
from bouncesink.server.handler import REPLY_RELAY

REPLY_TOO_MANY_CONN = "421 4.7.0 Too many connections, try again later"
REPLY_TOO_MANY_CONN_IP = "421 4.7.0 Too many connections from your address, try again later"
REPLY_TIMEOUT = "421 4.4.2 Timeout, closing connection"
REPLY_TOO_MANY_ERRORS = "421 4.7.0 Too many errors, closing connection"
REPLY_SHUTDOWN = "421 4.3.2 Service shutting down, try again later"

_PLAIN_ADDR = re.compile(
    rf"\s*<(?P<addr>{ATEXT}+(?:\.{ATEXT}+)*@{DOMAIN.pattern})>(?P<rest>.*)\Z", re.S)
_SOURCE_ROUTE = re.compile(r"(?i)\s*TO:\s*<?\s*@")


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
