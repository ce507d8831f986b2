"""The HTTP side: the API app (app.py), its auth (auth.py), errors (errors.py), the /v1
routers (v1.py), the uvicorn runner (serve.py) and its place inside `serve` (inprocess.py).

`create_app` is imported on first use: `serve` imports this package to learn whether it has
anything to run, and must not pay for FastAPI when it has not.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "create_app":
        from bouncesink.web.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
