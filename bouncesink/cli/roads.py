"""deliver, fetch, import: the roads in besides SMTP (bouncesink/roads).

Their exit codes are sysexits.h, which MTAs' pipe transports and cron understand: 0 stored
(and classified), 75 (EX_TEMPFAIL) when a message could not be stored, 64 bad usage, 78 bad
configuration.
"""

from __future__ import annotations

import sys

from bouncesink.cli import add_store_options, load_config

EX_USAGE, EX_TEMPFAIL, EX_CONFIG = 64, 75, 78


def register(sub) -> None:
    p = sub.add_parser("deliver", help="store one message from standard input (an MTA's pipe)")
    add_store_options(p)
    p.add_argument("--sender", metavar="ADDR", help="the envelope sender (empty: a bounce)")
    p.add_argument("--recipient", metavar="ADDR", help="the envelope recipient")
    p.set_defaults(func=cmd_deliver)
    _sysexits_usage(p)


def _sysexits_usage(p) -> None:
    """A pipe transport reads the exit status as sysexits.h: a usage error is EX_USAGE
    (argparse would exit 2, which Postfix pipe(8) does not know)."""
    def error(message: str):
        p.print_usage(sys.stderr)
        print(f"{p.prog}: error: {message}", file=sys.stderr)
        sys.exit(EX_USAGE)

    p.error = error


def _road_config(args):
    """The config, or None after one line per problem on stderr (EX_CONFIG)."""
    from bouncesink import logs
    from bouncesink.config import ConfigError

    try:
        cfg = load_config(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"bouncesink: {line}", file=sys.stderr)
        return None
    logs.setup(cfg.log.format, cfg.log.level, stream=sys.stderr)
    return cfg


def cmd_deliver(args) -> int:
    from bouncesink import logs
    from bouncesink.roads.deliver import deliver

    cfg = _road_config(args)
    if cfg is None:
        return EX_CONFIG
    try:
        return deliver(cfg, sys.stdin.buffer, sender=args.sender, recipient=args.recipient)
    except Exception as exc:  # noqa: BLE001 - nothing was stored: let the MTA try again
        logs.get().error("deliver_failed", error=str(exc)[:300], exit=EX_TEMPFAIL)
        return EX_TEMPFAIL
