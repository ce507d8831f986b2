"""The scripted remote: one SMTP server per case on loopback, answering that case's failure.

One listener per case, each on an address of its own (127.0.0.10, .11, ...: all of 127/8 is
loopback), as distinct providers are distinct hosts. An MTA keeps per-host state keyed by
IP address, not port: Postfix throttles a destination after a 4xx greeting, Exim keeps host
retry records and hands an open connection to the next message for the same IP. With one
address per case, one case's failure never leaks into another's DSN. Every listener is an aiosmtpd server whose handler answers the
case's reply at its stage; a `connect` case is a bare asyncio listener that sends the reply
as its greeting and closes (aiosmtpd always greets with 220). A `refused` route gets a port
that is bound but never listens, so a connection to it is refused and nobody else takes it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter

from aiosmtpd.smtp import SMTP

from .cases import Case

FIRST_HOST = 10                 # 127.0.0.10 is the first case's address
REFUSED_HOST = "127.0.0.9"
HOSTNAME = "mx.remote.test"


class ScriptedHandler:
    """Accepts everything except the case's stage, where it answers the case's reply."""

    def __init__(self, case: Case, attempts: Counter):
        self.case = case
        self.attempts = attempts

    def _reply(self, server, session, rcpt: str) -> str:
        self.attempts[self.case.name] += 1
        reply = self.case.reply_for(rcpt, session.peer[0])
        if reply.startswith("421"):
            # RFC 5321 3.8: 421 closes the channel. The reply is written before the loop
            # runs this (the hook returns, then aiosmtpd writes it); close() flushes it.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "\r\n".join(reply.split("\n"))

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.case.stage == "mail":
            return self._reply(server, session, "")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.case.stage == "rcpt":
            return self._reply(server, session, address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.case.stage == "data":
            return self._reply(server, session, envelope.rcpt_tos[0] if envelope.rcpt_tos else "")
        # Not reached by the matrix (every remote case fails); kept honest all the same.
        return "554 5.3.0 scripted remote: no script for this message"


class Remote:
    """All the cases' listeners, served by one event loop in a thread of their own."""

    def __init__(self, cases: tuple[Case, ...], same_port: bool = False):
        self.cases = cases
        # One port number on every address (Sendmail's SMTP mailers take the port from
        # their argv, one per mailer, and it allows 25 mailers).
        self.same_port = same_port
        self.addrs: dict[str, tuple[str, int]] = {}     # case name -> (address, port)
        self.attempts: Counter = Counter()  # case name -> failures answered
        self.refused: tuple[str, int] = (REFUSED_HOST, 0)
        self._closed_sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list = []

    def start(self) -> "Remote":
        self._closed_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._closed_sock.bind((REFUSED_HOST, 0))      # bound, never listening: refused
        self.refused = self._closed_sock.getsockname()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._run, args=(loop,),
                                        name="realmta-remote", daemon=True)
        self._thread.start()
        for attempt in range(10):
            try:
                asyncio.run_coroutine_threadsafe(self._listen(), loop).result(30)
                return self
            except OSError:          # the port was taken on one of the addresses: again
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(30)
        raise RuntimeError("scripted remote: no port free on every address")

    @staticmethod
    def _run(loop):
        asyncio.set_event_loop(loop)
        loop.run_forever()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        port = self.refused[1] if self.same_port else 0
        for i, case in enumerate(self.cases):
            if case.route != "remote":
                continue
            host = f"127.0.0.{FIRST_HOST + i}"
            if case.stage == "connect":
                server = await asyncio.start_server(self._greeter(case), host, port)
            else:
                handler = ScriptedHandler(case, self.attempts)
                server = await loop.create_server(
                    lambda h=handler: SMTP(h, hostname=HOSTNAME, ident="ESMTP"), host, port)
            self._servers.append(server)
            self.addrs[case.name] = server.sockets[0].getsockname()[:2]

    async def _close(self) -> None:
        for s in self._servers:
            s.close()
        self._servers.clear()
        self.addrs.clear()

    def _greeter(self, case: Case):
        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            self.attempts[case.name] += 1
            peer = writer.get_extra_info("peername")[0]
            text = case.reply_for("", peer)
            writer.write(("\r\n".join(text.split("\n")) + "\r\n").encode("ascii"))
            try:
                await writer.drain()
                # RFC 5321 4.2: a 421 greeting closes the channel; give the client a moment
                # to send QUIT, as real servers do, then close.
                await asyncio.wait_for(reader.read(512), 2)
            except (asyncio.TimeoutError, ConnectionError):
                pass
            writer.close()
        return greet

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close():
            for s in self._servers:
                s.close()
            for s in self._servers:
                await s.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        except Exception:  # noqa: BLE001 - closing is best effort at teardown
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop.close()
        self._loop = None
        if self._closed_sock:
            self._closed_sock.close()
