"""Enhanced status codes (RFC 3463, registry of RFC 5248) -> reason, and back.

`REASON_BY_STATUS` names the reason a status code stands for on its own. Some codes are
vague in practice (x.0.0, 5.7.1 is sent for anything from a DNSBL hit to "user unknown"
behind a filter), those map to a reason too but are listed in `WEAK` so that the classifier
lets the diagnostic text decide first.

`PSEUDO` is the reverse table: when a bounce gives no status at all (qmail, Exchange 2003,
Notes, many text-only bounces) we report a pseudo code x.0.9NN in the style of Sisimai, so
that results from status-less bounces still carry a stable status value.
"""

from __future__ import annotations

import re

STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")

REASON_BY_STATUS: dict[str, str] = {
    # X.1.X addressing
    "x.1.0": "userunknown",   # other address status
    "x.1.1": "userunknown",   # bad destination mailbox address
    "x.1.2": "hostunknown",   # bad destination system address
    "x.1.3": "userunknown",   # bad destination mailbox address syntax
    "x.1.4": "userunknown",   # destination mailbox address ambiguous
    "x.1.5": "delivered",     # destination address valid
    "x.1.6": "hasmoved",      # destination mailbox has moved, no forwarding address
    "x.1.7": "rejected",      # bad sender's mailbox address syntax
    "x.1.8": "rejected",      # bad sender's system address
    "x.1.9": "systemerror",   # message relayed to non-compliant mailer
    "x.1.10": "notaccept",    # recipient address has null MX (RFC 7505)
    # X.2.X mailbox
    "x.2.0": "filtered",      # other or undefined mailbox status
    "x.2.1": "filtered",      # mailbox disabled, not accepting messages: Sisimai reads a
                              # filter (au, Yahoo Japan answer 5.2.1 to senders they refuse)
    "x.2.2": "mailboxfull",   # mailbox full
    "x.2.3": "exceedlimit",   # message length exceeds administrative limit
    "x.2.4": "systemerror",   # mailing list expansion problem
    # X.3.X mail system
    # x.3.0 "other or undefined mail system status": names nothing (Sisimai: onhold)
    "x.3.1": "systemfull",    # mail system full
    "x.3.2": "notaccept",     # system not accepting network messages
    "x.3.3": "systemerror",   # system not capable of selected features
    "x.3.4": "mesgtoobig",    # message too big for system
    "x.3.5": "systemerror",   # system incorrectly configured
    "x.3.6": "systemerror",
    # X.4.X network and routing
    "x.4.0": "networkerror",
    "x.4.1": "networkerror",  # no answer from host (4.4.1: see REASON_BY_FULL_STATUS)
    "x.4.2": "networkerror",  # bad connection
    "x.4.3": "systemerror",   # directory server failure
    "x.4.4": "hostunknown",   # unable to route
    "x.4.5": "systemfull",    # mail system congestion (Sendmail 452 4.4.5 "Insufficient disk space")
    "x.4.6": "networkerror",  # routing loop detected
    "x.4.7": "expired",       # delivery time expired
    # X.5.X mail delivery protocol
    "x.5.0": "syntaxerror",
    "x.5.1": "syntaxerror",   # invalid command
    "x.5.2": "syntaxerror",   # syntax error
    "x.5.3": "exceedlimit",   # too many recipients
    "x.5.4": "syntaxerror",   # invalid command arguments
    "x.5.5": "syntaxerror",   # wrong protocol version
    "x.5.6": "syntaxerror",   # authentication exchange line too long
    # X.6.X message content or media
    "x.6.0": "contenterror",
    "x.6.1": "contenterror",
    "x.6.2": "contenterror",
    "x.6.3": "contenterror",
    "x.6.4": "contenterror",
    "x.6.5": "contenterror",
    "x.6.6": "contenterror",
    "x.6.7": "contenterror",
    "x.6.8": "contenterror",
    "x.6.9": "contenterror",
    "x.6.10": "contenterror",
    # X.7.X security or policy
    "x.7.0": "securityerror",
    "x.7.1": "securityerror", # delivery not authorized, message refused: sent for anything
                              # from a DNSBL hit to a filter, so the words decide first
    "x.7.2": "systemerror",   # mailing list expansion prohibited
    "x.7.3": "securityerror",
    "x.7.4": "securityerror",
    "x.7.5": "securityerror",
    "x.7.6": "securityerror",
    "x.7.7": "securityerror",
    "x.7.8": "securityerror",  # authentication credentials invalid
    "x.7.9": "securityerror",  # authentication mechanism is too weak (RFC 4954); Yahoo's own
                               # 5.7.9 "not accepted for policy reasons" is read from its words
    "x.7.10": "securityerror",
    "x.7.11": "securityerror",
    "x.7.12": "securityerror",
    "x.7.13": "suspend",       # user account disabled
    "x.7.14": "securityerror",
    "x.7.15": "securityerror",
    "x.7.16": "securityerror",
    "x.7.17": "hasmoved",      # mailbox owner has changed
    "x.7.18": "hasmoved",      # domain owner has changed
    "x.7.19": "securityerror",
    "x.7.20": "authfailure",   # no passing DKIM signature found
    "x.7.21": "authfailure",
    "x.7.22": "authfailure",
    "x.7.23": "authfailure",   # SPF validation failed
    "x.7.24": "authfailure",   # SPF validation error
    "x.7.25": "requireptr",    # reverse DNS validation failed
    "x.7.26": "authfailure",   # multiple authentication checks failed (Gmail: DMARC)
    "x.7.27": "rejected",      # sender address has null MX (RFC 7505 s.4.2): the sender's
                               # domain refused, not the recipient's
    "x.7.28": "spamdetected",  # mail flood detected
    "x.7.29": "authfailure",   # ARC validation failure
    "x.7.30": "securityerror", # REQUIRETLS support required
}

