"""Serving the app with uvicorn: `bouncesink web`, and in-process beside `serve`.

The socket is bound here, before uvicorn starts, so a port taken is one clear line and
port 0 works (the bound address is logged as `web_started`). In-process, uvicorn must not
take SIGINT/SIGTERM from the SMTP server, which owns shutdown: `EmbeddedServer` leaves the
signal handlers alone and is stopped with `should_exit`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket

import structlog
import uvicorn

from bouncesink.config import parse_hostport

log = structlog.get_logger("bouncesink.web")

DEFAULT_LISTEN = "127.0.0.1:8025"


def bind(listen: str, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on HOST:PORT (IPv6 when the host is an IPv6 literal);
    `reuse_port` for several worker processes sharing it."""
    host, port = parse_hostport(listen)
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a name: let getaddrinfo pick
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # Accepted sockets inherit it (Linux): uvicorn's h11 writes headers and body
        # separately, and Nagle + delayed ACK would hold the body ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def uvicorn_config(app) -> uvicorn.Config:
    # Logging is ours (structlog, set up by the command); uvicorn's own warnings go through
    # the root handler logs.setup installs. No Server header: nothing to fingerprint.
    return uvicorn.Config(app, log_config=None, access_log=False, server_header=False,
                          lifespan="on", timeout_graceful_shutdown=10,
                          timeout_keep_alive=30, proxy_headers=False)


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside another asyncio program: it does not install signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def address_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def serve_app(app, sock: socket.socket, embedded: bool = False) -> None:
    """Serve `app` on the bound socket until told to stop: SIGTERM / SIGINT when it owns the
    process, else `app.state.uvicorn.should_exit = True` from the owner. Exits 0 either way
    (uvicorn's own handling re-raises the signal, which systemd would log as a kill)."""
    import asyncio
    import signal

    server = EmbeddedServer(uvicorn_config(app))
    app.state.uvicorn = server
    if not embedded:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stop, server, sig)
    log.info("web_started", listen=address_of(sock))
    await server.serve(sockets=[sock])
    log.info("web_stopped")


def _stop(server: uvicorn.Server, sig) -> None:
    if server.should_exit:      # a second signal: do not wait for open connections
        server.force_exit = True
    server.should_exit = True
