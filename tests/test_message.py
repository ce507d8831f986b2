"""parse/message.py: the lazy MIME reader agrees with the standard library's parser
(compat32) on real messages, and stays bounded on hostile ones."""

from __future__ import annotations

import tracemalloc
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bouncesink.parse import message as m
from bouncesink.parse import parse

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "emails"

FIXTURES = sorted(DATA.glob("*.eml")) + sorted((DATA / "mime").glob("*.eml"))
CORPUS_FILES = sorted(CORPUS.glob("*.eml")) if CORPUS.is_dir() else []


def _text(part) -> str:
    # the newline before a delimiter belongs to the delimiter; compat32 keeps it on the
    # body of a message/rfc822 part's last leaf, we do not
    return m._text_of(part).replace("\r\n", "\n").rstrip("\n")


def _header_value(value) -> str:
    return " ".join(str(value).split())


def tree(msg) -> list[tuple]:
    """What the detectors see of a message: per part in walk order, its depth, type, headers,
    boundary, charset and, for leaves, the decoded text."""
    out = []
    for part, depth in m.walk(msg):
        ctype = part.get_content_type()
        items = [(k, _header_value(v)) for k, v in part.items()]
        leaf = not part.is_multipart()
        text = _text(part) if leaf else None
        if depth and leaf and not items and text == "" and ctype == "text/plain":
            continue  # compat32 reads an empty field block between blank lines as a part
        out.append((depth, ctype, items, part.get_param("boundary"),
                    part.get_content_charset(), text))
    return out


def _stdlib_tree(raw: bytes):
    msg = message_from_bytes(raw[:m.MAX_BYTES], policy=compat32)
    try:
        return tree(msg)
    except (TypeError, LookupError):
        # compat32 fails on RFC 2231 charset parameters and some 8-bit payloads: it is
        # wrong there, and nothing is compared
        return None


def _ascii_headers(raw: bytes) -> bool:
    end = raw.find(b"\n\n")
    return raw[:end if end >= 0 else len(raw)].isascii()


@pytest.mark.parametrize("path", FIXTURES + CORPUS_FILES, ids=lambda p: p.name)
def test_reader_agrees_with_stdlib(path):
    raw = path.read_bytes()
    want = _stdlib_tree(raw)
    if want is None:
        pytest.skip("the standard library cannot read this message")
    got = tree(m.load(raw))
    if not _ascii_headers(raw):
        # compat32 turns 8-bit header bytes into U+FFFD; we read them as UTF-8 / latin-1
        got = [(d, c, [(k, v) for k, v in items if v.isascii()], b, cs, t) for d, c, items, b, cs, t in got]
        want = [(d, c, [(k, v) for k, v in items if v.isascii()], b, cs, t) for d, c, items, b, cs, t in want]
    assert got == want


def test_corpus_present_or_skipped():
    if not CORPUS_FILES:
        pytest.skip("../shared/corpus/dev is absent")
    assert len(CORPUS_FILES) > 100


def _parts(raw: bytes):
    return [(p.get_content_type(), d) for p, d in m.walk(m.load(raw))]


def test_preamble_epilogue_and_field_blocks():
    msg = m.load((DATA / "mime" / "preamble-epilogue.eml").read_bytes())
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg.get_param("boundary") == "B1.example"
    kinds = [p.get_content_type() for p in msg.get_payload()]
    assert kinds == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    status = msg.get_payload()[1]
    blocks = status.get_payload()
    assert [b.get("Final-Recipient") for b in blocks] == [None, "rfc822; alice@example.org"]
    assert " ".join(blocks[1]["diagnostic-code"].split()) == (
        "smtp; 550 5.1.1 <alice@example.org>: Recipient address rejected: User unknown")
    assert "epilogue" not in m.text_of(msg.get_payload()[2])


def test_broken_boundaries():
    raw = (DATA / "mime" / "no-close-boundary.eml").read_bytes()
    assert _parts(raw) == [("multipart/mixed", 0), ("text/plain", 1), ("multipart/alternative", 1),
                           ("text/plain", 2), ("text/plain", 1)]
    last = m.load(raw).get_payload()[-1]
    assert m.text_of(last).strip() == "last part, no close delimiter at all"
    # a multipart without any delimiter, or without a boundary, is one text
    for name in ("no-delimiter.eml", "no-boundary-param.eml"):
        msg = m.load((DATA / "mime" / name).read_bytes())
        assert not msg.is_multipart()
        assert isinstance(msg.get_payload(), str)


