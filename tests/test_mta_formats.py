"""Bounce formats of MTAs the parser had no fixture for, each message written by hand from the
code or documentation that produces it (tests/data/formats/*.eml).

The truth is known by construction: the recipients are the ones the message was made for, never
the sender, the bounce's own To/From or an address quoted in the text. `status` is None where the
format gives no code of its own for that recipient (a generic X.0.0, or one made up from the
reply code); `reason` is one name, or a tuple where a source allows two readings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bouncesink import model
from bouncesink.parse import parse

DATA = Path(__file__).parent / "data" / "formats"

# file -> (source, kind, [(recipient, status, reason(s), type)])
CASES = {
    # "Hi. This is the qmail-send program" (qmail-send.c), per-recipient "<addr>:" blocks
    # (addbounce), qmail-remote.c's "does not like recipient." / "Remote host said:" and
    # perm_dns "Sorry, I couldn't find any host named ... (#5.1.2)"
    "qmail-remote-rcpt.eml": (
        "notqmail/notqmail qmail-send.c, qmail-remote.c", "dsn", [
            ("bob@example.net", "5.1.1", "userunknown", "hard"),
            ("carol@nxdomain.example.net", "5.1.2", "hostunknown", "hard")]),
    # qmail-send.c turns a temporary failure of a job past queuelifetime into a permanent one
    # with "I'm not going to try again; this message has been in the queue too long."
    "qmail-queue-expired.eml": (
        "notqmail/notqmail qmail-send.c (flagdying), qmail-remote.c temp_noconn", "dsn", [
            ("dave@example.net", None, "expired", "soft")]),
    # courier/module.dsn: dsnheader.txt, dsnfailed.txt, dsnfooter.txt; dsn.C writes
    # "Status: 5.0.0" for every failure and the remote reply in Diagnostic-Code
    "courier-failed.eml": (
        "svarshavchik/courier courier/courier/module.dsn/dsn.C, dsnfailed.txt", "dsn", [
            ("erin@example.net", "5.1.1", "userunknown", "hard")]),
    # dsnrelayed.txt: handed to a gateway that gives no receipts ("Action: relayed / Status:
    # 2.0.0"): a delivery report, never a failure
    "courier-relayed.eml": (
        "svarshavchik/courier courier/courier/module.dsn/dsn.C, dsnrelayed.txt", "dsn", [
            ("hal@example.net", "2.0.0", "delivered", "delivered")]),
    # dsndelayed.txt, "WARNING: delayed mail." (dsnsubjectwarn.txt); dsn.C writes
    # "Action: delayed / Status: 4.0.0" and no Diagnostic-Code for a delay. A delay whose words
    # match no rule reads "expired" (Sisimai's reading of a message still queued)
    "courier-delayed.eml": (
        "svarshavchik/courier courier/courier/module.dsn/dsn.C, dsndelayed.txt", "dsn", [
            ("frank@example.net", "4.3.1", ("systemfull", "expired"), "delay")]),
    # config/outbound.bounce_message + outbound/hmail.js populate_bounce_message_with_headers:
    # "Remote-MTA: <host>" with no type, "Diagnostic-Code: smtp;<code> <extc> <text> "
    "haraka-rcpt-rejected.eml": (
        "haraka/Haraka outbound/hmail.js, config/outbound.bounce_message", "dsn", [
            ("gina@example.net", "5.1.1", "userunknown", "hard")]),
    # get_mx_error on NXDOMAIN: DSN.addr_bad_dest_system (haraka-dsn, 550 / 5.1.2) written as
    # "Status: 5.1.2 (550 No Such Domain: ...)", no Diagnostic-Code
    "haraka-no-such-domain.eml": (
        "haraka/Haraka outbound/hmail.js get_mx_error; haraka/haraka-dsn index.js", "dsn", [
            ("hank@gone.example.net", "5.1.2", "hostunknown", "hard")]),
    # the same with Haraka's default config/outbound.bounce_message_html and _image: the text
    # nested in multipart/related > multipart/alternative, an inline icon beside it
    "haraka-html-mailbox-full.eml": (
        "haraka/Haraka outbound/hmail.js, config/outbound.bounce_message_html", "dsn", [
            ("cody@example.net", "5.2.2", "mailboxfull", "soft")]),
    # internal/dsn/dsn.go: failedText template, "Delivery to X failed with error: SMTP error
    # 550: ..." (go-smtp's SMTPError.Error); internal/smtpconn/smtpconn.go puts "<mx> said: "
    # before the remote words
    "maddy-failed.eml": (
        "foxcpp/maddy internal/dsn/dsn.go, internal/smtpconn/smtpconn.go", "dsn", [
            ("ivy@example.net", "5.1.1", "userunknown", "hard")]),
    # smtpconn.go rewrites a 552 to 452 (RFC 5321 4.5.3.1.10): a full mailbox is retried, and
    # the queue's DSN after the last try says "Action: failed" with the 4.2.2 it last got
    "maddy-expired-mailbox-full.eml": (
        "foxcpp/maddy internal/smtpconn/smtpconn.go, internal/target/queue/queue.go emitDSN",
        "dsn", [("jo@example.net", "4.2.2", "mailboxfull", "soft")]),
    # queue/dsn.go deliverDSNFailure; dsn/dsn.go writes "Status: 5.x.y (errmsg)" and
    # "Remote-MTA: dns;host ([ip])"; errmsg is smtpclient.Error's text ("<Err>, permanent: <line>",
    # Err "...: got 550, expected 2xx" for a refused RCPT, smtpclient/client.go)
    "mox-failed.eml": (
        "mjl-/mox queue/dsn.go, dsn/dsn.go, smtpclient/client.go", "dsn", [
            ("jack@example.net", "5.1.1", "userunknown", "hard")]),
    "mox-delayed.eml": (
        "mjl-/mox queue/dsn.go deliverDSNDelay, dsn/dsn.go", "dsn", [
            ("kate@example.net", "4.2.2", "mailboxfull", "delay")]),
    # internal/queue/dsn.go template: message/global-delivery-status, "utf-8;" address type,
    # Status 5.0.0 for failures and 4.0.0 (Action failed) for recipients that timed out, and
    # "MAIL+RCPT <reply>" (internal/courier/smtp.go) in Diagnostic-Code
    "chasquid-failed.eml": (
        "albertito/chasquid internal/queue/dsn.go, internal/courier/smtp.go", "dsn", [
            ("leo@example.net", "5.1.1", "userunknown", "hard"),
            ("mia@slow.example.net", None, "expired", "soft")]),
    # crates/smtp/src/queue/dsn.rs: a reply without an enhanced code gets a Status made from
    # the reply code's digits (550 -> 5.5.0); the text names the command ("rejected command
    # 'RCPT TO:<...>' with code 550 (5.5.0) '...'")
    "stalwart-failed.eml": (
        "stalwartlabs/mail-server crates/smtp/src/queue/dsn.rs", "dsn", [
            ("nina@example.net", None, "userunknown", "hard")]),
    # a DNS failure: "<addr> (failed to lookup '<domain>': <error>)" in the text ("Domain not
    # found: NXDomain" from outbound/mod.rs, "Domain does not accept messages (null MX)" from
    # outbound/delivery.rs), and in the report only "Status: 5.0.0", no Diagnostic-Code
    "stalwart-dns.eml": (
        "stalwartlabs/mail-server crates/smtp/src/queue/dsn.rs, outbound/mod.rs, outbound/delivery.rs",
        "dsn", [("fay@gone.example.net", None, "hostunknown", "hard"),
                ("gil@nullmx.example.net", None, "notaccept", "hard")]),
    "stalwart-delayed.eml": (
        "stalwartlabs/mail-server crates/smtp/src/queue/dsn.rs", "dsn", [
            ("omar@example.net", "4.7.0", "toomanyconn", "delay")]),
    # one DSN for a delay and a failure ("Warning: Temporary and permanent failures during
    # message delivery"): the warning subject must not make the failure a delay
    "stalwart-mixed.eml": (
        "stalwartlabs/mail-server crates/smtp/src/queue/dsn.rs", "dsn", [
            ("dana@example.net", "4.2.2", "mailboxfull", "delay"),
            ("eli@example.net", "5.1.1", "userunknown", "hard")]),
    # DSNBounce.java writes the whole delivery error as the Status value
    # ("Status: 550 5.1.1 ...") and as the Diagnostic-Code; JavaMail's reply text ends in a
    # newline, so a blank line follows each
    "james-dsnbounce.eml": (
        "apache/james-project server/mailet/mailets/.../mailets/DSNBounce.java, "
        "remote/delivery/Bouncer.java", "dsn", [
            ("pam@example.net", "5.1.1", "userunknown", "hard")]),
    # James's plain bounce (Bouncer.explanationText through JamesMailetContext.bounce: text/plain,
    # "Re: <subject>", From the postmaster): the recipients, then "Remote mail server told me: "
    # and the reply, or the MessagingException's own words
    "james-bounce-text.eml": (
        "apache/james-project .../remote/delivery/Bouncer.java explanationText; "
        "mailetcontainer-impl .../JamesMailetContext.java bounce", "dsn", [
            ("abby@example.net", "5.1.1", "userunknown", "hard")]),
    # MailDelivrer.handleNoTargetServer: "There are no DNS entries for the hostname <domain>.  I
    # cannot determine where to send this message." (permanent after dnsProblemRetry attempts)
    "james-bounce-no-dns.eml": (
        "apache/james-project .../remote/delivery/MailDelivrer.java handleNoTargetServer", "dsn", [
            ("bert@gone.example.net", None, "hostunknown", "hard")]),
    # Sieve "reject" (RFC 5429 2.2): delivery refused by the recipient's own filter, sent back
    # as an MDN with "Disposition: automatic-action/MDN-sent-automatically; deleted"
    # (src/lib-lda/mail-send.c). The address is live: a failure, never hard.
    "dovecot-sieve-reject.eml": (
        "dovecot/core src/lib-lda/mail-send.c; RFC 5429 section 2.2", "dsn", [
            ("quinn@example.net", None, "filtered", "soft")]),
    # Cyrus lmtpd's Sieve reject (imap/lmtp_sieve.c send_rejection): the same MDN, its human
    # part with no header of its own
    "cyrus-sieve-reject.eml": (
        "cyrusimap/cyrus-imapd imap/lmtp_sieve.c send_rejection; RFC 5429 section 2.2", "dsn", [
            ("uma@example.net", None, "filtered", "soft")]),
    # the same function's DSN branch, used when the user is over quota (Status 5.2.2)
    "dovecot-lda-quota.eml": (
        "dovecot/core src/lib-lda/mail-send.c", "dsn", [
            ("rita@example.net", "5.2.2", "mailboxfull", "soft")]),
    # hMailServer: SEND_FAILED_NOTIFICATION (the hm_servermessages table of its install
    # scripts), one "<address>\r\n" + the recipient's error text per failure
    # (ExternalDelivery.cpp); the remote error text from SMTPClientConnection.cpp ("Remote
    # server (ip) issued an error. / hMailServer sent: / Remote server replied:")
    "hmailserver-remote.eml": (
        "hmailserver/hmailserver SMTPDeliverer.cpp SubmitErrorLog_, ExternalDelivery.cpp, "
        "SMTPClientConnection.cpp", "dsn", [
            ("victor@example.net", "5.1.1", "userunknown", "hard")]),
    # a local account over its size limit (SMTPDeliverer / LocalDelivery: "Error Description:
    # Inbox is full")
    "hmailserver-inbox-full.eml": (
        "hmailserver/hmailserver LocalDelivery.cpp (account SpaceAvailable check)", "dsn", [
            ("wendy@example.net", None, "mailboxfull", "soft")]),
    # XMail (SMTP queue utilities, QueUtBuildErrorResponse): "[<00>] XMail bounce:
    # Rcpt=[addr];Error=[reason]" then numbered sections; the sender's address is quoted in
    # "Mail From: <...>"
    "xmail-failed.eml": (
        "XMail QueueUtils.cpp QueUtBuildErrorResponse", "dsn", [
            ("xena@example.net", "5.1.1", "userunknown", "hard")]),
    # XMail's notice of a temporary error (SMAIL.cpp -> QueUtNotifyTempErrDelivery): the same
    # layout with a "[<03>] Note:" saying "This is a temporary error and you do not have to
    # resend the message": a delay warning
    "xmail-temp-error.eml": (
        "XMail SMAIL.cpp (temporary error note), QueueUtils.cpp QueUtBuildErrorResponse", "dsn", [
            ("ivo@example.net", "4.2.2", "mailboxfull", "delay")]),
    # Citadel (modules/smtp/serv_smtpclient.c smtp_do_bounce): "<addr>: <remote reply>" lines
    "citadel-failed.eml": (
        "citadel serv_smtpclient.c smtp_do_bounce", "dsn", [
            ("yuri@example.net", "5.1.1", "userunknown", "hard")]),
    # the same, when the queue gave up: "... due to prolonged unavailability of its
    # destination(s). Giving up on the following addresses:" and the last temporary reply
    "citadel-give-up.eml": (
        "citadel serv_smtpclient.c smtp_do_bounce (give_up)", "dsn", [
            ("zoe@example.net", "4.3.2", "expired", "soft")]),
    # Mailman 2's postheld.txt notice: the message is held, not bounced
    "mailman-held.eml": (
        "GNU Mailman 2.1 templates/en/postheld.txt", "unrecognised", []),
    # Exchange Online NDR layout (learn.microsoft.com: "Email non-delivery reports and SMTP
    # errors in Exchange Online", error 5.1.10)
    "office365-recipient-not-found.eml": (
        "learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online",
        "dsn", [("sam@example.net", "5.1.10", "userunknown", "hard")]),
    # Gmail's "Address not found" bounce (support.google.com/mail/?p=NoSuchUser)
    "gmail-address-not-found.eml": (
        "support.google.com/mail/answer/6596 (NoSuchUser)", "dsn", [
            ("tina@example.net", "5.1.1", "userunknown", "hard")]),
}

# file -> why the parser still misses it
XFAIL: dict[str, str] = {
    "citadel-give-up.eml": "the last reply's words ('421 ... Service not available': blocked) "
                           "outrank the MTA's own 'gave up after prolonged unavailability'",
}


def _params() -> list:
    return [pytest.param(name, id=name.removesuffix(".eml"),
                         marks=[pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else [])
            for name in sorted(CASES)]


def test_every_fixture_has_a_case():
    assert sorted(p.name for p in DATA.glob("*.eml")) == sorted(CASES)


@pytest.mark.parametrize("name", _params())
def test_format(name):
    source, kind, expected = CASES[name]
    assert source
    parsed = parse((DATA / name).read_bytes())
    assert parsed.errors == []
    assert parsed.kind == kind
    got = {r.recipient: r for r in parsed.results}
    assert len(got) == len(parsed.results), "one row per recipient"
    assert sorted(got) == sorted(rcpt for rcpt, *_ in expected)
    for rcpt, status, reasons, rtype in expected:
        r = got[rcpt]
        assert r.reason in model.REASONS and r.rule
        allowed = (reasons,) if isinstance(reasons, str) else reasons
        assert r.type == rtype and r.reason in allowed, (rcpt, r.type, r.reason, r.rule)
        if status is not None:
            assert r.status == status, (rcpt, r.status)


@pytest.mark.parametrize("disposition", [
    "manual-action/MDN-sent-manually; deleted",         # a person deleted it unread: a receipt
    "automatic-action/MDN-sent-automatically; displayed",
    "automatic-action/MDN-sent-automatically; processed",
])
def test_mdn_receipts_are_not_refusals(disposition):
    raw = (DATA / "dovecot-sieve-reject.eml").read_bytes().replace(
        b"automatic-action/MDN-sent-automatically; deleted", disposition.encode())
    parsed = parse(raw)
    assert (parsed.kind, parsed.results, parsed.detector) == ("unrecognised", [], "mdn")


@pytest.mark.parametrize("words, command", [
    ("<nina@example.net> (host 'mx.example.net' rejected command 'RCPT TO:<nina@example.net>' "
     "with code 550 (5.5.0) 'No such user here')", "RCPT"),
    # Stalwart's words when the reply ended the whole transaction: no command named
    ("<nina@example.net> (host 'mx.example.net' rejected transaction with code 554 (5.7.1) "
     "'Message refused')", ""),
])
def test_stalwart_command_words(words, command):
    from bouncesink.model import Result
    from bouncesink.parse import text
    r = Result(recipient="nina@example.net")
    text.fill_commands(words, [r])
    assert r.command == command


@pytest.mark.parametrize("words, full", [
    ("Error Type: SMTP Error Description: Inbox is full", True),  # hMailServer
    ("550 5.7.1 your inbox is fully synchronised, message refused", False),  # near miss
])
def test_inbox_full_wording(words, full):
    from bouncesink.classify import classify
    from bouncesink.model import Result
    r = Result(recipient="wendy@example.net", action="failed", diagnostic=words)
    classify(r)
    assert (r.reason == "mailboxfull") is full, (r.reason, r.rule)


@pytest.mark.parametrize("words, dead", [
    ("There are no DNS entries for the hostname gone.example.net.  I cannot determine where to "
     "send this message.", True),  # Apache James MailDelivrer, permanent
    # its temporary sibling (TemporaryResolutionException): never a dead domain
    ("Temporary problem looking up mail server for host: slow.example.net.  I cannot determine "
     "where to send this message.", False),
])
def test_james_dns_wordings(words, dead):
    from bouncesink.classify import classify
    from bouncesink.model import Result
    r = Result(recipient="bert@gone.example.net", action="failed", diagnostic=words)
    classify(r)
    assert (r.reason == "hostunknown" and r.type == "hard") is dead, (r.reason, r.type, r.rule)


def test_xmail_final_bounce_is_not_a_warning():
    # the final bounce has the same layout and no "[<03>] Note:": it stays a failure
    from bouncesink.parse import notices
    final = (DATA / "xmail-failed.eml").read_text()
    temp = (DATA / "xmail-temp-error.eml").read_text()
    assert not notices.is_warning("Error sending message", final)
    assert notices.is_warning("Error sending message", temp)
