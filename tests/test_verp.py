"""VERP encode / decode / sign (bouncesink.verp)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bouncesink import verp
from bouncesink.verp import EXPIRED, INVALID, MISSING, VerpError

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_plain_form_is_the_postfix_mailman_one():
    assert verp.encode("alice@example.com", "bounces.example.org") == \
        "bounces+alice=example.com@bounces.example.org"


@pytest.mark.parametrize("address, recipient, campaign", [
    ("bounces+alice=example.com@bounces.example.org", "alice@example.com", None),
    ("<BOUNCES+Alice=Example.COM@bounces.example.org>", "alice@example.com", None),
    ("bounces+alice+news=example.com@bounces.example.org", "alice+news@example.com", None),
    ("bounces+a=b=example.com@bounces.example.org", "a=b@example.com", None),
    ("bounces+x=c_y=example.net@bounces.example.org", "x=c_y@example.net", None),
    ("bounces+bob=example.net=c_spring-2025@bounces.example.org", "bob@example.net",
     "spring-2025"),
])
def test_decode(address, recipient, campaign):
    v = verp.decode(address)
    assert (v.recipient, v.campaign, v.signed) == (recipient, campaign, False)


def test_not_verp_is_none():
    assert verp.decode("postmaster@bounces.example.org") is None
    assert verp.decode("bounces@bounces.example.org") is None


@pytest.mark.parametrize("address", [
    "bounces+alice@bounces.example.org",
    "bounces+=example.com@bounces.example.org",
    "bounces+alice=example.com=zz_what@bounces.example.org",
])
def test_malformed_raises(address):
    with pytest.raises(VerpError):
        verp.decode(address)


def test_custom_prefix_and_delimiter_round_trip():
    a = verp.encode("carol@example.com", "rp.example.org", prefix="bnc", delimiter="-",
                    campaign="c1")
    assert a == "bnc-carol=example.com=c_c1@rp.example.org"
    v = verp.decode(a, prefix="bnc", delimiter="-")
    assert (v.recipient, v.campaign) == ("carol@example.com", "c1")
    assert verp.decode(a) is None  # default prefix does not match


def test_bad_campaign_and_recipient_refused_at_encode():
    with pytest.raises(VerpError):
        verp.encode("alice@example.com", "rp.example.org", campaign="has space")
    with pytest.raises(VerpError):
        verp.encode("not-an-address", "rp.example.org")


def signed(secret="s3cret", campaign="spring", now=NOW, recipient="alice@example.com"):
    return verp.encode(recipient, "rp.example.org", campaign=campaign, secret=secret, now=now)


def test_signed_round_trip_verifies():
    a = signed()
    v = verp.decode_verified(a, prefix="bounces", delimiter="+", secrets=("s3cret",),
                             expiry_days=60, now=NOW + timedelta(days=3))
    assert (v.recipient, v.campaign, v.signed) == ("alice@example.com", "spring", True)


def test_signed_survives_an_mta_lowercasing_the_address():
    a = signed(recipient="Alice@Example.com").lower()
    verp.decode_verified(a, prefix="bounces", delimiter="+", secrets=("s3cret",),
                         expiry_days=60, now=NOW)


def test_rotation_old_secret_still_verifies():
    a = signed(secret="old")
    verp.decode_verified(a, prefix="bounces", delimiter="+", secrets=("new", "old"),
                         expiry_days=60, now=NOW)


def verify_kind(address, now=NOW, secrets=("s3cret",)):
    with pytest.raises(VerpError) as e:
        verp.decode_verified(address, prefix="bounces", delimiter="+", secrets=secrets,
                             expiry_days=60, now=now)
    return e.value.kind


def test_missing_signature_refused_when_secrets_set():
    assert verify_kind("bounces+alice=example.com@rp.example.org") == MISSING


def test_altered_recipient_refused():
    a = signed().replace("alice", "mallory")
    assert verify_kind(a) == INVALID


def test_altered_campaign_refused():
    assert verify_kind(signed().replace("c_spring", "c_autumn")) == INVALID


def test_altered_day_refused():
    a = signed()
    day = verp.day_of(NOW)
    assert verify_kind(a.replace(f"s_{day}_", f"s_{day + 1}_")) == INVALID


def test_wrong_secret_refused():
    assert verify_kind(signed(secret="other")) == INVALID


def test_expired_refused():
    assert verify_kind(signed(), now=NOW + timedelta(days=61)) == EXPIRED


def test_future_stamp_refused():
    assert verify_kind(signed(now=NOW + timedelta(days=5))) == EXPIRED


def test_no_secrets_accepts_unsigned():
    v = verp.decode_verified("bounces+alice=example.com@rp.example.org", prefix="bounces",
                             delimiter="+", secrets=(), expiry_days=60)
    assert v.recipient == "alice@example.com"


def test_first_valid_skips_forged_recipients():
    good = signed(recipient="bob@example.net")
    v = verp.first_valid(["bounces+alice=example.com@rp.example.org", good],
                         prefix="bounces", delimiter="+", secrets=("s3cret",), expiry_days=60,
                         now=NOW)
    assert v.recipient == "bob@example.net"
