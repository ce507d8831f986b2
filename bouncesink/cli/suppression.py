"""verp, campaign, report, suppress, unsuppress, why, export: the suppression commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bouncesink import export as exportmod
from bouncesink.cli import (CLIError, add_store_options, load_config, open_store_for,
                            opened_store)

REPORT_TYPES = ("hard", "soft", "complaint", "autoreply")


def register(sub) -> None:
    p = sub.add_parser("verp", help="encode or decode VERP bounce addresses")
    vsub = p.add_subparsers(dest="verp_command", metavar="ACTION")
    vsub.required = True
    e = vsub.add_parser("encode", help="print the bounce address for a recipient")
    e.add_argument("--config", metavar="FILE", help="TOML configuration file")
    e.add_argument("--recipient", required=True, metavar="R", help="the subscriber's address")
    e.add_argument("--domain", required=True, metavar="D", help="the return-path domain")
    e.add_argument("--campaign", metavar="C", help="campaign id (A-Z a-z 0-9 . _ -)")
    e.add_argument("--verp-secret", metavar="S", help="sign with this secret (default:"
                   " the first of verp.secrets in the config)")
    e.set_defaults(func=cmd_verp_encode)
    d = vsub.add_parser("decode", help="decode (and verify) a bounce address")
    d.add_argument("--config", metavar="FILE", help="TOML configuration file")
    d.add_argument("address", metavar="ADDRESS", help="the bounce address to decode")
    d.add_argument("--verp-secret", action="append", metavar="S",
                   help="verify with this secret (repeatable; default: verp.secrets)")
    d.set_defaults(func=cmd_verp_decode)

    p = sub.add_parser("campaign", help="campaign bookkeeping for report rates")
    csub = p.add_subparsers(dest="campaign_command", metavar="ACTION")
    csub.required = True
    s = csub.add_parser("sent", help="record how many messages a campaign sent")
    add_store_options(s)
    s.add_argument("campaign", metavar="C", help="campaign id")
    s.add_argument("sent", metavar="N", help="messages the campaign sent")
    s.set_defaults(func=cmd_campaign_sent)

    p = sub.add_parser("report", help="bounce counts and rates per campaign and per domain")
    add_store_options(p)
    p.add_argument("--campaign", metavar="C", help="only this campaign")
    p.add_argument("--since", metavar="ISO-TIME", help="only bounces since this time")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("suppress", help="suppress an address by hand")
    add_store_options(p)
    p.add_argument("address", metavar="ADDRESS", help="the address to suppress")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why, for the history")
    p.set_defaults(func=cmd_suppress)

    p = sub.add_parser("unsuppress", help="lift a suppression (the history stays)")
    add_store_options(p)
    p.add_argument("address", metavar="ADDRESS", help="the address to lift the suppression of")
    p.add_argument("--reason", default="", metavar="TEXT", help="why, for the history")
    p.set_defaults(func=cmd_unsuppress)

    p = sub.add_parser("why", help="an address's history and the rule behind each decision")
    add_store_options(p)
    p.add_argument("address", metavar="ADDRESS", help="the address whose history to show")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_why)

    p = sub.add_parser("export", help="export suppressed addresses")
    add_store_options(p)
    p.add_argument("--format", default="csv", choices=exportmod.FORMATS,
                   help="file format: csv, jsonl or a tool's import format (default csv)")
    p.add_argument("--since", metavar="ISO-TIME", help="only suppressions since this time")
    p.add_argument("--cursor", metavar="NAME",
                   help="export only what is new since the last export under this name")
    p.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout;"
                   " a regular file or a new path only. With ses --include-removals: FILE's"
                   " name with .put / .delete before its suffix, one file per import action")
    p.add_argument("--type", action="append", metavar="TYPE",
                   help="only these types (hard, soft, complaint, manual; repeatable or"
                        " comma-separated): e.g. complaints and bounces as separate imports")
    p.add_argument("--include-removals", action="store_true",
                   help="also unsuppressions, in commit order, with an action column"
                        " (suppress / unsuppress); csv, jsonl and ses")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func=cmd_export)


def parse_time(value, flag="--since"):
    from bouncesink.cli.core import parse_time as _parse_time

    return _parse_time(value, flag)


def _address(value: str) -> str:
    value = value.strip().strip("<>")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in value):
        raise CLIError(f"not an email address: {value!r}", 2)
    return value


# -- verp --------------------------------------------------------------------------------------
def cmd_verp_encode(args) -> int:
    from bouncesink import verp as verpmod

    cfg = load_config(args)
    secret = args.verp_secret or (cfg.verp.secrets[0] if cfg.verp.secrets else None)
    try:
        print(verpmod.encode(args.recipient, args.domain, prefix=cfg.verp.prefix,
                             delimiter=cfg.verp.delimiter, campaign=args.campaign,
                             secret=secret))
    except verpmod.VerpError as exc:
        raise CLIError(str(exc), 2) from None
    return 0


def cmd_verp_decode(args) -> int:
    from bouncesink import verp as verpmod

    cfg = load_config(args)
    secrets = tuple(args.verp_secret or cfg.verp.secrets)
    try:
        v = verpmod.decode(args.address, prefix=cfg.verp.prefix, delimiter=cfg.verp.delimiter)
    except verpmod.VerpError as exc:
        raise CLIError(str(exc), 2) from None
    if v is None:
        raise CLIError(f"not a VERP address (prefix {cfg.verp.prefix}{cfg.verp.delimiter}):"
                       f" {args.address!r}", 2)
    out = {"recipient": v.recipient, "campaign": v.campaign, "signed": v.signed}
    if v.signed:
        out["day"] = v.day
    if secrets:
        try:
            verpmod.verify(v, secrets, expiry_days=cfg.verp.expiry_days)
            out["valid"] = True
        except verpmod.VerpError as exc:
            out["valid"] = False
            out["error"] = exc.kind
    print(json.dumps(out))
    return 0 if out.get("valid", True) else 1


# -- campaigns and report ------------------------------------------------------------------------
def cmd_campaign_sent(args) -> int:
    from bouncesink import verp as verpmod

    try:
        n = int(args.sent)
        if n < 0:
            raise ValueError
    except ValueError:
        raise CLIError(f"sent count must be a whole number >= 0, got {args.sent!r}", 2) from None
    try:
        verpmod.check_campaign(args.campaign)
    except verpmod.VerpError:
        if not args.campaign.strip() or len(args.campaign) > 200:
            raise CLIError(f"bad campaign id {args.campaign!r}", 2) from None
    with opened_store(args) as (_, store):
        store.set_campaign_sent(args.campaign, n)
    return 0


def rates(report: dict) -> dict:
    """The report with rates: distinct recipients of each type per message sent."""
    out = {"campaigns": {}, "domains": {}}
    for name, part in report["campaigns"].items():
        sent = part["sent"]
        row = {"sent": sent}
        for t in REPORT_TYPES:
            n, distinct = part["types"].get(t, [0, 0])
            row[t] = n
            row[f"{t}_rate"] = round(distinct / sent, 6) if sent else None
        out["campaigns"][name] = row
    for name, types in report["domains"].items():
        row = {t: types.get(t, [0, 0])[0] for t in REPORT_TYPES}
        row["total"] = sum(v[0] for v in types.values())
        out["domains"][name] = row
    return out


def cmd_report(args) -> int:
    since = parse_time(args.since)
    with opened_store(args) as (_, store):
        rep = rates(store.report(campaign=args.campaign, since=since))
    if args.json:
        print(json.dumps(rep, indent=2))
        return 0
    head = f"{'campaign':<32} {'sent':>9}" + "".join(f" {t:>18}" for t in REPORT_TYPES)
    print(head)
    for name, row in sorted(rep["campaigns"].items()):
        cells = []
        for t in REPORT_TYPES:
            rate = row[f"{t}_rate"]
            cells.append(f"{row[t]} ({rate:.2%})" if rate is not None else str(row[t]))
        sent = row["sent"] if row["sent"] is not None else "-"
        print(f"{(name or '(none)')[:32]:<32} {sent:>9}" + "".join(f" {c:>18}" for c in cells))
    print(f"\n{'receiving domain':<32} {'total':>9}" + "".join(f" {t:>18}" for t in REPORT_TYPES))
    domains = sorted(rep["domains"].items(), key=lambda kv: (-kv[1]["total"], kv[0]))
    for name, row in domains[:50]:
        print(f"{(name or '(none)')[:32]:<32} {row['total']:>9}"
              + "".join(f" {row[t]:>18}" for t in REPORT_TYPES))
    return 0


# -- people ---------------------------------------------------------------------------------
def cmd_suppress(args) -> int:
    address = _address(args.address)
    if not args.reason.strip():
        raise CLIError("--reason must not be empty", 2)
    with opened_store(args) as (_, store):
        store.suppress_manual(address, args.reason.strip()[:500])
    print(f"suppressed {address.lower()}")
    return 0


def cmd_unsuppress(args) -> int:
    address = _address(args.address)
    with opened_store(args) as (_, store):
        done = store.unsuppress(address, args.reason.strip()[:500])
    if not done:
        raise CLIError(f"{address.lower()} is not suppressed", 1)
    print(f"unsuppressed {address.lower()}")
    return 0


def cmd_why(args) -> int:
    from bouncesink.history import escape_controls as esc
    from bouncesink.history import timeline

    address = _address(args.address)
    with opened_store(args) as (_, store):
        h = store.history(address)
    t = timeline(h)
    if args.json:
        # The API's shape (email, suppressed, suppression, history) plus, as before, the
        # raw results (each with its recorded decision or null) and events.
        decisions = {i["result_id"]: i["decision"] for i in t["history"] if i["kind"] == "result"}
        results = [dict(r, decision=decisions[r["id"]]) for r in h["results"]]
        print(json.dumps({**t, "address": h["address"], "results": results,
                          "events": h["events"]}, indent=2))
        return 0
    if not t["history"]:
        print(f"{esc(t['email'])}: no bounces and no decisions recorded")
        return 0
    s = t["suppression"]
    state = (f"SUPPRESSED since {s['since']} ({esc(s['type'])}: {esc(s['reason'])})"
             if t["suppressed"] else "not suppressed")
    print(f"{esc(t['email'])}: {state}")
    print()
    for item in t["history"]:
        if item["kind"] == "result":
            d = item["decision"]
            decided = (f"-> {d['action']}: {esc(d['rule'])}" if d else
                       "-> no decision recorded (stored before decisions to ignore were kept)")
            print(f"  {item['at']}  bounce {esc(item['type']) or '-'}/{esc(item['reason']) or '-'}"
                  f"  {esc(item['status'])}  campaign={esc(item['campaign']) or '-'}  {decided}")
            if item["diagnostic"]:
                print(f"      {esc(item['diagnostic'])[:200]}")
        else:
            print(f"  {item['at']}  {item['action']:<10} {esc(item['reason']) or '-'}"
                  f" by {esc(item['actor'])}: {esc(item['rule'])}")
    return 0


# -- export -----------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr; only on a terminal."""

    def __init__(self, total, stream=None, enabled: bool = True) -> None:
        """`total` is a callable, called only on a terminal (counting costs a scan)."""
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.total = total() if self.enabled else 0
        self.enabled = self.enabled and self.total > 0
        self.last = -1

    def update(self, n: int) -> None:
        if not self.enabled:
            return
        pct = min(100, n * 100 // self.total)
        if pct != self.last:
            self.last = pct
            bar = "#" * (pct // 4)
            self.stream.write(f"\rexport [{bar:<25}] {pct:3d}% {n}/{self.total}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


EXPORT_TYPES = ("hard", "soft", "complaint", "manual")


def _types(values) -> frozenset | None:
    if not values:
        return None
    types = {t.strip() for v in values for t in v.split(",") if t.strip()}
    bad = sorted(types - set(EXPORT_TYPES))
    if bad:
        raise CLIError(f"--type: {bad[0]!r} is not one of {', '.join(EXPORT_TYPES)}", 2)
    return frozenset(types)


def check_output_path(path: str) -> Path:
    """The target of --output, if it is a regular file or a new path; else a CLIError.

    A symlink, FIFO, device or directory is refused: replacing it by rename would destroy
    what it is (run as root, a device node), and writing through it would go elsewhere."""
    import stat

    target = Path(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise CLIError(f"{path}: no such directory {str(target.parent)!r}") from None
        return target
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}", 2) from None
    if stat.S_ISLNK(st.st_mode):
        raise CLIError(f"{path}: is a symbolic link; --output writes regular files only", 2)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise CLIError(f"{path}: is {kind}; --output writes regular files only", 2)
    return target


class AtomicFile:
    """A temporary file beside the target (created exclusively, never through a link),
    renamed over it on commit(); removed if the export fails."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o644)
        except OSError as exc:
            raise CLIError(f"{target}: {exc.strerror or exc}") from None
        self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        check_output_path(str(self.target))   # not swapped for a link meanwhile
        os.replace(self.tmp, self.target)
        self.tmp = None

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def ses_action_paths(output: str) -> tuple[Path, Path]:
    """out.csv -> out.put.csv, out.delete.csv (SES import jobs take one action each)."""
    p = Path(output)
    return (p.with_name(f"{p.stem}.put{p.suffix}"), p.with_name(f"{p.stem}.delete{p.suffix}"))


def cmd_export(args) -> int:
    since = parse_time(args.since)
    types = _types(args.type)
    if args.cursor is not None and not args.cursor.strip():
        raise CLIError("--cursor needs a name", 2)
    if args.include_removals and args.format not in exportmod.REMOVAL_FORMATS:
        raise CLIError(f"--include-removals: the {args.format} format cannot say that an"
                       f" address is no longer suppressed (use {', '.join(exportmod.REMOVAL_FORMATS)})",
                       2)
    if args.format == "postfix" and (args.cursor or args.since):
        # A map is looked up whole: one missing key is one address mail goes to again.
        raise CLIError("the postfix map is always a complete snapshot: --cursor and --since"
                       " do not apply (postmap the whole file)", 2)
    ses_split = args.format == "ses" and args.include_removals
    if ses_split and not args.output:
        raise CLIError("ses with --include-removals writes two files (PUT and DELETE):"
                       " give --output", 2)
    targets = ([check_output_path(str(p)) for p in ses_action_paths(args.output)] if ses_split
               else [check_output_path(args.output)] if args.output else [])
    cursor_name = (f"{args.cursor}+removals" if args.include_removals else args.cursor) \
        if args.cursor else None
    _, store = open_store_for(args)
    files: list[AtomicFile] = []
    try:
        after = store.cursor(cursor_name) if cursor_name else 0
        if args.include_removals:
            rows = store.change_rows(after, since)
            progress = Progress(lambda: 0, enabled=False)
        else:
            rows = store.suppressions(since, after)
            progress = Progress(lambda: store.count_suppressions(since, after),
                                enabled=not args.no_progress)
        if types is not None:
            rows = (r for r in rows if r["type"] in types)
        stats: dict = {}
        files = [AtomicFile(t) for t in targets]
        if ses_split:
            put, delete = files
            split_stats = {"suppress": {}, "unsuppress": {}}
            last = {"seq": 0}

            # One pass over the rows, two outputs: rows go to the file of their action.
            for r in rows:
                last["seq"] = r["seq"]
                out = put if r["action"] == "suppress" else delete
                for chunk in exportmod.render("ses", [r], split_stats[r["action"]]):
                    out.fh.write(chunk)
                stats["rows"] = stats.get("rows", 0) + 1
                stats["skipped"] = stats.get("skipped", 0) + split_stats[r["action"]].get("skipped", 0)
                split_stats[r["action"]]["skipped"] = 0
            stats["last_seq"] = last["seq"]
        else:
            out = files[0].fh if files else sys.stdout
            for chunk in exportmod.render(args.format, rows, stats,
                                          removals=args.include_removals):
                out.write(chunk)
                progress.update(stats["rows"])
            out.flush()
        for f in files:
            f.commit()
        progress.done()
        # Only after the rows are out: a failed export is exported again next time.
        if cursor_name and stats.get("rows"):
            store.set_cursor(cursor_name, stats["last_seq"])
        written = stats.get("rows", 0) - stats.get("skipped", 0)
        if stats.get("skipped"):
            why = ("SES takes ASCII addresses only" if args.format == "ses" else
                   f"the {args.format} format cannot hold them")
            print(f"bouncesink: skipped {stats['skipped']} address(es): {why}", file=sys.stderr)
        if targets:
            names = " and ".join(str(t) for t in targets)
            print(f"bouncesink: wrote {written} row(s) to {names}", file=sys.stderr)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise CLIError(f"export failed: {exc.strerror or exc}") from None
    finally:
        for f in files:
            f.discard()
        store.close()
    return 0