# Microsoft 365 / Exchange Online detail codes (learn.microsoft.com "Email non-delivery
# reports and SMTP errors in Exchange Online", one page per code): three-digit details (and
# a few two-digit ones RFC 3463 leaves undefined) that name the cause exactly. Sisimai's
# lib/sisimai/rhost/microsoft.rb files the same codes; its vocabulary decides the reason
# where the page's cause spans two of ours (a tenant over its spam threshold is "speeding").
REASON_BY_FULL_STATUS: dict[str, str] = {
    "4.4.316": "expired", "5.4.316": "expired",           # message expired, connection refused
    "5.4.300": "expired",                                 # message expired
    "4.4.312": "networkerror", "5.4.312": "networkerror",  # DNS query failed
    "5.4.14": "networkerror",                             # hop count exceeded, possible mail loop
    "4.4.317": "securityerror", "5.4.317": "securityerror",  # STARTTLS is required to send mail
    "4.7.321": "securityerror", "5.7.321": "securityerror",  # starttls-not-supported
    "5.7.322": "securityerror", "5.7.323": "securityerror",  # certificate-expired, tlsa-invalid (DANE)
    "5.7.324": "securityerror",                           # dnssec-invalid
    "5.7.57": "securityerror",                            # client was not authenticated (anonymous)
    "4.4.318": "systemerror", "5.4.318": "systemerror",   # suspicious remote server error
    "4.4.24": "systemerror", "4.4.25": "systemerror", "4.4.28": "systemerror",  # replication
    "4.7.500": "systemerror", "4.7.700": "systemerror",   # server busy / PFA agent busy
    "5.2.14": "systemerror", "5.3.190": "systemerror",    # misconfigured forwarding, journaling
    "5.1.351": "userunknown",                             # remote server: unknown recipient
    "5.7.509": "authfailure", "5.7.515": "authfailure",   # DMARC reject / auth level too low
    "5.7.506": "blocked", "5.7.507": "blocked", "5.7.510": "blocked", "5.7.511": "blocked",
    "5.7.513": "blocked",                                 # bad HELO, IPv6, banned sender, block list
    "5.7.606": "blocked", "5.7.607": "blocked", "5.7.608": "blocked", "5.7.609": "blocked",
    "4.7.650": "badreputation", "4.7.651": "badreputation", "4.7.652": "badreputation",
    "5.7.504": "suspend", "5.7.505": "suspend",           # recipient address rejected / banned recipient
    "5.7.508": "speeding", "5.7.705": "speeding", "5.7.708": "speeding",  # over limits / threshold
    "5.2.121": "speeding", "5.2.122": "speeding", "5.1.90": "speeding",   # per-hour / daily limits
    "5.7.64": "norelaying",                               # TenantAttribution; relay access denied
    "5.7.124": "rejected", "5.7.512": "rejected", "5.7.750": "rejected",  # sender not allowed
    "5.7.520": "policyviolation",                         # the organization forbids external forwarding
    "5.7.133": "rejected", "5.7.134": "rejected", "5.7.135": "rejected", "5.7.136": "rejected",
}

