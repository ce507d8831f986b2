"""classify(): every text rule, the status table, hard/soft boundaries."""

from __future__ import annotations

import pytest

from bouncesink import model
from bouncesink.classify import classify
from bouncesink.classify import rules, status

# Per rule (by label): a real-world style text it must decide, and a near-miss wording that
# must NOT give its reason (a "full" that is not about a mailbox, an "unknown" that is not
# about a user...).
RULE_CASES = {
    "media error": ("550 5.6.0 <a@example.org>: Recipient address rejected: Media error",
                    "550 5.1.1 <a@example.org>: media account unknown"),
    "no relaying / relay not configured": ("550 5.7.0 <a@example.org>: Recipient address rejected: No relaying",
                                           "250 relaying is allowed for authenticated users"),
    "held by the remote": ("550 5.0.0 <a@example.org>: Recipient address rejected: On hold",
                           "421 please hold the line, try later"),
    "delivery not authorised / authentication required": (
        "551 5.7.1 <a@example.org>: Recipient address rejected: Delivery not authorized",
        "550 5.7.1 delivery authorized only for subscribers"),
    "refused by the receiver's policy": (
        "552-5.7.0 This message was blocked because its content presents a potential security issue",
        "550 5.1.1 user unknown"),
    "too many connections from the client": ("421 4.7.0 Error: too many connections from 192.0.2.1",
                                             "550 too many hops"),
    "sending too fast / rate limit": ("450 4.7.1 Error: too much mail from 192.0.2.1",
                                      "452 4.3.1 volume is full; excessive load"),
    "client IP / name mismatch": ("550 domain [example.com] mismatches client ip 192.0.2.225.",
                                  "550 5.1.1 client unknown"),
    "mail loop or DNS/network failure": (
        "Error transferring to mx.example.org; Maximum hop count exceeded. Message probably in a routing loop.",
        "550 5.1.1 user unknown"),
    "the domain accepts no mail (null MX)": ("556 5.1.10 Domain example.org does not accept mail (nullMX)",
                                             "550 we do not accept mail with attachments"),
    "no mail exchanger for the domain": ("Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
                                         "550 mail exchanger busy"),
    "the recipient's domain does not exist": ("550 Host unknown (Authoritative answer from name server)",
                                              "550 5.1.1 user unknown"),
    "the mailbox holds too many messages": (
        "The number of messages in recipient's mailbox exceeded the local limit.", "550 messages refused"),
    "refused at connection (use your ISP's server)": (
        "550 5.7.0 <s@example.jp>... Please use the smtp server of your ISP.", "250 your ISP server answered"),
    "invalid user id": ("Invalid final delivery userid", "Final delivery completed"),
    "DMARC / unauthenticated sender domain": (
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
        "550 5.2.2 mailbox full"),
    "SPF failure": ("550 5.7.23 The message was rejected because of Sender Policy Framework violation",
                    "550 5.1.1 user unknown (spam folder not found)"),
    "DKIM failure": ("550 5.7.20 message does not have a valid DKIM signature", "550 5.1.1 no such user"),
    "sender authentication checks failed": (
        "550 5.7.509 Access denied, sending domain does not pass authentication",
        "535 5.7.8 SMTP authentication failed"),
    "the client's IP has no (matching) reverse DNS": (
        "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
        "550 5.1.1 <a@example.org>: user unknown"),
    "the sender's reputation": (
        "550 5.7.1 Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP",
        "550 5.1.1 user unknown"),
    "virus or malware found": ("554 5.7.1 The message was rejected because it contains a virus",
                               "550 5.2.2 mailbox full"),
    "judged spam by a content filter": ("550 5.7.1 Message rejected as spam by Content Filtering",
                                        "550 5.1.1 user unknown"),
    "the message is too large": ("552 5.3.4 Message size exceeds fixed maximum message size",
                                 "552 5.2.2 mailbox full"),
    "the message's form or headers refused": ('Too many "Received" headers - suspected mail loop',
                                              "550 5.1.1 user unknown"),
    "the message is not RFC 5322 compliant": (
        "550 5.7.1 This message is not RFC 5322 compliant: Multiple 'From' headers found",
        "550 5.7.1 RFC 5322 says hello"),
    "the sender address refused": (
        "553 5.1.8 <s@example.com>... Domain of sender address s@example.com does not exist",
        "550 5.1.1 user unknown"),
    "the recipient's mailbox is full": ("552 5.2.2 <a@example.org>: Mailbox is full",
                                        "452 4.3.1 Insufficient system storage: disk is full"),
    "the recipient's account is disabled or suspended": (
        "550 5.2.1 The email account that you tried to reach is disabled", "550 5.1.1 user unknown"),
    "the recipient has moved": ("550 5.1.6 Recipient has moved; please update your address book",
                                "550 5.7.1 your message was moved to the quarantine; the sender has left"),
    "relaying refused": ("554 5.7.1 <a@example.org>: Relay access denied", "550 5.1.1 user unknown"),
    "no such user in the receiver's recipient table": (
        "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table",
        "552 5.2.2 <a@example.org>: mailbox full (local recipient table updated)"),
    "no mailbox by that name": ("Sorry, no mailbox here by that name. (#5.1.1)", "550 5.2.2 mailbox full"),
    "the local delivery agent has no such user": ("mail.local: unknown user: kijitora",
                                                  "550 5.7.1 unknown client host rejected"),
    "not in the receiver's Domino Directory": ("User a@example.org not listed in Domino Directory",
                                               "Several matches found in Domino Directory"),
    "no such user or mailbox": ("550 5.1.1 The email account that you tried to reach does not exist",
                                "550 5.7.1 unknown client host rejected"),
    "the domain or host does not exist": ("550 all relevant MX records point to non-existent hosts",
                                          "550 5.1.1 user unknown"),
    "the client IP is on a block list": (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "550 5.7.1 Message was blocked by the recipient's mail filter"),
    "the client host or IP refused": ("554 5.7.1 Access denied, banned sending IP [192.0.2.1]",
                                      "550 5.1.1 user unknown"),
    "refused by the recipient's own filter": ("550 Message was filtered by the recipient's mail filter",
                                              "550 5.1.1 user unknown"),
    "refused by policy": ("550 5.7.1 Message rejected due to content policy violation",
                          "550 5.1.1 user unknown"),
    "TLS or SMTP authentication required / failed": (
        "530 5.7.0 Must issue a STARTTLS command first, TLS required", "550 5.1.1 user unknown"),
    "retried until the queue lifetime ran out": ("retry timeout exceeded", "550 5.1.1 user unknown"),
    "the connection to the receiving server failed": (
        "lost connection with mx.example.org[192.0.2.1] while receiving the initial server greeting",
        "550 5.1.1 user unknown"),
    "the receiving system is out of storage": ("452 4.3.1 Insufficient system storage: disk is full",
                                               "552 5.2.2 mailbox full"),
    "the server accepts no mail": ("554 5.3.2 This host will not accept mail",
                                   "550 we do not accept mail from your address"),
    "SMTP syntax or command error": ("501 5.5.2 Syntax error in parameters or arguments",
                                     "550 5.1.1 user unknown"),
    "an error inside the receiving system": ("451 4.3.0 Internal server error, please retry",
                                             "550 5.1.1 user unknown"),
    "the local delivery program failed": ("X-Unix; procmail exited with code 75", "550 5.1.1 user unknown"),
    "refused, no reason given": ("550 Mail refused", "550 mail accepted later"),
    "larger than this recipient accepts": ("552 5.2.3 message size exceeds recipient's size limit",
                                           "552 5.3.4 Message size exceeds fixed limit"),
}


def test_every_rule_has_a_case_and_a_source():
    assert sorted(RULE_CASES) == sorted(r.label for r in rules.RULES)  # labels are unique
    for rule in rules.RULES + tuple(rules.PROVIDER_RULES):
        assert rule.reason in model.REASONS and rule.source


