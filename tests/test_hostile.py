"""Hostile input: the parser never raises, never hangs, stays within bounded memory, and
what it cannot read is kept raw as unrecognised.

Hand-made monsters (broken boundaries, 1,000-deep multiparts, 1 MB header lines, unknown
charsets and transfer encodings, undeclared 8-bit, NUL bytes, truncation, a message/rfc822
bomb), then hypothesis: random bytes and mutations of our DSN fixtures. Hangs are caught by
pytest-timeout (a guard, not a speed assertion); memory is measured with tracemalloc.

A longer fuzz run: BOUNCESINK_FUZZ=20000 pytest tests/test_hostile.py -k fuzz
"""

from __future__ import annotations

import os
import smtplib
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bouncesink.model import Parsed
from bouncesink.parse import parse
from conftest import DATA_DIR, DOMAIN

FIXTURES = sorted(DATA_DIR.glob("dsn-*.eml"))
DSN = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes()
FUZZ_EXAMPLES = int(os.environ.get("BOUNCESINK_FUZZ", "150"))
MEMORY_BOUND = 64 * 2**20   # bytes a single parse may allocate at its peak


def nested_multipart(depth: int) -> bytes:
    head = b"From: MAILER-DAEMON@example.net\nSubject: deep\nMIME-Version: 1.0\n"
    parts = []
    for i in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i))
    inner = b"Content-Type: text/plain\n\nfinal-recipient: rfc822; deep@example.com\n"
    tail = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    return head + b"".join(parts) + inner + tail


def rfc822_bomb(depth: int, width: int) -> bytes:
    """message/rfc822 inside message/rfc822 ..., each level repeating the inner one."""
    msg = b"From: a@example.com\nSubject: leaf\n\nleaf body\n"
    for i in range(depth):
        body = b"".join(b'--m%d\nContent-Type: message/rfc822\n\n%s\n' % (i, msg)
                        for _ in range(width))
        msg = (b'From: b@example.com\nMIME-Version: 1.0\n'
               b'Content-Type: multipart/mixed; boundary="m%d"\n\n%s--m%d--\n' % (i, body, i))
    return msg


def dsn_with(status_part: bytes, ctype: bytes = b"message/delivery-status",
             extra_headers: bytes = b"") -> bytes:
    return (b"From: MAILER-DAEMON@example.net\nTo: bounces@bounces.example.org\n"
            b"MIME-Version: 1.0\n" + extra_headers +
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\n\n'
            b"--X\nContent-Type: text/plain\n\nfailed\n\n--X\nContent-Type: " + ctype +
            b"\n\n" + status_part + b"\n--X--\n")


MONSTERS = {
    "broken-boundary": DSN.replace(b'boundary="dsn-boundary-1"', b'boundary="nope"'),
    "boundary-never-closed": DSN.replace(b"--dsn-boundary-1--", b""),
    "empty-boundary": DSN.replace(b'boundary="dsn-boundary-1"', b'boundary=""'),
    "boundary-in-every-line": DSN.replace(b"\n", b"\n--dsn-boundary-1\n"),
    "nested-1000": nested_multipart(1000),
    "nested-5000": nested_multipart(5000),
    "header-line-1mb": b"Subject: " + b"A" * (1 << 20) + b"\n" + DSN,
    "folded-header-1mb": b"X-Long: a\n" + b" continued\n" * 100_000 + b"\n\nbody\n",
    "many-headers": b"".join(b"X-H%d: v\n" % i for i in range(100_000)) + b"\nbody\n",
    "unknown-charset": DSN.replace(b"charset=us-ascii", b"charset=x-klingon-9"),
    "unknown-cte": DSN.replace(b"Content-Type: message/delivery-status",
                               b"Content-Type: message/delivery-status\n"
                               b"Content-Transfer-Encoding: x-rot13-twice"),
    "bad-base64": dsn_with(b"!!!!not base64 at all====\n" * 100, b"text/plain\n"
                           b"Content-Transfer-Encoding: base64"),
    "bad-qp": dsn_with(b"=ZZ=\n=\n=4" * 1000, b"text/plain\nContent-Transfer-Encoding: "
                       b"quoted-printable"),
    "8bit-undeclared": dsn_with(bytes(range(128, 256)) * 100 + b"\nFinal-Recipient: rfc822;"
                                b" \xe9t\xe9@example.com\nAction: failed\nStatus: 5.1.1\n"),
    "nul-bytes": DSN.replace(b"\n", b"\x00\n"),
    "all-nul": b"\x00" * 100_000,
    "truncated-headers": DSN[:40],
    "truncated-mid-dsn": DSN[:DSN.index(b"Status:") + 9],
    "empty": b"",
    "just-newlines": b"\n" * 100_000,
    "cr-only": DSN.replace(b"\n", b"\r"),
    "rfc822-bomb": rfc822_bomb(depth=6, width=6),
    "huge-status-block": dsn_with(b"Final-Recipient: rfc822; x@example.com\nAction: failed\n"
                                  b"Status: 5.1.1\n\n" * 20_000),
    "status-garbage": dsn_with(b"Status: 5." + b"9" * 100_000 + b"\nAction: " + b"x" * 100_000),
    "address-storm": b"Subject: fail\n\n" + b"user@example.com " * 200_000,
    "regex-bait": b"Subject: x\n\n" + b"a@" * 200_000 + b"." * 100_000,
    "long-line-body": b"Subject: x\n\n" + b"x" * (8 << 20),
}


