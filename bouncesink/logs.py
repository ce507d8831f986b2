"""structlog set-up: JSON lines for machines, a readable line on a terminal.

One canonical line per unit of work (`message_received`, `bounce_recorded`, ...) with the
context as keys; the event name is never formatted.
"""

from __future__ import annotations

import logging
import sys

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def resolve_format(fmt: str, stream=None) -> str:
    """'auto' -> console on a terminal, json otherwise."""
    if fmt != "auto":
        return fmt
    stream = stream or sys.stdout
    return "console" if getattr(stream, "isatty", lambda: False)() else "json"


def setup(fmt: str = "auto", level: str = "info", stream=None) -> None:
    """Configure structlog once for the process."""
    stream = stream or sys.stdout
    fmt = resolve_format(fmt, stream)
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "json":
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


def get(name: str = "bouncesink"):
    return structlog.get_logger(name)
