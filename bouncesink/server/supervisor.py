"""Several server processes on one port (`--workers`), as uvicorn keeps its supervisors apart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time

from bouncesink import logs
from bouncesink.config import Config, parse_hostport
from bouncesink.server.main import Server
from bouncesink.store import open_store


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
