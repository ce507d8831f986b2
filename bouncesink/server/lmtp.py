"""LMTP (RFC 2033): the road for a host whose own MTA holds port 25.

Postfix (`transport_maps` -> `lmtp:unix:/run/bouncesink/lmtp.sock`) or Exim (an `lmtp`
transport) hands each bounce over to `[lmtp] listen`, a unix socket or a TCP address. The
session is the SMTP one (`SinkSMTP`: the same limits, size and error counting) speaking LHLO
instead of HELO/EHLO (aiosmtpd's `LMTP` does the same), and its handler is the SMTP handler
(`BounceHandler`: the same domain, recipient-count and VERP checks at RCPT, the same group
commit through `Ingest`). After DATA, RFC 2033 4.2 wants one reply per accepted recipient:
the message is stored once for all of them, so each gets the reply of that one commit (250
after it, 451 4.3.0 if it failed).

The listener shares the server's handler, connection gate and Ingest, so a message that
arrives by LMTP is classified exactly like one that arrived by SMTP.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat

from aiosmtpd.smtp import syntax

from bouncesink.config import parse_hostport
from bouncesink.server.handler import BounceHandler
from bouncesink.server.protocol import SinkSMTP

REPLY_NO_HELO = "500 5.5.1 Error: LMTP uses LHLO (RFC 2033 4.1)"


class LmtpListenError(OSError):
    """The LMTP address cannot be taken; `listen` names it (serve reports it)."""

    def __init__(self, errno_: int, message: str, listen: str) -> None:
        super().__init__(errno_, message)
        self.listen = listen


class SinkLMTP(SinkSMTP):
    """SinkSMTP speaking LMTP: LHLO instead of HELO/EHLO (RFC 2033 4.1)."""

    @syntax("LHLO hostname")
    async def smtp_LHLO(self, arg: str) -> None:
        await SinkSMTP.smtp_EHLO(self, arg)

    async def smtp_HELO(self, arg: str) -> None:
        await self.push(REPLY_NO_HELO)

    async def smtp_EHLO(self, arg: str) -> None:
        await self.push(REPLY_NO_HELO)


class LmtpHandler:
    """The SMTP handler's hooks, with one DATA reply per recipient (RFC 2033 4.2)."""

    def __init__(self, handler: BounceHandler) -> None:
        self.handler = handler
        # aiosmtpd finds hooks with dir(): the SMTP handler's (handle_RCPT ...) are ours too.
        for name in dir(handler):
            if name.startswith("handle_") and not hasattr(type(self), name):
                setattr(self, name, getattr(handler, name))

    @property
    def metrics(self):
        return self.handler.metrics

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # RFC 2033 5: an LMTP server supports PIPELINING and ENHANCEDSTATUSCODES.
        lines = await self.handler.handle_EHLO(server, session, envelope, hostname, responses)
        if not any("ENHANCEDSTATUSCODES" in line for line in lines):
            lines = lines[:-1] + ["250-ENHANCEDSTATUSCODES"] + lines[-1:]
        return lines

    async def handle_DATA(self, server, session, envelope):
        reply = await self.handler.handle_DATA(server, session, envelope)
        return "\r\n".join([reply] * max(1, len(envelope.rcpt_tos)))


def parse_listen(value: str) -> tuple[str, str | tuple[str, int]]:
    """'unix:/run/x.sock' -> ('unix', '/run/x.sock'); '127.0.0.1:2424' -> ('tcp', (host, port))."""
    if value.startswith("unix:"):
        return "unix", value[len("unix:"):]
    return "tcp", parse_hostport(value)


def _clear_stale_socket(path: str) -> None:
    """A socket file left by a process that died is removed; one that someone still
    listens on is not (binding then fails: the address is in use)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(17, f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
    else:
        raise OSError(98, f"{path}: another process listens on it")
    finally:
        probe.close()


async def start_lmtp(server) -> asyncio.base_events.Server:
    """The LMTP listener of a started `Server` (its handler, gate and Ingest)."""
    cfg = server.config
    handler = LmtpHandler(server.handler)

    def factory():
        c = server.config.server
        return SinkLMTP(handler, server.gate, server.config, hostname=c.hostname or None,
                        data_size_limit=c.max_message_size, timeout=c.command_timeout,
                        ident="bouncesink LMTP", decode_data=False)

    try:
        return await _listen(cfg, factory)
    except OSError as exc:
        raise LmtpListenError(exc.errno or 0, exc.strerror or str(exc), cfg.lmtp.listen) \
            from None


async def _listen(cfg, factory):
    loop = asyncio.get_running_loop()
    kind, where = parse_listen(cfg.lmtp.listen)
    if kind == "unix":
        os.makedirs(os.path.dirname(where) or ".", exist_ok=True)
        _clear_stale_socket(where)
        listener = await loop.create_unix_server(factory, path=where)
        os.chmod(where, int(cfg.lmtp.socket_mode, 8))
    else:
        host, port = where
        listener = await loop.create_server(factory, host=host, port=port, reuse_address=True)
    return listener


def listen_address(listener, config) -> str:
    """How to name the listener in logs (a TCP port 0 becomes the port it got)."""
    kind, where = parse_listen(config.lmtp.listen)
    if kind == "unix":
        return f"unix:{where}"
    host, port = listener.sockets[0].getsockname()[:2]
    return f"{host}:{port}"
