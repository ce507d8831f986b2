"""check-config, doctor, reparse, prune: the commands of the person who runs the sink."""

from __future__ import annotations

import math
import os
from datetime import timedelta

from bouncesink.cli import CLIError, add_store_options, load_config, opened_store


def register(sub) -> None:
    p = sub.add_parser("check-config", help="validate a configuration file; one line per problem")
    p.add_argument("--config", metavar="FILE", required=True, help="TOML configuration file")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("doctor", help="check DNS (MX), the SMTP port and the store;"
                                      " one pass/fail line per check")
    add_store_options(p)
    p.add_argument("--domain", action="append", metavar="D",
                   help="return-path domain to check (repeatable; default: server.domains)")
    p.add_argument("--nameserver", metavar="HOST[:PORT]",
                   help="ask this DNS server instead of the system resolver"
                        " (default: doctor.nameserver)")
    p.add_argument("--address", action="append", metavar="IP",
                   help="an address of this host the MX must point at (repeatable; default:"
                        " doctor.addresses, else the addresses of the local interfaces; give the"
                        " public one behind NAT)")
    p.add_argument("--smtp", metavar="HOST:PORT",
                   help="where to probe the sink (default: server.listen; 0.0.0.0 -> 127.0.0.1)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="per DNS query and SMTP probe (default 5)")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("reparse", help="run the current parser over stored raw messages and"
                                       " record the results that changed")
    add_store_options(p)
    p.add_argument("--since", metavar="ISO-TIME", help="only messages received since this time")
    p.add_argument("--dry-run", action="store_true", help="report changes, record nothing")
    p.add_argument("--no-dns", action="store_true",
                   help="do not look hostunknown results up in DNS (they then count as soft)")
    p.set_defaults(func=cmd_reparse)

    p = sub.add_parser("prune", help="drop old raw message bodies (results and events stay)")
    add_store_options(p)
    p.add_argument("--raw-older-than", type=_days, required=True, metavar="DAYS",
                   help="drop raw bodies of messages received more than DAYS ago")
    p.add_argument("--include-unrecognised", action="store_true",
                   help="also drop raw bodies of messages no parser understood"
                        " (kept by default: they are the only copy for a person to read)")
    p.set_defaults(func=cmd_prune)


def _days(value: str) -> float:
    import argparse

    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not math.isfinite(days) or days < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number, not negative: {value!r}")
    if days > 36500:  # a century: beyond, the time before which to prune is before year 1
        raise argparse.ArgumentTypeError(f"must be at most 36500 days: {value!r}")
    return days


# -- check-config ---------------------------------------------------------------------------
def cmd_check_config(args) -> int:
    from bouncesink import config as configmod

    cfg = configmod.load(args.config)
    problems = []
    for key in ("tls_cert", "tls_key"):
        path = getattr(cfg.server, key)
        if path and not os.access(path, os.R_OK):
            problems.append(f"{args.config}: server.{key}: cannot read {path}")
    if not problems and cfg.server.tls_cert and cfg.server.tls_key:
        # Load them as `serve` will: a readable file that is no certificate or key fails here.
        from bouncesink.server.protocol import tls_context

        try:
            tls_context(cfg.server.tls_cert, cfg.server.tls_key)
        except configmod.ConfigError as exc:
            problems += [f"{args.config}: {p}" for p in exc.problems]
    if problems:
        raise configmod.ConfigError(problems)
    from bouncesink.doctor import _redact

    print(f"{args.config}: ok (listen {cfg.server.listen}; domains"
          f" {', '.join(cfg.server.domains) or '-'}; store {_redact(cfg.store.db)};"
          f" metrics {cfg.metrics.listen or 'off'})")
    if not cfg.server.domains:
        print(f"{args.config}: note: server.domains is empty; `serve` then needs --domain")
    return 0


# -- doctor ---------------------------------------------------------------------------------
def cmd_doctor(args) -> int:
    from bouncesink import config as configmod, doctor

    cfg = load_config(args)
    domains = tuple(d.lower().rstrip(".") for d in (args.domain or cfg.server.domains))
    if not domains:
        raise CLIError("no domain to check: pass --domain or set server.domains", 2)
    try:
        resolver = doctor.make_resolver(args.nameserver or cfg.doctor.nameserver,
                                        timeout=args.timeout)
    except ValueError as exc:
        raise CLIError(f"--nameserver: {exc}", 2) from None
    smtp = args.smtp or cfg.server.listen
    try:
        configmod.parse_hostport(smtp)
    except ValueError as exc:
        raise CLIError(f"--smtp: {exc}", 2) from None
    checks = doctor.run(cfg, domains, resolver=resolver,
                        addresses=args.address or cfg.doctor.addresses, smtp=smtp,
                        timeout=args.timeout)
    failed = 0
    for check in checks:
        print(check.line())
        failed += not check.ok
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


# -- reparse, prune -------------------------------------------------------------------------
def cmd_reparse(args) -> int:
    from bouncesink import reparse
    from bouncesink.cli.core import parse_time

    since = parse_time(args.since)
    with opened_store(args) as (cfg, store):
        checker = None
        if cfg.policy.confirm_hostunknown_dns and not args.no_dns:
            from bouncesink.dns import HostunknownDNS

            checker = HostunknownDNS(cfg.policy)
        summary = reparse.reparse(store, cfg, since=since, dry_run=args.dry_run, checker=checker,
                                  report=lambda line: print(line, flush=True))
    verb = "would record" if args.dry_run else "recorded"
    print(f"{summary.messages} messages re-parsed, {summary.changed} results changed"
          f" ({verb}), {summary.newly_recognised} messages newly recognised,"
          f" {summary.skipped} skipped (no raw body)")
    return 0


def cmd_prune(args) -> int:
    from bouncesink.model import utcnow

    before = utcnow() - timedelta(days=args.raw_older_than)
    with opened_store(args) as (_, store):
        count, size = store.prune_raw(before, keep_unrecognised=not args.include_unrecognised)
    print(f"dropped the raw bodies of {count} messages received before"
          f" {before:%Y-%m-%dT%H:%M:%SZ} ({size} bytes uncompressed); results and events kept")
    return 0