# Where a code's class changes its reading (RFC 3463 s.3.1: 4.X.X persistent transient, 5.X.X
# permanent): 4.2.1 is a mailbox temporarily disabled, 5.2.1 a refusal; 4.7.1 a client not yet
# allowed, 5.7.1 anything "not authorized"; and codes the RFC 5248 registry added with a
# meaning of their own (X.7.16 "Message too big for the recipient", X.5.3 too many recipients
# at once). Unlike REASON_BY_FULL_STATUS these are readings of the status alone: a text rule
# that names a cause still decides first. The same class-specific table is in Sisimai's
# lib/sisimai/smtp/status.rb, whose reason vocabulary we share.
REASON_BY_CLASS_STATUS: dict[str, str] = {
    "4.2.1": "suspend", "4.2.4": "filtered", "5.2.4": "filtered",
    "4.4.4": "networkerror",                 # unable to route, for now: not a dead domain
    "4.5.3": "systemerror", "5.5.3": "toomanyconn",
    "4.7.1": "blocked", "4.7.2": "blocked",
    "4.7.16": "mesgtoobig", "5.7.16": "mesgtoobig",
    "5.1.4": "filtered",                     # destination mailbox address ambiguous
    "5.5.4": "systemerror", "5.5.5": "systemerror",
    "5.7.2": "securityerror",
    "4.4.8": "networkerror",
}

# Codes whose reason counts only after every text rule (Sisimai: "5.6.0 scored as spam" is
# spamdetected, not contenterror).
LATE = frozenset({"x.6.0"})

# Codes too generic to decide on their own: the diagnostic text, when it says something
# recognisable, wins over them.
WEAK = frozenset({
    "x.0.0", "x.1.0", "x.1.1", "x.1.3", "x.1.4", "x.1.2", "x.2.0", "x.2.1", "x.3.0", "x.3.2",
    "x.3.5", "x.4.0", "x.4.2", "x.4.4", "x.4.5", "x.4.7", "x.5.0", "x.5.1",
    "x.5.2", "x.5.3", "x.5.4", "x.6.0", "x.7.0", "x.7.1", "x.7.7", "x.7.8", "x.7.13", "x.7.27",
})

# Reason -> pseudo status, last part, for bounces that carry no status (Sisimai's scheme).
PSEUDO: dict[str, str] = {
    "undefined": "900", "onhold": "901", "syntaxerror": "902", "norelaying": "909",
    "filtered": "910", "userunknown": "911", "hostunknown": "912", "hasmoved": "916",
    "rejected": "918", "suspend": "921", "mailboxfull": "922", "exceedlimit": "923",
    "systemerror": "930", "systemfull": "931", "notaccept": "932", "mesgtoobig": "934",
    "mailererror": "939", "networkerror": "944", "toomanyconn": "945", "expired": "947",
    "contenterror": "960", "securityerror": "970", "blocked": "971", "requireptr": "973",
    "authfailure": "974", "badreputation": "975", "speeding": "976", "policyviolation": "977",
    "spamdetected": "980", "virusdetected": "981",
}


def normalise(status: str) -> str:
    """First well-formed enhanced status code in `status`, or ""."""
    m = STATUS_RE.search(status or "")
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else ""


def generic(status: str) -> str:
    """'5.1.1' -> 'x.1.1' (the class digit does not change the meaning, RFC 3463 s.3)."""
    return "x" + status[1:] if status else ""


def reason_for(status: str) -> str:
    """The reason a status code names, or "" when it names none."""
    if not status:
        return ""
    if status[0] == "2":
        return "delivered"
    full = REASON_BY_FULL_STATUS.get(status)
    if full:
        return full
    if status == "4.4.1":
        return "expired"  # no answer from host yet, still retrying: Sisimai's "expired"
    return REASON_BY_CLASS_STATUS.get(status) or REASON_BY_STATUS.get(generic(status), "")


def is_weak(status: str) -> bool:
    return not status or generic(status) in WEAK or status.endswith(".0.0") or ".0.9" in status


def pseudo(reason: str, temporary: bool) -> str:
    code = PSEUDO.get(reason)
    if not code:
        return ""
    return f"{'4' if temporary else '5'}.0.{code}"
