"""web, webhooks: the HTTP API process and the webhook deliveries."""

from __future__ import annotations

from bouncesink.cli import CLIError, add_store_options, load_config


def register(sub) -> None:
    p = sub.add_parser("web", help="run the HTTP API (and deliver webhooks)")
    add_store_options(p)
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: http.listen, else 127.0.0.1:8025)")
    p.add_argument("--log-format", choices=("auto", "json", "console"))
    p.set_defaults(func=cmd_web)


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
