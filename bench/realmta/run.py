"""Ground truth from real MTAs: print, per MTA and case, what bouncesink made of the DSN.

    python bench/realmta/run.py                    # Postfix and Exim, every case
    python bench/realmta/run.py --mta exim --case refused -v
    python bench/realmta/run.py --save-dsn DIR     # keep each genuine DSN as DIR/<mta>-<case>.eml

Needs root (both MTAs start as root and drop to their own users), Postfix from Debian's
package and Exim unpacked under /opt/exim (.ci/system-packages does both). An MTA that
cannot run here is skipped with the reason. The table: MTA, case, expected reason/type,
what the sink stored, whether type and reason are right, the rule that decided. Then one
line per MTA: type right N/N, reason right N/N (%), DSNs stored more than once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.realmta import harness  # noqa: E402
from bench.realmta.cases import CASES, by_name  # noqa: E402


def relevant_lines(dsn: bytes, limit: int = 14) -> list[str]:
    """The lines of a DSN that carry the failure: per-recipient fields and the human text
    about the recipient (what a finding quotes)."""
    keys = ("action:", "status:", "diagnostic-code:", "final-recipient:", "remote-mta:")
    text = dsn.decode("utf-8", "replace").splitlines()
    out, cont = [], False
    for line in text:
        low = line.strip().lower()
        if low.startswith("content-type: message/rfc822"):
            break
        if line[:1] in " \t" and cont:
            out.append(line.rstrip())
            continue
        cont = False
        if low.startswith(keys) or (low.startswith("<") and "@" in low) or any(w in low for w in (" said:", "smtp error", "retry timeout",
                                                           "unrouteable", "host or domain",
                                                           "connection refused")):
            out.append(line.rstrip())
            cont = True
    return out[:limit]


def table(outcomes: list[harness.Outcome]) -> list[str]:
    rows = [("MTA", "case", "expected", "got", "type", "reason", "rule")]
    for o in outcomes:
        r = o.result
        rows.append((o.mta, o.case.name, f"{'|'.join(o.reasons)}/{o.case.type}", o.got(),
                     "-" if o.void else "ok" if o.type_ok else "WRONG",
                     "-" if o.void else "ok" if o.reason_ok else "WRONG",
                     (r.rule or "") if r else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    return ["  ".join(c.ljust(w) for c, w in zip(row[:6], widths)) + "  " + row[6]
            for row in rows]


def summary(outcomes: list[harness.Outcome]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for o in outcomes:
        s = out.setdefault(o.mta, {"cases": 0, "recipient": 0, "type": 0, "reason": 0,
                                   "duplicates": 0, "missing": 0, "void": 0})
        if o.void:
            s["void"] += 1
            continue
        s["cases"] += 1
        s["recipient"] += o.recipient_ok
        s["type"] += o.type_ok
        s["reason"] += o.reason_ok
        s["duplicates"] += o.dsns > 1
        s["missing"] += o.dsns == 0
    for s in out.values():
        s["reason_pct"] = 100.0 * s["reason"] / s["cases"] if s["cases"] else 0.0
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mta", action="append", choices=sorted(harness.DRIVERS),
                    help="MTA to run (repeatable; default: all)")
    ap.add_argument("--case", action="append", metavar="NAME",
                    help=f"case to run (repeatable; default: all {len(CASES)})")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="for each wrong case, the DSN's relevant lines")
    ap.add_argument("--keep", metavar="DIR", help="work directory to keep (configs, logs)")
    ap.add_argument("--save-dsn", metavar="DIR", help="write each DSN as DIR/<mta>-<case>.eml")
    args = ap.parse_args(argv)
    try:
        cases = by_name(args.case)
    except ValueError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    why = harness.dead_domain_unavailable()
    if why and any(c.route == "dead" for c in cases):
        print(f"skipped case dead-domain: {why}")
        cases = tuple(c for c in cases if c.route != "dead")
    mtas = []
    for name in args.mta or sorted(harness.DRIVERS, reverse=True):
        why = harness.unavailable(name)
        if why:
            print(f"skipped {name}: {why}")
        else:
            mtas.append(name)
    if not mtas:
        print("realmta: no MTA can run here")
        return 1
    t0 = time.monotonic()
    outcomes = harness.run(mtas, cases, workdir=Path(args.keep) if args.keep else None)
    elapsed = time.monotonic() - t0
    print("\n".join(table(outcomes)))
    if args.verbose:
        for o in outcomes:
            if not o.void and not (o.type_ok and o.reason_ok):
                print(f"\n--- {o.mta} {o.case.name}: expected {'|'.join(o.reasons)}/"
                      f"{o.case.type}, got {o.got()} ({o.result.rule if o.result else ''})")
                print("\n".join("    " + ln for ln in relevant_lines(o.dsn)) or "    (no DSN)")
    if args.save_dsn:
        d = Path(args.save_dsn)
        d.mkdir(parents=True, exist_ok=True)
        for o in outcomes:
            if o.dsn:
                (d / f"{o.mta}-{o.case.name}.eml").write_bytes(o.dsn)
    print()
    for mta, s in summary(outcomes).items():
        print(f"{mta}: cases {s['cases']}, recipient {s['recipient']}/{s['cases']},"
              f" type right {s['type']}/{s['cases']}, reason right {s['reason']}/{s['cases']}"
              f" ({s['reason_pct']:.1f}%), DSNs missing {s['missing']},"
              f" stored more than once {s['duplicates']}"
              + (f", not judged {s['void']} (see the table)" if s["void"] else ""))
    print(f"run time {elapsed:.1f} s ({len(cases)} cases x {len(mtas)} MTAs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
