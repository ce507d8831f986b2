"""The API and the webhook dispatcher inside `serve`.

With `[http] listen` set, `serve` runs the API app (and its dispatcher) on its own event
loop beside SMTP; with webhooks but no listen address, just the dispatcher. Either has a
store connection of its own, so neither waits on the SMTP writer's group commits. With
several workers each runs its own (the HTTP port is shared with SO_REUSEPORT; deliveries
are leased, so none is sent twice at once).
"""

from __future__ import annotations

import asyncio

import structlog

log = structlog.get_logger("bouncesink.web")


class InProcess:
    def __init__(self, config) -> None:
        self.config = config
        self.store = None
        self.app = None
        self.dispatcher = None
        self.task: asyncio.Task | None = None
        self.sock = None

    @property
    def port(self) -> int | None:
        return self.sock.getsockname()[1] if self.sock is not None else None

    async def start(self) -> None:
        from bouncesink.store import open_store

        cfg = self.config
        if not (cfg.http.listen or cfg.webhooks):
            return
        self.store = await asyncio.to_thread(open_store, cfg.store.db, cfg.store.durability)
        if cfg.http.listen:
            from bouncesink.web import create_app
            from bouncesink.web.serve import bind, serve_app

            self.sock = bind(cfg.http.listen, reuse_port=cfg.server.workers > 1)
            self.app = create_app(cfg, self.store, dispatch=True)
            self.task = asyncio.create_task(serve_app(self.app, self.sock, embedded=True),
                                            name="http-api")
            for _ in range(500):   # until uvicorn listens (or failed)
                server = getattr(self.app.state, "uvicorn", None)
                if (server is not None and server.started) or self.task.done():
                    break
                await asyncio.sleep(0.01)
            if self.task.done():
                self.task.result()   # raises what stopped it
        else:
            from bouncesink.webhooks import Dispatcher

            self.dispatcher = Dispatcher(self.store, cfg.webhooks)
            self.task = asyncio.create_task(self.dispatcher.run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self.task is None:
            return
        if self.app is not None:
            self.app.state.uvicorn.should_exit = True
        if self.dispatcher is not None:
            self.dispatcher.stop()
        try:
            await asyncio.wait_for(self.task, 20)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        except Exception as exc:  # logged, never in the way of the SMTP shutdown
            log.error("http_stop_failed", error=str(exc))
        if self.sock is not None:
            self.sock.close()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