def test_transfer_encodings_and_charsets():
    msg = m.load((DATA / "mime" / "crlf-base64-qp.eml").read_bytes())
    b64, qp, html = msg.get_payload()
    assert "Postfach voll" in m.text_of(b64) and "\u00e4\u00f6\u00fc" in m.text_of(b64)
    assert m.text_of(qp).strip() == "Le message n'a pas pu \u00eatre remis \u00e0 bob@example.org. Bo\u00eete pleine."
    assert html.get_payload(decode=True) == b"<p>Delivery failed</p>"
    assert m.header(msg, "Subject") == "Unzustellbar"

    weird = m.load((DATA / "mime" / "params-rfc2231.eml").read_bytes()).get_payload()
    assert weird[0].get_content_charset() == "iso-8859-1"
    assert weird[0].get_filename() == "r\u00e9sum\u00e9.txt"
    assert "caf\u00e9" in m.text_of(weird[0])
    assert "unknown charset" in m.text_of(weird[1])            # unknown charset: latin-1
    assert "na\u00efve" in m.text_of(weird[2])                  # undeclared 8-bit: replaced
    assert weird[3].get_content_type() == "text/plain"


def test_digest_default_type_and_folded_headers():
    msg = m.load((DATA / "mime" / "digest-and-headers.eml").read_bytes())
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["message/rfc822", "text/plain"]
    assert m.header(msg, "X-Failed-Recipients") == "erin@example.org, frank@example.org"
    assert msg["x-failed-recipients"] == "erin@example.org,\n frank@example.org"
    assert "From" in msg and "Nope" not in msg
    assert m.headers_dict(parts[0].get_payload()[0])["subject"] == "first"


@pytest.mark.parametrize("raw", [
    b"X-Content-Type: image/png\nCONTENT-TYPE: Text/HTML; charset=x\n\nbody\n",
    b"From someone Mon Jan 1 00:00:00 2024\ncontent-type:text/html\n\nbody\n",
    b"Subject: a\n content-type: text/html\nContent-Type: message/rfc822\n\nbody\n",
    b"Subject: a\nXContent-Type: text/html\n\nbody\n",
], ids=["decoy-then-upper", "after-mbox-from", "continuation-decoy", "absent"])
def test_content_type_read_alone_agrees_with_stdlib(raw):
    # the Content-Type field is found without reading the other fields: same answer
    assert m.load(raw).get_content_type() == message_from_bytes(raw, policy=compat32).get_content_type()


def test_headers_without_separator():
    msg = m.load((DATA / "mime" / "headers-no-separator.eml").read_bytes())
    assert msg.keys() == ["From", "Subject"]
    assert m.text_of(msg).startswith("This line is not a header")


