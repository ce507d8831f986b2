"""VERP: the recipient (and a campaign) carried in the bounce address. Pure: values in and out.

The plain form is the Postfix / Mailman one, so addresses made by those tools decode too:

    bounces+alice=example.com@bounces.example.org
    PREFIX DELIM LOCAL = DOMAIN @ RETURN-PATH-DOMAIN

Extras follow the recipient's domain, each introduced by `=` and a key with `_`:

    bounces+alice=example.com=c_spring-2024=s_20215_k3x9p2qa@bounces.example.org

`c_` carries the campaign, `s_` a day stamp (days since 1970-01-01 UTC) and a tag: the first
40 bits of an HMAC-SHA256 over recipient, campaign and day, in lower-case base32. The layout
is unambiguous because a domain never contains `_` (RFC 1123 host names), while the local
part, which may contain `=` and the delimiter, is everything before the last `=DOMAIN`:
we read the extras from the right. Everything is compared case-insensitively, since some
MTAs lower-case the address they bounce to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone

TAG_CHARS = 8                       # base32 characters of the HMAC kept: 40 bits
MAX_CAMPAIGN = 64
_CAMPAIGN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DOMAIN = re.compile(r"(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_SIG = re.compile(r"(?i)s_(\d{1,6})_([a-z2-7]{%d})" % TAG_CHARS)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Why an address is refused at RCPT; the SMTP reply names it.
MISSING, INVALID, EXPIRED = "missing signature", "bad signature", "expired signature"


class VerpError(ValueError):
    """Not a valid VERP address, or one whose signature does not verify."""

    def __init__(self, message: str, kind: str = INVALID):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Verp:
    recipient: str              # the subscriber the bounce is about, lower case
    campaign: str | None = None
    day: int | None = None      # day stamp of a signed address
    tag: str | None = None      # the HMAC tag of a signed address

    @property
    def signed(self) -> bool:
        return self.tag is not None


def day_of(t: datetime) -> int:
    return (t.astimezone(timezone.utc) - _EPOCH).days


def tag(secret: str, recipient: str, campaign: str | None, day: int) -> str:
    msg = f"{recipient.lower()}\0{(campaign or '').lower()}\0{day}".encode()
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TAG_CHARS].lower()


def check_campaign(campaign: str) -> str:
    if not _CAMPAIGN.fullmatch(campaign):
        raise VerpError(f"campaign id must be 1-{MAX_CAMPAIGN} of A-Z a-z 0-9 . _ - and start"
                        f" with a letter or digit, got {campaign!r}")
    return campaign


def encode(recipient: str, domain: str, *, prefix: str = "bounces", delimiter: str = "+",
           campaign: str | None = None, secret: str | None = None,
           now: datetime | None = None) -> str:
    """The bounce address for one recipient (and campaign), signed when a secret is given."""
    recipient = recipient.strip().strip("<>")
    local, at, rdomain = recipient.rpartition("@")
    if not at or not local or not _DOMAIN.fullmatch(rdomain):
        raise VerpError(f"not an email address: {recipient!r}")
    if any(c.isspace() or c in '"<>@\\' for c in local):
        raise VerpError(f"local part cannot be carried in VERP: {recipient!r}")
    domain = domain.strip().lower().rstrip(".")
    if not _DOMAIN.fullmatch(domain):
        raise VerpError(f"not a domain name: {domain!r}")
    out = f"{prefix}{delimiter}{local}={rdomain.lower()}"
    if campaign:
        out += f"=c_{check_campaign(campaign)}"
    if secret:
        day = day_of(now or datetime.now(timezone.utc))
        out += f"=s_{day}_{tag(secret, f'{local}@{rdomain}', campaign, day)}"
    return f"{out}@{domain}"


def is_verp(address: str, *, prefix: str = "bounces", delimiter: str = "+") -> bool:
    local = address.strip().strip("<>").rpartition("@")[0]
    return local.lower().startswith(f"{prefix}{delimiter}".lower())


def decode(address: str, *, prefix: str = "bounces", delimiter: str = "+") -> Verp | None:
    """The VERP content of a bounce address; None if it is not a VERP address at all.

    Raises VerpError when it has the prefix but not the form.
    """
    local = address.strip().strip("<>").rpartition("@")[0]
    start = f"{prefix}{delimiter}"
    if not local.lower().startswith(start.lower()):
        return None
    parts = local[len(start):].split("=")
    campaign = day = sig = None
    while len(parts) > 2 and "_" in parts[-1]:
        token = parts.pop()
        m = _SIG.fullmatch(token)
        if m and sig is None and campaign is None:
            day, sig = int(m.group(1)), m.group(2).lower()
        elif token[:2].lower() == "c_" and campaign is None and _CAMPAIGN.fullmatch(token[2:]):
            campaign = token[2:]
        else:
            raise VerpError(f"malformed VERP field {token!r} in {address!r}")
    if len(parts) < 2 or not parts[-1] or not _DOMAIN.fullmatch(parts[-1]):
        raise VerpError(f"no recipient domain in VERP address {address!r}")
    rlocal = "=".join(parts[:-1])
    if not rlocal:
        raise VerpError(f"no recipient local part in VERP address {address!r}")
    return Verp(recipient=f"{rlocal}@{parts[-1]}".lower(), campaign=campaign, day=day, tag=sig)


def verify(v: Verp, secrets: tuple[str, ...] | list[str], *, expiry_days: int,
           now: datetime | None = None) -> None:
    """Raise VerpError (kind MISSING, INVALID or EXPIRED) unless `v` is signed by a secret.

    Every secret verifies, so a new one can sign while addresses from the old are in flight.
    """
    if not secrets:
        return
    if not v.signed:
        raise VerpError(f"unsigned VERP address for {v.recipient}", MISSING)
    today = day_of(now or datetime.now(timezone.utc))
    if not any(hmac.compare_digest(tag(s, v.recipient, v.campaign, v.day), v.tag)
               for s in secrets):
        raise VerpError(f"VERP signature does not verify for {v.recipient}", INVALID)
    # A stamp from the future (beyond clock skew) is as wrong as an old one.
    if today - v.day > expiry_days or v.day - today > 1:
        raise VerpError(f"VERP signature of day {v.day} expired for {v.recipient}", EXPIRED)


def decode_verified(address: str, *, prefix: str, delimiter: str, secrets, expiry_days: int,
                    now: datetime | None = None) -> Verp | None:
    """decode() then verify(); None for a non-VERP address."""
    v = decode(address, prefix=prefix, delimiter=delimiter)
    if v is not None:
        verify(v, secrets, expiry_days=expiry_days, now=now)
    return v


def first_valid(rcpt_tos, *, prefix: str, delimiter: str, secrets, expiry_days: int,
                now: datetime | None = None) -> Verp | None:
    """The first envelope recipient that is a valid VERP address (for classification)."""
    for address in rcpt_tos:
        try:
            v = decode_verified(address, prefix=prefix, delimiter=delimiter, secrets=secrets,
                                expiry_days=expiry_days, now=now)
        except VerpError:
            continue
        if v is not None:
            return v
    return None


def refusal(address: str, cfg) -> str | None:
    """The SMTP reply refusing a RCPT to `address` under VerpConfig `cfg`, or None to accept.

    With secrets, a VERP address that is malformed, unsigned, altered or expired is refused
    with 550 5.7.1, so a forged bounce is never stored, let alone counted.
    """
    try:
        decode_verified(address, prefix=cfg.prefix, delimiter=cfg.delimiter,
                        secrets=cfg.secrets, expiry_days=cfg.expiry_days)
    except VerpError as exc:
        # Without secrets a malformed VERP address is still a bounce we can read the body of.
        return f"550 5.7.1 Bounce address refused: {exc.kind}" if cfg.secrets else None
    return None


# The acting recipient of a message that carries no valid signed VERP address while one is
# required: nothing in it is evidence that we sent mail to anyone it names.
UNSIGNED = "<unsigned>"


def acting_recipient(rcpt_tos, original: dict, cfg, at: datetime | None = None) -> str | None:
    """The one address a stored message may act on, or None when it may act on any it names.

    The envelope's VERP recipient first. With secrets and `require_signed`, else a valid
    signed VERP address in the bounced message's Return-Path (ARF feedback reports and
    bounces forwarded to a fixed address carry it there), else UNSIGNED.
    """
    v = for_envelope(rcpt_tos, cfg, at)
    if v is not None:
        return v.recipient
    if not (cfg.secrets and cfg.require_signed):
        return None
    path = (original or {}).get("return-path", "").strip().strip("<>").strip()
    v = first_valid([path], prefix=cfg.prefix, delimiter=cfg.delimiter, secrets=cfg.secrets,
                    expiry_days=cfg.expiry_days) if path else None
    return v.recipient if v is not None and v.signed else UNSIGNED


def for_envelope(rcpt_tos, cfg, at: datetime | None = None) -> Verp | None:
    """The VERP recipient of a stored message, decoded again from its envelope (so it
    survives a restart); checked at the time the message was received."""
    return first_valid(rcpt_tos, prefix=cfg.prefix, delimiter=cfg.delimiter,
                       secrets=cfg.secrets, expiry_days=cfg.expiry_days, now=at)
