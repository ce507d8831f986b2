"""No open relay: RCPT is accepted only for our own return-path domains, exactly.

Each address is sent as written after `RCPT TO:` to the real server, so whatever aiosmtpd
makes of odd syntax (source routes, quoting) is what our check sees.
"""

from __future__ import annotations

import smtplib

import pytest

from bouncesink.envelope import is_ours
from bouncesink.textsafe import unsafe
from conftest import DOMAIN

OURS = frozenset({DOMAIN})

REFUSED = [
    "<user@example.com>",                          # foreign domain
    "<user@example.net>",
    "<user%example.com@bounces.example.org>",      # percent hack
    "<user%example.com>",
    "<@bounces.example.org:user@example.com>",     # source route via us
    "<@example.com:user@bounces.example.org>",     # source route through someone else
    "<@bounces.example.org,@example.net:user@example.com>",
    "<example.com!user@bounces.example.org>",      # bang path
    "<example.com!user>",
    '<"user@example.com"@bounces.example.org>',    # quoted local part holding an @
    '<"user%example.com"@bounces.example.org>',
    '<"a b"@bounces.example.org>',                 # any quoted local part
    "<user@[192.0.2.1]>",                          # IP literals
    "<user@[IPv6:2001:db8::1]>",
    "<user@sub.bounces.example.org>",              # subdomain of ours
    "<user@bounces.example.org.example.com>",      # ours as a prefix
    "<user@evilbounces.example.org>",              # look-alike suffix
    "<user@bounces-example.org>",
    "<user@bounces.example.org.>",                 # trailing dot
    "<user@bounces.example.org..>",
    "<user@@bounces.example.org>",
    "<user@example.com@bounces.example.org>",
    "<user@>",
    "<@bounces.example.org>",
    "<bounces.example.org>",
    "<user>",
    "<postmaster>",
    "<user@bounces.example.org\\>",
    "<.user@bounces.example.org>",
    "<user.@bounces.example.org>",
    "<us..er@bounces.example.org>",
]

ACCEPTED = [
    "<user@bounces.example.org>",
    "<USER@BOUNCES.EXAMPLE.ORG>",
    "<user@Bounces.Example.Org>",
    "<bounces+news=alice=example.com@bounces.example.org>",   # VERP
    "<bounces-42-abc@bounces.example.org>",
    "user@bounces.example.org",                                # without angle brackets
    "<first.last@bounces.example.org>",
]


def rcpt(port: int, address: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("mx.example.net")
        assert c.mail("")[0] == 250
        c.putcmd("rcpt", f"TO:{address}")
        return c.getreply()


@pytest.mark.parametrize("address", REFUSED)
def test_foreign_or_routed_recipient_is_refused(sink, address):
    code, _ = rcpt(sink.port, address)
    assert 500 <= code < 600


def test_refusal_is_550_5_7_1(sink):
    assert rcpt(sink.port, "<user@example.com>") == (
        550, b"5.7.1 Relaying denied: not a domain of this server")


@pytest.mark.parametrize("address", ACCEPTED)
def test_our_domain_in_any_case_is_accepted(sink, address):
    assert rcpt(sink.port, address)[0] == 250


def test_refused_recipients_leave_no_message(sink):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            c.sendmail("", ["user@example.com", "user%example.com@bounces.example.org"], b"x\r\n")
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_only_accepted_recipients_reach_the_envelope(sink, dsn_bytes):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        refused = c.sendmail("", [f"ok@{DOMAIN}", "user@example.com"],
                             dsn_bytes("dsn-soft-mailboxfull.eml"))
    assert list(refused) == ["user@example.com"]
    sink.wait_classified(1)
    store = sink.open_store()
    try:
        (stored,) = [store.message(r) for (r,) in store._execute("SELECT id FROM messages")]
    finally:
        store.close()
    assert stored.envelope.rcpt_tos == [f"ok@{DOMAIN}"]


@pytest.mark.parametrize("address", [
    "a@bounces.example.org", "A.B-c+d=e@BOUNCES.example.ORG",
])
def test_is_ours_accepts_plain_addresses(address):
    assert is_ours(address, OURS)


@pytest.mark.parametrize("address", [
    "", "a", "a@b@bounces.example.org", "a%b@bounces.example.org", "a!b@bounces.example.org",
    '"a@b"@bounces.example.org', "@x:a@bounces.example.org", "a@bounces.example.org.",
    "a@[127.0.0.1]", "a@x.bounces.example.org", "a\x00@bounces.example.org",
    "a@bounces.example.org\n", "a" * 65 + "@bounces.example.org",
])
def test_is_ours_refuses_everything_else(address):
    assert not is_ours(address, OURS)


@pytest.mark.parametrize("arg", [
    "<user@bounces.example.org>", "<user@bounces.example.org> SIZE=100",
    "<a.b+c=d@example.com>\tBODY=8BITMIME", " <u@example.net>", "<U.S.E.R@EXAMPLE.ORG>",
    "<>", "<> SIZE=5", " <>", "<>  BODY=8BITMIME", "<>x", "<u..x@example.com>", "<.u@example.com>", '<"a b"@example.com>',
    "<@a.example:u@example.com>", "<u@[192.0.2.1]>", "u@example.com", "<u@example.com",
    "<u@-bad.example.com>", "<u@example.com.>",
])
def test_fast_address_parse_agrees_with_aiosmtpd(arg):
    from aiosmtpd.smtp import SMTP as Stock

    from bouncesink.server.protocol import SinkSMTP

    fast = SinkSMTP._getaddr(SinkSMTP.__new__(SinkSMTP), arg)
    stock = Stock._getaddr(Stock.__new__(Stock), arg)
    assert fast[0] == stock[0]
    assert (fast[1] or "").split() == (stock[1] or "").split()


@pytest.mark.parametrize("address", [
    '<"a\x1b[2Jb"@bounces.example.org>',        # ESC in a quoted local part
    '<"a\x00b"@bounces.example.org>',            # NUL
    '<"a\rb"@bounces.example.org>',              # a lone CR
    '<"a\x07\x7fb"@bounces.example.org>',        # BEL, DEL
    '<"a\tb"@bounces.example.org>',              # TAB
], ids=["esc", "nul", "cr", "bel-del", "tab"])
def test_control_characters_are_refused_with_a_clear_reply(sink, address):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        c.send(f"RCPT TO:{address}\r\n".encode())
        code, msg = c.getreply()
        assert (code, msg) == (553, b"5.1.3 Address refused: it holds control or bidi"
                                    b" characters"), msg
        c.putcmd('MAIL FROM:<"x\x1by"@example.net>')
        code, msg = c.getreply()
        assert code in (503, 553)  # a transaction is open: 503; either way not taken


def test_a_sender_with_control_characters_is_refused(sink):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.putcmd('MAIL FROM:<"x\x1b]0;pwned\x07"@example.net>')
        code, msg = c.getreply()
        assert (code, msg[:5]) == (553, b"5.1.7")


def test_bidi_characters_are_refused(sink):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        c.mail("")
        c.send("RCPT TO:<a\u202egnp.exe@bounces.example.org>\r\n".encode())
        code, _ = c.getreply()
        assert code >= 500
    assert unsafe("a\u202egnp.exe@bounces.example.org")
    assert unsafe('"a\u2066b"@bounces.example.org') and not unsafe("bounces@example.org")
