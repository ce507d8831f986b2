"""The HTTP side: the API app (app.py), its auth (auth.py), errors (errors.py), the /v1
routers (v1.py) and the uvicorn runner (serve.py)."""

from bouncesink.web.app import create_app

__all__ = ["create_app"]
