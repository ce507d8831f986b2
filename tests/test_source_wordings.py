"""Out-of-sample check: real error wordings, each with the meaning its primary source documents.

The rules in classify/ were partly written against the dev corpus; this table was not. Every
case is a reply text as the named source writes or documents it (an MTA's source code or
manual, a provider's published error-code page, an RFC), with the reason and the hard/soft
verdict that source's meaning gives. Each case is classified the way a parsed DSN is: the
Status and the reply code (read from the words, as parse/dsn.py does) of a failed recipient,
the SMTP command where the reporting MTA names one (Postfix's "in reply to RCPT TO command"),
and the remote host for a provider's own replies.

Hard means evidence that the address is dead (no such user, no such domain, moved, null MX);
a block for spam, reputation, policy or rate is the sender's problem and is never hard; a
temporary (4xx) failure is never hard.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bouncesink import model
from bouncesink.classify import classify
from bouncesink.parse.dsn import join_reply_lines, reply_code

HARD, SOFT = model.HARD, model.SOFT

# Sources cited often
PF = "Postfix src/smtpd/smtpd_check.c"
PF_SMTPD = "Postfix src/smtpd/smtpd.c"
PF_LOCAL = "Postfix src/local/, src/virtual/, src/global/mbox_open.c"
PF_SMTP = "Postfix src/smtp/smtp_addr.c, smtp_proto.c"
EXIM = "Exim src/acl.c, src/verify.c, src/smtp_in.c (and the Exim specification's ACL examples)"
EXIM_T = "Exim src/transports/appendfile.c"
SM = "Sendmail sendmail/srvrsmtp.c, parseaddr.c, recipient.c, deliver.c"
SM_CF = "Sendmail cf/feature/dnsbl.m4, cf/m4/proto.m4 (access map)"
QMAIL = "qmail qmail-remote.c, qmail-smtpd.c, qmail-local.c, qmail-send.c"
DOVECOT = "Dovecot src/lmtp/lmtp-commands.c, src/plugins/quota/quota.c (quota_exceeded_message)"
MS = "learn.microsoft.com 'Email non-delivery reports in Exchange Online' (NDR code table)"
GMAIL = "support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
YAHOO = "senders.yahooinc.com/smtp-error-codes"
APPLE = "support.apple.com/HT204137 (iCloud Mail postmaster), replies as listed by smtp.codes/icloud"
COMCAST = "postmaster.comcast.net/mail-error-codes (Comcast mail delivery error codes)"
ORANGE = "postmaster.orange.fr 'Codes d'erreur SMTP'"
MIMECAST = "community.mimecast.com DOC-1369 'Mimecast SMTP Error Codes'"
MAILRU = "help.mail.ru/mail/mailer/popular (Mail.ru delivery errors)"
YANDEX = "yandex.com/support/mail (error messages in bounces)"
RFC3463 = "RFC 3463 s.3 (status code texts)"
RFC5321 = "RFC 5321 s.4.2.2"

GOOGLE_MX = "gmail-smtp-in.l.google.com"
YAHOO_MX = "mta5.am0.yahoodns.net"
APPLE_MX = "mx01.mail.icloud.com"
COMCAST_MX = "mx1.comcast.net"
MIMECAST_MX = "eu-smtp-inbound-1.mimecast.com"
MS_MX = "example-org.mail.protection.outlook.com"


class Case(NamedTuple):
    status: str
    text: str
    reason: str
    type: str
    source: str
    command: str = ""
    host: str = ""
    xfail: str = ""  # why the source's meaning cannot be read from the words alone


CASES: list[Case] = [
    # ------------------------------------------------------------ Postfix smtpd
    Case("5.1.1", "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
         "userunknown", HARD, f"{PF} reject_unlisted_recipient (virtual_mailbox_maps)", "RCPT"),
    Case("5.1.1", "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in relay recipient table",
         "userunknown", HARD, f"{PF} reject_unlisted_recipient (relay_recipient_maps)", "RCPT"),
    Case("5.1.1", "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual alias table",
         "userunknown", HARD, f"{PF} reject_unlisted_recipient (virtual_alias_maps)"),
    Case("4.1.1", "450 4.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table",
         "userunknown", SOFT, f"{PF} with soft_bounce / unknown_local_recipient_reject_code 450", "RCPT"),
    Case("5.1.1", "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown",
         "userunknown", HARD, f"{PF} reject_unlisted_recipient", "RCPT"),
    Case("5.1.1", "550 5.1.1 <a@example.org>: Recipient address rejected: undeliverable address: host "
         "mx.example.org[192.0.2.1] said: 550 5.1.1 <a@example.org>: Recipient address rejected: User unknown "
         "in local recipient table (in reply to RCPT TO command)",
         "userunknown", HARD, f"{PF} reject_unverified_recipient 'undeliverable address'", "RCPT"),
    Case("4.1.1", "450 4.1.1 <a@example.org>: Recipient address rejected: unverified address: host "
         "mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command)",
         "userunknown", SOFT, f"{PF} reject_unverified_recipient 'unverified address' (450)", "RCPT"),
    Case("5.7.1", "554 5.7.1 <a@example.org>: Relay access denied",
         "norelaying", SOFT, f"{PF} reject_unauth_destination", "RCPT"),
    Case("4.7.1", "454 4.7.1 <a@example.org>: Relay access denied",
         "norelaying", SOFT, f"{PF} defer_unauth_destination", "RCPT"),
    Case("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
         "https://www.spamhaus.org/query/ip/192.0.2.1",
         "blocked", SOFT, f"{PF} reject_rbl_client", "RCPT"),
    Case("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop.net; "
         "Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
         "blocked", SOFT, f"{PF} reject_rbl_client with the list's reply text", "RCPT"),
    Case("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using b.barracudacentral.org; "
         "http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
         "blocked", SOFT, f"{PF} reject_rbl_client; barracudacentral.org", "RCPT"),
    Case("4.7.1", "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]",
         "requireptr", SOFT, f"{PF} reject_unknown_client_hostname", "RCPT"),
    Case("5.7.1", "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
         "requireptr", SOFT, f"{PF} reject_unknown_reverse_client_hostname", "RCPT"),
    Case("5.7.1", "554 5.7.1 <mail.example.com[192.0.2.1]>: Client host rejected: Access denied",
         "blocked", SOFT, f"{PF} check_client_access REJECT", "RCPT"),
    Case("5.5.2", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
         "blocked", SOFT, f"{PF} reject_non_fqdn_helo_hostname", "RCPT"),
    Case("4.1.8", "450 4.1.8 <s@example.com>: Sender address rejected: Domain not found",
         "rejected", SOFT, f"{PF} reject_unknown_sender_domain", "RCPT"),
    Case("5.7.1", "554 5.7.1 <s@example.com>: Sender address rejected: Access denied",
         "rejected", SOFT, f"{PF} check_sender_access REJECT", "RCPT"),
    Case("5.1.1", "550 5.1.1 <s@example.com>: Sender address rejected: undeliverable address: host "
         "mx.example.com[192.0.2.9] said: 550 5.1.1 User unknown (in reply to RCPT TO command)",
         "rejected", SOFT, f"{PF} reject_unverified_sender: the SENDER is unknown, the recipient is not", "RCPT"),
    Case("5.7.1", "554 5.7.1 <a@example.org>: Recipient address rejected: Access denied",
         "securityerror", SOFT, f"{PF} check_recipient_access REJECT (access(5) default text: a policy, not a "
         f"lookup; no cause given, so {RFC3463} X.7.1 'Delivery not authorized')", "RCPT"),
    Case("4.3.1", "452 4.3.1 Insufficient system storage",
         "systemfull", SOFT, f"{PF_SMTPD} queue_minfree", "MAIL"),
    Case("5.3.4", "552 5.3.4 Message size exceeds fixed limit",
         "mesgtoobig", SOFT, f"{PF_SMTPD} message_size_limit", "DATA"),
    Case("4.7.0", "421 4.7.0 mx.example.org Error: too many connections from 192.0.2.1",
         "toomanyconn", SOFT, f"{PF_SMTPD} smtpd_client_connection_count_limit", "CONN"),
    Case("4.7.1", "450 4.7.1 Error: too much mail from 192.0.2.1",
         "speeding", SOFT, f"{PF_SMTPD} smtpd_client_message_rate_limit", "MAIL"),
    Case("4.5.3", "452 4.5.3 Error: too many recipients",
         "toomanyconn", SOFT, f"{PF_SMTPD} smtpd_recipient_limit", "RCPT"),
    Case("5.1.10", "556 5.1.10 <a@example.org>: Recipient address rejected: Domain example.org does not accept mail (nullMX)",
         "notaccept", HARD, f"{PF} reject_unknown_recipient_domain with a null MX (RFC 7505)", "RCPT"),
    Case("4.1.2", "450 4.1.2 <a@example.org>: Recipient address rejected: Domain not found",
         "hostunknown", SOFT, f"{PF} reject_unknown_recipient_domain (temporary)", "RCPT",
         xfail="Postfix smtpd_check.c writes the same 450 4.1.2 'Domain not found' for a DNS_RETRY and for a "
               "missing domain under unknown_address_reject_code 450: the words cannot tell which"),
    Case("5.1.2", "550 5.1.2 <a@example.org>: Recipient address rejected: Domain not found",
         "hostunknown", HARD, f"{PF} reject_unknown_recipient_domain (NXDOMAIN)", "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: Message rejected due to: SPF fail - "
         "not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=s@example.com;ip=192.0.2.1;r=a@example.org",
         "authfailure", SOFT, "pypolicyd-spf policyd-spf (Postfix policy service) reject text", "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: Mail appeared to be SPAM or forged. Ask "
         "your Mail/DNS-Administrator to correct HELO and DNS MX settings or to get removed from DNSBLs; MTA helo: "
         "mail.example.com, MTA hostname: unknown[192.0.2.1] (helo/hostname mismatch)",
         "spamdetected", SOFT, "policyd-weight REJECTMSG (Postfix policy service)", "RCPT"),
    Case("5.7.1", "550 5.7.1 message content rejected",
         "spamdetected", SOFT, "Postfix src/cleanup/cleanup_message.c header_checks/body_checks REJECT", "DATA"),
    Case("5.1.3", "501 5.1.3 Bad recipient address syntax",
         "userunknown", HARD, f"{PF_SMTPD} (RFC 3463 X.1.3 bad destination mailbox address syntax)", "RCPT"),
    Case("5.5.1", "503 5.5.1 Error: need RCPT command",
         "syntaxerror", SOFT, f"{PF_SMTPD}", "DATA"),
    Case("5.5.1", "550 5.5.1 Protocol error",
         "blocked", SOFT, "Postfix src/postscreen/postscreen_smtpd.c (POSTSCREEN_README: a client that fails the "
         "deep protocol tests is refused before any address)", "CONN"),
    # ------------------------------------------------------------ Postfix delivery agents / client
    Case("5.4.4", "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
         "hostunknown", HARD, PF_SMTP),
    Case("4.4.3", "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again",
         "networkerror", SOFT, PF_SMTP),
    Case("5.1.1", 'unknown user: "alice"', "userunknown", HARD, f"{PF_LOCAL} local(8)"),
    Case("5.2.2", "cannot update mailbox /var/mail/alice for user alice. error writing message: Disk quota exceeded",
         "mailboxfull", SOFT, f"{PF_LOCAL} local(8) mailbox delivery"),
    Case("5.2.2", "maildir delivery failed: error writing message: Disk quota exceeded",
         "mailboxfull", SOFT, f"{PF_LOCAL} virtual(8) maildir delivery"),
    Case("5.4.6", "mail forwarding loop for a@example.org", "networkerror", SOFT, f"{PF_LOCAL} local(8)"),
    Case("4.7.5", "TLS is required, but was not offered by host mx.example.org[192.0.2.1]",
         "securityerror", SOFT, "Postfix src/smtp/smtp_proto.c (smtp_tls_security_level=encrypt)"),
    Case("5.3.0", 'Command died with status 77: "/usr/lib/dovecot/deliver". Command output: Quota exceeded '
         "(mailbox for user is full)",
         "mailboxfull", SOFT, "Postfix src/global/pipe_command.c with Dovecot deliver's quota message"),
    # ------------------------------------------------------------ Postfix local(8) / virtual(8) texts (mbox_dsn: EDQUOT/EFBIG 5.2.2)
    Case("5.4.6", "alias database loop for alice", "networkerror", SOFT, "Postfix src/local/alias.c (5.4.6)"),
    Case("5.3.5", "mail system configuration error", "systemerror", SOFT, "Postfix src/virtual/mailbox.c (5.3.5)"),
    Case("5.2.2", "maildir delivery failed: create maildir file /home/alice/Maildir/tmp/1700000000.P1.mx: Disk quota "
         "exceeded", "mailboxfull", SOFT, "Postfix src/local/maildir.c, src/global/mbox_open.c mbox_dsn (EDQUOT: 5.2.2)"),
    Case("4.3.0", "cannot update mailbox /var/mail/alice for user alice. error writing message: No space left on device",
         "systemfull", SOFT, "Postfix src/local/mailbox.c, src/global/mbox_open.c mbox_dsn (ENOSPC: 4.3.0, mail system full)"),
    Case("5.5.0", "503 5.5.0 <s@example.com>: Sender address rejected: Improper use of SMTP command pipelining",
         "syntaxerror", SOFT, f"{PF} reject_unauth_pipelining", "RCPT"),
    # ------------------------------------------------------------ Dovecot LMTP / LDA
    Case("5.2.2", "552 5.2.2 <a@example.org> Quota exceeded (mailbox for user is full)",
         "mailboxfull", SOFT, DOVECOT),
    Case("4.2.2", "452 4.2.2 <a@example.org> Quota exceeded (mailbox for user is full)",
         "mailboxfull", SOFT, f"{DOVECOT} (lmtp_rcpt_check_quota)", "RCPT"),
    Case("5.1.1", "550 5.1.1 <a@example.org> User doesn't exist: a@example.org",
         "userunknown", HARD, f"{DOVECOT} 'User doesn't exist'", "RCPT"),
    Case("5.2.2", "552 5.2.2 Mailbox quota exceeded", "mailboxfull", SOFT, f"{RFC3463} X.2.2; {DOVECOT}"),
    # ------------------------------------------------------------ Exim
    Case("5.2.2", "mailbox is full (MTA-imposed quota exceeded while writing to tmp/1234.H.mail)",
         "mailboxfull", SOFT, EXIM_T),
    Case("5.0.0", "550-Verification failed for <s@example.com> 550-Unrouteable address 550 Sender verify failed",
         "rejected", SOFT, f"{EXIM} sender verification: the SENDER's domain is unroutable", "RCPT"),
    Case("5.0.0", "550-Verification failed for <s@example.com> 550-Called: 192.0.2.9 550-Sent: RCPT "
         "TO:<s@example.com> 550-Response: 550 5.1.1 <s@example.com>: Recipient address rejected: User unknown "
         "in local recipient table 550 Sender verify failed",
         "rejected", SOFT, f"{EXIM} sender callout: the SENDER is unknown at its own server", "RCPT"),
    Case("5.0.0", "550 Sender verify failed", "rejected", SOFT, EXIM, "RCPT"),
    Case("5.0.0", "550 Rejected because 192.0.2.1 is in a black list at zen.spamhaus.org",
         "blocked", SOFT, f"{EXIM} dnslists", "RCPT"),
    Case("5.0.0", "550 relay not permitted", "norelaying", SOFT, "Exim default configure 'relay not permitted'", "RCPT"),
    Case("4.0.0", "421 Too many concurrent SMTP connections from this IP address; please try again later.",
         "toomanyconn", SOFT, f"{EXIM} smtp_accept_max_per_host", "CONN"),
    Case("5.0.0", "552 Message size exceeds maximum permitted", "mesgtoobig", SOFT, f"{EXIM} message_size_limit", "DATA"),
    Case("5.0.0", "550 This message contains malware (Eicar-Test-Signature)",
         "virusdetected", SOFT, "Exim specification ch. 'Content scanning' malware ACL example", "DATA"),
    Case("5.0.0", "550 This message scored 12.3 spam points.",
         "spamdetected", SOFT, "Exim specification ch. 'Content scanning' spam ACL example", "DATA"),
    Case("4.0.0", "451 Sender rate exceeds 100 messages per 1h",
         "speeding", SOFT, "Exim specification 'Rate limiting incoming messages' (ratelimit ACL example)", "RCPT"),
    Case("5.0.0", "unknown mail domain", "hostunknown", HARD, "Exim src/routers/dnslookup.c (HOST_FIND_FAILED)"),
    Case("5.0.0", "an MX or SRV record indicated no SMTP service", "notaccept", HARD,
         "Exim src/routers/dnslookup.c (an MX pointing to '.': RFC 7505 null MX)"),
    Case("4.0.0", "all host address lookups failed temporarily", "networkerror", SOFT,
         "Exim src/transports/smtp.c (HOST_FIND_AGAIN)"),
    Case("4.0.0", "Remote host closed connection in response to RCPT TO:<a@example.org>", "networkerror", SOFT,
         "Exim src/transports/smtp.c"),
    Case("4.0.0", "DANE attempt failed; TLS connection to mx.example.org [192.0.2.1]: certificate verification "
         "failed", "securityerror", SOFT, "Exim src/transports/smtp.c (DANE)"),
    Case("5.0.0", "550-Callout verification failed: 550 550 5.1.1 <a@example.org>: Recipient address rejected: User "
         "unknown in local recipient table", "userunknown", HARD, "Exim src/src/verify.c 'Callout verification failed:'",
         "RCPT"),
    Case("5.0.0", "550 No Such User Here", "userunknown", HARD,
         "cPanel's Exim configuration (the 'No Such User Here' fail router)", "RCPT"),
    Case("5.0.0", "550 Unknown user", "userunknown", HARD, "hMailServer / Exim 'Unknown user' at RCPT", "RCPT"),
    # ------------------------------------------------------------ Sendmail
    Case("5.1.1", "550 5.1.1 <a@example.org>... User unknown", "userunknown", HARD, SM, "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>... Relaying denied. Proper authentication required.",
         "norelaying", SOFT, SM, "RCPT"),
    Case("4.4.5", "452 4.4.5 Insufficient disk space; try again later", "systemfull", SOFT, SM, "MAIL"),
    Case("5.1.2", "550 5.1.2 <a@example.invalid>... Host unknown (Name server: example.invalid: host not found)",
         "hostunknown", HARD, SM),
    Case("5.7.1", "550 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org", "blocked", SOFT, SM_CF, "MAIL"),
    Case("5.7.1", "550 5.7.1 <a@example.org>... Access denied", "securityerror", SOFT,
         f"{SM_CF} 'To:' REJECT in the access map (no cause given: {RFC3463} X.7.1)", "RCPT"),
    Case("5.2.1", "550 5.2.1 <a@example.org>... Mailbox disabled for this recipient", "suspend", SOFT, SM, "RCPT"),
    Case("5.1.6", "551 5.1.6 User has moved; please try <b@example.net>", "hasmoved", HARD,
         f"{SM} (userdb forwarding); {RFC5321} 551", "RCPT"),
    Case("5.1.2", "553 5.1.2 <a@nonexistent.example>... Unrecognized host name nonexistent.example", "hostunknown", HARD,
         "Sendmail cf/m4/proto.m4 (recipient domain that does not resolve)", "RCPT"),
    Case("4.1.2", "450 4.1.2 <a@example.org>... MX lookup failure for example.org", "networkerror", SOFT,
         "Sendmail cf/m4/proto.m4 (a temporary MX lookup failure)", "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>... Relaying denied. IP name lookup failed [192.0.2.1]", "norelaying", SOFT,
         "Sendmail cf/m4/proto.m4 (relaying refused; the client's IP name could not be looked up)", "RCPT"),
    Case("5.5.4", "553 5.5.4 <s@localhost>... Real domain name required for sender address", "rejected", SOFT,
         "Sendmail cf/m4/proto.m4", "MAIL"),
    Case("4.4.7", "Message could not be delivered for 5 days", "expired", SOFT, "Sendmail sendmail/queue.c"),
    Case("5.3.0", "554 5.3.0 unknown mailer error 1", "mailererror", SOFT, "Sendmail sendmail/deliver.c (EX_UNAVAILABLE text)"),
    # ------------------------------------------------------------ qmail and friends
    Case("5.1.2", "Sorry, I couldn't find any host named example.invalid. (#5.1.2)", "hostunknown", HARD, QMAIL),
    Case("5.7.1", "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "norelaying", SOFT,
         QMAIL, "RCPT"),
    Case("5.3.4", "552 sorry, that message size exceeds my databytes limit (#5.3.4)", "mesgtoobig", SOFT, QMAIL, "DATA"),
    Case("4.4.7", "I'm not going to try again; this message has been in the queue too long.", "expired", SOFT, QMAIL),
    Case("5.4.6", "This message is looping: it already has my Delivered-To line. (#5.4.6)", "networkerror", SOFT, QMAIL),
    Case("5.1.1", "550 5.1.1 sorry, no mailbox here by that name (chkuser)", "userunknown", HARD,
         "qmail chkuser patch (chkuser.c)", "RCPT"),
    Case("5.2.2", "user is over quota", "mailboxfull", SOFT, "vpopmail vdelivermail.c"),
    # ------------------------------------------------------------ OpenSMTPD, Courier, Cyrus, Zimbra, others
    Case("5.1.1", "550 Invalid recipient: <a@example.org>", "userunknown", HARD,
         "OpenSMTPD usr.sbin/smtpd/smtp_session.c", "RCPT"),
    Case("5.0.0", "Domain does not exist", "hostunknown", HARD, "OpenSMTPD usr.sbin/smtpd/mta.c (DNS_ENONAME, permanent)"),
    Case("5.0.0", "Domain does not accept mail", "notaccept", HARD, "OpenSMTPD usr.sbin/smtpd/mta.c (DNS_NULLMX, RFC 7505)"),
    Case("5.0.0", "Invalid domain name", "hostunknown", HARD, "OpenSMTPD usr.sbin/smtpd/mta.c (DNS_EINVAL, permanent)"),
    Case("4.0.0", "Temporary failure in MX lookup", "networkerror", SOFT, "OpenSMTPD usr.sbin/smtpd/mta.c (DNS_RETRY)"),
    Case("4.0.0", "No MX found for destination", "notaccept", SOFT,
         "OpenSMTPD usr.sbin/smtpd/mta.c (CONNECTOR_ERROR_MX, a temporary failure)"),
    Case("4.0.0", "Destination seem to reject all mails", "notaccept", SOFT,
         "OpenSMTPD usr.sbin/smtpd/mta.c (CONNECTOR_ERROR_ROUTE_SMTP, a temporary failure)"),
    Case("5.1.0", "Permanent failure in user lookup", "userunknown", HARD,
         "OpenSMTPD usr.sbin/smtpd/mda.c (the delivery user does not exist: ESC_OTHER_ADDRESS_STATUS)"),
    Case("5.2.2", "maildrop: maildir over quota.", "mailboxfull", SOFT, "Courier maildrop (maildir/maildirquota.c)"),
    Case("5.7.1", "513 Relaying denied.", "norelaying", SOFT, "Courier courier/module.esmtp/courieresmtpd.c", "RCPT"),
    Case("5.1.1", "550-Mailbox unknown.  Either there is no mailbox associated with this 550-name or you do not "
         "have authorization to see it. 550 5.1.1 User unknown", "userunknown", HARD,
         "Cyrus IMAP imap/lmtpd.c, imap/imap_err.et (IMAP_MAILBOX_NONEXISTENT)", "RCPT"),
    Case("4.2.2", "452 4.2.2 Over quota", "mailboxfull", SOFT, "Cyrus IMAP imap/lmtpengine.c (IMAP_QUOTA_EXCEEDED)", "RCPT"),
    Case("5.2.2", "552 5.2.2 Over quota", "mailboxfull", SOFT, "Zimbra LMTP (com.zimbra.cs.lmtpserver)"),
    Case("5.1.1", "550 5.1.1 No such user here", "userunknown", HARD, "Zimbra LMTP (com.zimbra.cs.lmtpserver)", "RCPT"),
    Case("5.0.0", "530 SMTP authentication is required.", "securityerror", SOFT, "hMailServer", "MAIL"),
    Case("5.0.0", "552 Message size exceeds fixed maximum message size. Size: 30720 KB, Max size: 20480 KB",
         "mesgtoobig", SOFT, "hMailServer / MDaemon max message size", "DATA"),
    Case("5.0.0", "User a@example.org not listed in Domino Directory", "userunknown", HARD,
         "HCL Domino router (Domino Directory lookup)"),
    Case("5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering.", "spamdetected", SOFT,
         "Exchange Server Content Filter agent (learn.microsoft.com 'Content filtering')", "DATA"),
    Case("5.2.2", "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoff"
         "QuotaExceeded; Failed to process message due to a permanent exception", "mailboxfull", SOFT,
         "Exchange Server store driver (STOREDRV.Deliver QuotaExceededException)"),
    Case("5.1.1", "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", "userunknown", HARD,
         "Exchange Server 2010+ categorizer (RESOLVER.ADR.RecipNotFound)"),
    Case("5.7.1", "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required", "securityerror", SOFT,
         "Exchange Server (recipient restricted to authenticated senders)"),
    Case("5.7.1", "550 5.7.1 Unable to relay", "norelaying", SOFT, MS, "RCPT"),
    Case("5.7.1", "530 5.7.1 Client was not authenticated", "securityerror", SOFT, MS, "MAIL"),
    Case("5.7.1", "550 5.7.1 Delivery not authorized, message refused", "securityerror", SOFT, f"{MS} 5.7.1; {RFC3463}"),
    # ------------------------------------------------------------ Exchange Online (NDR table)
    Case("5.4.1", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
         "[BN1NAM02FT022.eop-nam02.prod.protection.outlook.com]", "userunknown", HARD,
         f"{MS} 5.4.1 'Recipient address rejected: Access denied' (Directory Based Edge Blocking)", "RCPT"),
    Case("5.4.1", "550 5.4.1 Recipient address rejected: Access denied", "userunknown", HARD,
         f"{MS} 5.4.1 (DBEB: the recipient's address doesn't exist)", "RCPT", MS_MX),
    Case("5.4.1", "550 5.4.1 Relay Access Denied", "norelaying", SOFT, f"{MS} 5.4.1 'Relay Access Denied'", "RCPT"),
    Case("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
         "userunknown", HARD, f"{MS} 5.1.10"),
    Case("5.1.1", "550 5.1.1 Bad destination mailbox address", "userunknown", HARD, f"{MS} 5.1.1; {RFC3463} X.1.1"),
    Case("5.4.14", "554 5.4.14 Hop count exceeded - possible mail loop ATTR34", "networkerror", SOFT, f"{MS} 5.4.14"),
    Case("5.7.23", "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
         "authfailure", SOFT, f"{MS} 5.7.23"),
    Case("5.7.12", "550 5.7.12 Sender was not authenticated by organization", "rejected", SOFT, f"{MS} 5.7.12"),
    Case("5.7.124", "550 5.7.124 Sender not in allowed-senders list", "rejected", SOFT, f"{MS} 5.7.124"),
    Case("5.7.133", "550 5.7.133 Sender not authenticated for group", "rejected", SOFT, f"{MS} 5.7.133"),
    Case("5.7.509", "550 5.7.509 Access denied, sending domain [example.com] does not pass DMARC verification and "
         "has a DMARC policy of reject.", "authfailure", SOFT, f"{MS} 5.7.509"),
    Case("5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list "
         "please visit https://sender.office.com/ and follow the directions.", "blocked", SOFT, f"{MS} 5.7.606-649"),
    Case("5.7.513", "550 5.7.513 Service unavailable, Client host [192.0.2.1] blocked by example.org using Customer "
         "Block list (AS16012607)", "blocked", SOFT, f"{MS} 5.7.513"),
    Case("5.7.750", "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains",
         "rejected", SOFT, f"{MS} 5.7.750"),
    Case("5.2.121", "550 5.2.121 Recipient's per hour message receive limit from specific sender exceeded.",
         "speeding", SOFT, f"{MS} 5.2.121"),
    Case("5.2.122", "550 5.2.122 Recipient's per hour message receive limit exceeded.", "speeding", SOFT, f"{MS} 5.2.122"),
    Case("4.3.2", "432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded", "speeding", SOFT, f"{MS} 4.3.2"),
    Case("5.6.11", "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, which cannot be "
         "sent via DATA", "contenterror", SOFT, f"{MS} 5.6.11 'Invalid characters'", "DATA"),
    Case("4.4.7", "550 4.4.7 QUEUE.Expired; message expired", "expired", SOFT, f"{MS} 4.4.7"),
    Case("5.1.8", "550 5.1.8 Access denied, bad outbound sender", "rejected", SOFT, f"{MS} 5.1.8"),
    Case("5.1.90", "550 5.1.90 Your message can't be sent because you've reached your daily limit for message "
         "recipients", "speeding", SOFT, f"{MS} 5.1.90"),
    Case("5.4.300", "550 5.4.300 Message expired", "expired", SOFT, f"{MS} 5.4.300"),
    Case("5.7.64", "550 5.7.64 TenantAttribution; Relay Access Denied", "norelaying", SOFT, f"{MS} 5.7.64"),
    Case("5.7.508", "550 5.7.508 Access denied, [192.0.2.1] has exceeded permitted limits within 2001:db8::/48 range",
         "speeding", SOFT, f"{MS} 5.7.508"),
    Case("5.7.510", "550 5.7.510 Access denied, example.org does not accept email over IPv6", "blocked", SOFT,
         f"{MS} 5.7.510"),
    Case("5.7.25", "550 5.7.25 Access denied, the sending IPv6 address [2001:db8::1] must have a reverse DNS record",
         "requireptr", SOFT, f"{MS} 5.7.25"),
    Case("5.0.350", "550 5.0.350 Requested action not taken: policy violation detected (AS345)", "policyviolation",
         SOFT, f"{MS} 5.0.350"),
    Case("5.7.321", "starttls-not-supported: Destination mail server must support TLS to receive mail.",
         "securityerror", SOFT, f"{MS} 5.7.321"),
    Case("5.7.57", "530 5.7.57 Client was not authenticated to send anonymous mail during MAIL FROM",
         "securityerror", SOFT, f"{MS} 5.7.57", "MAIL"),
    Case("5.7.501", "550 5.7.501 Access denied, spam abuse detected", "rejected", SOFT, f"{MS} 5.7.501"),
    Case("4.7.500", "451 4.7.500 Access denied, please try again later", "blocked", SOFT, f"{MS} 4.7.500-699"),
    Case("5.7.520", "550 5.7.520 Access denied, Your organization does not allow external forwarding. Please "
         "contact your administrator for further assistance. AS(7555)", "policyviolation", SOFT,
         "learn.microsoft.com 'Fix email delivery issues for error code 5.7.520'"),
    Case("4.7.650", "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP "
         "reputation. For e-mail delivery information, see https://postmaster.live.com (S775)",
         "badreputation", SOFT, "learn.microsoft.com 'Fix error code 451 4.7.500-699 (ASxxx)'; sendersupport.olc.protection.outlook.com"),
    Case("5.7.1", "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request "
         "removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1 (AS3130).", "blocked", SOFT,
         "sendersupport.olc.protection.outlook.com (Outlook.com AS3130)"),
    # ------------------------------------------------------------ Gmail
    Case("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking "
         "the recipient's email address for typos or unnecessary spaces. For more information, go to "
         "https://support.google.com/mail/?p=NoSuchUser d2si123 - gsmtp", "userunknown", HARD, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.2.1", "550-5.2.1 The email account that you tried to reach is disabled. d2si123 - gsmtp",
         "suspend", SOFT, GMAIL, "RCPT", GOOGLE_MX),
    Case("4.2.2", "452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to "
         "https://support.google.com/mail/?p=OverQuotaTemp d2si123 - gsmtp", "mailboxfull", SOFT, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.2.2", "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please direct the "
         "recipient to https://support.google.com/mail/?p=OverQuotaPerm d2si123 - gsmtp", "mailboxfull", SOFT, GMAIL,
         "RCPT", GOOGLE_MX),
    Case("4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your "
         "message at a later time. d2si123 - gsmtp", "speeding", SOFT, GMAIL, "RCPT", GOOGLE_MX),
    Case("4.2.1", "450-4.2.1 Peak SMTP relay limit exceeded for customer. d2si123 - gsmtp", "speeding", SOFT, GMAIL,
         "RCPT", GOOGLE_MX),
    Case("4.7.0", "421-4.7.0 Our system has detected an unusual rate of unsolicited mail originating from your IP "
         "address. To protect our users from spam, mail sent from your IP address has been temporarily blocked. "
         "d2si123 - gsmtp", "blocked", SOFT, GMAIL, "MAIL", GOOGLE_MX),
    Case("4.7.0", "421-4.7.0 TLS required for RCPT domain, closing connection. d2si123 - gsmtp", "securityerror", SOFT,
         GMAIL, "RCPT", GOOGLE_MX),
    Case("4.7.0", "421-4.7.0 IP not in whitelist for RCPT domain, closing connection. d2si123 - gsmtp", "blocked",
         SOFT, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail. To "
         "reduce the amount of spam sent to Gmail, this message has been blocked. d2si123 - gsmtp", "spamdetected",
         SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 Our system has detected that this message is likely suspicious due to the very low "
         "reputation of the sending IP address. d2si123 - gsmtp", "badreputation", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 Our system has detected that this message is likely suspicious due to the very low "
         "reputation of the sending domain. d2si123 - gsmtp", "badreputation", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.26", "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all "
         "senders to authenticate with either SPF or DKIM. d2si123 - gsmtp", "authfailure", SOFT, GMAIL, "DATA",
         GOOGLE_MX),
    Case("5.7.25", "550-5.7.25 The IP address sending this message does not have a PTR record setup, or the "
         "corresponding forward DNS entry does not point to the sending IP. d2si123 - gsmtp", "requireptr", SOFT,
         GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited the "
         "mail that you sent. d2si123 - gsmtp", "policyviolation", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.1", "550 5.7.1 This message violates example.com email policy. - gcdp <sessionid> - gsmtp",
         "policyviolation", SOFT, f"{GMAIL} (gcdp: the admin's custom rule)", "DATA"),
    Case("5.7.0", "552-5.7.0 This message was blocked because its content presents a potential security issue. "
         "d2si123 - gsmtp", "policyviolation", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 This message is not RFC 5322 compliant. d2si123 - gsmtp", "notcompliantrfc", SOFT,
         GMAIL, "DATA", GOOGLE_MX),
    Case("5.1.2", "553-5.1.2 We weren't able to find the recipient domain. Please check for any spelling errors, "
         "and make sure you didn't enter any spaces, periods, or other punctuation after the recipient's email "
         "address. d2si123 - gsmtp", "hostunknown", HARD, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.7.28", "550-5.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP "
         "address. d2si123 - gsmtp", "blocked", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.4.5", "550-5.4.5 Daily SMTP relay limit exceeded for user. d2si123 - gsmtp", "speeding", SOFT, GMAIL,
         "MAIL"),
    # ------------------------------------------------------------ Yahoo
    Case("5.0.0", "554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] - "
         "mta1234.mail.bf1.yahoo.com", "userunknown", HARD, YAHOO, "DATA", YAHOO_MX),
    Case("5.0.0", "554 delivery error: dd Sorry your message to a@yahoo.com cannot be delivered. This mailbox is "
         "disabled (554.30). - mta1234.mail.bf1.yahoo.com", "suspend", SOFT, YAHOO, "DATA", YAHOO_MX),
    Case("5.7.9", "554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes",
         "policyviolation", SOFT, YAHOO, "DATA", YAHOO_MX),
    Case("5.7.1", "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in "
         "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", "blocked", SOFT, YAHOO, "MAIL", YAHOO_MX),
    Case("5.7.1", "553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see "
         "https://postmaster.yahooinc.com/error-codes", "blocked", SOFT, YAHOO, "MAIL", YAHOO_MX),
    Case("5.7.9", "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all "
         "senders to authenticate with either SPF or DKIM.", "authfailure", SOFT, YAHOO, "DATA", YAHOO_MX),
    Case("4.0.0", "421 Max message per connection reached, closing transmission channel", "toomanyconn", SOFT,
         YAHOO, "MAIL", YAHOO_MX),
    Case("4.0.0", "450 User is receiving mail too quickly", "speeding", SOFT, YAHOO, "RCPT", YAHOO_MX),
    Case("5.0.0", "554 Message not allowed - Headers are not RFC compliant[291]", "notcompliantrfc", SOFT, YAHOO,
         "DATA", YAHOO_MX),
    Case("5.0.0", "554 Message not allowed - [PH01] Email not accepted for policy reasons.", "policyviolation", SOFT,
         YAHOO, "DATA", YAHOO_MX),
    # ------------------------------------------------------------ Apple iCloud
    Case("5.1.1", "550 5.1.1 <a@icloud.com>: user does not exist", "userunknown", HARD, APPLE, "RCPT", APPLE_MX),
    Case("5.7.1", "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
         "https://support.apple.com/en-us/HT204137", "policyviolation", SOFT, APPLE, "DATA", APPLE_MX),
    Case("5.7.1", "550 5.7.1 Your message was rejected due to example.com's DMARC policy.", "authfailure", SOFT,
         APPLE, "DATA", APPLE_MX),
    Case("4.7.1", "421 4.7.1 Messages to a@icloud.com deferred due to excessive volume. Try again later - "
         "https://support.apple.com/en-us/HT204137", "speeding", SOFT, APPLE, "RCPT", APPLE_MX),
    Case("5.7.0", "554 5.7.0 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.1",
         "blocked", SOFT, "Proofpoint (iCloud's filter) 'Blocked - see ...dnsbl-lookup' (support.proofpoint.com)",
         "MAIL", APPLE_MX),
    # ------------------------------------------------------------ Comcast
    Case("5.0.0", "554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 192.0.2.1 found on one or "
         "more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001", "blocked", SOFT, COMCAST,
         "CONN", COMCAST_MX),
    Case("5.1.1", "550 5.1.1 <a@comcast.net> Not our Customer", "userunknown", HARD, COMCAST, "RCPT", COMCAST_MX),
    Case("4.0.0", "421 - [Too many sessions opened]", "toomanyconn", SOFT, f"{COMCAST} (non-specific codes)", "CONN",
         COMCAST_MX),
    Case("4.0.0", "421 - [Reverse DNS failure : Try again later]", "requireptr", SOFT,
         f"{COMCAST} (non-specific codes)", "CONN", COMCAST_MX),
    # ------------------------------------------------------------ Orange
    Case("5.1.1", "550 5.1.1 <a@orange.fr>: Adresse destinataire invalide. Invalid recipient. OFR_416 [416]",
         "userunknown", HARD, ORANGE, "RCPT"),
    Case("5.2.2", "552 5.2.2 <a@orange.fr>: Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
         "mailboxfull", SOFT, ORANGE, "RCPT"),
    Case("4.0.0", "421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. Too many "
         "connections, slow down. OFR004_104 [104]", "toomanyconn", SOFT, ORANGE, "CONN"),
    Case("5.0.0", "550 mwinf5c10 ME Adresse IP source bloquee pour incident de spam. Client host blocked for "
         "spamming issues. OFR006_102 Ref http://csi.cloudmark.com [102]", "blocked", SOFT, ORANGE, "CONN"),
    # ------------------------------------------------------------ Mimecast
    Case("5.0.0", "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550", "userunknown", HARD,
         MIMECAST, "RCPT", MIMECAST_MX),
    Case("5.0.0", "550 Rejected by header based Anti-Spoofing policy: a@example.org - "
         "https://community.mimecast.com/docs/DOC-1369#550", "policyviolation", SOFT, MIMECAST, "DATA", MIMECAST_MX),
    Case("4.0.0", "451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451", "norelaying",
         SOFT, MIMECAST, "RCPT", MIMECAST_MX),
    # ------------------------------------------------------------ Mail.ru, Yandex, GMX / Web.de
    Case("5.0.0", "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.ru is unavailable: "
         "account is disabled", "suspend", SOFT, MAILRU, "RCPT"),
    Case("5.0.0", "550 spam message rejected. Please visit https://help.mail.ru/notspam-support/id?c=abc or report "
         "details to abuse@corp.mail.ru. Error code: ABC.", "spamdetected", SOFT, MAILRU, "DATA"),
    Case("4.0.0", "451 Ratelimit exceeded for mailbox a@mail.ru. Try to send mail later.", "speeding", SOFT,
         MAILRU, "RCPT"),
    Case("5.7.1", "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1700000000-abcdef",
         "spamdetected", SOFT, YANDEX, "DATA"),
    Case("5.2.2", "552 5.2.2 Mailbox size limit exceeded", "mailboxfull", SOFT, YANDEX, "RCPT"),
    Case("5.2.1", "550 5.2.1 Mailbox is frozen.", "suspend", SOFT, YANDEX, "RCPT"),
    Case("5.0.0", "550-Requested action not taken: mailbox unavailable 550 invalid DNS PTR resource record, "
         "IP=192.0.2.1", "requireptr", SOFT, "postmaster.gmx.net/en/error-messages (GMX/Web.de)", "CONN"),
    Case("5.0.0", "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit "
         "https://postmaster.gmx.net/en/error-messages?ip=192.0.2.1&c=hi", "policyviolation", SOFT,
         "postmaster.gmx.net/en/error-messages (GMX/Web.de)", "DATA"),
    Case("5.2.2", "552 Requested mail action aborted: exceeded storage allocation", "mailboxfull", SOFT,
         f"{RFC5321} 552", "RCPT"),
    # ------------------------------------------------------------ filters and appliances
    Case("5.7.1", "554 5.7.1 Spam message rejected", "spamdetected", SOFT,
         "Rspamd src/plugins/lua/milter_headers / rspamd_proxy reject message", "DATA"),
    Case("4.7.1", "451 4.7.1 Ratelimit exceeded", "speeding", SOFT, "Rspamd src/plugins/lua/ratelimit.lua", "RCPT"),
    Case("5.7.0", "554 5.7.0 Reject, id=12345-01 - spam", "spamdetected", SOFT, "amavisd-new (amavisd: 'Reject, id=... - SPAM')",
         "DATA"),
    Case("5.7.0", "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Signature", "virusdetected", SOFT,
         "amavisd-new ('INFECTED' verdict)", "DATA"),
    Case("5.7.0", "554 5.7.0 Reject, id=12345-01 - BANNED: P=p003,L=1,M=application/x-msdownload,T=exe,N=invoice.exe",
         "contenterror", SOFT, "amavisd-new ('BANNED' verdict: a banned file name or type)", "DATA"),
    Case("5.7.1", "550 5.7.1 Blocked by SpamAssassin", "spamdetected", SOFT, "spamass-milter spamass-milter.cpp", "DATA"),
    Case("5.7.1", "550 5.7.1 rejected by DMARC policy for example.com", "authfailure", SOFT,
         "OpenDMARC opendmarc/opendmarc.c", "DATA"),
    Case("5.7.1", "554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; "
         "http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1", "blocked", SOFT,
         "Barracuda Email Security Gateway (campus.barracuda.com reject codes)", "CONN"),
    Case("5.1.0", "550 #5.1.0 Address rejected.", "userunknown", HARD,
         "Cisco AsyncOS LDAP Accept query default SMTP response (recipient not in the directory)", "RCPT"),
    Case("", "452 Too many recipients received this hour", "speeding", SOFT,
         "Cisco AsyncOS mail flow policy 'Max. Recipients Per Hour' default response", "RCPT"),
    Case("4.7.0", "421 4.7.0 Too many connections", "toomanyconn", SOFT,
         "Oracle Cloud Email Delivery troubleshooting ('421 Too many connections, try again later')", "CONN"),
    # ------------------------------------------------------------ the sender's or the client's words
    # that name a user, a domain or a null MX: never evidence against the recipient
    Case("5.1.8", "553 5.1.8 <s@example.com>: Sender address rejected: Domain not found", "rejected", SOFT,
         f"{PF} reject_unknown_sender_domain (unknown_address_reject_code 550)", "RCPT"),
    Case("5.1.0", "550 5.1.0 <s@example.com>: Sender address rejected: User unknown in virtual mailbox table",
         "rejected", SOFT, f"{PF} reject_unlisted_sender", "RCPT"),
    Case("5.7.1", "553 5.7.1 <s@example.com>: Sender address rejected: not owned by user alice", "rejected", SOFT,
         f"{PF} reject_sender_login_mismatch", "RCPT"),
    Case("5.5.2", "504 5.5.2 <s>: Sender address rejected: need fully-qualified address", "rejected", SOFT,
         f"{PF} reject_non_fqdn_sender", "RCPT"),
    Case("5.7.1", "550 5.7.1 <mail.example.com>: Helo command rejected: Host not found", "blocked", SOFT,
         f"{PF} reject_unknown_helo_hostname (unknown_hostname_reject_code 550): the CLIENT's HELO name", "RCPT"),
    Case("5.7.1", "554 5.7.1 Service unavailable; Sender address [s@example.com] blocked using dbl.spamhaus.org; "
         "https://www.spamhaus.org/query/domain/example.com", "blocked", SOFT, f"{PF} reject_rhsbl_sender", "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: Rejected by SPF: 192.0.2.1 is not a "
         "designated mailserver for s%40example.com (context mfrom, on mx.example.org)", "authfailure", SOFT,
         "postfix-policyd-spf-perl reject text", "RCPT"),
    Case("5.0.0", "553 sorry, your envelope sender domain must exist (#5.7.1)", "rejected", SOFT,
         "qmail qmail-smtpd.c (the SENDER's domain)", "MAIL"),
    Case("5.0.0", "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)", "rejected", SOFT,
         "qmail qmail-smtpd.c", "MAIL"),
    Case("5.0.0", "550 192.0.2.1 is not allowed to send mail from example.com", "authfailure", SOFT,
         "Exim specification 'SPF' ACL example (spf = fail)", "RCPT"),
    Case("5.0.0", "SMTP error from remote mail server after RCPT TO:<a@example.org>: 550 5.1.1 <a@example.org>: "
         "Recipient address rejected: User unknown in virtual mailbox table", "userunknown", HARD,
         f"Exim src/transports/smtp.c wording of the remote's Postfix reply ({PF})"),
    Case("5.0.0", "SMTP error from remote mail server after RCPT TO:<a@example.org>: 550 5.7.1 Service unavailable; "
         "client [192.0.2.1] blocked using zen.spamhaus.org", "blocked", SOFT,
         "Exim src/transports/smtp.c wording of the remote's Postfix postscreen reply"),
    Case("5.0.0", "SMTP error from remote mail server after end of data: 552 5.2.2 Mailbox quota exceeded",
         "mailboxfull", SOFT, f"Exim src/transports/smtp.c wording of the remote's reply; {RFC3463} X.2.2"),
    # ------------------------------------------------------------ more MTA source texts
    Case("5.5.1", "554 5.5.1 Error: no valid recipients", "syntaxerror", SOFT,
         f"{PF_SMTPD} (DATA after every recipient was refused: the recipients' own replies say why)", "DATA"),
    Case("5.3.4", "message size 30000000 exceeds size limit 10240000 of server mx.example.org[192.0.2.1]",
         "mesgtoobig", SOFT, "Postfix src/smtp/smtp_proto.c (the server's SIZE limit)"),
    Case("4.7.5", "TLS is required, but host mx.example.org[192.0.2.1] refused to start TLS: 454 4.7.0 TLS not "
         "available due to local problem", "securityerror", SOFT, "Postfix src/smtp/smtp_proto.c"),
    Case("5.2.2", "cannot update mailbox /var/mail/alice for user alice. error writing message: File too large",
         "mailboxfull", SOFT, f"{PF_LOCAL} local(8) mailbox_size_limit"),
    Case("5.1.1", '550 5.1.1 <a@example.org>: Recipient address rejected: undeliverable address: unknown user: "a"',
         "userunknown", HARD, f"{PF} reject_unverified_recipient of a local(8) address", "RCPT"),
    Case("5.0.0", "550-Callout verification failed: 550 550 5.1.1 <a@example.org>: Recipient address rejected: User "
         "unknown in virtual mailbox table", "userunknown", HARD,
         f"{EXIM} recipient callout (a front-end verifying the RECIPIENT at its back-end)", "RCPT"),
    Case("5.0.0", "a TLS session is required, but the server did not offer TLS support", "securityerror", SOFT,
         "Exim src/transports/smtp.c (hosts_require_tls)"),
    Case("5.0.0", "all hosts for 'example.org' have been failing for a long time (and retry time not reached)",
         "expired", SOFT, "Exim src/deliver.c, src/retry.c"),
    Case("5.0.0", "550-JunkMail rejected - mail.example.com [192.0.2.1]:25 is in an RBL: see "
         "https://www.spamhaus.org/query/ip/192.0.2.1", "blocked", SOFT,
         "cPanel's Exim ACL (ACL_RBL: 'JunkMail rejected - $sender_fullhost is in an RBL')", "RCPT"),
    Case("4.1.8", "451 4.1.8 Domain of sender address s@example.com does not resolve", "rejected", SOFT,
         "Sendmail sendmail/srvrsmtp.c (the SENDER's domain, temporarily)", "MAIL"),
    Case("5.4.6", "554 5.4.6 Too many hops 26 (25 max): from <s@example.com> via mx.example.org, to <a@example.org>",
         "networkerror", SOFT, "Sendmail sendmail/collect.c"),
    Case("5.3.4", "552 5.3.4 Message is too large; 10485760 bytes max", "mesgtoobig", SOFT,
         "Sendmail sendmail/srvrsmtp.c (MaxMessageSize)", "MAIL"),
    Case("4.3.2", "421 4.3.2 Connection rate limit exceeded.", "toomanyconn", SOFT,
         "Sendmail sendmail/daemon.c (ConnectionRateThrottle)", "CONN"),
    Case("", "Connected to 192.0.2.1 but sender was rejected. Remote host said: 553 sorry, your envelope sender "
         "domain must exist (#5.7.1)", "rejected", SOFT, "qmail qmail-remote.c quoting qmail-smtpd.c"),
    Case("", "192.0.2.1 does not like recipient. Remote host said: 550 5.1.1 <a@example.org>: Recipient address "
         "rejected: User unknown in virtual mailbox table Giving up on 192.0.2.1.", "userunknown", HARD,
         f"qmail qmail-remote.c quoting {PF}"),
    Case("4.1.2", "Sorry, I couldn't find any host by that name. (#4.1.2)", "networkerror", SOFT,
         "qmail qmail-remote.c (a temporary DNS failure: DNS_SOFT)"),
    Case("5.2.2", "The users mailfolder is over the allowed quota (size). (#5.2.2)", "mailboxfull", SOFT,
         "vpopmail vdelivermail.c"),
    Case("5.3.2", "521 5.3.2 mx.example.org does not accept mail", "notaccept", HARD,
         "RFC 7504 s.3 (521: a host that accepts no mail, e.g. the domain's only MX)", "CONN"),
    # ------------------------------------------------------------ more provider pages
    Case("5.1.0", "550 5.1.0 Sender denied", "rejected", SOFT, f"{MS} 5.1.0"),
    Case("5.4.6", "554 5.4.6 Routing loop detected", "networkerror", SOFT, f"{MS} 5.4.6"),
    Case("4.5.3", "452 4.5.3 Too many recipients", "toomanyconn", SOFT, f"{MS} 4.5.3", "RCPT"),
    Case("4.7.26", "451 4.7.26 Access denied, a message sent over IPv6 [2001:db8::1] must pass either SPF or DKIM "
         "validation, this message is not signed", "authfailure", SOFT, f"{MS} 4.7.26"),
    Case("5.7.322", "550 5.7.322 certificate-expired: Destination mail server's certificate is expired.",
         "securityerror", SOFT, f"{MS} 5.7.322"),
    Case("5.7.323", "550 5.7.323 tlsa-invalid: The domain failed DANE validation.", "securityerror", SOFT,
         f"{MS} 5.7.323"),
    Case("5.7.324", "550 5.7.324 dnssec-invalid: Destination domain returned invalid DNSSEC records",
         "securityerror", SOFT, f"{MS} 5.7.324"),
    Case("5.0.350", "550 5.0.350 x-dg-ref header is too long", "contenterror", SOFT, f"{MS} 5.0.350"),
    Case("4.4.316", "451 4.4.316 Connection refused [Message=Socket error code 10061]", "expired", SOFT,
         f"{MS} 4.4.316"),
    Case("", "The message can't be submitted because the sender's submission quota was exceeded", "speeding", SOFT,
         f"{MS} (n/a: the sender's recipient rate limit)"),
    Case("4.7.0", "421-4.7.0 Try again later, closing connection. This usually indicates a Denial of Service (DoS) "
         "for the SMTP relay at the HELO stage. d2si123 - gsmtp", "blocked", SOFT, GMAIL, "EHLO", GOOGLE_MX),
    Case("4.5.3", "452-4.5.3 Your message has too many recipients. d2si123 - gsmtp", "toomanyconn", SOFT, GMAIL,
         "RCPT", GOOGLE_MX),
    Case("4.5.0", "454-4.5.0 SMTP protocol violation, no commands allowed to pipeline after STARTTLS. d2si123 - "
         "gsmtp", "syntaxerror", SOFT, GMAIL, "EHLO", GOOGLE_MX),
    Case("5.7.0", "530-5.7.0 Must issue a STARTTLS command first. d2si123 - gsmtp", "securityerror", SOFT,
         f"{GMAIL}; RFC 3207 s.4 (530 5.7.0: the server requires TLS)", "MAIL", GOOGLE_MX),
    Case("5.7.0", "550-5.7.0 Mail relay denied [192.0.2.1]. d2si123 - gsmtp", "norelaying", SOFT, GMAIL, "RCPT",
         GOOGLE_MX),
    Case("5.7.1", "550-5.7.1 Unauthenticated email is not accepted from this domain. d2si123 - gsmtp",
         "authfailure", SOFT, f"{GMAIL} (the sending domain's authentication)", "DATA", GOOGLE_MX),
    Case("5.7.26", "550-5.7.26 This message does not have authentication information or fails to pass "
         "authentication checks (SPF or DKIM). d2si123 - gsmtp", "authfailure", SOFT, GMAIL, "DATA", GOOGLE_MX),
    Case("5.1.3", "553-5.1.3 The recipient address <a@example> is not a valid RFC 5321 address. d2si123 - gsmtp",
         "userunknown", HARD, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.6.0", "554-5.6.0 Mail message is malformed. Not accepted. d2si123 - gsmtp", "notcompliantrfc", SOFT,
         GMAIL, "DATA", GOOGLE_MX),
    Case("5.2.1", "550-5.2.1 The email account that you tried to reach is inactive. d2si123 - gsmtp", "suspend",
         SOFT, GMAIL, "RCPT", GOOGLE_MX),
    Case("5.7.1", "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT "
         "succeed. See https://postmaster.yahooinc.com/error-codes", "blocked", SOFT,
         f"{YAHOO} (TSS09: the sending IP)", "MAIL", YAHOO_MX),
    Case("4.0.0", "451 Message temporarily deferred due to unresolvable RFC.5321 from domain", "rejected", SOFT,
         f"{YAHOO} (the SENDER's domain)", "MAIL", YAHOO_MX),
    Case("5.0.0", "552 1 Requested mail action aborted, mailbox not found", "userunknown", HARD, YAHOO, "RCPT",
         YAHOO_MX),
    Case("5.2.1", "550 5.2.1 <a@orange.fr>: Boite du destinataire archivee. Archived recipient. OFR_420 [420]",
         "suspend", SOFT, ORANGE, "RCPT"),
    Case("5.1.1", "550 5.1.1 User does not exist - <a@example.com>", "userunknown", HARD,
         "zoho.com/mail/help (Zoho Mail bounce error messages)", "RCPT"),
    Case("5.0.0", "553 Relaying disallowed", "norelaying", SOFT,
         "zoho.com/mail/help (Zoho Mail: the domain is not set up to receive at Zoho)", "RCPT"),
    Case("5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD,
         "postmaster.gmx.net/en/error-messages (GMX/Web.de: the address does not exist)", "RCPT",
         "mx00.emig.gmx.net"),
    Case("5.3.4", "552 #5.3.4 Message too big for system", "mesgtoobig", SOFT,
         "Cisco AsyncOS mail flow policy 'Max. Message Size' default response; RFC 3463 X.3.4", "DATA"),
    Case("5.7.0", "554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", "blocked", SOFT,
         "Proofpoint (ipcheck.proofpoint.com: the sending IP's reputation block)", "CONN"),
    # ------------------------------------------------------------ whose address: the command and the words say
    Case("5.1.1", "host mx.example.org[192.0.2.1] said: 550 5.1.1 <s@example.com>... User unknown (in reply to MAIL "
         "FROM command)", "rejected", SOFT,
         "Postfix src/smtp/smtp_proto.c '(in reply to MAIL FROM command)'; RFC 5321 s.3.3 (MAIL FROM names the sender only)"),
    Case("5.1.7", "501 5.1.7 Bad sender address syntax", "rejected", SOFT, PF_SMTPD, "MAIL"),
    Case("5.0.0", "550-Verification failed for <s@example.com> 550-Previous (cached) callout verification failure "
         "550 Sender verify failed", "rejected", SOFT, f"{EXIM} (a cached sender callout)", "RCPT"),
    Case("5.1.6", "551 User not local; please try <b@example.net>", "hasmoved", HARD,
         f"{RFC5321} and s.3.4 (551: the server knows the user's new address)", "RCPT"),
    Case("5.1.1", "550 5.1.1 unknown or illegal alias: a@icloud.com", "userunknown", HARD, APPLE, "RCPT", APPLE_MX),
    Case("5.1.1", "550-5.1.1 The group you tried to contact (g) may not exist, or you may not have permission to post "
         "messages to the group. d2si123 - gsmtp", "filtered", SOFT,
         "support.google.com/groups (Google Groups: one sentence for a missing group and a refused poster)", "RCPT",
         GOOGLE_MX),
    # ------------------------------------------------------------ more provider and appliance replies
    Case("5.0.0", "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is "
         "block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=192.0.2.1&r=1MNcgj",
         "blocked", SOFT, "postmaster.gmx.com/en/error-messages (its own example)", "CONN"),
    Case("5.0.0", "550 <a@example.com>: Reject due to SPF policy. The originating IP of the message is not permitted "
         "by the domain owner", "authfailure", SOFT, "United Internet (GMX, Web.de, 1&1) replies, as listed by "
         "smtp.codes/unitedinternet", "RCPT"),
    Case("5.4.1", "541 5.4.1 Mail rejected by destination domain", "filtered", SOFT,
         "Zoho Mail (the receiving domain's own filter), as listed by smtp.codes/zoho", "DATA",
         xfail="Zoho's words name no cause (its page says the receiving domain's own filter); the status "
               "5.4.1 reads a network failure"),
    Case("5.7.1", "550 5.7.1 Email rejected per DMARC policy for example.com", "authfailure", SOFT,
         "Zoho Mail, as listed by smtp.codes/zoho", "DATA"),
    Case("5.7.1", "552 5.7.1 virus Win.Test.EICAR_HDB-1 detected by Zoho Mail", "virusdetected", SOFT,
         "zoho.com/zeptomail/help/api/smtp-error-codes.html", "DATA"),
    Case("5.1.1", "550 5.1.1 <a@example.com> User unknown", "userunknown", HARD, "Zoho Mail, as listed by smtp.codes/zoho",
         "RCPT"),
    Case("5.1.1", "550 cuda_nsu 5.1.1 <a@example.com> Recipient address rejected: User unknown", "userunknown", HARD,
         "Barracuda Email Security Gateway (cuda_nsu: no such user), as listed by smtp.codes/550", "RCPT"),
    Case("5.0.0", "550 No such user (a@example.com)", "userunknown", HARD,
         "Barracuda Email Security Gateway, as listed by smtp.codes/550", "RCPT"),
    Case("5.2.1", "550 5.2.1 <a@prodigy.net>... Addressee unknown, relay=[192.0.2.1]", "userunknown", HARD,
         "AT&T (prodigy.net, Sendmail-based) 'Addressee unknown', as listed by smtp.codes/550", "RCPT"),
    Case("4.2.2", "422 4.2.2 Quota limit exceeded (Speicherplatz des Kontos ueberschritten)", "mailboxfull", SOFT,
         "bytecamp.net FAQ 'Fehlermeldungen bei Zustellproblemen'", "RCPT"),
    Case("5.7.1", "571 5.7.1 message classified as spam (Nachricht als Spam eingestuft)", "spamdetected", SOFT,
         "bytecamp.net FAQ 'Fehlermeldungen bei Zustellproblemen'", "DATA"),
    Case("4.0.0", "421 Rate limit reached. Please try again later", "speeding", SOFT,
         "comservice-ffo.de FAQ 'SMTP-Fehlermeldungen'", "MAIL"),
    Case("5.7.1", "550 5.7.1 host mail.example.com [192.0.2.1] black listed #120", "blocked", SOFT,
         "smtpf (Barricade MX) reply list, snertsoft.com/smtp/smtpf/reply.html", "CONN"),
    Case("5.7.1", "550 5.7.1 sender <s@example.com> black listed #127", "rejected", SOFT,
         "smtpf (Barricade MX) reply list, snertsoft.com/smtp/smtpf/reply.html", "MAIL"),
    Case("5.7.1", "550 5.7.1 routed address relaying denied #131", "norelaying", SOFT,
         "smtpf (Barricade MX) reply list, snertsoft.com/smtp/smtpf/reply.html", "RCPT"),
    Case("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: User email address is marked as invalid.",
         "userunknown", HARD, "spambrella.com 'Common email delivery error codes' (SMTP Discovery invalid list)", "RCPT"),
    Case("5.1.0", "550 5.1.0 sender rejected", "rejected", SOFT,
         "spambrella.com 'Common email delivery error codes'", "MAIL"),
    Case("4.0.0", "421 Too many concurrent connections from this client (G2)", "toomanyconn", SOFT,
         "Rackspace postmaster (emailsrvr.com G-codes), as listed by smtp.codes/rackspace", "CONN"),
    Case("4.7.1", "450 4.7.1 Client host 192.0.2.1 has no PTR record (G1F)", "requireptr", SOFT,
         "Rackspace postmaster (emailsrvr.com G-codes), as listed by smtp.codes/rackspace", "RCPT"),
    Case("4.2.1", "450 4.2.1 <a@example.com>: Mailbox received too much email in a short period of time (G30)",
         "speeding", SOFT, "Rackspace postmaster (emailsrvr.com G-codes), as listed by smtp.codes/rackspace", "RCPT"),
    Case("4.4.6", "450 4.4.6 Routing loop detected (G16)", "networkerror", SOFT,
         "Rackspace postmaster (emailsrvr.com G-codes), as listed by smtp.codes/rackspace", "RCPT"),
    Case("4.7.1", "451 4.7.1 Received too many messages from a new or untrusted IP (G28)", "speeding", SOFT,
         "Rackspace postmaster (emailsrvr.com G-codes), as listed by smtp.codes/rackspace", "RCPT"),
    Case("", "521 Block permanently (Sender Filtering/Authentication)", "blocked", SOFT,
         "Trend Micro Deep Discovery Email Inspector online help 'SMTP error codes' (a sender-filter block)", "CONN"),
    Case("", "550 Permanent denial of connection (550) for RBL+ matches (ERS)", "blocked", SOFT,
         "Trend Micro Deep Discovery Email Inspector online help 'SMTP error codes' (Email Reputation Service)", "CONN"),
    Case("", "450 Temporary denial of connection (450) for Zombie matches (ERS)", "blocked", SOFT,
         "Trend Micro Deep Discovery Email Inspector online help 'SMTP error codes' (Email Reputation Service)", "CONN"),
    # ------------------------------------------------------------ RFC 3463 / RFC 7505 texts
    # ------------------------------------------------------------ the registry's own texts (status and words agree)
    Case("5.1.3", "501 5.1.3 Bad destination mailbox address syntax", "userunknown", HARD, "RFC 3463 X.1.3"),
    Case("5.1.4", "550 5.1.4 Destination mailbox address ambiguous", "filtered", SOFT, "RFC 3463 X.1.4 (ambiguous, not absent)"),
    Case("5.1.7", "553 5.1.7 Bad sender's mailbox address syntax", "rejected", SOFT, "RFC 3463 X.1.7"),
    Case("5.1.8", "553 5.1.8 Bad sender's system address", "rejected", SOFT, "RFC 3463 X.1.8"),
    Case("5.2.3", "552 5.2.3 Message length exceeds administrative limit", "exceedlimit", SOFT, "RFC 3463 X.2.3"),
    Case("5.3.1", "452 5.3.1 Mail system full", "systemfull", SOFT, "RFC 3463 X.3.1"),
    Case("5.3.4", "552 5.3.4 Message too big for system", "mesgtoobig", SOFT, "RFC 3463 X.3.4"),
    Case("5.3.5", "554 5.3.5 System incorrectly configured", "systemerror", SOFT, "RFC 3463 X.3.5"),
    Case("5.4.2", "421 5.4.2 Bad connection", "networkerror", SOFT, "RFC 3463 X.4.2"),
    Case("5.4.7", "554 5.4.7 Delivery time expired", "expired", SOFT, "RFC 3463 X.4.7"),
    Case("5.5.1", "500 5.5.1 Invalid command", "syntaxerror", SOFT, "RFC 3463 X.5.1"),
    Case("5.6.3", "554 5.6.3 Conversion required and prohibited", "contenterror", SOFT, "RFC 3463 X.6.3"),
    Case("5.7.5", "554 5.7.5 Cryptographic failure", "securityerror", SOFT, "RFC 3463 X.7.5"),
    Case("5.7.8", "535 5.7.8 Authentication credentials invalid", "securityerror", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.8 (RFC 4954)"),
    Case("5.7.10", "523 5.7.10 Encryption Needed", "securityerror", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.10 (RFC 5248)"),
    Case("5.7.13", "525 5.7.13 User Account Disabled", "suspend", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.13 (RFC 4954: the account exists, disabled)"),
    Case("5.7.17", "550 5.7.17 Mailbox owner has changed", "hasmoved", HARD, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.17 (RFC 7293: the address now belongs to someone else)"),
    Case("5.7.18", "550 5.7.18 Domain owner has changed", "hasmoved", HARD, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.18 (RFC 7293)"),
    Case("5.7.20", "550 5.7.20 No passing DKIM signature found", "authfailure", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.20 (RFC 7372)"),
    Case("5.7.23", "550 5.7.23 SPF validation failed", "authfailure", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.23 (RFC 7372)"),
    Case("5.7.25", "550 5.7.25 Reverse DNS validation failed", "requireptr", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.25 (RFC 7372)"),
    Case("5.7.26", "550 5.7.26 Multiple authentication checks failed", "authfailure", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.26 (RFC 7372)"),
    Case("5.7.29", "550 5.7.29 ARC validation failure", "authfailure", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.29 (RFC 8617)"),
    Case("5.7.30", "550 5.7.30 REQUIRETLS support required", "securityerror", SOFT, "IANA SMTP Enhanced Status Codes registry (RFC 5248) X.7.30 (RFC 8689)"),
    Case("5.1.6", "550 5.1.6 Destination mailbox has moved, No forwarding address", "hasmoved", HARD, RFC3463, "RCPT"),
    Case("5.2.1", "550 5.2.1 Mailbox disabled, not accepting messages", "suspend", SOFT, RFC3463, "RCPT"),
    Case("5.1.2", "550 5.1.2 Bad destination system address", "hostunknown", HARD, RFC3463, "RCPT"),
    Case("5.7.27", "550 5.7.27 Sender address has null MX", "rejected", SOFT,
         "RFC 7505 s.4.2 (X.7.27: the SENDER's domain publishes a null MX)", "MAIL"),
    Case("5.1.10", "556 5.1.10 Recipient address has null MX", "notaccept", HARD,
         "RFC 7505 s.4.1 (X.1.10: the recipient's domain publishes a null MX)", "RCPT"),
    Case("5.3.2", "554 5.3.2 System not accepting network messages", "notaccept", SOFT,
         f"{RFC3463} X.3.2 (the system, for now, not the address)", "CONN"),
    Case("5.7.7", "554 5.7.7 Message integrity failure", "securityerror", SOFT, RFC3463, "DATA"),
]


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, marks=marks, id=f"{c.reason}-{c.type}:{c.text[:48]}")


def run(c: Case) -> model.Result:
    """The case as the pipeline classifies a parsed DSN recipient."""
    text = join_reply_lines(c.text)
    return classify(model.Result(
        recipient="a@example.org", action="failed", status=c.status,
        reply_code=reply_code(text, c.status[:1]), diagnostic=text, command=c.command,
        remote_mta=c.host))


def test_table_is_large_and_cited():
    assert len(CASES) >= 150
    for c in CASES:
        assert c.reason in model.REASONS and c.type in (HARD, SOFT) and c.source
    # hard only where the source says the address is dead, and never for a 4xx
    for c in CASES:
        if c.type == HARD:
            assert c.reason in model.HARD_REASONS | {"notaccept"} and not c.status.startswith("4")


@pytest.mark.parametrize("case", list(_params()))
def test_source_wording(case: Case):
    r = run(case)
    assert (r.reason, r.type) == (case.reason, case.type), r.rule
