"""Plain data shared by every layer: the result record, the reason vocabulary, result types.

Nothing here does I/O. The parser produces `Parsed`, the classifier fills in `reason`,
`type` and `rule` on each `Result`, the store persists them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

# The reason vocabulary of Sisimai, so our results compare 1:1 with the best open analyser.
REASONS: tuple[str, ...] = (
    "userunknown", "hostunknown", "mailboxfull", "mesgtoobig", "exceedlimit", "filtered",
    "rejected", "blocked", "spamdetected", "virusdetected", "policyviolation", "authfailure",
    "requireptr", "badreputation", "speeding", "toomanyconn", "norelaying", "notaccept",
    "notcompliantrfc", "securityerror", "syntaxerror", "systemerror", "systemfull",
    "mailererror", "networkerror", "expired", "suspend", "hasmoved", "contenterror", "onhold",
    "undefined", "feedback", "vacation", "delivered",
)

# Result types. hard/soft are failures; the rest are reports that are not failures.
HARD, SOFT, COMPLAINT, AUTOREPLY, DELAY, DELIVERED = (
    "hard", "soft", "complaint", "autoreply", "delay", "delivered",
)
TYPES: tuple[str, ...] = (HARD, SOFT, COMPLAINT, AUTOREPLY, DELAY, DELIVERED)

# Reasons that say the address itself is dead. notaccept is hard only when permanent
# (a null MX, RFC 7505, answers 5xx); that check is the classifier's.
HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved"})

# Reasons that are the sender's problem (its IP, domain, content or authentication),
# never the recipient address's: they alert, and never count against the address.
SENDER_SIDE_REASONS = frozenset({
    "blocked", "spamdetected", "badreputation", "authfailure", "requireptr",
    "policyviolation", "speeding", "toomanyconn", "norelaying", "securityerror",
})

# Message kinds recorded per stored message.
KIND_DSN = "dsn"
KIND_ARF = "arf"
KIND_AUTOREPLY = "autoreply"
KIND_UNRECOGNISED = "unrecognised"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class Result:
    """One recipient's outcome, as parsed from one message and then classified."""

    recipient: str | None
    action: str = ""            # RFC 3464 Action: failed, delayed, delivered, relayed, expanded
    status: str = ""            # enhanced status code, RFC 3463, e.g. "5.1.1"
    reply_code: str = ""        # SMTP reply code, e.g. "550"
    diagnostic: str = ""        # the remote server's words, one line
    reason: str = ""            # one of REASONS
    type: str = ""              # one of TYPES
    rule: str = ""              # what decided reason/type: "status 5.1.1", "text: ..."
    reporting_mta: str = ""
    remote_mta: str = ""
    original_recipient: str = ""
    last_attempt: str = ""      # Last-Attempt-Date as sent
    command: str = ""           # SMTP command the failure answered (RCPT, DATA, ...)
    message_id: str = ""        # Message-ID of the original (bounced) message
    feedback_type: str = ""     # ARF Feedback-Type for complaints
    detector: str = ""          # which parser path produced this result
    # The address to suppress: the VERP recipient, else the DSN's Original-Recipient when it
    # differs from the alias-expanded Final-Recipient in `recipient`, else `recipient`.
    suppress_as: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class Parsed:
    """What the parser made of one raw message."""

    kind: str                                   # dsn, arf, autoreply, unrecognised
    results: list[Result] = field(default_factory=list)
    original: dict[str, str] = field(default_factory=dict)  # original message headers, lower-case names
    detector: str = ""                          # e.g. "rfc3464", "mta.exim", "flufl"
    errors: list[str] = field(default_factory=list)          # detector failures survived


@dataclass(slots=True)
class Envelope:
    """What the SMTP session told us about one message."""

    peer: str
    mail_from: str
    rcpt_tos: list[str]
    received_at: datetime = field(default_factory=utcnow)
    helo: str = ""
