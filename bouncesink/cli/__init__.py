"""The `bouncesink` command: arguments -> config -> calls; errors -> one line and an exit code.

Each module of this package registers its sub-commands (`register(subparsers)`); a command
function takes the parsed arguments and returns an exit code. Expected failures raise
`CLIError` (or ConfigError / StoreError) and become one line on stderr; exit codes:
0 ok, 1 failure, 2 bad usage or bad input.

Only argparse is imported to build the parser: a command imports what it needs when it runs,
so that `bouncesink parse` does not pay for the store, asyncio or structlog at start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from bouncesink import __version__

# Modules that add sub-commands, in the order they appear in --help.
COMMAND_MODULES = [
    "bouncesink.cli.core",
    "bouncesink.cli.suppression",
    "bouncesink.cli.admin",
    "bouncesink.cli.migrate",
    "bouncesink.cli.web",
    "bouncesink.cli.roads",
    "bouncesink.cli.show",
]


class CLIError(Exception):
    """A failure to report as one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def add_store_options(p: argparse.ArgumentParser) -> None:
    """--config and --db, taken by every command that reads the store."""
    p.add_argument("--config", metavar="FILE", help="TOML configuration file")
    p.add_argument("--db", metavar="PATH",
                   help="store: a path, sqlite:///path or postgresql://user@host:port/db")


# Without --config, every command (serve included) reads the same file, so `why` run from
# any directory finds the store the service writes: $BOUNCESINK_CONFIG, else the file the
# deployment steps install, when this user may read it.
CONFIG_ENV = "BOUNCESINK_CONFIG"
DEFAULT_CONFIG = "/etc/bouncesink/bouncesink.toml"


def config_path(args) -> str | None:
    """The config file a command reads: --config, $BOUNCESINK_CONFIG, DEFAULT_CONFIG or none."""
    if getattr(args, "config", None):
        return args.config
    if os.environ.get(CONFIG_ENV):
        return os.environ[CONFIG_ENV]
    if os.path.isfile(DEFAULT_CONFIG) and os.access(DEFAULT_CONFIG, os.R_OK):
        return DEFAULT_CONFIG
    return None


def load_config(args):
    """The Config (bouncesink.config) of the config file, then of the flags every command
    shares."""
    from bouncesink import config as configmod

    path = config_path(args)
    if path and hasattr(args, "config"):
        args.config = path  # serve reloads it on SIGHUP
    cfg = configmod.load(path)
    if getattr(args, "db", None):
        cfg = cfg.replace("store", db=args.db)
    return cfg


# Commands that only read the store open it read-only (SQLite: mode=ro): a --db naming a
# file that is not ours is refused and never changed (no tables, no WAL, no journal).
READ_ONLY_COMMANDS = frozenset({"stats", "why", "report", "show", "history"})


def reads_only(args) -> bool:
    command = getattr(args, "command", None)
    if command == "export":  # --cursor moves the named cursor on: a write
        return not getattr(args, "cursor", None)
    return command in READ_ONLY_COMMANDS


def missing_store(args, url: str) -> str | None:
    """For a reading command: where it looked for a SQLite store that is not there, and how
    to get one (None when the store exists or is not a file)."""
    if url.startswith(("postgresql://", "postgres://")):
        return None
    from bouncesink.store.sqlite import path_of

    path = path_of(url)
    if path.exists():
        return None
    if getattr(args, "db", None):
        source = "from --db"
    elif getattr(args, "config", None):
        source = f"store.db in {args.config}"
    else:
        source = (f"the default {url}, relative to the current directory {os.getcwd()};"
                  f" no --config, ${CONFIG_ENV} or {DEFAULT_CONFIG}")
    return (f"no such store: {path.absolute()} ({source}). `bouncesink serve` creates it:"
            f" run this command where serve runs, or name the store with --db PATH,"
            f" --config FILE or {CONFIG_ENV}=FILE")


def open_store_for(args, create: bool = False):
    """The store named by --db / --config, which must already exist for reading commands."""
    from bouncesink.store import open_store

    cfg = load_config(args)
    if not create:
        problem = missing_store(args, cfg.store.db)
        if problem:
            raise CLIError(problem)
    return cfg, open_store(cfg.store.db, durability=cfg.store.durability, create=create,
                           readonly=reads_only(args))


@contextlib.contextmanager
def opened_store(args, create: bool = False):
    """open_store_for() for a `with` block: (config, store), the store closed at its end."""
    cfg, store = open_store_for(args, create)
    try:
        yield cfg, store
    finally:
        store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bouncesink",
        description="An SMTP sink for bounces: receive, classify, suppress, export.")
    parser.add_argument("--version", action="version", version=f"bouncesink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except CLIError as exc:
        print(f"bouncesink: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        # `bouncesink export | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        code = report(exc)
        if code is None:
            raise
        return code


def report(exc: Exception) -> int | None:
    """The exit code of a ConfigError or StoreError, reported as one line; None for anything
    else. Looked up among the loaded modules: only a command that imported them can have
    raised them, and `parse` should not import them to find out."""
    config, store = sys.modules.get("bouncesink.config"), sys.modules.get("bouncesink.store.base")
    if config is not None and isinstance(exc, config.ConfigError):
        for line in exc.problems:
            print(f"bouncesink: {line}", file=sys.stderr)
        return 2
    if store is not None and isinstance(exc, store.StoreError):
        print(f"bouncesink: {exc}", file=sys.stderr)
        return 1
    # A store that fails under a command (a corrupt file: "database disk image is
    # malformed"; a database gone away): one line, not a traceback.
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        print(f"bouncesink: store: {str(exc).splitlines()[0] if str(exc) else exc!r}",
              file=sys.stderr)
        return 1
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.Error):
        print(f"bouncesink: store: {(str(exc).splitlines() or [repr(exc)])[0]}",
              file=sys.stderr)
        return 1
    return None