def _nested_multipart(depth: int) -> bytes:
    head, tail = [], []
    for i in range(depth):
        head.append(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n")
        tail.append(f"\n--b{i}--\n")
    return ("From: x@example.net\n" + "".join(head) + "Content-Type: text/plain\n\ndeep\n"
            + "".join(reversed(tail))).encode()


def _rfc822_bomb(depth: int) -> bytes:
    return (("Content-Type: message/rfc822\n\n" * depth) + "Subject: bottom\n\nbody\n").encode()


HOSTILE = {
    "nested-1000": _nested_multipart(1000),
    "rfc822-bomb": _rfc822_bomb(1000),
    "header-line-1mb": b"From: a@example.net\nSubject: " + b"x" * 1_000_000 + b"\n\nbody\n",
    "many-headers": b"".join(b"X-H%d: v\n" % i for i in range(50000)) + b"\nbody\n",
    "wide-multipart": b"Content-Type: multipart/mixed; boundary=a\n\n" + b"--a\n\nx\n" * 200000,
    "false-delimiters": b"Content-Type: multipart/mixed; boundary=a\n\n" + b"x--a " * 200000,
    "nul-bytes": b"From: a\x00b@example.net\nSubject: \x00\x00\n\n\x00body\x00\n",
    "truncated": b"From: a@example.net\nContent-Type: multipart/mixed; boundary=\"q\"\n\n--q\nContent-Type: text/pl",
    "unknown-cte": b"Content-Type: text/plain; charset=klingon\nContent-Transfer-Encoding: base65\n\n\xff\xfe body\n",
    "bad-base64": b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64===\nQQ\n",
    "addresses-one-line": b"From: MAILER-DAEMON@example.net\nSubject: Undelivered Mail\n\n"
                          + b" ".join(b"u%d@example.org 550 5.1.1 user unknown" % i for i in range(3000)),
    "long-body-line": b"From: MAILER-DAEMON@example.net\nSubject: Undelivered Mail\n\n" + b"x" * 1_000_000,
    "empty": b"",
    "only-newlines": b"\n\n\n",
    "cr-only": b"From: a@example.net\rSubject: x\r\rbody\r",
}


def _check_bounds(raw: bytes) -> None:
    msg = m.load(raw)
    seen = 0
    for part, depth in m.walk(msg):
        seen += 1
        assert depth <= m.MAX_DEPTH
        part.get_content_type()
        part.get_content_charset()
        for _, value in part.items():
            assert len(value) <= m.MAX_HEADER_LINE * 64
        assert len(part.items()) <= m.MAX_HEADERS
        if not part.is_multipart():
            assert len(m.text_of(part)) <= m.MAX_TEXT
            payload = part.get_payload()
            assert isinstance(payload, str)
        else:
            assert len(part.get_payload()) <= max(m.MAX_PARTS, m.MAX_BLOCKS)
    assert seen <= m.MAX_PARTS
    parsed = parse(raw)
    assert not any(e.startswith("parse:") for e in parsed.errors), parsed.errors


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_bounded(name):
    raw = HOSTILE[name]
    tracemalloc.start()
    try:
        _check_bounds(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a handful of copies of the (capped) input at most, whatever its shape
    assert peak < 12 * min(len(raw), m.MAX_BYTES) + (4 << 20)


def test_deep_nesting_stops_at_max_depth():
    depths = [d for _, d in m.walk(m.load(_nested_multipart(1000)))]
    assert max(depths) == m.MAX_DEPTH
    depths = [d for _, d in m.walk(m.load(_rfc822_bomb(1000)))]
    assert max(depths) == m.MAX_DEPTH


def test_long_header_line_is_cut():
    msg = m.load(HOSTILE["header-line-1mb"])
    assert len(msg["subject"]) == m.MAX_HEADER_LINE - len("Subject: ")
    assert m.text_of(msg) == "body\n"


def test_flufl_gets_a_stdlib_message():
    msg = m.load_email(HOSTILE["header-line-1mb"])
    assert len(msg["subject"]) < m.MAX_HEADER_LINE


_LINE = st.sampled_from([
    b"", b"--b", b"--b--", b"--c", b"--c--", b"Content-Type: multipart/mixed; boundary=c",
    b"Content-Type: message/rfc822", b"Content-Type: message/delivery-status",
    b"Content-Type: text/plain; charset=iso-2022-jp", b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable", b"Final-Recipient: rfc822; a@example.org",
    b"Status: 5.1.1", b" folded", b"From: MAILER-DAEMON@example.net", b"=E9=\xff",
    b"QUJD", b"x@example.org: 550 5.1.1 user unknown", b"\x00", b"\r",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINE, max_size=60), st.sampled_from([b"\n", b"\r\n"]))
def test_property_mime_shaped_input_never_raises(lines, eol):
    raw = b"Content-Type: multipart/mixed; boundary=b" + eol + eol.join(lines)
    _check_bounds(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4000))
def test_property_random_bytes_never_raise(raw):
    _check_bounds(raw)


def test_a_charset_name_holding_nul_is_read_as_unknown():
    # found by bench/fuzz_parse.py: codecs.lookup raises ValueError, not LookupError
    from bouncesink.parse import parse
    raw = (b"From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail\n"
           b"Content-Type: text/plain; charset=\"utf\x00-8\"\n\n"
           b"<ann@example.com>: 550 5.1.1 user unknown\n")
    parsed = parse(raw)
    assert parsed.errors == []
    assert [r.recipient for r in parsed.results] == ["ann@example.com"]
