"""serve, parse, stats: the commands of the working sink (export is in cli/suppression.py)."""

from __future__ import annotations

import errno
import json
import os
import sys
from datetime import datetime, timedelta, timezone

from bouncesink.cli import CLIError, add_store_options, load_config, opened_store

PARSE_KEYS = ("file", "message", "recipient", "action", "status", "reply_code", "diagnostic", "reason",
              "type", "rule", "reporting_mta", "remote_mta", "message_id")


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the SMTP sink")
    add_store_options(p)
    p.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (127.0.0.1:2525)")
    p.add_argument("--domain", action="append", metavar="D",
                   help="a return-path domain to accept mail for (repeatable)")
    p.add_argument("--log-format", choices=("auto", "json", "console"),
                   help="log lines as JSON or for a person (auto: console on a terminal)")
    p.add_argument("--verp-secret", action="append", metavar="S",
                   help="VERP signing secret (repeatable: the first signs, all verify);"
                        " replaces verp.secrets")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes sharing the port (SO_REUSEPORT); one per core")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("parse", help="parse raw messages: .eml files, mbox files, Maildir"
                       " folders, directories of them, - for standard input; JSON lines out"
                       " (\"message\": the Nth message of an mbox, 0 for a one-message file)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a message file, mbox, Maildir, directory, or - for standard input")
    p.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N",
                   help="processes parsing at once (default: one per core; 1: this process)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("stats", help="counts by type, reason and domain")
    add_store_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_stats)


def serve_config(args):
    from bouncesink.config import parse_hostport

    cfg = load_config(args)
    if args.listen:
        try:
            parse_hostport(args.listen)
        except ValueError as exc:
            raise CLIError(f"--listen: {exc}", 2) from None
        cfg = cfg.replace("server", listen=args.listen)
    if args.domain:
        cfg = cfg.replace("server", domains=tuple(d.lower().rstrip(".") for d in args.domain))
    if args.log_format:
        cfg = cfg.replace("log", format=args.log_format)
    if getattr(args, "workers", None) is not None:
        if args.workers < 1:
            raise CLIError("--workers: must be at least 1", 2)
        cfg = cfg.replace("server", workers=args.workers)
    if getattr(args, "verp_secret", None):
        cfg = cfg.replace("verp", secrets=tuple(args.verp_secret))
    if not cfg.server.domains:
        raise CLIError("no return-path domain: set server.domains in the config or pass --domain", 2)
    return cfg


def cmd_serve(args) -> int:
    import asyncio

    from bouncesink import logs
    from bouncesink.config import parse_hostport
    from bouncesink.server import Server, serve_workers

    cfg = serve_config(args)
    logs.setup(cfg.log.format, cfg.log.level)
    try:
        reload_config = (lambda: serve_config(args)) if args.config else None
        if cfg.server.workers > 1:
            return serve_workers(cfg, reload_config=reload_config)
        asyncio.run(Server(cfg, reload_config=reload_config).serve())
    except OSError as exc:
        listen = getattr(exc, "listen", cfg.server.listen)  # roads: the LMTP address
        if exc.errno == errno.EADDRINUSE:
            from bouncesink.roads.sharing import in_use_message

            port = None if listen.startswith("unix:") else parse_hostport(listen)[1]
            raise CLIError(in_use_message(listen, port) if port is not None else
                           f"cannot listen on {listen}: {exc.strerror or exc}") from None
        raise CLIError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return 0


def cmd_parse(args) -> int:
    from bouncesink.mailfiles import MailFilesError, iter_messages
    from bouncesink.parse.many import rows

    write = sys.stdout.write
    problems = 0
    for path in args.paths:
        if path != "-" and not os.path.lexists(path):
            raise CLIError(f"{path}: no such file or directory", 2)

    def items():
        for path in args.paths:
            try:
                for item in iter_messages(path):
                    yield item if item.error else (item.path, item.index, item.raw)
            except MailFilesError as exc:
                yield exc

    for row in rows(items(), jobs=args.jobs):
        if type(row) is str:
            write(row)
        elif isinstance(row, MailFilesError):
            raise CLIError(_printable(str(row)), 2)
        else:
            problems += 1
            sys.stdout.flush()
            print(f"bouncesink: {_printable(row.name)}: {row.error}", file=sys.stderr)
    return 1 if problems else 0


def _jobs(value: str) -> int:
    import argparse
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= n <= 256:
        raise argparse.ArgumentTypeError("between 0 (one per core) and 256")
    return n


def _printable(text: str) -> str:
    """A file name as a terminal may show it: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def parse_time(value: str | None, flag: str = "--since") -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CLIError(f"{flag}: not an ISO 8601 time: {value!r}", 2) from None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    try:
        # In UTC, as the store compares times; and with room for the arithmetic commands
        # do on it (a day's window either side).
        t = t.astimezone(timezone.utc)
        t - timedelta(days=1), t + timedelta(days=1)
    except OverflowError:
        raise CLIError(f"{flag}: out of range (years 1 to 9999): {value!r}", 2) from None
    return t


def cmd_stats(args) -> int:
    with opened_store(args) as (_, store):
        stats = store.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"suppressed addresses: {stats['suppressed']}   pending classification: {stats['pending']}")
    for label in ("last_24h", "all_time"):
        part = stats[label]
        print(f"\n{label.replace('_', ' ')}: {part['messages']} messages,"
              f" {part['unrecognised']} unrecognised")
        for key in ("by_type", "by_reason", "by_domain"):
            items = ", ".join(f"{k or '-'} {n}" for k, n in list(part[key].items())[:15])
            print(f"  {key.replace('_', ' ')}: {items or '-'}")
    return 0
