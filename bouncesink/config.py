"""Settings, loaded once from TOML and command-line flags, then frozen.

Every default lives here, in the dataclasses below. The loader is generic: each TOML table
maps to one dataclass, each key to one field, and the field's type is the check. Unknown keys,
wrong types and bad values are collected as `ConfigError` lines naming the key, so
`check-config` can print them all and `serve` can refuse to start with a clear message.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """One or more problems in a configuration; `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:2525"          # HOST:PORT for SMTP
    domains: tuple[str, ...] = ()           # return-path domains we accept mail for
    hostname: str = ""                      # name in the banner; default: the machine's FQDN
    max_message_size: int = 10 * 1024 * 1024  # bytes; larger -> 552 5.3.4
    max_recipients: int = 100               # RCPT per message; more -> 452 4.5.3
    max_connections: int = 1000             # in total; more -> 421 4.7.0 at connect
    max_connections_per_ip: int = 50        # per client IP; more -> 421 4.7.0 at connect
    command_timeout: float = 300.0          # seconds of silence between commands (RFC 5321 4.5.3.2.7)
    data_timeout: float = 600.0             # seconds for the whole DATA transfer
    max_line_length: int = 1000             # bytes per command line (RFC 5321 4.5.3.1.4 says 512 for commands)
    max_errors: int = 10                    # errors per session before 421 and disconnect
    workers: int = 1                        # processes sharing the port (SO_REUSEPORT)
    tls_cert: str = ""                      # PEM certificate chain; with tls_key enables STARTTLS
    tls_key: str = ""
    require_tls: bool = False


@dataclass(frozen=True)
class StoreConfig:
    db: str = "./var/bouncesink.db"         # path, sqlite:///path or postgresql://...
    # full: fsync every group commit (a 250 survives power loss); normal: survives a
    # process crash (WAL, fsync at checkpoints); off: no fsync (tests, benchmarks).
    durability: str = "full"
    commit_interval: float = 0.002          # seconds a group commit waits to gather messages
    max_batch: int = 256                    # messages per group commit at most


@dataclass(frozen=True)
class PolicyConfig:
    soft_threshold: int = 5                 # soft bounces that make an address soft-escalated
    soft_window_days: float = 30.0          # ... counted within this window
    soft_min_span_days: float = 2.0         # ... spread over at least this long (one outage kills nobody)
    confirm_hostunknown_dns: bool = True    # hostunknown suppresses only if DNS says NXDOMAIN / null MX
    # type or reason -> action (suppress, count, ignore, alert); reasons win over types.
    actions: dict = field(default_factory=dict)
    alert_threshold: int = 20               # sender-side failures from one domain ...
    alert_window_minutes: float = 10.0      # ... within this window -> one sender_blocked warning


@dataclass(frozen=True)
class VerpConfig:
    prefix: str = "bounces"                 # local part before the delimiter
    delimiter: str = "+"
    secrets: tuple[str, ...] = ()           # HMAC secrets; the first signs, all verify (rotation)
    expiry_days: int = 60                   # signed tags older than this are refused
    campaign_headers: tuple[str, ...] = ("X-Campaign-ID", "X-Mailer-Campaign", "List-Id")


@dataclass(frozen=True)
class LogConfig:
    format: str = "auto"                    # auto (console on a terminal, else json), json, console
    level: str = "info"


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = ""                        # HOST:PORT for Prometheus; empty: disabled


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    verp: VerpConfig = field(default_factory=VerpConfig)
    log: LogConfig = field(default_factory=LogConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def replace(self, section: str, **changes) -> "Config":
        """A copy with some keys of one section changed (flags over the file)."""
        return dataclasses.replace(
            self, **{section: dataclasses.replace(getattr(self, section), **changes)}
        )


_CHOICES = {
    ("store", "durability"): ("full", "normal", "off"),
    ("log", "format"): ("auto", "json", "console"),
    ("log", "level"): ("debug", "info", "warning", "error"),
}
_HOSTPORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]*):(\d{1,5})$")
_ACTIONS = ("suppress", "count", "ignore", "alert")


def parse_hostport(value: str) -> tuple[str, int]:
    """'127.0.0.1:2525' -> ('127.0.0.1', 2525); '[::1]:25' -> ('::1', 25)."""
    m = _HOSTPORT.match(value.strip())
    if not m or not 0 <= int(m.group(2)) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return m.group(1).strip("[]") or "0.0.0.0", int(m.group(2))


def _line_of(text: str, section: str, key: str) -> int | None:
    """The line where `key` is set inside `[section]`, for error messages."""
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("[") and not s.startswith("[["):
            current = s.strip("[] ")
        elif current == section and re.match(rf"{re.escape(key)}\s*=", s):
            return n
    return None


def _coerce(value, hint, where: str):
    """Check one TOML value against a field's type; return the frozen value."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if hint is dict or origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a table, got {value!r}")
        return dict(value)
    raise ValueError(f"{where}: unsupported type")  # pragma: no cover - a bug in this module


def _check_value(section: str, key: str, value, where: str) -> None:
    """Value checks beyond the type."""
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ValueError(f"{where}: must be one of {', '.join(choices)}, got {value!r}")
    if key in ("listen",) and value:
        try:
            parse_hostport(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise ValueError(f"{where}: must not be negative, got {value!r}")
    if key in ("max_message_size", "max_recipients", "max_connections",
               "max_connections_per_ip", "workers", "soft_threshold", "max_batch") and value < 1:
        raise ValueError(f"{where}: must be at least 1, got {value!r}")
    if key == "domains":
        for d in value:
            if not re.fullmatch(r"(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", d):
                raise ValueError(f"{where}: {d!r} is not a domain name")
    if key == "actions":
        for k, v in value.items():
            if v not in _ACTIONS:
                raise ValueError(f"{where}.{k}: must be one of {', '.join(_ACTIONS)}, got {v!r}")
    if key == "delimiter" and len(value) != 1:
        raise ValueError(f"{where}: must be one character, got {value!r}")


def from_dict(data: dict, text: str = "", source: str = "config") -> Config:
    """Build a Config from a parsed TOML document; collect every problem."""
    problems: list[str] = []
    sections = {}
    hints = typing.get_type_hints(Config)
    for name, table in data.items():
        if name not in hints:
            problems.append(f"{source}: unknown section [{name}]")
            continue
        if not isinstance(table, dict):
            problems.append(f"{source}: [{name}] must be a table")
            continue
        cls = hints[name]
        fhints = typing.get_type_hints(cls)
        values = {}
        for key, value in table.items():
            line = _line_of(text, name, key)
            where = f"{source}:{line}: {name}.{key}" if line else f"{source}: {name}.{key}"
            if key not in fhints:
                problems.append(f"{where}: unknown key")
                continue
            try:
                v = _coerce(value, fhints[key], where)
                _check_value(name, key, v, where)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            values[key] = v
        sections[name] = cls(**values)
    if problems:
        raise ConfigError(problems)
    if "domains" in data.get("server", {}):
        sections["server"] = dataclasses.replace(
            sections["server"], domains=tuple(d.lower().rstrip(".") for d in sections["server"].domains)
        )
    return Config(**sections)


def load(path: str | Path | None) -> Config:
    """Read a TOML file into a Config; None -> all defaults. Raises ConfigError."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: config is not UTF-8 text"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{p}: invalid TOML: {exc}"]) from None
    return from_dict(data, text, str(p))
