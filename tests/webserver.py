"""The real API server for tests: uvicorn on 127.0.0.1 port 0 in a thread, a real SQLite file.

    from webserver import running_app
    with running_app(config, store) as web:
        r = httpx.get(web.url + "/healthz")

`web.url` is the base URL; `web.client(token)` an httpx.Client sending that bearer token.
The server is stopped gracefully (uvicorn's should_exit) when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

import httpx

from bouncesink.web import create_app
from bouncesink.web.serve import EmbeddedServer, bind, uvicorn_config

READ = "read-token-0123456789abcdef"
WRITE = "write-token-0123456789abcdef"
TOKENS = ({"token": READ, "scope": "read"}, {"token": WRITE, "scope": "write"})


@dataclass
class Web:
    url: str
    app: object

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


@contextlib.contextmanager
def running_app(config, store, dispatch: bool = False, app=None):
    app = app or create_app(config, store, dispatch=dispatch)
    sock = bind("127.0.0.1:0")
    server = EmbeddedServer(uvicorn_config(app))
    errors: list[BaseException] = []

    def run():
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="uvicorn", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or errors or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    assert server.started, f"uvicorn did not start: {errors}"
    port = sock.getsockname()[1]
    try:
        yield Web(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
    assert not errors, errors
