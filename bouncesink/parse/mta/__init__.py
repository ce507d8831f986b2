"""MTA detectors: one module per MTA family, run from the one ordered list below.

Each module provides:
    NAME                      "mta.<family>"
    sniff(ctx) -> bool        cheap test on From / Subject / headers / body markers
    detect(ctx) -> [Result]   for a bounce without a usable delivery-status part
    amend(ctx, results)       optional: complete an incomplete RFC 3464 DSN; True if it did

`candidates(ctx)` returns the modules whose sniff accepts the message, in list order, so a
message is only run through the detectors that can be about it.
"""

from __future__ import annotations

from importlib import import_module

# Order matters where sniffs overlap: specific products before the generic MTAs they run on.
_ORDER = (
    "amazonses",      # JSON notifications: before anything that scans text for addresses
    "googlegroups",   # before gmail: same sender, different meaning
    "gmail",
    "fml",            # mailing-list notices, before anything reading bounce text
    "powermta",
    "mcafee",
    "receivingses",
    "zoho",
    "gmx",            # before exim: Exim-derived text
    "dragonfly",
    "yahoo",          # before qmail: qmail-derived text
    "mfilter",
    "mailmarshal",    # before imailserver: same "Undeliverable Mail" subject
    "apachejames",    # before qmail: qmail-like opening words
    "verizon",
    "mailfoundry",
    "biglobe",
    "kddi",
    "lotusnotes",
    "opensmtpd",
    "courier",        # its "UNDELIVERABLE MAIL" heading ends the generic text section
    "office365",      # before exchange2003: "could not be delivered to" is in both
    "exchange2003",
    "imailserver",
    "interscanmss",
    "qmail",
    "sendmail",       # V5 / non-DSN V8 transcripts
    "exim",           # last: its sniff (X-Failed-Recipients) is the broadest
)

DETECTORS = tuple(import_module(f"{__name__}.{name}") for name in _ORDER)
_SNIFFS = tuple((mod, mod.sniff) for mod in DETECTORS)  # run on every message


def candidates(ctx) -> list:
    out = []
    for mod, sniff in _SNIFFS:
        try:
            if sniff(ctx):
                out.append(mod)
        except Exception:
            continue
    return out
