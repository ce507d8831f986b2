"""The SMTP session: aiosmtpd's engine with the limits a server on port 25 needs.

`SinkSMTP` adds connections in total and per IP (`ConnectionGate`), line length, command
and DATA timeouts, errors per session, RFC 2920 pipelining of replies, RFC 3463 enhanced
codes on aiosmtpd's own replies, and STARTTLS (`tls_context`). It knows nothing of bounces:
the handler (handler.BounceHandler) answers RCPT and DATA.
"""

from __future__ import annotations

import asyncio
import ipaddress
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
REPLY_TLS_ACTIVE = "503 5.5.1 TLS already active"
# RFC 3463 4.3.2: the system is not accepting messages for now (memory, not the message).
REPLY_BUSY = "451 4.3.2 Too much mail in transfer at once, try again later"

_PLAIN_ADDR = re.compile(
    rf"\s*<(?P<addr>{ATEXT}+(?:\.{ATEXT}+)*@{DOMAIN.pattern})>(?P<rest>.*)\Z", re.S)
_SOURCE_ROUTE = re.compile(r"(?i)\s*TO:\s*<?\s*@")


def client_key(ip: str) -> str:
    """What the per-IP limit counts: the address, or for IPv6 its /64 (one site, one LAN:
    a host that holds a /64 has 2**64 addresses to connect from). An IPv4-mapped IPv6
    address counts as the IPv4 address."""
    if ":" not in ip:
        return ip
    try:
        addr = ipaddress.IPv6Address(ip.partition("%")[0])
    except ValueError:
        return ip
    if addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(ipaddress.IPv6Network((addr, 64), strict=False))


class ConnectionGate:
    """Counts open sessions, in total and per client (`client_key`), and the DATA bytes in
    transfer across all sessions (`charge`); refuses beyond the limits."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.total = 0
        self.per_ip: dict[str, int] = defaultdict(int)
        self.sessions: set[SinkSMTP] = set()
        self.inflight_bytes = 0  # DATA received and not yet stored or refused, all sessions

    def enter(self, proto: SinkSMTP, ip: str) -> str | None:
        """None if admitted, else the 421 reply to send."""
        cfg = self.config.server
        key = client_key(ip)
        if self.total >= cfg.max_connections:
            return REPLY_TOO_MANY_CONN
        if self.per_ip[key] >= cfg.max_connections_per_ip:
            return REPLY_TOO_MANY_CONN_IP
        self.total += 1
        self.per_ip[key] += 1
        self.sessions.add(proto)
        return None

    def leave(self, proto: SinkSMTP, ip: str) -> None:
        key = client_key(ip)
        self.total -= 1
        self.per_ip[key] -= 1
        if self.per_ip[key] <= 0:
            del self.per_ip[key]
        self.sessions.discard(proto)

    def charge(self, n: int) -> bool:
        """Count n more bytes of DATA in transfer; False (nothing counted) past the budget."""
        if self.inflight_bytes + n > self.config.server.max_inflight_bytes:
            return False
        self.inflight_bytes += n
        return True

    def full(self) -> bool:
        return self.inflight_bytes >= self.config.server.max_inflight_bytes

    def release(self, n: int) -> None:
        self.inflight_bytes -= n


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
        self._charged = 0  # bytes of this session's DATA counted in gate.inflight_bytes

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

    def data_received(self, data: bytes) -> None:
        # Every byte of DATA counts towards the budget of all sessions as it arrives (a line
        # too long is counted too, before the reader gets to its 552), and is released
        # once the message is stored or refused (smtp_DATA).
        if self.in_data and not self._closing:
            if not self.gate.charge(len(data)):
                self._over_budget()
                return
            self._charged += len(data)
        super().data_received(data)

    def _over_budget(self) -> None:
        """Past max_inflight_bytes during DATA: 451 and close (the rest of this message
        would have to be read to answer later, and it is what we cannot hold)."""
        self.log.warning("limit_exceeded", peer=self.peer_ip, limit="max_inflight_bytes",
                         inflight=self.gate.inflight_bytes)
        self.event_handler.metrics.reply_sent(REPLY_BUSY)
        self._closing = True
        if self.transport is not None:
            try:
                self.transport.write(REPLY_BUSY.encode() + b"\r\n")
            except Exception:  # a TLS transport whose peer has just gone
                pass
            self.transport.close()

    def _release(self) -> None:
        if self._charged:
            self.gate.release(self._charged)
            self._charged = 0

    def connection_lost(self, error) -> None:
        self._release()
        if self._admitted is not None:
            self.gate.leave(self, self._admitted)
            self._admitted = None
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        """The client half-closed its side. Exim (4.96) sends the final dot and QUIT in one
        write and then shuts down its write side: aiosmtpd would cancel the session at once,
        the message being stored but its 250 never sent, and Exim would send it again. So
        the lines already received are still answered (the 250 once the commit is done, the
        221), and the session ends when it needs to read past them (handle_exception)."""
        if self.session is None or self.session.ssl is not None or self._reader is None:
            return super().eof_received()  # TLS: an SSL transport cannot stay half-open
        self._reader.feed_eof()
        return True  # keep our side open to write the replies

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, asyncio.IncompleteReadError):
            # End of input after the half-close (eof_received): everything received was
            # answered; a message cut short has no reply and is not stored.
            self._close_now()
            return ""
        return await super().handle_exception(error)

    def _close_now(self) -> None:
        """Close and leave aiosmtpd's session loop (it runs while a transport is set)."""
        self._closing = True
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.close()

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

    async def smtp_STARTTLS(self, arg) -> None:
        # RFC 3207 4.2: no STARTTLS inside TLS. aiosmtpd would layer a second TLS session on
        # the first and fill the log with asyncio tracebacks for every such connection.
        if self._tls_protocol is not None:
            await self.push(REPLY_TLS_ACTIVE)
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg) -> None:
        # The whole transfer (and the commit) must end within data_timeout; a DATA line may
        # be as long as the message may be big (real bounces quote overlong lines).
        if self.gate.full():
            self.log.warning("limit_exceeded", peer=self.peer_ip, limit="max_inflight_bytes",
                             inflight=self.gate.inflight_bytes)
            await self.push(REPLY_BUSY)
            return
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
            self._release()
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
        if self._closing and (self.transport is None or self.transport.is_closing()):
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
