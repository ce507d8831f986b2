"""parse(): one table over the fixture messages in tests/data (ids from file names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bouncesink import model
from bouncesink.parse import parse
from bouncesink.parse import mta

DATA = Path(__file__).parent / "data"

# file -> (kind, [(recipient, status, reason, type)])
TABLE = {
    "dsn-postfix-multi.eml": ("dsn", [
        ("alice@example.org", "5.1.1", "userunknown", "hard"),
        ("bob@example.org", "5.2.2", "mailboxfull", "soft")]),
    "dsn-delayed.eml": ("dsn", [("carol@example.org", "4.4.1", "expired", "delay")]),
    "dsn-delivered.eml": ("dsn", [("dave@example.org", "2.0.0", "delivered", "delivered")]),
    "arf-abuse.eml": ("arf", [("erin@example.net", "", "feedback", "complaint")]),
    "autoreply-vacation.eml": ("autoreply", [("frank@example.org", "", "vacation", "autoreply")]),
    "not-a-bounce.eml": ("unrecognised", []),
    "exim-text.eml": ("dsn", [("ivan@example.org", "5.7.1", "blocked", "soft")]),
    "qmail-text.eml": ("dsn", [("judy@example.org", "5.1.1", "userunknown", "hard")]),
    "postfix-text.eml": ("dsn", [("kim@example.org", "5.0.912", "hostunknown", "hard")]),
    # OpenSMTPD reports an expired envelope as "Action: delayed / Status: 4.4.7": final
    "opensmtpd-expired.eml": ("dsn", [("lena@example.org", "5.0.947", "expired", "soft")]),
    # Sendmail V5: the "While talking to" block gives the command and the remote words
    "sendmail-v5.eml": ("dsn", [("mia@example.net", "5.0.909", "norelaying", "soft"),
                                ("ned@example.org", "5.0.912", "hostunknown", "hard"),
                                ("omar@example.co.jp", "5.0.911", "userunknown", "hard")]),
    # Yahoo's "[DATA]" suffix: user unknown after DATA is a filter
    "yahoo-data.eml": ("dsn", [("pia@example.org", "5.0.910", "filtered", "soft")]),
    "fml-not-member.eml": ("dsn", [("team@example.org", "5.0.918", "rejected", "soft")]),
    # PowerMTA's bounce category decides an ambiguous 5.2.1
    "powermta-bad-mailbox.eml": ("dsn", [("quinn@example.org", "5.2.1", "userunknown", "hard")]),
    "mfilter-rcpt.eml": ("dsn", [("rita@example.net", "5.0.911", "userunknown", "hard")]),
    # delay warnings in the MTAs' own words (Exim deliver.c warn text, Sendmail savemail.c,
    # Exchange's "(Delay)" DSN text): delayed, never a failure
    "warning-exim.eml": ("dsn", [("ada@example.com", "4.7.1", "blocked", "delay")]),
    "warning-sendmail.eml": ("dsn", [("bea@example.com", "4.0.947", "expired", "delay")]),
    "warning-exchange.eml": ("dsn", [("cleo@example.com", "4.0.947", "expired", "delay")]),
    # challenge-response requests (Boxbe's guest list, Spam Arrest's verification): no row
    "challenge-boxbe.eml": ("unrecognised", []),
    "challenge-verify.eml": ("unrecognised", []),
    # the bounce's own To named in a null-MX wording is the sender, not a failed recipient
    "text-own-sender.eml": ("unrecognised", []),
    # a DNSBL's delisting address quoted in the reply is someone to write to
    "text-contact-address.eml": ("dsn", [("fay@example.com", "5.7.1", "blocked", "soft")]),
    # X.400-style "SMTP=" prefix stripped, and the two mentions are one recipient
    "x400-smtp-prefix.eml": ("dsn", [("gus@example.com", "5.1.1", "userunknown", "hard")]),
    "verp-noaddress.eml": ("unrecognised", []),
    "dsn-original-recipient.eml": ("dsn", [("ida.box@mail.example.net", "5.1.1", "userunknown", "hard")]),
    # Sendmail keeps the first line of a multi-line reply in Diagnostic-Code; the rest is in
    # its transcript ("<<< 552-..." lines)
    "sendmail-dsn-multiline.eml": ("dsn", [("joe@example.com", "5.2.2", "mailboxfull", "soft")]),
}

# fixture -> the detector that must have produced it
DETECTED_BY = {
    "opensmtpd-expired.eml": "rfc3464+mta.opensmtpd", "sendmail-v5.eml": "mta.sendmail",
    "yahoo-data.eml": "mta.yahoo", "fml-not-member.eml": "mta.fml",
    "powermta-bad-mailbox.eml": "rfc3464+mta.powermta", "mfilter-rcpt.eml": "mta.mfilter",
}


@pytest.mark.parametrize("name", sorted(DETECTED_BY))
def test_mta_detector_picked(name):
    assert parse((DATA / name).read_bytes()).detector == DETECTED_BY[name]


def test_commands_from_mta_texts():
    v5 = parse((DATA / "sendmail-v5.eml").read_bytes())
    assert [r.command for r in v5.results] == ["MAIL", "", "RCPT"]
    assert parse((DATA / "yahoo-data.eml").read_bytes()).results[0].command == "DATA"


def test_detectors_listed_once_with_docstrings():
    names = [d.NAME for d in mta.DETECTORS]
    assert len(names) == len(set(names))
    for d in mta.DETECTORS:
        assert d.__doc__ and len(d.__doc__) > 80 and callable(d.sniff) and callable(d.detect)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_parse_table(name):
    kind, expected = TABLE[name]
    parsed = parse((DATA / name).read_bytes())
    assert parsed.kind == kind
    got = [(r.recipient, r.status, r.reason, r.type) for r in parsed.results]
    assert got == expected
    assert parsed.errors == []
    for r in parsed.results:
        assert r.reason in model.REASONS and r.type in model.TYPES and r.rule


def test_dsn_fields_and_original_headers():
    parsed = parse((DATA / "dsn-postfix-multi.eml").read_bytes())
    first = parsed.results[0]
    assert first.reply_code == "550"
    assert first.remote_mta == "mx.example.org"
    assert first.reporting_mta == "mx1.example.net"
    assert first.original_recipient == "alice@example.org"
    assert first.last_attempt.startswith("Mon, 3 Mar 2025")
    assert "User unknown in virtual mailbox table" in first.diagnostic
    assert first.message_id == "<newsletter-2025-03@example.com>"
    assert parsed.original["list-id"] == "News <news.example.com>"
    assert parsed.original["x-campaign"] == "spring-2025"


def test_verp_recipient_replaces_single_recipient():
    parsed = parse((DATA / "dsn-verp.eml").read_bytes(), verp_recipient="subscriber@example.org")
    assert [r.recipient for r in parsed.results] == ["subscriber@example.org"]
    assert parsed.results[0].original_recipient == "forwarded-target@example.net"
    assert parsed.results[0].type == "hard"


def test_verp_recipient_prefers_matching_one_of_several():
    parsed = parse((DATA / "dsn-postfix-multi.eml").read_bytes(), verp_recipient="bob@example.org")
    assert [r.recipient for r in parsed.results] == ["alice@example.org", "bob@example.org"]


def test_broken_detector_falls_back_and_is_recorded(monkeypatch):
    exim = next(d for d in mta.DETECTORS if d.NAME == "mta.exim")

    def broken(ctx):
        raise ValueError("detector bug")

    monkeypatch.setattr(exim, "detect", broken)
    parsed = parse((DATA / "exim-text.eml").read_bytes())
    assert any("mta.exim" in e and "detector bug" in e for e in parsed.errors)
    assert [r.recipient for r in parsed.results] == ["ivan@example.org"]
    assert parsed.results[0].reason == "blocked"


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff" * 100, b"From: x\n\n" + b"A" * 3_000_000,
    b"Content-Type: multipart/report; boundary=x\n\n" + b"--x\nContent-Type: multipart/mixed; boundary=x\n\n" * 500,
    b"Subject: " + b"x" * 200_000 + b"\n\nbody",
], ids=["empty", "binary", "huge-body", "deep-mime", "long-header"])
def test_hostile_input_never_raises(raw):
    parsed = parse(raw)
    assert parsed.kind in (model.KIND_DSN, model.KIND_UNRECOGNISED, model.KIND_ARF, model.KIND_AUTOREPLY)


def test_unrecognised_has_no_results():
    parsed = parse(b"From: a@example.org\nSubject: hi\n\nhello bob@example.net\n")
    assert parsed.kind == "unrecognised" and parsed.results == []


def test_helpdesk_address_in_notice_is_not_a_result():
    from bouncesink.model import Result
    from bouncesink.parse import text
    failed = Result(recipient="sam@example.org", diagnostic="550 5.1.1 User unknown", status="5.1.1")
    helpdesk = Result(recipient="support@example.net", diagnostic="for further assistance")
    kept = text.drop_bystanders([failed, helpdesk], {"to": "Sam <sam@example.org>"})
    assert kept == [failed]
    # nothing to compare with: both stay
    assert text.drop_bystanders([failed, helpdesk], {}) == [failed, helpdesk]


# Formats of MTA families written after their vendors' documented layouts (Sisimai's lhost
# modules): file -> (detector, [(recipient, status, reason, type)])
MTA_TABLE = {
    "mta-mailmarshal.eml": ("mta.mailmarshal", [
        ("dave@example.net", "5.2.2", "mailboxfull", "soft"),
        ("erin@example.net", "5.2.2", "mailboxfull", "soft")]),
    # James names no SMTP command: "no such user here" is the filter's words (Sisimai)
    "mta-apachejames.eml": ("mta.apachejames", [("carol@example.net", "5.0.910", "filtered", "soft")]),
    "mta-verizon-vtext.eml": ("mta.verizon", [("5555550100@vtext.com", "5.0.911", "userunknown", "hard")]),
    "mta-verizon-vzwpix.eml": ("mta.verizon", [("5555550199@vzwpix.com", "5.0.911", "userunknown", "hard")]),
    "mta-exchange2007-text.eml": ("mta.office365", [("alice@example.net", "5.1.1", "userunknown", "hard")]),
    "mta-exchange2007-french.eml": ("mta.office365", [("bob@example.net", "5.2.3", "mesgtoobig", "soft")]),
    "mta-exchange2007-german.eml": ("mta.office365", [("carl@example.net", "5.1.1", "userunknown", "hard")]),
    # Exchange 2010 quoting the remote reply inside "#<host #5.0.0 smtp; ...> #SMTP#"
    "mta-exchange2010-remote.eml": ("mta.office365", [("dora@example.net", "5.2.2", "mailboxfull", "soft")]),
    # Office 365: the words are in "Reported error:", near the address only "Status code:
    # 550 5.1.10" (Exchange Online's recipient-not-found, not RFC 7505's null MX)
    "mta-office365-text.eml": ("mta.office365", [("paul@example.net", "5.1.10", "userunknown", "hard")]),
    "mta-office365-classic.eml": ("mta.office365", [("rosa@example.net", "5.1.10", "userunknown", "hard")]),
    # Courier's "UNDELIVERABLE MAIL" heading is no returned copy: the recipients follow it
    "mta-courier-text.eml": ("mta.courier", [("gwen@example.net", "5.1.1", "userunknown", "hard")]),
    # mail.ru runs Exim; its reports may come without X-Failed-Recipients
    "mta-mailru-text.eml": ("mta.exim", [("hugo@example.net", "5.2.2", "mailboxfull", "soft")]),
    "mta-domino-text.eml": ("mta.lotusnotes", [("gina@example.net", "5.0.911", "userunknown", "hard")]),
    "mta-einsundeins-size.eml": ("mta.exim", [("hank@example.net", "5.0.934", "mesgtoobig", "soft")]),
    # Facebook's response code RCP-P2 (recipient preferences) decides over Status 5.1.1
    "mta-facebook.eml": ("rfc3464", [("ivan@facebook.com", "5.1.1", "filtered", "soft")]),
    "mta-surfcontrol.eml": ("text", [("frank@example.net", "5.0.910", "filtered", "soft")]),
    # Exchange 2003's "could not be reached" wording, known by its X-MS-Embedded-Report header
    "mta-exchange2003-reached.eml": ("mta.exchange2003", [("nora@example.net", "5.1.1", "userunknown", "hard")]),
    # Postfix text-only report: the alias named in "(expanded from <...>)" is not a recipient
    "mta-postfix-text-expanded.eml": ("text", [
        ("lisa@example.net", "5.1.1", "userunknown", "hard"),
        ("mike@example.net", "5.2.2", "mailboxfull", "soft")]),
}


@pytest.mark.parametrize("name", sorted(MTA_TABLE))
def test_mta_family_formats(name):
    detector, expected = MTA_TABLE[name]
    parsed = parse((DATA / name).read_bytes())
    assert parsed.detector == detector
    assert [(r.recipient, r.status, r.reason, r.type) for r in parsed.results] == expected
    assert parsed.errors == []


def test_section_end_read_on_lowered_ascii_is_end_re():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bouncesink.parse import text
    words = st.sampled_from(["Original Message", "ORIGINAL MESSAGE follows", "--", "==", "-----", "x",
                             " ", "\t", "\x1f", "was", " WAS", "Returned Mail", "Undelivered Message",
                             "Headers ARE", "RFC822 Headers", "Content-Type: Message/RFC822", ":",
                             "The Original Mail", " sent", "Below This Line Is A Copy Of The Message",
                             "Message Headers Follow", "k", "K", "s", "S", "i", "I"])

    @settings(max_examples=500, deadline=None)
    @given(st.lists(words, max_size=12).map("".join))
    def check(line):
        assert text._ends_section(line) == bool(text.END_RE.search(line))

    check()
    from bouncesink.parse import message as m
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "emails"
    files = sorted(DATA.rglob("*.eml")) + (sorted(corpus.glob("*.eml")) if corpus.is_dir() else [])
    for path in files:
        for part, _ in m.walk(m.load(path.read_bytes())):
            if not part.is_multipart():
                for line in m.text_of(part).splitlines()[:3000]:
                    assert text._ends_section(line) == bool(text.END_RE.search(line)), line


def test_senderish_read_on_lowered_ascii_is_senderish_re():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bouncesink.parse import text
    words = st.sampled_from(["Mail From", "FROM", "sender", "Envelope-From", "Return-Path", "Reply-To",
                             "Message-ID", "MSGID", "id", "Id", " ID", "xid", "Sent By", "Contact",
                             "Write To", "E-Mail Us At", "email us at", "Reach Us At", ":", "=", " ",
                             "\t", "<", "x", "K", "s", "I"])

    @settings(max_examples=500, deadline=None)
    @given(st.lists(words, max_size=8).map("".join))
    def check(before):
        before = before[-20:]
        want = bool(text._SENDERISH.search(before + "<") or text._SENDERISH.search(before))
        assert text._senderish(before) == want

    check()


def test_status_and_reply_patterns_find_what_their_plain_forms_find():
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bouncesink.parse import dsn, text
    status_plain = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
    reply_plain = re.compile(r"(?:^|[\s;:(\[])([245][0-7][0-9])(?=[\s\-.,:)\]]|$)")
    parts = st.sampled_from(["2", "4", "5", ".", "0", "1", "9", " ", ";", ":", "(", "[", "]", ")", "-",
                             ",", "a", "\n", "55", "5.", "550", "4.7.1", "5.1.10", "\t", "x"])

    @settings(max_examples=2000, deadline=None)
    @given(st.lists(parts, max_size=16).map("".join))
    def check(s):
        assert text._STATUS_RE.findall(s) == status_plain.findall(s)
        assert [m.group(1) for m in dsn.REPLY_RE.finditer(s)] == [m.group(1) for m in reply_plain.finditer(s)]
        first, plain = dsn.REPLY_RE.search(s), reply_plain.search(s)
        assert (first and first.group(1)) == (plain and plain.group(1))

    check()


def test_commands_read_on_lowered_ascii_are_the_re_i_answers():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bouncesink.parse import text
    words = st.sampled_from(["In Reply To", "in reply to", "AFTER", "after ", " ", "\t", ">>>", ">>",
                             "SMTP:", "smtp: ", "RCPT", "rcpt to", "Mail From", "DATA", "data",
                             "HELO", "ehlo", "connection", "Connect", "message", "the ", "End Of ",
                             "final ", "initial ", "did not like our", "while talking to mx:", "x",
                             ":", "K", "commands", "\u00e9"])

    @settings(max_examples=1000, deadline=None)
    @given(st.lists(words, max_size=10).map("".join))
    def check(s):
        assert text._sent(s) == [c.lower() for c in text._SENT_RE.findall(s)]
        assert text._named(s) == [m.group(1).lower() for m in text._COMMAND_RE.finditer(s)]
        first = text._COMMAND_RE.search(s)
        assert text._named(s, first=True) == ([first.group(1).lower()] if first else [])

    check()


@pytest.mark.parametrize("words, reason, kind", [
    ("No such domain.", "hostunknown", "hard"),
    ("This domain's DNS violates RFC 1035.", "systemerror", "soft"),
])
def test_courier_own_words(words, reason, kind):
    raw = (DATA / "mta-courier-text.eml").read_bytes().replace(
        b">>> RCPT TO:<gwen@example.net>\n<<< 550 5.1.1 <gwen@example.net>... User Unknown", words.encode())
    parsed = parse(raw)
    assert parsed.detector == "mta.courier"
    assert [(r.recipient, r.reason, r.type) for r in parsed.results] == [("gwen@example.net", reason, kind)]


def test_courier_delay_notice_is_a_delay():
    raw = (DATA / "mta-courier-text.eml").read_bytes().replace(
        b"UNDELIVERABLE MAIL", b"DELAYS IN DELIVERING YOUR MESSAGE").replace(
        b"cannot be delivered:", b"has not been delivered yet:").replace(b"<<< 550 5.1.1", b"<<< 450 4.2.1")
    parsed = parse(raw)
    assert [(r.recipient, r.type) for r in parsed.results] == [("gwen@example.net", "delay")]


# -- line endings: LF, CRLF and CR alone give the same results (issue 11, Must-have 6) ------
def _as_lines(raw: bytes, end: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", end)


def _outcome(raw: bytes):
    parsed = parse(raw)
    return parsed.kind, [(r.recipient, r.status, r.reason, r.type, r.diagnostic.strip())
                         for r in parsed.results]


@pytest.mark.parametrize("name", sorted(set(TABLE) | set(MTA_TABLE)))
def test_line_endings_give_the_same_results(name):
    raw = (DATA / name).read_bytes()
    lf = _outcome(_as_lines(raw, b"\n"))
    assert lf[1] or lf[0] == "unrecognised"
    assert _outcome(_as_lines(raw, b"\r\n")) == lf
    assert _outcome(_as_lines(raw, b"\r")) == lf


def test_a_lone_cr_in_a_crlf_message_ends_a_line_but_cr_cr_lf_is_one_end():
    from bouncesink.parse.message import newlines
    assert newlines(b"a\rb\r\nc") == b"a\nb\r\nc"
    assert newlines(b"a\r\r\nb") == b"a\r\r\nb"
    assert newlines(b"a\rb\r\rc") == b"a\nb\n\nc"
    assert newlines(b"a\nb") == b"a\nb"


def test_original_recipient_is_the_one_to_suppress():
    r = parse((DATA / "dsn-original-recipient.eml").read_bytes()).results[0]
    assert (r.recipient, r.original_recipient, r.suppress_as) == (
        "ida.box@mail.example.net", "ida@example.com", "ida@example.com")
    # without an Original-Recipient (or with the same one) the recipient is suppressed
    plain = parse((DATA / "dsn-hard-userunknown.eml").read_bytes()).results[0]
    assert plain.suppress_as == plain.recipient


def test_verp_fallback_gives_the_verp_recipient_the_failure():
    raw = (DATA / "verp-noaddress.eml").read_bytes()
    parsed = parse(raw, verp_recipient="hal@example.com")
    assert parsed.detector == "verp"
    assert [(r.recipient, r.status, r.reason, r.type, r.suppress_as) for r in parsed.results] == [
        ("hal@example.com", "5.1.1", "userunknown", "hard", "hal@example.com")]
    # an "<unsigned>" marker or no VERP recipient: nothing to give it to
    assert parse(raw, verp_recipient="<unsigned>").results == []


@pytest.mark.parametrize("body", [
    b"Thank you for your message. We will answer within two days.\n",  # no failure said
    b"Your message was delivered to the mailbox.\n",
])
def test_verp_fallback_needs_a_failure_in_the_text(body):
    raw = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: b@example.org\n"
           b"Subject: Delivery report\n\n" + body)
    assert parse(raw, verp_recipient="hal@example.com").results == []


def test_verp_fallback_from_a_warning_is_a_delay():
    raw = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: b@example.org\n"
           b"Subject: Warning: message 1abc delayed 24 hours\n\nNo action is required on your part.\n"
           b"451 4.4.1 connection timed out\n")
    [r] = parse(raw, verp_recipient="hal@example.com").results
    assert (r.recipient, r.action, r.type) == ("hal@example.com", "delayed", "delay")


@pytest.mark.parametrize("recipient", [
    '"ev\u202eil"@example.com', '"a\u0007b"@example.com', '"x\u200fy"@example.com'])
def test_addresses_with_control_or_bidi_characters_are_never_produced(recipient):
    raw = ("From: MAILER-DAEMON@mx.example.net\nTo: b@example.org\nSubject: Undelivered Mail\n"
           "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;"
           " boundary=\"B\"\n\n--B\nContent-Type: message/delivery-status\n\n"
           "Reporting-MTA: dns; mx.example.net\n\n"
           f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n\n--B--\n").encode()
    for r in parse(raw).results:
        assert r.recipient is None and r.type != "hard"


def test_a_warning_with_a_final_refusal_keeps_the_refusal():
    from bouncesink.parse import notices
    from bouncesink.model import Result
    rs = [Result("a@example.com", reply_code="550"), Result("b@example.com", status="4.4.1"),
          Result("c@example.com", action="failed")]
    notices.mark_delayed(rs)
    assert [r.action for r in rs] == ["", "delayed", "failed"]
    # a final report quoting warning words stays final; a near-miss subject is no warning
    assert not notices.is_warning("Undelivered Mail", "This is a warning only. Delivery to the"
                                  " following recipients failed permanently: permanent error")
    assert not notices.is_warning("Your delivery of shoes is delayed", "We are sorry.")
    assert not notices.is_challenge("Re: meeting", "Please verify the figures below.")


def test_multi_line_reply_completed_from_the_transcript():
    [r] = parse((DATA / "sendmail-dsn-multiline.eml").read_bytes()).results
    assert r.diagnostic.startswith("552 5.2.2 The email account")
    assert r.diagnostic.endswith("https://support.example.com/mail/?p=422 - gsmtp")
    # a one-line reply (no "-" after the code) is left as it is
    from bouncesink.model import Result
    from bouncesink.parse import text
    one = Result("joe@example.com", diagnostic="552 5.2.2 over quota")
    text.complete_multiline("<<< 552-5.2.2 over quota\n<<< 552 5.2.2 more\n", [one])
    assert one.diagnostic == "552 5.2.2 over quota"
