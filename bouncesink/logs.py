"""structlog set-up: JSON lines for machines, a readable line on a terminal.

One canonical line per unit of work (`message_received`, `bounce_recorded`, ...) with the
context as keys; the event name is never formatted. Both formats run the same processors,
so a JSON line and a console line carry the same keys:

    {"peer": "192.0.2.7", "recipient": "alice@example.com", "type": "hard", "reason":
     "userunknown", "status": "5.1.1", "action": "suppress", "event": "bounce_recorded", ...}
    2026-11-24T02:51:03Z bounce_recorded    192.0.2.7        alice@example.com    hard/userunknown  5.1.1  action=suppress ...

The console line puts time, event, peer, recipient, type/reason and status in fixed
columns, then the other keys as key=value. Logs of other libraries (aiosmtpd, asyncio) at
warning and above go through the same renderer, so a traceback never spreads over many
journal entries in JSON mode.
"""

from __future__ import annotations

import io
import logging
import os
import sys

import structlog

from bouncesink.textsafe import escape

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}

# Keys shown as columns on the console, in this order; then these first among the rest.
COLUMNS = ("peer", "recipient", "type", "reason", "status")
FIRST_KEYS = ("action", "reply", "ref", "rcpt_to", "mail_from", "kind", "results")
_WIDTH = {"event": 19, "peer": 16, "recipient": 32, "type_reason": 24, "status": 6}


def resolve_format(fmt: str, stream=None) -> str:
    """'auto' -> console on a terminal, json otherwise."""
    if fmt != "auto":
        return fmt
    stream = stream or sys.stdout
    return "console" if getattr(stream, "isatty", lambda: False)() else "json"


def _hostport(v) -> str:
    """("127.0.0.1", 25) -> 127.0.0.1:25; ("::1", 25) -> [::1]:25; other sequences joined."""
    if len(v) == 2 and isinstance(v[1], int) and ":" in str(v[0]):
        return f"[{v[0]}]:{v[1]}"
    return ":".join(map(str, v))


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(_hostport(v) if isinstance(v, (list, tuple)) else str(v) for v in value)
    elif value is None:
        value = "-"
    s = str(value)
    if not s or any(c in s for c in ' ="\n\t'):
        s = '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


def render_console(logger, method_name, event_dict) -> str:
    """One line a person can read at a glance (see the module docstring)."""
    ev = dict(event_dict)
    ts = str(ev.pop("timestamp", ""))
    if len(ts) >= 19:
        ts = ts[:19] + "Z"       # seconds are enough to read; JSON keeps the microseconds
    level = ev.pop("level", "info")
    event = str(ev.pop("event", ""))
    exc = ev.pop("exception", None)
    parts = [ts] if ts else []
    if level not in ("info",):
        parts.append(level.upper())
    is_result = any(k in ev for k in ("recipient", "type", "reason"))
    parts.append(event.ljust(_WIDTH["event"]) if is_result or "peer" in ev else event)
    if "peer" in ev or is_result:
        parts.append(_text(ev.pop("peer", None)).ljust(_WIDTH["peer"]))
    if is_result:
        recipient = ev.pop("recipient", None)
        type_, reason = ev.pop("type", None), ev.pop("reason", None)
        status = ev.pop("status", None)
        type_reason = "/".join(str(v) for v in (type_, reason) if v) or "-"
        parts += [_text(recipient).ljust(_WIDTH["recipient"]),
                  type_reason.ljust(_WIDTH["type_reason"]),
                  _text(status or "-").ljust(_WIDTH["status"])]
    rest = [k for k in FIRST_KEYS if k in ev] + sorted(k for k in ev if k not in FIRST_KEYS)
    parts += [f"{k}={_text(ev[k])}" for k in rest]
    # Stranger text (addresses, diagnostics, helo) must not act on the reader's terminal.
    line = escape(" ".join(p for p in parts if p is not None).rstrip())
    if exc:
        line += "\n" + "\n".join(escape(x) for x in str(exc).rstrip().split("\n"))
    return line


# Under systemd, a line written to a stream connected to the journal may start with "<N>",
# N its syslog priority (sd-daemon(3), SD_WARNING and friends; journald honours it while
# SyslogLevelPrefix= is on, the default): `journalctl -p warning` then finds our warnings.
PRIORITY = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2, "exception": 3}


def journal_stream(stream) -> bool:
    """Is `stream` the one systemd connected to the journal? JOURNAL_STREAM holds its device
    and inode (systemd.exec(5)); a stream redirected elsewhere does not match."""
    try:
        dev, ino = (int(x) for x in os.environ.get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError, io.UnsupportedOperation):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def with_priority(renderer):
    """A renderer whose every line starts with the event's syslog priority, "<4>" ..."""
    def render(logger, method_name, event_dict):
        level = str(event_dict.get("level") or method_name)
        prefix = f"<{PRIORITY.get(level, 6)}>"
        line = renderer(logger, method_name, event_dict)
        return "\n".join(prefix + part for part in line.split("\n"))
    return render


def _processors(fmt: str, journal: bool = False) -> list:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else render_console
    return shared + [structlog.processors.format_exc_info,
                     with_priority(renderer) if journal else renderer]


def setup(fmt: str = "auto", level: str = "info", stream=None, journal: bool | None = None
          ) -> None:
    """Configure structlog (and stdlib logging of other libraries) for the process.

    Safe to call again, e.g. on SIGHUP with a new level: loggers made by `get()` pick up
    the new configuration. `journal` (default: is `stream` the journal's, see
    journal_stream) prefixes each line with its syslog priority.
    """
    stream = stream or sys.stdout
    fmt = resolve_format(fmt, stream)
    processors = _processors(fmt, journal_stream(stream) if journal is None else journal)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        # One write per line (print() writes the newline separately): worker processes
        # share stdout, and lines written whole do not interleave in the journal.
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Other libraries log through the standard library: same renderer, warnings and up.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name] + processors[:-2],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    processors[-2], processors[-1]],
    ))
    handler._bouncesink = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_bouncesink", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(logging.WARNING, _LEVELS.get(level, logging.INFO)))


def get(name: str = "bouncesink"):
    return structlog.get_logger(name)
