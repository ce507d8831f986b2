"""web, webhooks: the HTTP API process and the webhook deliveries."""

from __future__ import annotations

from bouncesink.cli import CLIError, add_store_options, load_config


def register(sub) -> None:
    p = sub.add_parser("web", help="run the HTTP API (and deliver webhooks)")
    add_store_options(p)
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: http.listen, else 127.0.0.1:8025)")
    p.add_argument("--log-format", choices=("auto", "json", "console"),
                   help="log lines as JSON or for a person (auto: console on a terminal)")
    p.set_defaults(func=cmd_web)
    register_webhooks(sub)


def web_config(args):
    from bouncesink.config import parse_hostport
    from bouncesink.web.serve import DEFAULT_LISTEN

    cfg = load_config(args)
    listen = args.listen or cfg.http.listen or DEFAULT_LISTEN
    try:
        parse_hostport(listen)
    except ValueError as exc:
        raise CLIError(f"--listen: {exc}", 2) from None
    cfg = cfg.replace("http", listen=listen)
    if args.log_format:
        cfg = cfg.replace("log", format=args.log_format)
    return cfg


def cmd_web(args) -> int:
    import asyncio

    import structlog

    from bouncesink import logs
    from bouncesink.store import open_store
    from bouncesink.web import create_app
    from bouncesink.web.serve import bind, serve_app

    cfg = web_config(args)
    logs.setup(cfg.log.format, cfg.log.level)
    if not cfg.http.tokens:
        structlog.get_logger("bouncesink.web").warning(
            "web_no_tokens", hint="set [http] tokens: every /v1 request is refused (401)")
    store = open_store(cfg.store.db, durability=cfg.store.durability)
    try:
        try:
            sock = bind(cfg.http.listen)
        except OSError as exc:
            raise CLIError(f"cannot listen on {cfg.http.listen}: {exc.strerror or exc}") from None
        app = create_app(cfg, store, dispatch=True)
        asyncio.run(serve_app(app, sock))
    finally:
        store.close()
    return 0


def register_webhooks(sub) -> None:
    p = sub.add_parser("webhooks", help="list pending and dead webhook deliveries; retry dead ones")
    add_store_options(p)
    p.add_argument("--retry-dead", action="store_true",
                   help="send dead deliveries again (a fresh retry window)")
    p.add_argument("--hook", metavar="NAME", help="only this webhook (its name, default its url)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(func=cmd_webhooks)


def cmd_webhooks(args) -> int:
    import json

    from bouncesink.cli import opened_store
    from bouncesink.history import escape_controls as esc

    with opened_store(args) as (_, store):
        if args.retry_dead:
            n = store.webhook_retry_dead(args.hook)
            print(f"{n} dead deliver{'y' if n == 1 else 'ies'} queued again")
            return 0
        rows = store.webhook_deliveries(("pending", "dead"), args.hook)
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    if not rows:
        print("no pending or dead deliveries")
        return 0
    print(f"{'state':<8} {'attempts':>8}  {'next try / since':<27} {'event':<14} {'email':<32} hook")
    for r in rows:
        print(f"{r['state']:<8} {r['attempts']:>8}  {r['next_at']:<27} {r['event']:<14}"
              f" {esc(r['email']) or '-':<32} {esc(r['hook'])}")
        if r["last_error"]:
            print(f"{'':<18}last error: {esc(r['last_error'])}")
    return 0
