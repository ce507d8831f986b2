"""The ASGI application: one FastAPI app for the API (/v1) and, mounted by the dashboard,
its pages.

`create_app(config, store)` builds it from a frozen Config and an open store; nothing is
read from the environment or module state. Routers live one per resource group in this
package and are included here; the dashboard (web/dashboard.py) is included the same way.
The store API is synchronous and serialised by its own lock, so routes that touch it are
plain `def` functions, which Starlette runs in its thread pool.

The webhook dispatcher (bouncesink.webhooks) runs as a task of the app's lifespan when asked
(`dispatch=True`), so every process that serves the API also delivers webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bouncesink import __version__
from bouncesink.web import errors
from bouncesink.web.auth import Auth

log = structlog.get_logger("bouncesink.web")


def create_app(config, store, *, dispatch: bool = False, extra_routers=()) -> FastAPI:
    """The API app for `config` (bouncesink.config.Config) over `store` (an open SQLStore).

    `dispatch`: run the webhook dispatcher in the app's lifespan. `extra_routers`: more
    APIRouters to include (the dashboard's).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        task = own = None
        if dispatch and config.webhooks:
            from bouncesink.store import open_store
            from bouncesink.webhooks import Dispatcher

            # A connection of its own: API requests do not queue behind deliveries.
            own = open_store(config.store.db, durability=config.store.durability)
            dispatcher = Dispatcher(own, config.webhooks)
            task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher")
            app.state.dispatcher = dispatcher
        try:
            yield
        finally:
            if task is not None:
                app.state.dispatcher.stop()
                try:
                    await asyncio.wait_for(task, 15)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    pass  # a delivery cut short is leased, and sent again by whoever runs next
            if own is not None:
                await asyncio.to_thread(own.close)

    app = FastAPI(title="bouncesink", version=__version__, lifespan=lifespan,
                  description="Suppressions, bounce history, stats and the change feed of a"
                              " bouncesink store.",
                  docs_url=None, redoc_url=None)
    app.state.config = config
    app.state.store = store
    app.state.auth = Auth(config.http.tokens)
    errors.install(app)

    @app.get("/healthz", tags=["health"], summary="the process is up (no token needed)")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="the store answers (no token needed)",
             responses={503: {"description": "store unreachable"}})
    def readyz():
        try:
            store.ping()
        except Exception as exc:  # any failure of the store is "not ready", with its line
            return JSONResponse(errors.error_body(503, str(exc).splitlines()[0] if str(exc)
                                                  else type(exc).__name__), status_code=503)
        return {"status": "ok"}

    from bouncesink.web import v1

    app.include_router(v1.router)
    for router in extra_routers:
        app.include_router(router)
    from bouncesink.web import dashboard

    dashboard.install(app)  # the pages at / (web/dashboard.py)
    return app
