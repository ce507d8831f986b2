"""Every error leaves the API as JSON `{"error": CODE, "detail": ...}`, never a traceback.

400/404/422 for bad input, 401/403 for auth, 503 when the store is away; anything
unexpected is logged with its traceback and answered 500 with no detail.
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bouncesink.store.base import StoreError

log = structlog.get_logger("bouncesink.web")


# Stable codes (HTTPStatus phrases change between Python versions: 422's did in 3.13).
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid_request", 500: "internal_error", 503: "service_unavailable"}


def error_body(status: int, detail) -> dict:
    code = CODES.get(status)
    if code is None:
        try:
            code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            code = "error"
    return {"error": code, "detail": detail}


class APIError(StarletteHTTPException):
    """An HTTP error with a one-line detail (raise from routes)."""


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse(error_body(exc.status_code, exc.detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        # Only where and what: the offending input may be large or binary.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse(error_body(422, jsonable_encoder(errors)), status_code=422)

    @app.exception_handler(StoreError)
    async def store_away(request: Request, exc: StoreError):
        log.warning("store_unavailable", path=request.url.path, error=str(exc))
        return JSONResponse(error_body(503, "store unavailable"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        if _is_database_error(exc):  # the store went away mid-request (locked, connection lost)
            log.warning("store_unavailable", path=request.url.path, error=str(exc).splitlines()[0])
            return JSONResponse(error_body(503, "store unavailable"), status_code=503,
                                headers={"Retry-After": "5"})
        log.error("request_failed", path=request.url.path, exc_info=exc)
        return JSONResponse(error_body(500, "internal error"), status_code=500)


def _is_database_error(exc: BaseException) -> bool:
    """A DB-API OperationalError of either back-end (psycopg is imported only with PostgreSQL)."""
    import sqlite3
    import sys

    if isinstance(exc, sqlite3.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.OperationalError)
