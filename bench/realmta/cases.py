"""The failure matrix: what the scripted remote answers, and the truth known by construction.

Each case is one message to one recipient. The remote answers at one stage of the SMTP
dialogue (`connect`: the greeting; `mail`, `rcpt`, `data`: the reply to that command) with
a provider's or an MTA's documented wording; `route` cases never reach the remote: the MTA
cannot resolve the domain (`dead`) or its connection is refused (`refused`). A 4xx reply is
repeated on every attempt, so the MTA gives up when its (short) queue lifetime runs out and
the DSN carries the last reply.

Expected reasons use bouncesink's vocabulary (Sisimai's, documented per reason in Sisimai's
lib/sisimai/reason/*.rb). Two readings follow from those definitions:
- a refused connection until the queue lifetime ends is `expired` ("delivery time has
  expired due to connection failure or network error"), not `networkerror` (which is a DNS
  look-up failure or a routing loop);
- a 4xx reply that says nothing more specific (a local problem, greylisting), repeated until
  the lifetime ends, is `expired`; a 4xx that names a cause (mailbox full, rate) keeps that
  cause, since the DSN carries it.
`{rcpt}` in a reply is the case's recipient address; `{ip}` the client's address.
"""

from __future__ import annotations

from dataclasses import dataclass

HARD, SOFT = "hard", "soft"


@dataclass(frozen=True)
class Case:
    name: str
    stage: str                  # connect, mail, rcpt, data; or route for dead / refused
    reply: str                  # the remote's reply, lines joined by "\n" ("" for routes)
    type: str                   # expected result type
    reasons: tuple[str, ...]    # expected reasons (any of them is right)
    source: str                 # where the wording is documented
    route: str = "remote"       # remote, dead, refused

    @property
    def temporary(self) -> bool:
        """True when the MTA must retry until its queue lifetime ends."""
        return self.route == "refused" or self.reply[:1] == "4"

    def reply_for(self, rcpt: str, ip: str = "127.0.0.1") -> str:
        return self.reply.replace("{rcpt}", rcpt).replace("{ip}", ip)