def hanging_parse(raw: bytes, verp_recipient: str | None = None) -> Parsed:
    """A parser with a bug: it never returns on a message containing HANG-ME."""
    if b"HANG-ME" in raw:
        while True:
            pass
    return parse(raw, verp_recipient=verp_recipient)


def parse_bounded(raw: bytes) -> Parsed:
    """Parse under tracemalloc; returns the result after checking the peak allocation."""
    tracemalloc.start()
    try:
        result = parse(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"parse allocated {peak / 2**20:.1f} MiB at its peak"
    return result


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(MONSTERS))
def test_monster_never_raises_and_stays_bounded(name):
    result = parse_bounded(MONSTERS[name])
    assert isinstance(result, Parsed)
    assert result.kind in ("dsn", "arf", "autoreply", "unrecognised")
    for r in result.results:
        assert r.recipient is None or len(r.recipient) <= 998


@pytest.mark.timeout(600)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.binary(max_size=20_000))
def test_fuzz_random_bytes_never_raise(raw):
    assert isinstance(parse(raw), Parsed)


def _mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for kind, pos, val in ops:
        if not b:
            break
        i = pos % len(b)
        if kind == 0:
            b[i] = val
        elif kind == 1:
            del b[i:i + val]
        elif kind == 2:
            b[i:i] = bytes([val]) * (val % 50 + 1)
        elif kind == 3:
            b[i:i] = b[: val * 7]                       # duplicate a slice (boundaries, headers)
        else:
            b[i:i] = b"\n--dsn-boundary-1\nContent-Type: multipart/mixed; boundary=q\n\n"
    return bytes(b)


@pytest.mark.timeout(600)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(FIXTURES),
       st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 20), st.integers(0, 255)),
                max_size=30))
def test_fuzz_mutated_dsns_never_raise(path, ops):
    result = parse(_mutate(path.read_bytes(), ops))
    assert isinstance(result, Parsed)


@pytest.mark.timeout(600)
@settings(max_examples=max(20, FUZZ_EXAMPLES // 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.sampled_from([
    b"Content-Type: multipart/mixed; boundary=a\n\n--a\n",
    b"Content-Type: message/rfc822\n\n",
    b"Content-Type: message/delivery-status\n\nStatus: 5.1.1\n\n",
    b"Content-Transfer-Encoding: base64\n\n", b"=?x-unknown?B?AAAA?=\n", b"--a--\n",
    b"Final-Recipient: rfc822; a@example.com\n", b"\x00\xff\xfe", b"\r\n.\r\n",
]), max_size=400))
def test_fuzz_structured_garbage_stays_bounded(pieces):
    assert isinstance(parse_bounded(b"MIME-Version: 1.0\n" + b"".join(pieces)), Parsed)


# -- through the server: what cannot be parsed is kept raw ---------------------------------
@pytest.mark.timeout(300)
def test_hostile_messages_are_stored_raw_and_the_server_survives(sink):
    names = ["nested-1000", "header-line-1mb", "nul-bytes", "rfc822-bomb", "all-nul",
             "truncated-headers", "8bit-undeclared", "cr-only"]
    sent = {}
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=60) as c:
        for name in names:
            # As on the wire: CRLF line ends (a lone CR stays), dot-stuffing is smtplib's.
            raw = MONSTERS[name].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if not raw.endswith(b"\r\n"):
                raw += b"\r\n"
            c.sendmail("", [f"bounces@{DOMAIN}"], raw)
            sent[name] = raw
    sink.wait_classified(len(names), timeout=120)
    store = sink.open_store()
    try:
        rows = store._execute("SELECT id, state FROM messages ORDER BY id").fetchall()
        stored = [store.message(ref).raw for ref, _ in rows]
    finally:
        store.close()
    assert stored == [sent[n] for n in names]  # byte for byte, in order
    assert {state for _, state in rows} <= {"classified", "unrecognised"}
    # ... and the server still answers.
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        assert c.noop()[0] == 250


@pytest.mark.timeout(120)
def test_a_message_the_parser_hangs_on_is_kept_unrecognised_and_the_rest_flows(
        make_sink, monkeypatch):
    from bouncesink.server.ingest import Ingest

    monkeypatch.setattr(Ingest, "PARSE_TIMEOUT", 1.0)
    sink = make_sink(parse=hanging_parse)  # runs in the classifier process
    good = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes().replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=60) as c:
        c.sendmail("", [f"bounces@{DOMAIN}"], good)
        c.sendmail("", [f"bounces@{DOMAIN}"], b"Subject: HANG-ME\r\n\r\nbody\r\n")
        c.sendmail("", [f"bounces@{DOMAIN}"], good)
    sink.wait_classified(3, timeout=60)
    store = sink.open_store()
    try:
        rows = store._execute("SELECT id, state, errors FROM messages ORDER BY id").fetchall()
    finally:
        store.close()
    assert [state for _, state, _ in rows] == ["classified", "unrecognised", "classified"]
    assert "no result within 1 s" in rows[1][2]
