"""Settings, loaded once from TOML and command-line flags, then frozen.

Every default lives here, in the dataclasses below. The loader is generic: each TOML table
maps to one dataclass, each key to one field, and the field's type is the check. Unknown keys,
wrong types and bad values are collected as `ConfigError` lines naming the key, so
`check-config` can print them all and `serve` can refuse to start with a clear message.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import re
import tomllib
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
    max_connections_per_ip: int = 50        # per client IP (IPv6: per /64); more -> 421 4.7.0
    # Bytes of DATA in transfer across all sessions (received, not yet stored); more ->
    # 451 4.3.2. Sized for a 512 MB unit: the server holds ~2.5 times this while it
    # receives and compresses, besides ~160 MB of its own and its classifier's.
    max_inflight_bytes: int = 96 * 1024 * 1024
    # Seconds within which the same raw message (sha256) again is stored once and answered
    # with the first one's ref: an MTA that never saw our 250 sends it again. 0: off.
    duplicate_window: float = 86400.0
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
    dns_resolvers: tuple[str, ...] = ()     # HOST or HOST:PORT of resolvers for that; empty: the system's
    dns_timeout: float = 2.0                # seconds per DNS confirmation (runs in the writer thread)
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
    # With secrets: a bounce that reaches us without a valid signed VERP address (in the
    # envelope, or in the bounced message's Return-Path) is recorded but acts on nothing.
    require_signed: bool = True
    campaign_headers: tuple[str, ...] = ("X-Campaign-ID", "X-Mailer-Campaign", "List-Id")


@dataclass(frozen=True)
class LogConfig:
    format: str = "auto"                    # auto (console on a terminal, else json), json, console
    level: str = "info"


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = ""                        # HOST:PORT for Prometheus; empty: disabled


@dataclass(frozen=True)
class DoctorConfig:
    # The addresses the MX must point at; empty: this machine's interface addresses
    # (behind NAT the public address is not on an interface: set it here).
    addresses: tuple[str, ...] = ()
    nameserver: str = ""                    # IP[:PORT] to ask instead of the system resolver


@dataclass(frozen=True)
class HttpConfig:
    # HOST:PORT of the HTTP API; `bouncesink web` defaults to 127.0.0.1:8025, and `serve`
    # runs the API in-process only when this is set.
    listen: str = ""
    # Bearer tokens: [{ token = "...", scope = "read" | "write" }, ...]; write implies read.
    tokens: tuple = ()


@dataclass(frozen=True)
class WebhookConfig:
    url: str = ""                           # https://... (http:// allowed, warned unless loopback)
    secret: str = ""                        # Standard Webhooks secret: "whsec_" + base64
    events: tuple[str, ...] = ()            # suppressed, unsuppressed, complaint, bounce, sender_blocked; empty: all
    preset: str = "generic"                 # generic, listmonk
    retry_hours: float = 24.0               # retry with backoff this long, then the delivery is dead
    timeout: float = 10.0                   # seconds per delivery attempt
    name: str = ""                          # key of its deliveries; default: the url
    authorization: str = ""                 # Authorization header to send, e.g. listmonk's "token user:key"


@dataclass(frozen=True)
class LmtpConfig:
    # "unix:/run/bouncesink/lmtp.sock" or HOST:PORT; empty: no LMTP listener (RFC 2033)
    listen: str = ""
    socket_mode: str = "0660"               # permissions of a unix socket (the MTA's group)


@dataclass(frozen=True)
class MailboxConfig:
    # imap://, imaps://, pop3://, pop3s://USER@HOST[:PORT][/FOLDER]; USER %-encoded (%40 = @)
    url: str = ""
    password: str = ""                      # or password_file (its first line)
    password_file: str = ""
    after: str = "move:Processed"           # move:FOLDER (IMAP), delete, keep (tracked by UID)
    interval: float = 60.0                  # seconds between polls when IDLE is not offered
    insecure_plaintext: bool = False        # imap:// / pop3:// without STARTTLS
    ca_file: str = ""                       # PEM CA bundle; empty: the system trust store
    timeout: float = 60.0                   # seconds per network operation


WEBHOOK_EVENTS = ("suppressed", "unsuppressed", "complaint", "bounce", "sender_blocked")


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    verp: VerpConfig = field(default_factory=VerpConfig)
    log: LogConfig = field(default_factory=LogConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    doctor: DoctorConfig = field(default_factory=DoctorConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    webhooks: tuple[WebhookConfig, ...] = ()
    lmtp: LmtpConfig = field(default_factory=LmtpConfig)
    mailbox: tuple[MailboxConfig, ...] = ()

    def replace(self, section: str, **changes) -> "Config":
        """A copy with some keys of one section changed (flags over the file)."""
        return dataclasses.replace(
            self, **{section: dataclasses.replace(getattr(self, section), **changes)}
        )


_CHOICES = {
    ("store", "durability"): ("full", "normal", "off"),
    ("log", "format"): ("auto", "json", "console"),
    ("log", "level"): ("debug", "info", "warning", "error"),
    ("webhooks", "preset"): ("generic", "listmonk"),
}
_HOSTPORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]*):(\d{1,5})$")
_ACTIONS = ("suppress", "count", "ignore", "alert")
# Upper bounds: beyond them a value is a typo (or an attack on the parser of a bigger
# number), and datetime arithmetic overflows long before 2**53 days.
_MAX_NUMBER = 2**53
_DAY = 86400.0
_MAXIMA = {
    "command_timeout": _DAY, "data_timeout": _DAY, "commit_interval": 1.0,
    "dns_timeout": 60.0, "duplicate_window": 30 * _DAY,
    "soft_window_days": 3650.0, "soft_min_span_days": 3650.0, "expiry_days": 3650,
    "alert_window_minutes": 525600.0, "max_batch": 100_000, "workers": 256,
    "max_line_length": 1 << 20, "max_message_size": 1 << 40, "max_inflight_bytes": 1 << 42,
}


def parse_hostport(value: str) -> tuple[str, int]:
    """'127.0.0.1:2525' -> ('127.0.0.1', 2525); '[::1]:25' -> ('::1', 25)."""
    m = _HOSTPORT.match(value.strip())
    if not m or not 0 <= int(m.group(2)) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return m.group(1).strip("[]") or "0.0.0.0", int(m.group(2))


def _line_of(text: str, section: str, key: str | None = None) -> int | None:
    """The line where `key` is set inside `[section]` (or the section's header), for errors.

    Understands `[section]`, `[section.key]` sub-tables and `section.key = ...` dotted keys.
    """
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if s.startswith("[") and not s.startswith("[["):
            current = s.strip("[] ").replace(" ", "")
            if key is None and current == section:
                return n
            if key is not None and current == f"{section}.{key}":
                return n
        elif key is not None and current == section and re.match(rf"\"?{re.escape(key)}\"?\s*[=.]", s):
            return n
        elif key is not None and current == "" and re.match(
                rf"{re.escape(section)}\.{re.escape(key)}\s*[=.]", s):
            return n
        elif key is None and current == "" and re.match(rf"{re.escape(section)}\s*[=.]", s):
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
    if hint is tuple:  # a list of tables ([http] tokens), checked by _check_value
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"{where}: expected a list of tables, got {value!r}")
        return tuple(dict(v) for v in value)
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
    if key in ("listen",) and value and not (section == "lmtp" and value.startswith("unix:")):
        try:
            parse_hostport(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # TOML has nan and inf; no setting means either (nan would fail every comparison
        # it meets, long after start-up).
        if not math.isfinite(value):
            raise ValueError(f"{where}: must be a finite number, got {value!r}")
        if value < 0:
            raise ValueError(f"{where}: must not be negative, got {value!r}")
        top = _MAXIMA.get(key, _MAX_NUMBER)
        if value > top:
            raise ValueError(f"{where}: must be at most {top:g}, got {value!r}")
    if key in ("max_message_size", "max_recipients", "max_connections",
               "max_connections_per_ip", "max_inflight_bytes", "workers", "soft_threshold", "max_batch",
               "max_errors", "expiry_days", "alert_threshold") and value < 1:
        raise ValueError(f"{where}: must be at least 1, got {value!r}")
    if key in ("command_timeout", "data_timeout", "soft_window_days",
               "alert_window_minutes") and value <= 0:
        raise ValueError(f"{where}: must be more than 0, got {value!r}")
    if key == "max_line_length" and value < 512:
        # RFC 5321 4.5.3.1.4: a server must accept command lines of 512 octets.
        raise ValueError(f"{where}: must be at least 512 (RFC 5321 4.5.3.1.4), got {value!r}")
    if key == "domains":
        for d in value:
            if not re.fullmatch(r"(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\.?", d):
                raise ValueError(f"{where}: {d!r} is not a domain name")
    if key == "actions":
        from bouncesink.model import REASONS, TYPES

        bad = []
        for k, v in value.items():
            if k not in TYPES and k not in REASONS:
                hint = _did_you_mean(k, TYPES + REASONS)
                bad.append(f"{where}.{k}: not a result type or reason{hint}")
            elif v not in _ACTIONS:
                bad.append(f"{where}.{k}: must be one of {', '.join(_ACTIONS)}, got {v!r}")
        if bad:  # one problem per entry (from_dict splits the lines)
            raise ValueError("\n".join(bad))
    if key == "delimiter" and len(value) != 1:
        raise ValueError(f"{where}: must be one character, got {value!r}")
    if section == "doctor" and key == "addresses":
        for a in value:
            try:
                ipaddress.ip_address(a)
            except ValueError:
                raise ValueError(f"{where}: {a!r} is not an IP address") from None
    if section == "doctor" and key == "nameserver" and value:
        host = value[1:].partition("]")[0] if value.startswith("[") else (
            value.rpartition(":")[0] if value.count(":") == 1 else value)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{where}: expected an IP address with an optional :PORT,"
                             f" got {value!r}") from None
    if section == "http" and key == "tokens":
        _check_tokens(value, where)
    if section == "webhooks":
        _check_webhook(key, value, where)
    if section == "mailbox":
        _check_mailbox(key, value, where)
    if section == "lmtp" and key == "socket_mode" and not re.fullmatch(r"0?[0-7]{3}", value):
        raise ValueError(f"{where}: expected an octal mode such as \"0660\", got {value!r}")
    if section == "lmtp" and key == "listen" and value.startswith("unix:") \
            and not value[5:].startswith("/"):
        raise ValueError(f"{where}: a unix socket needs an absolute path, got {value!r}")
    if key == "secrets":
        for secret in value:
            if len(secret) < 16:
                raise ValueError(f"{where}: each secret needs at least 16 characters")


def _check_tokens(tokens, where: str) -> None:
    bad = []
    for i, t in enumerate(tokens):
        unknown = set(t) - {"token", "scope", "name"}
        if unknown:
            bad.append(f"{where}[{i}]: unknown key {sorted(unknown)[0]!r}")
        token = t.get("token")
        if not isinstance(token, str) or len(token) < 16 or any(c.isspace() for c in token):
            bad.append(f"{where}[{i}].token: needs at least 16 characters and no white space")
        if t.get("scope") not in ("read", "write"):
            bad.append(f"{where}[{i}].scope: must be read or write, got {t.get('scope')!r}")
    if bad:
        raise ValueError("\n".join(bad))


def _check_webhook(key: str, value, where: str) -> None:
    import base64
    import binascii

    if key == "url" and not re.match(r"(?i)^https?://[^\s/?#]+", value):
        raise ValueError(f"{where}: expected an http:// or https:// URL, got {value!r}")
    if key == "secret":
        raw = value[len("whsec_"):] if value.startswith("whsec_") else ""
        try:
            ok = len(base64.b64decode(raw, validate=True)) >= 16
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{where}: expected whsec_ followed by base64 of at least 16 bytes")
    if key == "events":
        for e in value:
            if e not in WEBHOOK_EVENTS:
                raise ValueError(f"{where}: {e!r} is not one of {', '.join(WEBHOOK_EVENTS)}")
    if key in ("retry_hours", "timeout") and not 0 < value < float("inf"):
        raise ValueError(f"{where}: must be a finite number above 0, got {value!r}")


def _check_mailbox(key: str, value, where: str) -> None:
    if key == "url":
        from urllib.parse import urlsplit

        u = urlsplit(value)
        if u.scheme not in ("imap", "imaps", "pop3", "pop3s") or not u.hostname \
                or not u.username:
            raise ValueError(f"{where}: expected imap://, imaps://, pop3:// or pop3s://"
                             f" USER@HOST[:PORT][/FOLDER], got {value!r}")
        try:
            u.port
        except ValueError:
            raise ValueError(f"{where}: bad port in {value!r}") from None
    if key == "after" and not (value in ("delete", "keep")
                               or (value.startswith("move:") and len(value) > 5)):
        raise ValueError(f"{where}: must be move:FOLDER, delete or keep, got {value!r}")
    if key in ("interval", "timeout") and not 0 < value < float("inf"):
        raise ValueError(f"{where}: must be a finite number above 0, got {value!r}")


def _mailboxes(data, text: str, source: str, problems: list[str]) -> tuple:
    """[[mailbox]]: an array of tables, each a MailboxConfig."""
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        problems.append(f"{source}: mailbox must be an array of tables ([[mailbox]])")
        return ()
    fhints = typing.get_type_hints(MailboxConfig)
    out = []
    for i, table in enumerate(data):
        values = {}
        for key, value in table.items():
            where = f"{source}: mailbox[{i}].{key}"
            if key not in fhints:
                problems.append(f"{where}: unknown key{_did_you_mean(key, fhints)}")
                continue
            try:
                v = _coerce(value, fhints[key], where)
                _check_value("mailbox", key, v, where)
            except ValueError as exc:
                problems.extend(str(exc).splitlines())
                continue
            values[key] = v
        if "url" not in table:
            problems.append(f"{source}: mailbox[{i}]: url is required")
        if table.get("password") and table.get("password_file"):
            problems.append(f"{source}: mailbox[{i}]: password and password_file: set one")
        box = MailboxConfig(**values)
        if box.after.startswith("move:") and box.url.startswith("pop3"):
            problems.append(f"{source}: mailbox[{i}].after: POP3 has no folders;"
                            f" use delete or keep")
        out.append(box)
    return tuple(out)


def _webhooks(data, text: str, source: str, problems: list[str]) -> tuple:
    """[[webhooks]]: an array of tables, each a WebhookConfig."""
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        problems.append(f"{source}: webhooks must be an array of tables ([[webhooks]])")
        return ()
    fhints = typing.get_type_hints(WebhookConfig)
    out = []
    for i, table in enumerate(data):
        values = {}
        for key, value in table.items():
            where = f"{source}: webhooks[{i}].{key}"
            if key not in fhints:
                problems.append(f"{where}: unknown key{_did_you_mean(key, fhints)}")
                continue
            try:
                v = _coerce(value, fhints[key], where)
                _check_value("webhooks", key, v, where)
            except ValueError as exc:
                problems.extend(str(exc).splitlines())
                continue
            values[key] = v
        for key in ("url", "secret"):
            if key not in table:
                problems.append(f"{source}: webhooks[{i}]: {key} is required")
        hook = WebhookConfig(**values)
        out.append(dataclasses.replace(hook, name=hook.name or hook.url))
    names = [h.name for h in out]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{source}: webhooks: two entries named {n!r} (set name = to tell them apart)")
    return tuple(out)


def _did_you_mean(word: str, candidates) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_together(cfg: Config, text: str, source: str) -> list[str]:
    """Checks that involve more than one key."""
    problems = []

    def where(section, key):
        line = _line_of(text, section, key)
        return f"{source}:{line}: {section}.{key}" if line else f"{source}: {section}.{key}"

    s = cfg.server
    if bool(s.tls_cert) != bool(s.tls_key):
        missing = "tls_key" if s.tls_cert else "tls_cert"
        problems.append(f"{where('server', missing)}: tls_cert and tls_key go together;"
                        f" {missing} is not set")
    if s.max_inflight_bytes < s.max_message_size:
        problems.append(f"{where('server', 'max_inflight_bytes')}: smaller than max_message_size"
                        f" ({s.max_inflight_bytes} < {s.max_message_size}): a message of the"
                        f" largest size allowed could never be received")
    if s.require_tls and not (s.tls_cert and s.tls_key):
        problems.append(f"{where('server', 'require_tls')}: needs tls_cert and tls_key")
    if cfg.metrics.listen and s.listen:
        m_host, m_port = parse_hostport(cfg.metrics.listen)
        s_host, s_port = parse_hostport(s.listen)
        if m_port == s_port and m_port != 0 and (m_host == s_host or "0.0.0.0" in (m_host, s_host)):
            problems.append(f"{where('metrics', 'listen')}: same address as server.listen")
    if cfg.metrics.listen and s.workers > 1:
        problems.append(f"{where('metrics', 'listen')}: needs server.workers = 1 (each worker"
                        f" would bind it)")
    if cfg.lmtp.listen and s.workers > 1:
        problems.append(f"{where('lmtp', 'listen')}: needs server.workers = 1 (each worker"
                        f" would bind it)")
    if cfg.mailbox and s.workers > 1:
        problems.append(f"{source}: [[mailbox]] needs server.workers = 1 (one poller per"
                        f" mailbox), or run `bouncesink fetch` from cron instead")
    p = cfg.policy
    if p.soft_min_span_days > p.soft_window_days:
        problems.append(f"{where('policy', 'soft_min_span_days')}: longer than soft_window_days"
                        f" ({p.soft_min_span_days} > {p.soft_window_days}): nothing could escalate")
    return problems


def from_dict(data: dict, text: str = "", source: str = "config") -> Config:
    """Build a Config from a parsed TOML document; collect every problem."""
    problems: list[str] = []
    sections = {}
    hints = typing.get_type_hints(Config)
    for name, table in data.items():
        if name == "webhooks":
            sections[name] = _webhooks(table, text, source, problems)
            continue
        if name == "mailbox":
            sections[name] = _mailboxes(table, text, source, problems)
            continue
        if name not in hints:
            line = _line_of(text, name)
            at = f"{source}:{line}" if line else source
            problems.append(f"{at}: [{name}]: unknown section{_did_you_mean(name, hints)}")
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
                problems.append(f"{where}: unknown key{_did_you_mean(key, fhints)}")
                continue
            try:
                v = _coerce(value, fhints[key], where)
                _check_value(name, key, v, where)
            except ValueError as exc:
                problems.extend(str(exc).splitlines())
                continue
            values[key] = v
        sections[name] = cls(**values)
    if problems:
        raise ConfigError(problems)
    if "domains" in data.get("server", {}):
        sections["server"] = dataclasses.replace(
            sections["server"], domains=tuple(d.lower().rstrip(".") for d in sections["server"].domains)
        )
    cfg = Config(**sections)
    problems = _check_together(cfg, text, source)
    if problems:
        raise ConfigError(problems)
    return cfg


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
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError([f"{p}: invalid TOML: arrays or tables nested too deeply"]) from None
    return from_dict(data, text, str(p))


# -- reload (SIGHUP) --------------------------------------------------------------------------
# What a running server can take from a new file: the domains it accepts, its limits, the
# policy, VERP secrets and the log level. Addresses, the store, TLS, workers and the
# metrics endpoint are bound at start-up and need a restart.
RELOADABLE: dict[str, frozenset[str] | None] = {
    "server": frozenset({
        "domains", "max_message_size", "max_recipients", "max_connections",
        "max_connections_per_ip", "command_timeout", "data_timeout", "max_line_length",
        "max_errors", "max_inflight_bytes", "duplicate_window",
    }),
    "policy": None,   # None: the whole section
    "verp": None,
    "log": frozenset({"level"}),
}
# Exceptions inside a section reloaded whole: objects built once at start-up.
RESTART_ONLY = frozenset({"policy.dns_resolvers", "policy.dns_timeout"})
# Sections the server does not use (commands only): taken silently.
NOT_SERVED = frozenset({"doctor"})


def changed_keys(old: Config, new: Config) -> list[str]:
    """`section.key` for every setting that differs between two configs."""
    out = []
    for f in dataclasses.fields(Config):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if not dataclasses.is_dataclass(a):  # [[webhooks]]: a list, changed as a whole
            if a != b:
                out.append(f"{f.name}.*")
            continue
        for g in dataclasses.fields(a):
            if getattr(a, g.name) != getattr(b, g.name):
                out.append(f"{f.name}.{g.name}")
    return out


def merge_reload(old: Config, new: Config) -> tuple[Config, list[str], list[str]]:
    """The config a running server switches to on reload.

    Returns (merged, applied, needs_restart): `merged` takes every reloadable setting from
    `new` and keeps the rest of `old`; the two lists name the changed keys of each kind.
    """
    applied, restart = [], []
    merged = old
    for name in changed_keys(old, new):
        section, key = name.split(".", 1)
        if key == "*":
            restart.append(section)
            continue
        if section in NOT_SERVED:
            merged = merged.replace(section, **{key: getattr(getattr(new, section), key)})
            continue
        allowed = RELOADABLE.get(section, frozenset())
        if name not in RESTART_ONLY and (allowed is None or key in allowed):
            merged = merged.replace(section, **{key: getattr(getattr(new, section), key)})
            applied.append(name)
        else:
            restart.append(name)
    return merged, applied, restart