CASES: tuple[Case, ...] = (
    # --- unknown user -------------------------------------------------------------------
    Case("unknown-gmail", "rcpt",
         "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
         "550-5.1.1 double-checking the recipient's email address for typos or\n"
         "550-5.1.1 unnecessary spaces. For more information, go to\n"
         "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser x1si123.12 - gsmtp",
         HARD, ("userunknown",),
         "Google Workspace, SMTP error reference (support.google.com/a/answer/3726730)"),
    Case("unknown-outlook", "rcpt",
         "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
         HARD, ("userunknown",),
         "Outlook.com (Microsoft, 'Requested action not taken: mailbox unavailable')"),
    Case("unknown-exchange", "rcpt",
         "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP"
         " address lookup",
         HARD, ("userunknown",),
         "Exchange Online NDR 5.1.10 (learn.microsoft.com, 'Fix email delivery issues for"
         " error code 5.1.10')"),
    Case("unknown-yahoo", "rcpt",
         "554 delivery error: dd This user doesn't have a yahoo.com account ({rcpt}) [0]"
         " - mta1234.mail.ne1.yahoo.com",
         HARD, ("userunknown",),
         "Yahoo postmaster, SMTP error codes ('554 delivery error: dd This user doesn't"
         " have a yahoo.com account')"),
    Case("unknown-postfix", "rcpt",
         "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox"
         " table",
         HARD, ("userunknown",),
         "Postfix smtpd_check.c (unknown_virtual_mailbox_reject_code)"),
    Case("unknown-qmail", "rcpt",
         "511 sorry, no mailbox here by that name (#5.1.1 - chkuser)",
         HARD, ("userunknown",),
         "qmail-smtpd with chkuser (chkuser_settings.h, CHKUSER_NORCPT_STRING)"),
    Case("unknown-icloud", "rcpt",
         "550 5.1.1 unknown or illegal alias: {rcpt}",
         HARD, ("userunknown",),
         "iCloud Mail (Apple, postmaster information support.apple.com/en-us/102322)"),
    Case("unknown-yandex", "rcpt",
         "550 5.7.1 No such user!",
         HARD, ("userunknown",),
         "Yandex Mail's reply to an unknown recipient (the status says policy; the words"
         " say no such user)"),
    Case("unknown-mailru", "rcpt",
         "550 Message was not accepted -- invalid mailbox.  Local mailbox {rcpt} is"
         " unavailable: user not found",
         HARD, ("userunknown",),
         "Mail.ru's reply to an unknown recipient (help.mail.ru, postmaster)"),
    # --- mailbox full -------------------------------------------------------------------
    Case("full-gmail-452", "rcpt",
         "452-4.2.2 The email account that you tried to reach is over quota. Please direct\n"
         "452 4.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
         SOFT, ("mailboxfull",),
         "Google Workspace, SMTP error reference (452 4.2.2)"),
    Case("full-gmail-552", "rcpt",
         "552-5.2.2 The email account that you tried to reach is over quota. Please direct\n"
         "552 5.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
         SOFT, ("mailboxfull",),
         "Google Workspace, SMTP error reference (552 5.2.2)"),
    Case("full-dovecot", "data",
         "552 5.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)",
         SOFT, ("mailboxfull",),
         "Dovecot quota plugin, quota_exceeded_message default"),
    Case("full-icloud", "rcpt",
         "552 5.2.2 <{rcpt}>: user is over quota",
         SOFT, ("mailboxfull",),
         "iCloud Mail (Apple, postmaster information support.apple.com/en-us/102322)"),
    Case("full-exchange", "data",
         "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
         "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent"
         " exception with message Cannot open mailbox",
         SOFT, ("mailboxfull",),
         "Exchange Online NDR 5.2.2 (learn.microsoft.com, 'Fix email delivery issues for"
         " error code 5.2.2')"),
    # --- message too large --------------------------------------------------------------
    Case("toobig-postfix", "data",
         "552 5.3.4 Message size exceeds fixed limit",
         SOFT, ("mesgtoobig", "exceedlimit"),
         "Postfix smtpd.c / cleanup (message_size_limit)"),
    Case("toobig-gmail", "data",
         "552-5.3.4 Your message exceeded Google's message size limits. For more\n"
         "552 5.3.4 information, go to https://support.google.com/mail/?p=MaxSizeError - gsmtp",
         SOFT, ("mesgtoobig", "exceedlimit"),
         "Google Workspace, SMTP error reference (552 5.3.4)"),
    Case("toobig-exchange", "data",
         "552 5.3.4 Message size exceeds fixed maximum message size",
         SOFT, ("mesgtoobig", "exceedlimit"),
         "Exchange Server / Online NDR 5.3.4 (learn.microsoft.com)"),
    # --- spam content -------------------------------------------------------------------
    Case("spam-gmail", "data",
         "550-5.7.1 [{ip}] Our system has detected that this message is likely\n"
         "550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this\n"
         "550-5.7.1 message has been blocked. For more information, go to\n"
         "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError - gsmtp",
         SOFT, ("spamdetected",),
         "Google Workspace, SMTP error reference (550 5.7.1 unsolicited mail)"),
    Case("spam-eop", "data",
         "550 5.7.1 Message rejected as spam by Content Filtering.",
         SOFT, ("spamdetected",),
         "Exchange Online Protection NDR 5.7.1 (learn.microsoft.com)"),
    # --- DNSBL --------------------------------------------------------------------------
    Case("dnsbl-postfix", "rcpt",
         "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org;"
         " https://www.spamhaus.org/query/ip/{ip}",
         SOFT, ("blocked",),
         "Postfix smtpd_check.c (reject_rbl_client, default rbl_reply_maps text)"),
    Case("dnsbl-yahoo", "connect",
         "553 5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is in"
         " Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html",
         SOFT, ("blocked",),
         "Yahoo postmaster, SMTP error codes (BL21, a 5xx greeting)"),
    Case("blocked-outlook", "mail",
         "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your"
         " Internet service provider since part of their network is on our block list"
         " (S3150). You can also refer your provider to"
         " http://mail.live.com/mail/troubleshooting.aspx#errors.",
         SOFT, ("blocked",),
         "Outlook.com postmaster, SMTP errors (S3150)"),
    # --- rate limits (4xx until expiry) -------------------------------------------------
    Case("rate-postfix-conn", "connect",
         "421 4.7.0 mx.remote.test Error: too many connections from {ip}",
         SOFT, ("toomanyconn", "speeding"),
         "Postfix smtpd.c (smtpd_client_connection_count_limit, anvil)"),
    Case("rate-postfix-mail", "mail",
         "450 4.7.1 Error: too much mail from {ip}",
         SOFT, ("toomanyconn", "speeding"),
         "Postfix smtpd.c (smtpd_client_message_rate_limit, anvil)"),
    Case("rate-gmail", "rcpt",
         "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n"
         "450-4.2.1 prevents additional messages from being delivered. Please resend your\n"
         "450-4.2.1 message at a later time. If the user is able to receive mail at that\n"
         "450 4.2.1 time, your message will be delivered. - gsmtp",
         SOFT, ("toomanyconn", "speeding"),
         "Google Workspace, SMTP error reference (450 4.2.1 rate)"),
    Case("rate-icloud", "rcpt",
         "421 4.7.1 Messages to {rcpt} deferred due to excessive volume. Try again later -"
         " https://support.apple.com/en-us/HT204137",
         SOFT, ("toomanyconn", "speeding"),
         "iCloud Mail (Apple, postmaster information support.apple.com/en-us/102322)"),
    Case("rate-yahoo", "mail",
         "421 Max message per connection reached, closing transmission channel",
         SOFT, ("toomanyconn", "speeding"),
         "Yahoo postmaster, SMTP error codes"),
    # --- persistent 4xx until expiry ----------------------------------------------------
    Case("expiry-local-problem", "rcpt",
         "451 4.3.0 Temporary local problem - please try later",
         SOFT, ("expired",),
         "Exim smtp_in.c / acl.c (a `defer` ACL verb without a message)"),
    Case("expiry-greylist", "rcpt",
         "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see"
         " https://postgrey.schweikert.ch/help/remote.test.html",
         SOFT, ("expired",),
         "postgrey (default greylist_text) behind Postfix smtpd"),
    # --- routes that never reach the remote ---------------------------------------------
    Case("dead-domain", "route", "", HARD, ("hostunknown",),
         "the domain does not resolve (NXDOMAIN); the MTA's own resolver", route="dead"),
    Case("refused", "route", "", SOFT, ("expired",),
         "a closed loopback port: connection refused until the queue lifetime ends",
         route="refused"),
)


def by_name(names: list[str] | None) -> tuple[Case, ...]:
    """The cases with these names (all of them for None); an unknown name is a ValueError."""
    if not names:
        return CASES
    known = {c.name: c for c in CASES}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"unknown case(s): {', '.join(missing)}")
    return tuple(known[n] for n in names)