@pytest.mark.parametrize("index", range(len(rules.RULES)),
                         ids=[f"{i}-{r.reason}" for i, r in enumerate(rules.RULES)])
def test_rule_decides_its_example_and_not_its_near_miss(index):
    rule = rules.RULES[index]
    example, near_miss = RULE_CASES[rule.label]
    if rule.weak:
        assert rules.match(example) is rule
        assert rules.match(near_miss) is not rule
    else:
        assert dict(rules.reasons(example))[rule.reason] is rule
        assert rule.reason not in dict(rules.reasons(near_miss))


def test_rule_names_the_wording_not_an_mta():
    # the rule a result reports describes the words (a sysadmin reads it); the source of the
    # knowledge stays in the table
    g = classify(model.Result(recipient="a@example.org", status="5.7.1", diagnostic=(
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org")))
    assert g.rule == "text: the client IP is on a block list"


@pytest.mark.parametrize("text, reason", [
    ("550 5.1.1 <a@example.org>: user unknown", "userunknown"),
    ("550 Benutzer existiert nicht", "userunknown"),
    ("550 Adresse inconnue", "userunknown"),
    ("550 Такого пользователя нет: почтовый ящик не существует", "userunknown"),
    ("452 4.2.2 Quota exceeded (mailbox for user is full)", "mailboxfull"),
    ("421 4.7.0 Try again later, closing connection. rate limited", "speeding"),
], ids=["en", "de", "fr", "ru", "quota", "rate"])
def test_text_samples(text, reason):
    result = classify(model.Result(recipient="a@example.org", diagnostic=text, command="RCPT"))
    assert result.reason == reason


@pytest.mark.parametrize("text, reason", [
    ("550 Benutzer unbekannt", "userunknown"),
    ("550 5.1.1 Die Adresse existiert nicht", "userunknown"),
    ("550 Destinataire inconnu", "userunknown"),
    ("550 Usuario desconocido", "userunknown"),
    ("550 Utente inesistente", "userunknown"),
    ("550 Адресат не существует", "userunknown"),
    ("550 收件人不存在", "userunknown"),
    ("550 用户不存在", "userunknown"),
    ("550 宛先のメールアドレスは存在しない", "userunknown"),
    ("452 Postfach voll", "mailboxfull"),
    ("452 Boite du destinataire pleine", "mailboxfull"),
    ("452 El buzón está lleno", "mailboxfull"),
    ("452 Casella di posta piena", "mailboxfull"),
    ("452 Почтовый ящик переполнен", "mailboxfull"),
    ("552 邮箱已满", "mailboxfull"),
    ("552 メールボックスの容量を超えています", "mailboxfull"),
], ids=["de-unbekannt", "de-existiert", "fr", "es", "it", "ru", "zh-rcpt", "zh-user", "ja",
        "de-full", "fr-full", "es-full", "it-full", "ru-full", "zh-full", "ja-full"])
def test_non_english_texts(text, reason):
    result = classify(model.Result(recipient="a@example.org", diagnostic=text, command="RCPT"))
    assert result.reason == reason


# One example per provider rule, in table order: (text, remote host, status).
PROVIDER_EXAMPLES = [
    ("550 <a@ezweb.ne.jp>: User unknown", "lsean.ezweb.ne.jp", "5.0.0"),
    ("550 Invalid recipient: <a@i.softbank.jp>", "mx.i.softbank.jp", "5.0.0"),
    ("550 : User unknown", "lsean.ezweb.ne.jp", "5.0.0"),
    ("550 Unknown user a@docomo.ne.jp", "mfsmax.docomo.ne.jp", "5.0.0"),
    ("554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0]", "", "5.0.0"),
    ("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints", "mta7.am0.yahoodns.net", "4.7.0"),
    ("550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416", "", "5.5.0"),
    ("552 Boite du destinataire pleine. Recipient mailbox full. OFR_417", "", "5.2.2"),
    ("550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. OFR006_102", "", "5.0.0"),
    ("421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. OFR005_104", "", "4.0.0"),
    ("535 5.7.8 Authentification invalide. OFR_305", "", "5.7.8"),
    ("550 5.7.1 Service refuse. SPF/DNS de votre nom de domaine. OFR004_401", "", "5.7.1"),
    ("550 5.1.0 Emetteur invalide. Invalid Sender. OFR004_403", "", "5.1.0"),
    ("550 5.2.1 Boite du destinataire archivee. Archived recipient. LPN007_420", "", "5.2.1"),
    ("421 mwinf5c10 ME Service indisponible. OFR_505", "", "4.0.0"),
    ("550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", "", "5.2.0"),
    ("552 5.3.4 Taille limite du message atteinte. Message size limit reached. LPN001_514", "", "5.3.4"),
    ("550 5.7.1 Message refuse. LPN_630", "", "5.7.1"),
    ("421 4.2.1 Service refuse. Veuillez essayer plus tard. Service refused, please try later. LPN006_107", "", "4.2.1"),
    ("550-Please turn on SMTP Authentication in your mail client. 550-mail0.example.net [192.0.2.7]:51234 is not permitted to relay 550 through this server without authentication.", "mail0.example.net", "5.0.0"),
    ("554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554", "", "5.0.0"),
    ("550 cox.net 192.0.2.1 rejected - attachment extension is forbidden", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("554 email rejected due to security policies - MCSpamSignature.sa.2.2", "", "5.0.0"),
    ('550 SPF Sender Invalid - envelope rejected', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('550 Local CT IP Reputation - (reject)', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ("501 Connection rejected by policy [7.7] 20805, please visit www.messagelabs.com/support", "cluster1.eu.messagelabs.com", "5.0.0"),
    ('451 IP Temporarily Blacklisted', 'us-smtp-inbound-1.mimecast.com', '4.0.0'),
    ('554 Maximum email size exceeded', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('554 Mail loop detected', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('451 Open relay not allowed', 'us-smtp-inbound-1.mimecast.com', '4.0.0'),
    ('451 Account inbounds disabled', 'us-smtp-inbound-1.mimecast.com', '4.0.0'),
    ('550 Anti-Spoofing policy - Inbound not allowed', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('550 Envelope blocked - User Entry', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('553 This route requires encryption (TLS)', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ('451 Unable to process connection at this time', 'us-smtp-inbound-1.mimecast.com', '4.0.0'),
    ('550 Exceeding outbound thread limit', 'us-smtp-inbound-1.mimecast.com', '5.0.0'),
    ("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "", "5.1.1"),
    ("550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient", "", "5.2.3"),
    ("530 5.7.1 RESOLVER.RST.AuthRequired; authentication required", "", "5.7.1"),
    ("550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized", "", "5.7.1"),
    ("550 5.5.3 RESOLVER.ADR.RecipLimit; too many recipients", "", "5.5.3"),
    ("550 4.4.7 QUEUE.Expired; message expired", "", "4.4.7"),
    ("550 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain", "", "5.4.4"),
    ("554 5.4.4 SMTPSEND.DNS.MxLoopback; DNS config error", "", "5.4.4"),
    ('550 5.7.506 Access denied, Bad HELO', '', '5.7.506'),
    ('550 5.1.8 Access denied, bad outbound sender', '', '5.1.8'),
    ('550 5.2.1 Content Filter agent quarantined this message', '', '5.2.1'),
    ('550 5.2.122 The recipient has exceeded their limit for the number of messages they can receive per hour message receive limit exceeded', '', '5.2.122'),
    ('550 5.2.1 Mailbox cannot be accessed', '', '5.2.1'),
    ('554 5.3.0 Too many related errors', '', '5.3.0'),
    ('451 4.4.24 Message failed to be replicated: insufficient system resource', '', '4.4.24'),
    ('550 5.1.0 Recipient address reserved by RFC 2606', '', '5.1.0'),
    ('451 4.4.4 Mail received as a hosted tenant which has no mail-enabled subscriptions', '', '4.4.4'),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient', '', ''),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (000C0595) Ambiguous Recipient', '', ''),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (00010256) Too many recipients.', '', ''),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (00120270) Too Many Hops', '', ''),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (00050311) Conversion to Internet format failed', '', ''),
    ('MSEXCH:IMS:Example:EXAMPLE:EXCHANGE 0 (000B0981) 502 Server does not support AUTH', '', ''),
    ("550 5.4.1 [a@example.org]: Recipient address rejected: Access denied", "example-org.mail.protection.outlook.com", "5.4.1"),
    ("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN1NAM02FT022.eop-nam02.prod.protection.outlook.com]", "", "5.0.0"),
    ("550 5.4.1 Recipient address rejected: Access denied", "mx.example.net", "5.4.1"),
]


def test_every_provider_rule_has_an_example():
    assert len(PROVIDER_EXAMPLES) == len(rules.PROVIDER_RULES)


@pytest.mark.parametrize("index", range(len(rules.PROVIDER_RULES)),
                         ids=[f"{i}-{r.reason}" for i, r in enumerate(rules.PROVIDER_RULES)])
def test_provider_rule_decides_its_example(index):
    rule = rules.PROVIDER_RULES[index]
    text, host, code = PROVIDER_EXAMPLES[index]
    assert rule.reason in model.REASONS and rule.where and rule.source
    assert rules.provider(text, host, code) is rule
    r = classify(model.Result(recipient="a@example.org", diagnostic=text, remote_mta=host, status=code))
    assert r.reason == rule.reason


def test_access_map_reject_of_a_recipient_is_not_microsofts_dbeb():
    # Postfix access(5) / Sendmail access-map REJECT: the same words, no DBEB marker, no 5.4.1
    r = classify(model.Result(recipient="a@example.org", status="5.7.1", command="RCPT", diagnostic=(
        "554 5.7.1 <a@example.org>: Recipient address rejected: Access denied")))
    assert (r.reason, r.type) == ("securityerror", "soft")


def test_a_helo_name_not_found_is_the_clients():
    # Postfix reject_unknown_helo_hostname: the HELO name the client gave, not the recipient's domain
    r = classify(model.Result(recipient="a@example.org", status="5.7.1", command="RCPT", diagnostic=(
        "550 5.7.1 <mail.example.com>: Helo command rejected: Host not found")))
    assert (r.reason, r.type) == ("blocked", "soft")
    near = classify(model.Result(recipient="a@example.org", status="5.4.4", diagnostic=(
        "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found")))
    assert (near.reason, near.type) == ("hostunknown", "hard")


def test_a_senders_null_mx_is_the_senders():
    # RFC 7505 s.4.2: X.7.27 is the sender's domain; only X.1.10 / 556 is the recipient's
    r = classify(model.Result(recipient="a@example.org", status="5.7.27", command="MAIL",
                              diagnostic="550 5.7.27 Sender address has null MX"))
    assert (r.reason, r.type) == ("rejected", "soft")
    near = classify(model.Result(recipient="a@example.org", status="5.1.10", command="RCPT",
                                 diagnostic="556 5.1.10 Recipient address has null MX"))
    assert (near.reason, near.type) == ("notaccept", "hard")


def test_system_not_accepting_messages_is_not_a_dead_address():
    # RFC 3463 X.3.2: the host's state (shutdown, load, maintenance), whatever the words
    r = classify(model.Result(recipient="a@example.org", status="5.3.2", diagnostic="554 5.3.2 ask later"))
    assert (r.reason, r.type) == ("notaccept", "soft")


# Wordings added from their sources (tests/test_source_wordings.py), each beside a near miss
@pytest.mark.parametrize("status, text, reason", [
    ("4.0.0", "451 Sender rate exceeds 100 messages per 1h", "speeding"),          # Exim ratelimit example
    ("4.5.3", "452 4.5.3 Error: too many recipients", "toomanyconn"),
    ("", "452 Too many recipients received this hour", "speeding"),               # Cisco AsyncOS
    ("", "452 Too many recipients", "toomanyconn"),
    ("5.7.1", "550 5.7.1 Rejected by SPF: 192.0.2.1 is not a designated mailserver for s%40example.com",
     "authfailure"),                                                               # postfix-policyd-spf-perl
    ("5.0.0", "550 192.0.2.1 is not allowed to send mail from example.com", "authfailure"),  # Exim SPF example
    ("5.0.0", "550 192.0.2.1 is not allowed to connect", "blocked"),
    ("5.7.0", "554 5.7.0 Reject, id=12345-01 - BANNED: P=p003,L=1,M=application/x-msdownload,T=exe",
     "contenterror"),                                                              # amavisd-new
    ("5.7.1", "554 5.7.1 Your IP 192.0.2.1 is banned", "blocked"),
    ("5.1.2", "550 5.1.2 Bad destination system address", "hostunknown"),          # RFC 3463 X.1.2
    ("5.1.1", "550 5.1.1 Bad destination mailbox address", "userunknown"),
    ("5.0.0", "553 Relaying disallowed", "norelaying"),                            # Zoho Mail
    ("5.0.0", "553 Sender disallowed", "onhold"),
    ("5.0.350", "550 5.0.350 x-dg-ref header is too long", "contenterror"),        # Exchange Online
    ("5.0.0", "550 the subject line is too long", "onhold"),
    ("", "The message can't be submitted because the sender's submission quota was exceeded", "speeding"),
    ("", "552 mailbox quota was exceeded", "mailboxfull"),
    ("5.0.0", "a TLS session is required, but the server did not offer TLS support", "securityerror"),  # Exim
    ("5.7.322", "550 5.7.322 certificate-expired: Destination mail server's certificate is expired.",
     "securityerror"),                                                             # Exchange Online DANE
    # a specific status outranks words that name no cause ("local problem")
    ("4.7.5", "TLS is required, but host mx.example.org[192.0.2.1] refused to start TLS: 454 4.7.0 TLS not "
     "available due to local problem", "securityerror"),
    ("4.3.0", "451 4.3.0 Temporary local problem - please try later", "systemerror"),
    ("5.0.0", "550 <a@example.com>: Reject due to SPF policy. The originating IP of the message is not permitted "
     "by the domain owner", "authfailure"),                                        # United Internet
    ("5.0.0", "550 Reject due to policy restrictions", "policyviolation"),
    ("5.7.1", "550 5.7.1 sender <s@example.com> black listed #127", "rejected"),   # smtpf
    ("5.7.1", "550 5.7.1 host mail.example.com [192.0.2.1] black listed #120", "blocked"),
    ("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: User email address is marked as invalid.",
     "userunknown"),                                                               # Spambrella
    ("5.7.1", "550 5.7.1 Your sender address is invalid", "rejected"),
    # Postfix mbox_dsn(): ENOSPC is the mail system full, EDQUOT the mailbox
    ("4.3.0", "error writing message: No space left on device", "systemfull"),
    ("5.2.2", "error writing message: Disk quota exceeded", "mailboxfull"),
    # Postfix reject_unauth_pipelining names the restriction stage, then the client's misuse
    ("5.5.0", "503 5.5.0 <s@example.com>: Sender address rejected: Improper use of SMTP command pipelining",
     "syntaxerror"),
    ("5.1.8", "553 5.1.8 <s@example.com>: Sender address rejected: Domain not found", "rejected"),
    # Exim's own words (src/routers/dnslookup.c, src/transports/smtp.c)
    ("5.0.0", "unknown mail domain", "hostunknown"),
    ("5.0.0", "553 5.1.8 Sender address rejected: unknown mail domain", "rejected"),
    ("4.0.0", "all host address lookups failed temporarily", "networkerror"),
    ("5.0.0", "all host address lookups failed permanently", "hostunknown"),
    ("4.0.0", "DANE attempt failed; TLS connection to mx.example.org [192.0.2.1]: certificate verification failed",
     "securityerror"),
    ("4.0.0", "connection to mx.example.org failed", "networkerror"),
    # Sendmail cf/m4/proto.m4
    ("4.1.2", "450 4.1.2 <a@example.org>... MX lookup failure for example.org", "networkerror"),
    ("5.1.2", "553 5.1.2 <a@nonexistent.example>... Unrecognized host name nonexistent.example", "hostunknown"),
    ("5.5.4", "553 5.5.4 <s@localhost>... Real domain name required for sender address", "rejected"),
    ("5.5.4", "553 5.5.4 <a@localhost>... Domain name required", "systemerror"),
])
def test_source_wordings_and_near_misses(status, text, reason):
    r = classify(model.Result(recipient="a@example.org", status=status, command="RCPT", diagnostic=text))
    assert r.reason == reason


@pytest.mark.parametrize("text, host, status, reason", [
    # Gmail's own page: 530 5.7.0 asks for TLS (RFC 3207), not a syntax error
    ("530-5.7.0 Must issue a STARTTLS command first. d2si123 - gsmtp", "gmail-smtp-in.l.google.com", "5.7.0",
     "securityerror"),
    ("503-5.5.1 RCPT first. d2si123 - gsmtp", "gmail-smtp-in.l.google.com", "5.5.1", "syntaxerror"),
    ("550-5.7.1 Unauthenticated email is not accepted from this domain.", "gmail-smtp-in.l.google.com", "5.7.1",
     "authfailure"),
    ("550-5.7.0 Mail Sending denied.", "gmail-smtp-in.l.google.com", "5.7.0", "rejected"),
])
def test_provider_wordings_read_as_their_page_says(text, host, status, reason):
    r = classify(model.Result(recipient="a@example.org", status=status, diagnostic=text, remote_mta=host))
    assert r.reason == reason


def test_words_answered_to_mail_from_are_the_senders():
    # RFC 5321 s.3.3: no recipient has been named yet
    said = "host mx.example.org[192.0.2.1] said: 550 5.1.1 <s@example.com>... User unknown (in reply to {} command)"
    mail = classify(model.Result(recipient="a@example.org", status="5.1.1", diagnostic=said.format("MAIL FROM")))
    rcpt = classify(model.Result(recipient="a@example.org", status="5.1.1", diagnostic=said.format("RCPT TO")))
    assert (mail.reason, mail.type) == ("rejected", "soft")
    assert (rcpt.reason, rcpt.type) == ("userunknown", "hard")


def test_a_filters_own_words_beside_5_1_1_are_the_filters():
    group = classify(model.Result(recipient="a@example.org", status="5.1.1", command="RCPT", diagnostic=(
        "550-5.1.1 The group you tried to contact (g) may not exist, or you may not have permission to post "
        "messages to the group.")))
    assert (group.reason, group.type) == ("filtered", "soft")
    plain = classify(model.Result(recipient="a@example.org", status="5.1.1", command="RCPT", diagnostic=(
        "550-5.1.1 The email account that you tried to reach does not exist.")))
    assert (plain.reason, plain.type) == ("userunknown", "hard")


def test_551_user_not_local_names_the_new_address():
    moved = classify(model.Result(recipient="a@example.org", status="5.1.6", command="RCPT",
                                  diagnostic="551 User not local; please try <b@example.net>"))
    assert (moved.reason, moved.type) == ("hasmoved", "hard")


def test_provider_rule_needs_its_host():
    # the same words from another provider's server follow the general order
    assert rules.provider("550 : User unknown", "mx.example.org") is None
    assert rules.provider("550 Unknown user a@docomo.ne.jp", "mfsmax.docomo.ne.jp", "5.2.0") is None
    assert rules.provider("550 rejected - attachment extension is forbidden", "mx.example.org") is None


def test_provider_rule_not_at_its_excluded_command():
    # docomo's filter reading is not the reading of the same words answered to RCPT TO
    text, host = "550 Unknown user a@docomo.ne.jp", "mfsmax.docomo.ne.jp"
    assert rules.provider(text, host, "5.0.0", "DATA").reason == "rejected"
    assert rules.provider(text, host, "5.0.0", "RCPT") is None


@pytest.mark.parametrize("text", [
    "550 Email rejected per our content policy",          # not Zoho's SPF / DMARC refusal
    "421 CON:B12 too many",                               # not AOL's CON:B1
    "421 DNS:NRX",                                        # not AOL's DNS:NR
    "550 [permfail] mailbox full",                        # not AT&T's sender-domain refusal
    "571 blocked by our anti-spam system",                # not Verizon's
    "450 failure in DNS look-up of the recipient domain",  # not AT&T's 421 about the client
])
def test_unbound_provider_codes_need_their_exact_words(text):
    assert rules.provider(text, "mx.example.org", "5.0.0") is None


@pytest.mark.parametrize("command, reason, kind", [
    ("RCPT", "userunknown", "hard"), ("DATA", "filtered", "soft"), ("", "filtered", "soft")])
def test_user_unknown_only_at_rcpt(command, reason, kind):
    # Sisimai's convention: "user unknown" not answered to RCPT is a filter's refusal
    r = classify(model.Result(recipient="a@example.org", diagnostic="550 Unknown user", command=command))
    assert (r.reason, r.type) == (reason, kind)


def test_status_x11_is_userunknown_whatever_the_command():
    r = classify(model.Result(recipient="a@example.org", status="5.1.1", diagnostic="550 5.1.1 User unknown"))
    assert (r.reason, r.type) == ("userunknown", "hard")


@pytest.mark.parametrize("code, reason", [
    ("5.1.1", "userunknown"), ("5.1.2", "hostunknown"), ("5.1.6", "hasmoved"),
    ("5.1.10", "notaccept"), ("5.2.2", "mailboxfull"), ("4.2.2", "mailboxfull"),
    ("5.2.3", "exceedlimit"), ("5.3.4", "mesgtoobig"), ("4.4.7", "expired"),
    ("5.7.23", "authfailure"), ("5.7.25", "requireptr"), ("5.7.26", "authfailure"),
    ("5.7.9", "securityerror"), ("2.0.0", "delivered"), ("5.9.9", ""),
    ("4.2.1", "suspend"), ("5.2.1", "filtered"), ("4.7.1", "blocked"), ("5.7.1", "securityerror"),
    ("4.4.4", "networkerror"), ("5.4.4", "hostunknown"), ("5.7.16", "mesgtoobig"), ("5.5.3", "toomanyconn"),
    ("5.7.750", "rejected"), ("5.4.300", "expired"),
])
def test_status_table(code, reason):
    assert status.reason_for(code) == reason


def test_status_normalise_ignores_longer_dotted_numbers():
    assert status.normalise("see 4.16.55.1 then 4.7.0") == "4.7.0"
    assert status.normalise("Status: 5.1.1 (bad mailbox)") == "5.1.1"


def test_specific_status_wins_over_text():
    r = classify(model.Result(recipient="a@example.org", status="5.2.2",
                              diagnostic="550 user unknown"))
    assert (r.reason, r.rule) == ("mailboxfull", "status 5.2.2")


def test_text_wins_over_vague_status():
    r = classify(model.Result(recipient="a@example.org", status="5.7.1",
                              diagnostic="550 5.7.1 Service unavailable; client host blocked using bl.spamcop.net"))
    assert r.reason == "blocked" and r.type == "soft"


def test_pseudo_status_when_none_given():
    r = classify(model.Result(recipient="a@example.org", diagnostic="Sorry, no mailbox here by that name.",
                              command="RCPT"))
    assert (r.status, r.reason, r.type) == ("5.0.911", "userunknown", "hard")
    full = classify(model.Result(recipient="a@example.org", reply_code="452", diagnostic="452 mailbox is full"))
    assert (full.status, full.reason, full.type) == ("4.0.922", "mailboxfull", "soft")


@pytest.mark.parametrize("reason", sorted(model.HARD_REASONS))
def test_hard_reasons_are_hard(reason):
    r = classify(model.Result(recipient="a@example.org", reason=reason, status="5.0.0"))
    assert r.type == "hard"


@pytest.mark.parametrize("reason", sorted(model.SENDER_SIDE_REASONS))
def test_sender_side_reasons_never_hard(reason):
    r = classify(model.Result(recipient="a@example.org", reason=reason, status="5.7.1"))
    assert r.type == "soft"


def test_notaccept_hard_only_when_permanent():
    perm = classify(model.Result(recipient="a@example.org", status="5.1.10"))
    temp = classify(model.Result(recipient="a@example.org", status="4.3.2"))
    assert (perm.reason, perm.type) == ("notaccept", "hard")
    assert (temp.reason, temp.type) == ("notaccept", "soft")


def test_user_unknown_after_data_is_a_filter():
    r = classify(model.Result(recipient="a@example.org", diagnostic="550 : User unknown",
                              command="DATA"))
    assert (r.reason, r.type) == ("filtered", "soft")


def test_temporary_dns_failure_is_not_hostunknown():
    r = classify(model.Result(recipient="a@example.org", status="4.0.0",
                              diagnostic="DNS Error: Domain name not found: example.org"))
    assert (r.reason, r.type) == ("networkerror", "soft")


@pytest.mark.parametrize("action, kind", [("delayed", "delay"), ("delivered", "delivered"),
                                          ("relayed", "delivered"), ("expanded", "delivered")])
def test_actions(action, kind):
    r = classify(model.Result(recipient="a@example.org", action=action, status="4.4.1"
                              if action == "delayed" else "2.0.0"))
    assert r.type == kind
    if action == "delayed":
        assert r.reason == "expired"  # still queued and nothing more specific said


def test_complaint_and_autoreply():
    c = classify(model.Result(recipient="a@example.org", reason="feedback"))
    v = classify(model.Result(recipient="a@example.org", reason="vacation"))
    assert (c.reason, c.type, v.reason, v.type) == ("feedback", "complaint", "vacation", "autoreply")


def test_nothing_recognised_is_undefined_and_soft():
    r = classify(model.Result(recipient="a@example.org"))
    assert (r.reason, r.type) == ("undefined", "soft")


def test_unrecognised_words_are_onhold():
    r = classify(model.Result(recipient="a@example.org", diagnostic="something odd happened"))
    assert (r.reason, r.type, r.status) == ("onhold", "soft", "5.0.901")


def test_user_unknown_with_mailbox_status_x20_is_a_filter():
    r = classify(model.Result(recipient="a@example.org", status="5.2.0",
                              diagnostic="550 Unknown user a@example.org"))
    assert (r.reason, r.type) == ("filtered", "soft")


# Examples for the provider rules appended after the Microsoft 365 one (same order as the table)
PROVIDER_EXAMPLES += [
    ("550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes#rcp The attempted recipient address does not exist", "mx.facebook.com", "5.1.1"),
    ("550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes#rcp Refused due to recipient preferences", "mx.facebook.com", "5.1.1"),
    ("552 5.3.4 MSG-P1 message exceeds maximum size", "mx.facebook.com", "5.3.4"),
    ("550 5.6.0 MSG-P3 duplicate headers", "mx.facebook.com", "5.6.0"),
    ("554 5.7.1 POL-P1 listed on the Spamhaus PBL", "mx.facebook.com", "5.7.1"),
    ("421 4.7.1 POL-T1 not accepting messages from your mail server", "mx.facebook.com", "4.7.1"),
    ("550 5.1.8 DNS-P1 Your SMTP MAIL FROM domain does not exist", "mx.facebook.com", "5.1.8"),
    ("421 4.3.2 CON-T1 too many connections open", "mx.facebook.com", "4.3.2"),
    ("421 4.7.0 CON-T3 too many new connections", "mx.facebook.com", "4.7.0"),
    ("550 5.2.1 RCP-T4 recipient address is deactivated", "mx.facebook.com", "5.2.1"),
    ("550 Use of SMTP as mail gate is forbidden, see http://mail.i.ua/err/1/", "mx.i.ua", "5.0.0"),
    ("550 5.1.1 Mailbox not found, see http://mail.i.ua/err/2/", "mx.i.ua", "5.1.1"),
    ("550 Mailbox was not used for more than 3 months, see http://mail.i.ua/err/3/", "mx.i.ua", "5.0.0"),
    ("552 Mailbox is full, see http://mail.i.ua/err/4/", "mx.i.ua", "5.2.2"),
    ("550 Letter sending limit is exceeded, see http://mail.i.ua/err/5/", "mx.i.ua", "5.0.0"),
    ("550 Sender IP is blacklisted, see http://mail.i.ua/err/9/", "mx.i.ua", "5.0.0"),
    ("550 Couldn't check sender address, see http://mail.i.ua/err/8/", "mx.i.ua", "5.0.0"),
    ("550 Not in the list, see http://mail.i.ua/err/10/", "mx.i.ua", "5.0.0"),
]
PROVIDER_EXAMPLES += [
    ("550-5.7.1 The IP you're using to send mail is not authorized to send email directly to our servers.", "aspmx.l.google.com", "5.7.1"),
    ("550 5.4.5 Daily user sending quota exceeded.", "smtp.gmail.com", "5.4.5"),
    ("450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", "aspmx.l.google.com", "4.2.1"),
    ('550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM. Gmail requires all senders to authenticate with either SPF or DKIM.', 'aspmx.l.google.com', '5.7.26'),
    ('421-4.7.0 This message is suspicious due to the very low reputation of the sending IP address.', 'aspmx.l.google.com', '4.7.0'),
    ('421-4.7.0 IP not in whitelist for RCPT domain, closing connection.', 'aspmx.l.google.com', '4.7.0'),
    ("552-5.2.3 Your message exceeded Google's message size limits.", 'aspmx.l.google.com', '5.2.3'),
    ("552-5.3.4 Your message exceeded Google's message header size limits.", 'aspmx.l.google.com', '5.3.4'),
    ("552-5.3.4 Your message exceeded Google's message size limits.", 'aspmx.l.google.com', '5.3.4'),
    ('421-4.4.2 Timeout - Closing connection.', 'aspmx.l.google.com', '4.4.2'),
    ("452-4.2.2 The recipient's inbox is out of storage space.", 'aspmx.l.google.com', '4.2.2'),
    ('554-5.4.6 Message exceeded 50 hops, this may indicate a mail loop.', 'aspmx.l.google.com', '5.4.6'),
    ('550-5.7.0 Mail relay denied.', 'aspmx.l.google.com', '5.7.0'),
    ('553-5.1.7 The sender address <s@example> is not a valid RFC 5321 address.', 'aspmx.l.google.com', '5.1.7'),
    ('553-5.1.3 The recipient address <a@example> is not a valid RFC 5321 address.', 'aspmx.l.google.com', '5.1.3'),
    ('550-5.7.1 Messages missing a valid Message-ID: header are not accepted.', 'aspmx.l.google.com', '5.7.1'),
    ('552-5.7.0 Our system detected an illegal attachment on your message.', 'aspmx.l.google.com', '5.7.0'),
    ('550-5.7.0 Mail Sending denied. This error occurs if the sender account is disabled.', 'aspmx.l.google.com', '5.7.0'),
    ('550-5.7.25 The IP address sending this message does not have a PTR record setup.', 'aspmx.l.google.com', '5.7.25'),
    ('421-4.7.0 TLS required for RCPT domain, closing connection.', 'aspmx.l.google.com', '4.7.0'),
    ('550-5.7.1 Our system has detected that this message is likely unsolicited mail.', 'aspmx.l.google.com', '5.7.1'),
    ('550-5.7.1 This mail has been rate limited.', 'aspmx.l.google.com', '5.7.1'),
    ('550-5.2.1 The email account that you tried to reach is disabled.', 'aspmx.l.google.com', '5.2.1'),
    ('452-4.5.3 Your message has too many recipients.', 'aspmx.l.google.com', '4.5.3'),
    ('421-4.3.0 Temporary System Problem. Try again later.', 'aspmx.l.google.com', '4.3.0'),
    ('502-5.5.1 Unrecognized command.', 'aspmx.l.google.com', '5.5.1'),
    ("553-5.1.2 We weren't able to find the recipient domain. Please check for any spelling errors.", 'aspmx.l.google.com', '5.1.2'),
    ('550 5.1.1 <a@icloud.com>: inactive email address', 'mx01.mail.icloud.com', '5.1.1'),
    ('550 5.1.6 recipient no longer on server: a@icloud.com', 'mx01.mail.icloud.com', '5.1.6'),
    ('421 4.7.0 Message rejected due to excessive volume', 'mx01.mail.icloud.com', '4.7.0'),
    ('554 5.7.1 [HM08] Message blocked for failing both SPF and DKIM autentication checks', 'mx01.mail.icloud.com', '5.7.1'),
    ('554 5.7.1 [CS01] Message rejected due to listing in Spamhaus', 'mx01.mail.icloud.com', '5.7.1'),
    ('451 Message temporarily deferred due to unresolvable RFC.5321 from domain', 'mta6.am0.yahoodns.net', '4.0.0'),
    ('553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.', 'mta6.am0.yahoodns.net', '5.7.2'),
    ('554 delivery error: dd Sorry, your message to a@yahoo.com cannot be delivered. This mailbox is disabled (554.30)', 'mta6.am0.yahoodns.net', '5.0.0'),
    ("550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726", "mx3.qq.com", "5.0.0"),
    ("554 DT:SPM 163 mx14,QMCowECpWEQ4gVBfAAAA--.1234S2 1599111111", "163mx01.mxmail.netease.com", "5.0.0"),
    ("550 a@qq.com is a deactivated mailbox", "mx3.qq.com", "5.0.0"),
    ("550 Mail is rejected by recipients [MDZNQ/9YKgCLOGTPuEW5JDlhGhA= IP: 192.0.2.1]. https://open.work.weixin.qq.com/help?doc_id=10055", "mx1.qq.com", "5.0.0"),
    ("550 Suspected spam ip, please try later. https://service.mail.qq.com/detail/122/66", "mx1.qq.com", "5.0.0"),
    ("421 HL:REP 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1", "163mx01.mxmail.netease.com", "4.0.0"),
    ("550 Suspected spam. https://service.mail.qq.com/detail/122/71", "mx1.qq.com", "5.0.0"),
    ("550 Mailbox unavailable or access denied [MN34dfadQ]. https://service.mail.qq.com/detail/122/166", "mx1.qq.com", "5.0.0"),
    ("421 HL:IFC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1", "163mx01.mxmail.netease.com", "4.0.0"),
    ("550 Domain frequency limited [http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726]", "mx1.qq.com", "5.0.0"),
    ("421 HL:ICC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1", "163mx01.mxmail.netease.com", "4.0.0"),
    ("501 Bad address syntax. https://service.mail.qq.com/detail/122/167", "mx1.qq.com", "5.1.3"),
    ("550 Mailbox not found. https://service.mail.qq.com/detail/122/169", "mx1.qq.com", "5.0.0"),
    ("550 User not found: a@163.com", "163mx01.mxmail.netease.com", "5.0.0"),
    ("554 resimta-po-01v.sys.comcast.net 192.0.2.1 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001", "mx1.comcast.net", "5.0.0"),
    ("421 4.7.0 resimta-po-01v.sys.comcast.net 192.0.2.1 rate limited, see http://postmaster.comcast.net/smtp-error-codes.php#RL000001", "mx1.comcast.net", "4.7.0"),
    ("554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help.) AUP#CXBL", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("571 Email from 192.0.2.1 is currently blocked by Verizon Online's anti-spam system", "relay.verizon.net", "5.0.0"),
    ("550 message rejected. AUP#CXSNDR", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("550 5.7.1 Email rejected per SPF policy", "mx.zoho.com", "5.7.1"),
    ("550 sender rejected. AUP#CXSMTP", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("550 [permfail] bellsouth.net requires valid sender domain", "mx.bellsouth.net", "5.0.0"),
    ("421 too many connections. AUP#CXCNCT", "cxr.mx.a.cloudfilter.net", "4.0.0"),
    ("421 CON:B1 http://postmaster.info.aol.com/errors/421conb1.html", "mailin-01.mx.aol.com", "4.0.0"),
    ("452 too many recipients, wait. AUP#CXMXRT", "cxr.mx.a.cloudfilter.net", "4.0.0"),
    ("554 cox.net ESMTP connection refused. IP does not have reverse DNS AUP#CXDNS", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("421 DNS:NR http://postmaster.info.aol.com/errors/421dnsnr.html", "mailin-01.mx.aol.com", "4.0.0"),
    ("421-failure in DNS look-up.", "mx.bellsouth.net", "4.0.0"),
    ("550 5.7.1 Email sending limited due to suspicious account activity. AUP#CXTHRT", "cxr.mx.a.cloudfilter.net", "5.7.1"),
    ("552 URL rejected. URL is listed on a block list. AUP#URLBL1010", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ("554 192.0.2.1 listed on a reputation list. AUP#RRBL0001", "cxr.mx.a.cloudfilter.net", "5.0.0"),
    ('550 5.7.1 IB401 Authentication required', 'mx.secureserver.net', '5.7.1'),
    ('554 IB501 Message not RFC compliant', 'mx.secureserver.net', '5.0.0'),
    ('554 IB506 Sender refused', 'mx.secureserver.net', '5.0.0'),
    ('550 IB508 SPF check failed', 'mx.secureserver.net', '5.0.0'),
    ('554 IB108 No reverse DNS', 'mx.secureserver.net', '5.0.0'),
    ('554 IB212 Spam content', 'mx.secureserver.net', '5.0.0'),
    ('554 IB705 Virus', 'mx.secureserver.net', '5.0.0'),
    ('421 IB605 Too many connections', 'mx.secureserver.net', '4.0.0'),
    ('421 IB101 Rate limited', 'mx.secureserver.net', '4.0.0'),
    ('421 IB103 IP reputation', 'mx.secureserver.net', '4.0.0'),
    ('554 IB110 IP blocked', 'mx.secureserver.net', '5.0.0'),
    ('554 RBL Reject: https://www.spamhaus.org/query/bl?ip=192.0.2.1', 'mx.secureserver.net', '5.0.0'),
    ('552 Message rejected for spam or virus content', 'mx.secureserver.net', '5.0.0'),
    ("550 5.1.1 <a@example.net> Recipient not found. <https://godaddy.com/help?articleId=3568>", "mx.secureserver.net", "5.1.1"),
    ("550 5.1.1 <a@cox.net> recipient rejected", "cxr.mx.a.cloudfilter.net", "5.1.1"),
    ("553 Recipient mailbox is not allowed", "cluster1.eu.messagelabs.com", "5.0.0"),
    ("550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550", "eu-smtp-inbound-1.mimecast.com", "5.0.0"),
    ("550 <a@example.net> Account disabled", "mx.secureserver.net", "5.0.0"),
    ("552 <a@example.net> Account storage limit", "mx.secureserver.net", "5.0.0"),
    ("552 5.3.0 p3plibsmtp02-07.prod.phx3.secureserver.net bizsmtp Inbound URL reject URLBL011", "mx.secureserver.net", "5.3.0"),
    ("550 5.1.0 <s@example.com> sender rejected. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1310", "mx.charter.net", "5.1.0"),
    ("554 5.7.1 Your IP address has been blocked due to suspicious activity. AUP#I-1000", "mx.charter.net", "5.7.1"),
    ("554 5.7.1 The IP address you are connecting from has an issue with DNS. AUP#In-1100", "mx.charter.net", "5.7.1"),
    ("421 4.7.0 Too many emails from your IP recently. AUP#In-1220", "mx.charter.net", "4.7.0"),
    ("552 5.3.4 Message is larger than the maximum size. AUP#Out-1530", "mx.charter.net", "5.3.4"),
    ("550 5.1.0 Sender domain refused. AUP#In-1020", "mx.charter.net", "5.1.0"),
    ("451 4.3.0 System error. AUP#In-1090", "mx.charter.net", "4.3.0"),
    ("550 5.7.1 Policy. AUP#In-1160", "mx.charter.net", "5.7.1"),
    ("451 4.4.0 Network error. AUP#In-1260", "mx.charter.net", "4.4.0"),
    ("550 5.7.511 Access denied, banned sender[192.0.2.1]. To request removal from this list please forward this message to delist@messaging.microsoft.com.", "example-org.mail.protection.outlook.com", "5.7.511"),
    ("550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DB3EUR04FT052.eop-eur04.prod.protection.outlook.com]", "hotmail-com.olc.protection.outlook.com", "5.5.0"),
    ("550 Requested action not taken: mailbox unavailable", "mx00.emig.gmx.net", "5.0.0"),
    ("550 SC-001 (BAY004-MC3F21) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP ranges.", "", "5.0.0"),
    ("421 RP-001 (BAY004-MC1F3) Unfortunately, some messages from 192.0.2.1 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.", "", "4.0.0"),
    ("user-unknown@example.org: 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)", "", "5.0.0"),
    ("550 5.7.1 No such user!", "", "5.7.1"),
    ("550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.example is unavailable: user not found", "", "5.0.0"),
    ("550 5.1.10 Recipient not found by SMTP address lookup", "", "5.1.10"),
]


def test_gmail_missing_from_is_not_rfc_compliant():
    r = classify(model.Result(recipient="a@example.org", status="5.7.1", diagnostic=(
        "550-5.7.1 Messages missing a valid address in From: header, or having no From: header, "
        "are not accepted.")))
    assert r.reason == "notcompliantrfc"


# MTA-own wordings with no status and no reply (Sisimai's Exim and Domino tables)
@pytest.mark.parametrize("text, reason", [
    ("Unrouteable address", "hostunknown"),                              # Exim: no route to the domain
    ("all host address lookups failed permanently", "hostunknown"),      # Exim smtp transport
    ('Too many "Received" headers - suspected mail loop', "contenterror"),  # Exim deliver.c
    ("delivery to pipe forbidden", "systemerror"),                       # Exim deliver.c
    ("no host found for existing SMTP connection", "notaccept"),         # Exim smtp transport
    ("Message has exceeded maximum hop count", "networkerror"),          # Notes/Domino, not a quota
    ("Cannot route mail to user (a@example.org)", "filtered"),           # Domino
    ("Several matches found in Domino Directory", "systemerror"),        # Domino
])
def test_mta_own_wordings(text, reason):
    assert classify(model.Result(recipient="a@example.org", diagnostic=text)).reason == reason


# Genuine DSN fields from Postfix 3.7 and Exim 4.96 on loopback (bench/realmta), each case's
# cause known by construction: the remote's own words decide over the sending MTA's
# "gave up" wording, and a cause-less temporary failure retried to the end is `expired`.
@pytest.mark.parametrize("status, action, text, reason", [
    ("4.7.1", "failed", "smtp; 450 4.7.1 Error: too much mail from 127.0.0.1", "speeding"),
    ("5.0.0", "failed", "smtp; 450 4.7.1 Error: too much mail from 127.0.0.1: retry timeout exceeded", "speeding"),
    ("4.2.1", "failed", "smtp; 450-4.2.1 The user you are trying to contact is receiving mail at a rate that "
     "prevents additional messages from being delivered.", "speeding"),
    ("5.0.0", "failed", "smtp; 450-4.2.1 The user you are trying to contact is receiving mail at a rate that "
     "prevents additional messages from being delivered.: retry timeout exceeded", "speeding"),
    ("4.3.0", "failed", "smtp; 451 4.3.0 Temporary local problem - please try later", "expired"),
    ("5.0.0", "failed", "smtp; 451 4.3.0 Temporary local problem - please try later: retry timeout exceeded", "expired"),
    ("4.2.0", "failed", "smtp; 450 4.2.0 <a@example.org>: Recipient address rejected: Greylisted, see "
     "https://postgrey.schweikert.ch/help/example.org.html", "expired"),
    ("4.4.1", "failed", "X-Postfix; connect to mx.example.org[192.0.2.1]:25: Connection refused", "expired"),
    ("5.0.0", "failed", "Connection refused: retry timeout exceeded", "expired"),
    ("4.4.7", "failed", "Deferred: Connection refused by mx.example.org. Message could not be delivered for 5 days",
     "expired"),
    ("4.7.0", "failed", "smtp; 421 4.7.0 Error: too many connections from 127.0.0.1", "toomanyconn"),
])
def test_real_mta_temporary_failures(status, action, text, reason):
    r = classify(model.Result(recipient="a@example.org", status=status, action=action, diagnostic=text))
    assert (r.reason, r.type) == (reason, "soft")


def test_command_is_read_from_the_words():
    said = "host mx.example.org[192.0.2.1] said: 550 User unknown (in reply to RCPT TO command)"
    r = classify(model.Result(recipient="a@example.org", diagnostic=said))
    assert (r.reason, r.type) == ("userunknown", "hard")
    after_data = "SMTP error from remote mail server after end of data: 550 User unknown"
    assert classify(model.Result(recipient="a@example.org", diagnostic=after_data)).reason == "filtered"


def test_a_4xx_is_never_hard():
    r = classify(model.Result(recipient="a@example.org", status="4.1.1", diagnostic="450 4.1.1 user unknown"))
    assert (r.reason, r.type) == ("userunknown", "soft")


def test_user_unknown_status_does_not_survive_rate_words():
    r = classify(model.Result(recipient="a@example.org", status="5.1.1", command="RCPT",
                              diagnostic="550 5.1.1 rate limit exceeded, try again later"))
    assert (r.reason, r.type) == ("speeding", "soft")


def test_null_mx_wording_hard_only_when_explicit():
    weak = classify(model.Result(recipient="a@example.org", status="5.0.0",
                                 diagnostic="554 this host will not accept mail"))
    strong = classify(model.Result(recipient="a@example.org", status="5.0.0",
                                   diagnostic="550 5.0.0 Domain example.org does not accept mail (nullMX)"))
    assert (weak.reason, weak.type) == ("notaccept", "soft")
    assert (strong.reason, strong.type) == ("notaccept", "hard")


def test_disagreeing_status_is_named_in_rule():
    r = classify(model.Result(recipient="a@example.org", status="5.7.25", command="RCPT",
                              diagnostic="552 5.7.25 mailbox is full"))
    assert r.reason == "mailboxfull" and "status 5.7.25 reads requireptr" in r.rule


def test_mailbox_full_and_mailer_error_are_not_user_unknown():
    full = classify(model.Result(recipient="a@example.org", status="5.2.2", command="RCPT",
                                 diagnostic="552 5.2.2 mailbox unavailable: over quota"))
    prog = classify(model.Result(recipient="a@example.org", status="5.3.0", diagnostic=(
        "x-unix; Command died with status 1: \"/usr/bin/procmail\"")))
    assert (full.reason, full.type) == ("mailboxfull", "soft")
    assert (prog.reason, prog.type) == ("mailererror", "soft")


@pytest.mark.parametrize("text", [
    "Delay reason: SMTP error from remote mail server after RCPT TO:<a@example.org>: 451 4.3.0 try later",
    "Warning: could not send message for past 4 hours",
    "Message will be retried for 2 more day(s)",
])
def test_still_retrying_is_a_delay_not_a_failure(text):
    r = classify(model.Result(recipient="a@example.org", action="failed", status="4.3.0", diagnostic=text))
    assert (r.action, r.type) == ("delayed", "delay")


def test_final_failure_mentioning_suspension_stays_a_failure():
    r = classify(model.Result(recipient="a@example.org", action="failed", status="5.4.4", diagnostic=(
        "delivery temporarily suspended: Host or domain name not found. Name service error for "
        "name=example.org type=MX: Host not found")))
    assert (r.reason, r.type) == ("hostunknown", "hard")


def test_gmail_rate_words_win_over_a_bare_4_2_1():
    # Postfix folds "450-4.2.1" continuation codes into the text it quotes
    r = classify(model.Result(recipient="a@example.org", status="4.2.1", action="failed", diagnostic=(
        "smtp; 450-4.2.1 The user you are trying to contact is receiving mail at a rate that 450-4.2.1 "
        "prevents additional messages from being delivered. Please resend your message at a later time.")))
    assert (r.reason, r.type) == ("speeding", "soft")
    bare = classify(model.Result(recipient="a@example.org", status="4.2.1", diagnostic="450 4.2.1 try later"))
    assert bare.reason == "suspend"


@pytest.mark.parametrize("text", [
    "553 5.1.7 Sender address unknown",
    "550 5.1.8 Sender address is not valid",
    "550 sender address does not exist",
    "550 5.1.0 <s@example.com>: Sender address rejected: User unknown in local recipient table",
    "553 5.1.8 Domain of sender address s@example.com does not exist",
    "550 Mailbox unavailable: sender blacklisted",
])
def test_a_refused_sender_never_makes_the_recipient_hard(text):
    r = classify(model.Result(recipient="a@example.org", diagnostic=text, command="RCPT"))
    assert r.type == "soft" and r.reason == "rejected"


def _unbounded_repeats(tree, inside=False):
    """Count nested unbounded repeats and adjacent unbounded repeats in a parsed pattern."""
    from re import _constants as C, _parser as P
    bad = 0
    items = tree.data if isinstance(tree, P.SubPattern) else tree
    previous_unbounded = False
    for op, av in items:
        unbounded = op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] == C.MAXREPEAT
        if unbounded and (inside or previous_unbounded):
            bad += 1
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            bad += _unbounded_repeats(av[2], inside or unbounded)
        elif op is C.SUBPATTERN:
            bad += _unbounded_repeats(av[-1], inside)
        elif op is C.BRANCH:
            bad += sum(_unbounded_repeats(alt, inside) for alt in av[1])
        previous_unbounded = unbounded
    return bad


@pytest.mark.parametrize("pattern", [r.pattern for r in rules.RULES] + [r.pattern for r in rules.PROVIDER_RULES]
                         + [r.host for r in rules.PROVIDER_RULES if r.host])
def test_patterns_stay_linear_on_stranger_text(pattern):
    # no nested or adjacent unbounded repeats: stranger text cannot make a rule backtrack
    from re import _parser as P
    assert _unbounded_repeats(P.parse(pattern)) == 0


@pytest.mark.parametrize("text, command", [
    ("Connected to 192.0.2.1 but greeting failed. Remote host said: 554 go away", "CONN"),
    ("Connected to 192.0.2.1 but my name was rejected. Remote host said: 550 rejected", "EHLO"),
    ("Connected to 192.0.2.1 but sender was rejected. Remote host said: 553 sorry", "MAIL"),
    ("192.0.2.1 does not like recipient. Remote host said: 550 sorry", "RCPT"),
    ("192.0.2.1 failed after I sent the message. Remote host said: 554 rejected", "DATA"),
    ("host mx.example.org[192.0.2.1] said: 550 refused (in reply to MAIL FROM command)", "MAIL"),
    ("The error that the other server returned was: 550 5.1.1 unknown user (state 14).", "RCPT"),
])
def test_command_named_by_the_words(text, command):
    from bouncesink.classify import command_of
    assert command_of(model.Result(recipient="a@example.org", diagnostic=text)) == command


@pytest.mark.parametrize("text, command, reason", [
    ("521 Block permanently (Sender Filtering/Authentication)", "CONN", "blocked"),  # Trend Micro DDEI
    ("550 5.5.1 Protocol error", "CONN", "blocked"),                               # Postfix postscreen
    ("550 5.5.1 Protocol error", "DATA", "syntaxerror"),
    ("421 4.3.2 Service shutting down, system maintenance", "CONN", "notaccept"),
])
def test_refused_at_connection_whatever_the_words(text, command, reason):
    # RFC 5321 s.3.1: no address has been given yet; words naming another cause still decide
    from bouncesink.classify.status import normalise
    r = classify(model.Result(recipient="a@example.org", status=normalise(text), reply_code=text[:3],
                              command=command, diagnostic=text))
    assert r.reason == reason


def test_refused_at_helo_is_a_block():
    r = classify(model.Result(recipient="a@example.org", diagnostic=(
        "Connected to 192.0.2.1 but my name was rejected. Remote host said: 550 5.7.1 rejected")))
    assert (r.reason, r.type) == ("blocked", "soft")


@pytest.mark.parametrize("text, command, reason", [
    ("550 5.7.1 Access denied to 192.0.2.1 by dnsbl.spam.example DNSBL (http://spam.example/)", "MAIL", "blocked"),
    ("550 5.7.1 Access denied", "MAIL", "rejected"),
    ("550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
     "provider since part of their network is on our block list (AS3150).", "MAIL", "blocked"),
])
def test_a_dnsbl_host_name_is_not_spam_words(text, command, reason):
    r = classify(model.Result(recipient="a@example.org", status="5.7.1", diagnostic=text, command=command))
    assert r.reason == reason


def test_provider_unknown_user_words_decide_with_no_command():
    # OpenSMTPD names no command; these providers' words say the address does not exist
    for text in ("550 5.7.1 No such user!",
                 "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.example is "
                 "unavailable: user not found"):
        r = classify(model.Result(recipient="a@example.org", status="5.0.0", diagnostic=text))
        assert (r.reason, r.type) == ("userunknown", "hard")


def test_icloud_excessive_volume_is_speeding_over_4_7_1():
    r = classify(model.Result(recipient="a@example.org", status="4.7.1", action="failed", diagnostic=(
        "<<< 421 4.7.1 Messages to <a@example.org> deferred due to excessive volume. Try again later")))
    assert (r.reason, r.type) == ("speeding", "soft")


@pytest.mark.parametrize("text", [
    "----- Transcript of session follows ----- mail.local: unknown user: a 554 <a@example.org>... Service unavailable",
    "Sorry, no mailbox here by that name. (#5.1.1)",
    "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table",
])
def test_recipient_lookup_wordings_decide_without_a_command(text):
    # only a recipient lookup writes these: no command needs to be known
    r = classify(model.Result(recipient="a@example.org", status="5.5.0", diagnostic=text))
    assert (r.reason, r.type) == ("userunknown", "hard")
