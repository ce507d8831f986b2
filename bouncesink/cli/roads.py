"""deliver, fetch, import: the roads in besides SMTP (bouncesink/roads).

Their exit codes are sysexits.h, which MTAs' pipe transports and cron understand: 0 stored
(and classified), 75 (EX_TEMPFAIL) when a message could not be stored, 64 bad usage, 78 bad
configuration.
"""

from __future__ import annotations

import os
import sys

from bouncesink.cli import add_store_options, load_config

EX_USAGE, EX_TEMPFAIL, EX_CONFIG = 64, 75, 78


def register(sub) -> None:
    p = sub.add_parser("deliver", help="store one message from standard input (an MTA's pipe)")
    add_store_options(p)
    p.add_argument("--sender", metavar="ADDR",
                   help="the envelope sender (empty: a bounce); default: $SENDER")
    p.add_argument("--recipient", metavar="ADDR",
                   help="the envelope recipient; default: $RECIPIENT")
    p.set_defaults(func=cmd_deliver)
    _sysexits_usage(p)

    p = sub.add_parser("fetch", help="one pass over every [[mailbox]] (IMAP, POP3): for cron")
    add_store_options(p)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("import", help="store the messages of mbox, Maildir or .eml files (- : stdin)")
    add_store_options(p)
    p.add_argument("paths", nargs="+", metavar="PATH", help="an mbox, a Maildir, a message"
                   " file, a directory of them, or - for standard input")
    p.set_defaults(func=cmd_import)


def _sysexits_usage(p) -> None:
    """A pipe transport reads the exit status as sysexits.h: a usage error is EX_USAGE
    (argparse would exit 2, which Postfix pipe(8) does not know)."""
    def error(message: str):
        p.print_usage(sys.stderr)
        print(f"{p.prog}: error: {message}", file=sys.stderr)
        sys.exit(EX_USAGE)

    p.error = error


def _road_config(args, quiet: bool = False):
    """The config, or None after one line per problem on stderr (EX_CONFIG). `quiet`:
    log warnings and errors only (import and fetch print their own summary; from cron,
    a quiet run sends no mail)."""
    from bouncesink import logs
    from bouncesink.config import ConfigError

    try:
        cfg = load_config(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"bouncesink: {line}", file=sys.stderr)
        return None
    level = cfg.log.level
    if quiet and level in ("debug", "info"):
        level = "warning"
    logs.setup(cfg.log.format, level, stream=sys.stderr)
    return cfg


def cmd_deliver(args) -> int:
    from bouncesink import logs
    from bouncesink.roads.deliver import deliver

    cfg = _road_config(args)
    if cfg is None:
        return EX_CONFIG
    # Exim's pipe transport and Postfix local(8) (a .forward pipe) put the envelope in the
    # environment as SENDER and RECIPIENT; Exim will not pass its tainted $local_part in
    # the command line, so the environment is the way there.
    sender = args.sender if args.sender is not None else os.environ.get("SENDER")
    recipient = args.recipient if args.recipient is not None else os.environ.get("RECIPIENT")
    try:
        return deliver(cfg, sys.stdin.buffer, sender=sender, recipient=recipient)
    except Exception as exc:  # noqa: BLE001 - nothing was stored: let the MTA try again
        logs.get().error("deliver_failed", error=str(exc)[:300], exit=EX_TEMPFAIL)
        return EX_TEMPFAIL


def _open_store(cfg):
    """The store, or None after one line on stderr (the caller exits EX_TEMPFAIL)."""
    from bouncesink.store import open_store

    try:
        return open_store(cfg.store.db, durability=cfg.store.durability)
    except Exception as exc:  # StoreError, or PostgreSQL away: nothing can be stored now
        print(f"bouncesink: {exc}", file=sys.stderr)
        return None


class _Progress:
    """A progress bar (tqdm) on a terminal only: cron mail and logs get the summary line."""

    def __init__(self, stream=None, desc: str = "import") -> None:
        stream = stream or sys.stderr
        self.bar = None
        if getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(desc=desc, unit=" msg", file=stream, mininterval=0.2)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_import(args) -> int:
    from bouncesink.roads import intake
    from bouncesink.roads.files import import_paths

    cfg = _road_config(args, quiet=True)
    if cfg is None:
        return EX_CONFIG
    store = _open_store(cfg)
    if store is None:
        return EX_TEMPFAIL
    progress = _Progress()
    try:
        report = import_paths(cfg, store, args.paths, progress=progress)
        progress.close()
        print(f"imported {report.imported}, skipped {report.skipped}", flush=True)
        intake.classify(cfg, store, report.refs)
    finally:
        progress.close()
        store.close()
    if report.failed:
        print(f"bouncesink: {report.failed} messages could not be stored; import them again",
              file=sys.stderr)
        return EX_TEMPFAIL
    return 1 if report.bad else 0


def cmd_fetch(args) -> int:
    from bouncesink.roads import intake
    from bouncesink.roads.mailbox import fetch_all

    cfg = _road_config(args, quiet=True)
    if cfg is None:
        return EX_CONFIG
    if not cfg.mailbox:
        print("bouncesink: no [[mailbox]] in the config", file=sys.stderr)
        return EX_CONFIG
    store = _open_store(cfg)
    if store is None:
        return EX_TEMPFAIL
    try:
        refs, failed = fetch_all(cfg, store,
                                 problem=lambda line: print(f"bouncesink: {line}",
                                                            file=sys.stderr))
        intake.classify(cfg, store, refs)
    finally:
        store.close()
    return EX_TEMPFAIL if failed else 0
