"""General diagnostic wordings: what a remote server's (or the local MTA's) words say about
why delivery failed, whichever server wrote them.

One `Rule` per phrase family. `classify` asks which reasons the text names (the first rule of
each reason, in table order) and decides among them by its precedence (classify/__init__.py);
`match` (the first rule of all) also tells the parser which line of a section says something.
So within the table, a narrower family comes before a broader one that may share its words
("mailbox is full" before "mailbox ... unavailable", "blocked using <DNSBL>" before "blocked").

Every pattern is matched case-insensitively against at most a couple of thousand characters
of stranger text: patterns stay linear (no nested or adjacent unbounded repeats; gaps are
bounded `.{0,N}`). Each rule's `source` names where the wording is written or documented;
"Sisimai reason/x.rb" names the analyser library that lists the same text (read to learn which
texts exist, never copied). Each family has a near-miss test in tests/test_classify.py.
"""

from __future__ import annotations

from .rule import Rule

# Sources cited often
PF_SMTPD = "Postfix src/smtpd/smtpd_check.c"
PF_SMTPD_C = "Postfix src/smtpd/smtpd.c"
PF_SMTP = "Postfix src/smtp/smtp_connect.c, smtp_proto.c"
PF_LOCAL = "Postfix src/local/ (local(8)), src/virtual/ (virtual(8))"
EXIM = "Exim src/deliver.c, src/smtp_in.c, src/transports/appendfile.c"
SM = "Sendmail sendmail/srvrsmtp.c, deliver.c, daemon.c, queue.c"
QMAIL = "qmail qmail-local.c, qmail-remote.c, qmail-smtpd.c, qmail-send.c"
OSMTPD = "OpenSMTPD usr.sbin/smtpd/mta.c, smtp_session.c"
MSNDR = "learn.microsoft.com 'Email non-delivery reports and SMTP errors in Exchange Online'"
GMAIL = "support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
YAHOO = "senders.yahooinc.com/smtp-error-codes"
RFC3463 = "RFC 3463 s.3"


def _sis(name: str) -> str:
    return f"Sisimai lib/sisimai/reason/{name}.rb"


RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------- RFC 3463 texts quoted
    Rule(r"media error|media type not supported|invalid (?:mime|content)",
         "contenterror", "media error", f"{RFC3463} X.6.0 'Other or undefined media error'"),
    Rule(r"\bno relaying\b|not configured to relay|identities failed the check|email address is not verified",
         "norelaying", "no relaying / relay not configured",
         "Postfix/Sendmail 'No relaying'; Exchange 'not configured to relay'; Amazon SES sandbox "
         "'Email address is not verified' (docs.aws.amazon.com/ses); " + _sis("norelaying")),
    Rule(r"recipient address rejected: on hold|\bon hold\b", "onhold", "held by the remote",
         "Postfix access(5) HOLD answering 'On hold'"),
    Rule(r"delivery not authori[sz]ed|unauthenticated senders?|turn on smtp authentication|"
         r"smtp authentication (?:is )?required|authentication turned on in your email client|"
         r"starttls is required to send mail|tls required but not supported|"
         r"authentication credentials invalid|not authorized to perform ses:sendrawemail|"
         r"account not subscribed to ses",
         "securityerror", "delivery not authorised / authentication required",
         f"{RFC3463} X.7.1 'Delivery not authorized, message refused'; MessageLabs; Amazon SES "
         "error responses (docs.aws.amazon.com/ses); " + _sis("securityerror")),
    Rule(r"content presents a potential|rejected for policy reasons|not accepted for policy reasons|"
         r"message rejected due to local policy|local policy violation|rejected by organization policy|"
         r"bounced due to organizational settings|members-only list|closed mailing list|"
         r"not subscribed to this group|an illegal attachment|you're using a mass mailer|"
         r"message given low priority|messages with multiple addresses|"
         r"not accepting mail with (?:attachments|embedded images)|"
         r"we do not accept messages containing images|allowable number of posts without solving a captcha|"
         r"denied by policy|header error|header are not accepted|protocol violation",
         "policyviolation", "refused by the receiver's policy",
         f"{GMAIL} 552 5.7.0; {YAHOO} 554 5.7.9; iCloud 'Message rejected due to local policy'; "
         + _sis("policyviolation")),

    # ---------------------------------------------------------------- connections and rates
    Rule(r"frequency limited|connection rate limit|too many (?:connections|concurrent|simultaneous|smtp sessions|open connections|sessions)|"
         r"connection limit|maximum (?:number of )?connections|concurrent connections|"
         r"max(?:imum)? connections? (?:per|from|for|reached|exceeded)|trop de connexions|"
         r"too many errors from your ip|max message per connection reached|"
         r"exceeds per-domain connection limit|numerous attempts to deliver this message|"
         r"max emails per hour|throttling failure|too many recipients\b(?! from| received (?:this|per|in the last) )|too many messages in this connection",
         "toomanyconn", "too many connections from the client",
         "Postfix anvil / smtpd 'Error: too many connections from' (src/smtpd/smtpd.c); Exim "
         "smtp_accept_max_per_host 'Too many concurrent SMTP connections from this IP address' "
         "(src/smtp_in.c); Sendmail 'Too many open connections' (daemon.c); Yahoo 'Max message per "
         "connection reached'; Amazon SES 'Throttling failure' (docs.aws.amazon.com/ses); " + _sis("toomanyconn")),
    Rule(r"too much mail from|too many recipients from|too many messages from|"
         r"(?<!connection )rate limit|ratelimit|rate[- ]limited|(?<!throttling failure: maximum )sending rate|"
         r"(?:message|receiving|sending|sender|mail) (?:rate|frequency) (?:limit|exceed|too high)|throttl(?!ing failure)|"
         r"too many recipients received (?:this|per|in the last) (?:hour|day|minute)|"
         r"unusual rate|rate of (?:unsolicited|mail)|exceeded the (?:rate|maximum number of messages)|"
         r"too fast|please slow down|try again slower|receiving mail too quickly|"
         r"receiving mail at a rate|received too many|received too much (?:e-?)?mail|due to excessive volume|"
         r"sender rate overlimit|rate (?:is )?over ?limit|daily (?:user )?sending quota|"
         r"sending quota exceeded|too many (?:messages|emails|mails)\b(?! in this connection)",
         "speeding", "sending too fast / rate limit",
         f"Postfix smtpd 'Error: too much mail from' / 'too many recipients from' ({PF_SMTPD_C}, "
         f"anvil(8)); Exim ratelimit ACL ('Sender rate exceeds ... messages per 1h', the Exim specification's "
         f"example); Cisco AsyncOS 'Too many recipients received this hour' (mail flow policy); {GMAIL} 450 4.2.1, 421 4.7.28, 550 5.4.5; iCloud 421 4.7.1 "
         f"'deferred due to excessive volume' (support.apple.com HT204137); {YAHOO} "
         "'user is receiving mail too quickly'; Rackspace 'Mailbox received too much email in a short period of time (G30)'; "
         + _sis("speeding")),

    Rule(r"mismatches client ip|ip name lookup failed", "requireptr", "client IP / name mismatch",
         "Outlook.com 'domain mismatches client ip'; Sendmail 'IP name lookup failed'; " + _sis("requireptr")),

    # ---------------------------------------------------------------- loops and DNS
    Rule(r"hop count exceeded|maximum hop count|routing loop|(?<!suspected )mail loop|mail forwarding loop|"
         r"forwarding loop count|message looping|loop detected|unrouteable mail domain|"
         r"too many hops|host not found, try again|dns query failed|temporary (?:lookup|dns) failure|"
         r"host name lookup failure|malformed (?:or unexpected )?name server reply|"
         r"dns records for the destination computer could not be found|unable to resolve route|"
         r"could not connect and send the mail|although i'm listed as a best-preference mx|host lookup did not complete|"
         r"remote host closed connection|address family mismatch on destination mxs|all routes to destination blocked|"
         r"bad dns lookup error code|could not retrieve source address|network error on destination mxs|"
         r"no valid route to (?:remote mx|destination)|temporary failure in mx lookup|dns lookup failed\.|"
         r"(?:host|address|dns|mx) lookups? failed temporarily|mx lookup failure",
         "networkerror", "mail loop or DNS/network failure",
         f"Postfix 'mail for ... loops back to myself', 'Name service error ... try again' "
         f"({PF_SMTP}); local(8) 'mail forwarding loop for'; qmail-smtpd 'too many hops, this "
         f"message is looping'; {MSNDR} 5.4.14 'Hop count exceeded', 5.4.312 'DNS query failed'; "
         + "OpenSMTPD usr.sbin/smtpd/mta.c 'Network error on destination MXs', 'No valid route to destination'; Courier "
         "'DNS lookup failed.'; Exim src/transports/smtp.c 'all host address lookups failed temporarily'; Sendmail "
         "cf/m4/proto.m4 '450 4.1.2 MX lookup failure for'; "
         + _sis("networkerror")),

    # ---------------------------------------------------------------- null MX / no mail service
    Rule(r"does not accept mail \(nullmx\)|\bnull ?mx\b|host/domain does not accept mail|"
         r"(?:host|domain) does not accept mail|does not accept e-?mail|doesn't receive e-?mail|"
         r"does not receive e-?mail|indicated no smtp service|no mx record found for domain=|"
         r"mail receiving disabled",
         "notaccept", "the domain accepts no mail (null MX)",
         "RFC 7505 s.3-4; Postfix 'Domain ... does not accept mail (nullMX)' (src/smtpd/smtpd_check.c, "
         "src/smtp/smtp_addr.c); Sendmail 'host does not accept mail' (deliver.c); Gmail 'domain "
         "... does not receive email'; Yahoo 'No MX record found for domain='; " + _sis("notaccept"),
         strong=True),
    Rule(r"couldn't find a mail exchanger|no mx (?:record )?found|no mx record|no route for current request|"
         r"smtp protocol returned a permanent error|no mx found for destination",
         "notaccept", "no mail exchanger for the domain",
         "qmail-remote.c 'Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)'; "
         f"{OSMTPD} 'No MX found for domain'; " + _sis("notaccept"), strong=True),

    Rule(r"\bhost unknown|unknown host|domain is not reachable|domain (?:name )?not found|"
         r"host or domain name not found|couldn't find any host (?:named|by that name)|"
         r"domain must exist|mail domain mentioned in email address is unknown|"
         r"recipient address rejected: unknown domain|the account or domain may not exist|"
         r"unrouteable address|unroutable address|invalid domain name|dns lookup failure: host|no mx host for .{1,100} has a valid address record|"
         r"there are no dns entries for the hostname",
         "hostunknown", "the recipient's domain does not exist",
         f"Sendmail 'Host unknown (Name server: ...: host not found)' (deliver.c); Postfix 'Host or "
         f"domain name not found' ({PF_SMTP}); qmail-remote.c 'Sorry, I couldn't find any host named "
         f"... (#5.1.2)'; Exim 'Unrouteable address' ({EXIM}); Outlook.com 'domain is not reachable'; "
         "Apache James MailDelivrer.java 'There are no DNS entries for the hostname ...'; "
         + _sis("hostunknown")),

    # ---------------------------------------------------------------- mailbox state
    Rule(r"number of messages in recipient's mailbox exceeded|mailbox exceeded the local limit",
         "mailboxfull", "the mailbox holds too many messages",
         "BIGLOBE 'The number of messages in recipient's mailbox exceeded the local limit'; " + _sis("mailboxfull")),
    Rule(r"please use the smtp server of your isp|not accepting connections",
         "blocked", "refused at connection (use your ISP's server)",
         "Japanese ISPs' Outbound Port 25 Blocking notice; iCloud 'ESMTP not accepting connections'; "
         + _sis("blocked")),
    Rule(r"invalid final delivery userid", "userunknown", "invalid user id",
         "IMail 'Invalid final delivery userid'; Sisimai lib/sisimai/lhost/imailserver.rb"),

    # ---------------------------------------------------------------- sender authentication
    Rule(r"\bdmarc\b.{0,40}\b(?:fail|reject|policy)|(?:unauthenticated|dmarc) (?:email|message|policy)|"
         r"unauthenticated email from|requires all senders to authenticate",
         "authfailure", "DMARC / unauthenticated sender domain",
         f"{GMAIL} 550 5.7.26; {YAHOO} 550 5.7.9 'requires all senders to authenticate with either "
         f"SPF or DKIM'; {MSNDR} 5.7.509; " + _sis("authfailure")),
    Rule(r"\bspf\b.{0,40}(?:fail|check|validation|not pass|softfail|permerror|reject|settings|records?)|"
         r"spf\.pobox\.com|sender policy framework|spf record|is not (?:an? )?authori[sz]ed (?:to send|sender)|"
         r"not permitted to send|sender-id.{0,20}fail|sender id.{0,20}fail|is not allowed to send from <|"
         r"(?:reject(?:ed)?|refused|blocked) (?:by|due to) spf\b|is not a designated mail ?server for|"
         r"is not allowed to send mail from",
         "authfailure", "SPF failure",
         f"RFC 7208 s.8.4 ('550 5.7.23'); Postfix policyd-spf, postfix-policyd-spf-perl 'Rejected by SPF: ... is "
         f"not a designated mailserver for'; the Exim specification's SPF ACL example '... is not allowed to send "
         f"mail from <domain>'; {GMAIL} 5.7.27; " + _sis("authfailure")),
    Rule(r"\bdkim\b.{0,40}(?:fail|invalid|required|signature)|(?:no|invalid) dkim|domainkeys? .{0,20}fail",
         "authfailure", "DKIM failure", f"RFC 7372 s.3.1 (5.7.20-22); {GMAIL} 5.7.26; OpenDKIM"),
    Rule(r"authentication checks? (?:failed|failure)|does not pass authentication|"
         r"failed authentication|\bauthentication results?\b.{0,30}fail",
         "authfailure", "sender authentication checks failed",
         f"{MSNDR} 5.7.509/5.7.515; Yahoo/AOL; Mimecast authentication checks"),

    # ---------------------------------------------------------------- reverse DNS of the client
    Rule(r"\bptr\b|reverse (?:dns|lookup|ip|hostname)|rdns|no (?:dns|rdns) (?:entry|record)|"
         r"cannot (?:find|resolve) your (?:hostname|reverse)|client host .{0,80} (?:not|has no) .{0,20}(?:resolve|reverse|ptr)|"
         r"(?:ip|hostname) .{0,40}(?:does not|doesn't|did not) (?:resolve|match)|"
         r"(?:resolve|lookup) .{0,30}(?:hostname|ip address) .{0,20}fail|hostname (?:of|for) your ip|"
         r"lookup of your ip|unresolvable (?:relay )?host ?name|not (?:have|has) a (?:valid )?(?:hostname|fqdn)|"
         r"helo .{0,40}(?:not|does not) .{0,20}resolve|generic (?:hostname|rdns|reverse)|"
         r"forward dns entry does not point to the sending ip|unverifyable sending ips|"
         r"use your isp(?:'s)? (?:mail|smtp) server|hosts with dynamic ip or generic dns",
         "requireptr", "the client's IP has no (matching) reverse DNS",
         f"Postfix reject_unknown_client_hostname 'Client host rejected: cannot find your hostname' "
         f"({PF_SMTPD}); {GMAIL} 550 5.7.25 'does not have a PTR record setup'; GMX 'Bad DNS PTR "
         "resource record'; " + _sis("requireptr")),

    # ---------------------------------------------------------------- reputation
    Rule(r"poor (?:email )?reputation|bad reputation|low reputation|reputation (?:of|is) .{0,30}(?:poor|low|bad)|"
         r"sender reputation|ip reputation|reputation score|senderscore|domain reputation|"
         r"temporarily deferred due to unexpected volume or user complaints",
         "badreputation", "the sender's reputation",
         f"{GMAIL} 421 4.7.0 / 550 5.7.1 'very low reputation'; {YAHOO} 421 4.7.0 [TSS04]; "
         + _sis("badreputation")),

    # ---------------------------------------------------------------- content
    Rule(r"\bvirus|malware|infected|\bworm\b|trojan|malicious (?:content|attachment|code)|dangerous attachment|"
         r"potentially executable attachment",
         "virusdetected", "virus or malware found",
         "ClamAV milter; Exim exiscan (malware ACL); " + _sis("virusdetected")),
    Rule(r"(?<!sending )(?<!zombied/)(?<![.\w-])spam\b(?! ips)(?!\.[a-z])|junk mail|unsolicited|bulk (?:mail|email)|\buce\b|blocked as spam|content filter|"
         r"message content rejected|identified as (?:spam|suspicious)|scored as|high probability of|message filtered|"
         r"spamprofiler|unacceptable content|has detected that this message is|bulk\.advertising|banned content|"
         r"rejecting mail content|mail content denied|spamming|blocked by our filter|anti-?spam|blocked for abuse|"
         r"sender domain listed at|"
         r"score exceeded|spamassassin|spam score|looks like spam|considered as spam|classified as spam|"
         r"rejected by recurrent|\[mfrm\]|suspicious(?!ly like spammer)|blacklisted (?:url|content)|(?<!virus )phish|"
         r"\burlbl\b|\buribl\b|\bsurbl\b|greylisted.{0,40}please try again",
         "spamdetected", "judged spam by a content filter",
         f"SpamAssassin/amavis 'Message content rejected'; Exim spam ACL; {GMAIL} 550 5.7.1 'likely "
         "unsolicited mail'; " + _sis("spamdetected")),
    Rule(r"message size exceeds recipient|exc?eeded the maximum size the user accepts|"
         r"exceeds the recipient's (?:size|message size) limit",
         "exceedlimit", "larger than this recipient accepts",
         f"{RFC3463} X.2.3 'Message length exceeds administrative limit' (a per-recipient limit); amavis "
         "'message size exceeds recipient's size limit'; qmail-ldap 'The message exeeded the maximum size the "
         "user accepts'; " + _sis("exceedlimit")),
    Rule(r"message (?:size|length) exceeds(?! recipient)|message too (?:big|large)(?! for this recipient)|too (?:big|large) for|"
         r"(?<!header size )exceeds (?:the )?(?:maximum|max|size|message size)|size limit|message size(?! exceeds recipient)|maximum (?:message )?size(?! the user accepts)|"
         r"mail size|letter exceeds|(?:message|mail) is too large|larger than (?:the )?(?:allowed|maximum)|"
         r"message file too big|exceeds my databytes limit|line limit exceeded|"
         r"taille limite du message|exceeded (?:google's )?message size",
         "mesgtoobig", "the message is too large",
         f"Postfix smtpd '552 5.3.4 Message size exceeds fixed limit' ({PF_SMTPD_C}); Sendmail "
         "'552 5.2.3 Message size exceeds maximum value' (srvrsmtp.c); Exim 'Message size exceeds "
         f"maximum permitted' (src/smtp_in.c); qmail-smtpd 'exceeds my databytes limit'; {GMAIL} "
         "552 5.2.3; " + _sis("mesgtoobig")),
    Rule(r"header (?:size |is )?(?:exceeds|too long)|too many .?received.? headers|attachment (?:not allowed|rejected)|"
         r"(?:prohibited|banned|forbidden|not allowed) (?:attachment|file ?type|content|extension)|"
         r"contains? (?:a )?(?:prohibited|banned|blocked) |mime (?:error|format|complexity)|"
         r"malformed (?:mime|header|message)|invalid mime|message header (?:was )?(?:not|non)|"
         r"non-?compliant (?:header|message)|8-?bit (?:data|characters) not|improper use of 8-bit data|"
         r"bare (?:lf|linefeed|cr)|line too long|improperly-formatted binary content|"
         r"unnecessary base64 encoding|duplicate header|\bbad header\b|- banned: ",
         "contenterror", "the message's form or headers refused",
         "Exim receive.c 'Too many \"Received\" headers - suspected mail loop'; amavisd-new banned files "
         "('554 5.7.0 Reject, id=... - BANNED: P=...'); "
         "Microsoft 365 'message mime complexity exceeds the policy maximum'; " + _sis("contenterror")),
    Rule(r"not rfc ?5322 compliant|not (?:rfc|rfc ?2822|rfc ?822) compliant|"
         r"(?:multiple|duplicate) '?(?:from|date|subject|to|message-id|sender)'? headers?|"
         r"missing (?:a )?'?(?:date|from|message-id)'? header|missing a valid address in from: header|"
         r"headers? (?:are|is) not rfc|rfcmessagenoncompliant",
         "notcompliantrfc", "the message is not RFC 5322 compliant",
         f"{GMAIL} 550 5.7.1 'This message is not RFC 5322 compliant'; Yahoo 'headers are not RFC "
         "compliant'; " + _sis("notcompliantrfc")),

    # ---------------------------------------------------------------- the sender address refused
    Rule(r"purported responsible address|from: domain is invalid|"
         r"(?:^|\d )access denied(?=\.?\s{0,3}$|\.? ?\(in reply to mail from| \(sender blacklisted)|"
         r"all recipient addresses rejected|"
         r"sender (?:address )?(?:rejected(?!: improper use of smtp command pipelining)|refused|denied|invalid|unknown|verify failed|verification failed|"
         r"domain (?:must exist|not found|does not exist|unknown|invalid|is empty))|"
         r"(?:invalid|unknown|bad|unverifiable|unresolvable|unroutable|bogus) (?:sender|mail from)(?! ip)|"
         r"administrative prohibition|backscatter protection|senderfilterconfig|envelope blocked|"
         r"rule imposed mailbox access|empty email address|without a valid sender domain|"
         r"sender (?:<[^<>\s]{1,200}> )?(?:is |was )?(?:not (?:allowed|accepted|authorized|pre-approved)|black ?listed|spammer|"
         r"on (?:the|our) (?:block|black)list|in my black list)|"
         r"domain of sender address|from address (?:rejected|invalid|not)|"
         r"sender(?:'s)? (?:e-?mail )?address (?:is )?(?:not (?:a )?valid|invalid)|address in (?:the )?from:? header|"
         r"mail from .{0,40} (?:rejected|refused|denied)(?! for policy)|envelope sender|return path|"
         r"reverse-path|address rejected.{0,20}sender|sender address does not exist|must be a valid sender|"
         r"your (?:e-?mail )?address has been blacklisted|sender address has been blacklisted|"
         r"access denied.{0,30}sender|not accepting mail from|null sender|empty envelope senders?|"
         r"mailer-daemon .{0,10}not|batv|no third-party dsns|unsigned dsn|returned mail not accepted|"
         r"sending this from a different address or alias|mail from not owned by user|domain name required for sender address|"
         r"not a registered gateway user|not member article from|\bare not member\b|reject spammers:|fully qualified email address required|emetteur invalide|"
         r"isn't on the recipient's list of senders|this server does not accept mail from|"
         r"to/from an address that has been blacklisted|your access to submit messages|"
         r"sender(?:'s)? (?:address|domain) (?:has|publishes) (?:a )?null ?mx",
         "rejected", "the sender address refused",
         f"Postfix reject_unknown_sender_domain 'Sender address rejected: Domain not found' "
         f"({PF_SMTPD}); Sendmail 'Domain of sender address ... does not exist' (srvrsmtp.c); Exim "
         "'sender verify failed' (acl.c); qmail 'sender was rejected'; Sendmail cf/m4/proto.m4 '(Real) Domain name "
         "required for sender address'; RFC 7505 s.4.2 '550 5.7.27 "
         "Sender address has null MX'; " + _sis("rejected")),

    # ---------------------------------------------------------------- mailbox full
    Rule(r"mailbox (?:is |was )?full|inbox (?:is |was )?full\b|mailbox (?:size|quota) .{0,20}(?:exceed|limit|full)|over ?quota|"
         r"(?<!sending )(?<!message )(?<!submission )quota (?:exceeded|exceed|full|violation|limit|usage exceeded)|exceeded (?:storage|quota|(?:their|the|his|her) (?:storage|quota))|"
         r"storage (?:quota|allocation)|(?:account|mailbox|inbox|user) (?:is )?(?:temporarily )?over (?:the )?(?:quota|limit|storage)|mailbox exceeds allowed size|"
         r"full mailbox|box ?full|dis[ck] quota|diskspace quota|mailfolder is full|"
         r"not (?:enough|sufficient) (?:storage|space|disk space)|does not have enough space|"
         r"452 insufficient disk space|"
         r"too much mail data|would exceed .{0,20}(?:quota|size|maximum allowed storage)|"
         r"exceeds? (?:the )?(?:mailbox|storage|quota)|exceeding (?:its|their|the) (?:mailbox )?quota|"
         r"user has exceeded|has exceeded (?:the )?max(?!imum hop)(?! emails per)|mailbox has exceeded its disk space|"
         r"has too many messages|too many messages on the server|mail quota|(?<!sending )(?<!message )(?<!submission )quota|space has been used up|"
         r"exceeding receiving limits|mail file size exceeds the maximum size allowed for mail delivery|"
         r"userdisk quota|domaindisk quota|error writing message: file too large|容量|"
         r"postfach (?:ist )?(?:voll|über)|speicherplatz|bo[iî]te (?:aux lettres )?(?:est )?pleine|"
         r"bo[iî]te du destinataire pleine|buz[oó]n (?:est[aá] )?(?:lleno|completo)|casella (?:di posta )?(?:è )?piena|"
         r"ящик переполнен|превышен .{0,20}квот|邮箱已满|邮箱空间不足|信箱已满|メールボックスがいっぱい|ボックス.{0,6}満杯",
         "mailboxfull", "the recipient's mailbox is full",
         f"{RFC3463} X.2.2; Exim appendfile 'mailbox is full (MTA-imposed quota exceeded ...)' "
         f"({EXIM}); Postfix virtual(8) / local(8) quota and mailbox_size_limit ('error writing message: File too large'); Dovecot LDA 'Quota exceeded (mailbox for "
         f"user is full)'; {GMAIL} 452 4.2.2 'over quota'; qmail/vpopmail 'user is over quota'; "
         "hMailServer SMTPDeliverer 'Error Description: Inbox is full'; "
         "Orange 'Boite du destinataire pleine'; GMX/Web.de 'Postfach voll'; " + _sis("mailboxfull")),

    # ---------------------------------------------------------------- disabled / suspended
    Rule(r"(?:account|mailbox|user|address|recipient)(?: is| has been| was)? (?:disabled|suspended|deactivated|"
         r"locked|frozen|closed|expired|terminated|archived|no longer active|"
         r"unavailable due to|temporarily (?:disabled|inactive))|"
         r"(?:disabled|suspended|inactive|deactivated|expired|closed|locked|frozen|archived) (?:account|mailbox|user|recipient|address)|"
         r"account (?:has been )?(?:disabled|discontinued|suspended|cancell?ed)|is not active|"
         r"currently suspended|temporar(?:y|ily) locked|account that you tried to reach is (?:disabled|inactive)|"
         r"user suspended|recipient suspend the service|user is terminated|is a deactivated mailbox|"
         r"boite du destinataire (?:archivee|fermee)|this account has been|this address no longer accepts mail|"
         r"account is locked|mailbox disabled|account is temporarily limited|mailaddress is administrativ(?:el|le)y disabled|has been suspended|mailbox unavailable or access denied|"
         r"temporarily inactive|user or domain is disabled|account (?:is |has been )?inactive|inactive (?:account|user)",
         "suspend", "the recipient's account is disabled or suspended",
         f"{RFC3463} X.2.1 'Mailbox disabled, not accepting messages'; {GMAIL} 550 5.2.1 'The email "
         "account that you tried to reach is disabled'; Sendmail 'Mailbox disabled for this "
         "recipient'; vpopmail 'account is locked'; Orange 'boite du destinataire archivee'; "
         + _sis("suspend")),
    Rule(r"(?:user|recipient|mailbox|address|addressee|person)(?: has| have)? moved|address (?:has )?changed|"
         r"no longer (?:at|with|in use|working|in service|employed|available at)|(?:mailbox|owner|recipient) has changed|"
         r"(?:has|have) moved to|no forwarding address|(?:his|her|their|the) new (?:e-?mail )?address|"
         r"changed (?:his|her|their) (?:e-?mail )?address|is not (?:here|with us) any ?more|"
         r"has left (?:the|our|this) (?:company|organi[sz]ation|firm|university|school)|has been replaced by|"
         r"user not local; please try",
         "hasmoved", "the recipient has moved",
         f"{RFC3463} X.1.6 'Destination mailbox has moved, No forwarding address'; Sendmail "
         "'User has moved; please try <address>', RFC 5321 s.3.4 / 4.2.2 '551 User not local; please try "
         "<forward-path>' (the server knows the new address); " + _sis("hasmoved")),

    # ---------------------------------------------------------------- relaying
    Rule(r"relay(?:ing)? (?:denied|disallowed|not (?:permitted|allowed|authorized)|access denied|prohibited)|"
         r"(?:not|no) (?:allowed|permitted|authori[sz]ed) to relay|unable to relay(?! message back to mta)|relay (?:not|denied)|"
         r"we do not relay|does not relay|not a gateway|insecure mail relay|relaying mail to .{0,40} is not allowed|"
         r"not (?:local|our) (?:host|domain)|no such domain here|(?<!or user )isn't in my list of allowed rcpthosts?|"
         r"is not in my list of allowed rcpthosts|relaying mail to|cannot relay|can't relay|couldn't relay|relay access|"
         r"(?<!or user isn't in my list of allowed )rcpthosts|not (?:permitted|allowed) to send mail to|we do not accept mail for|as a relay\b|"
         r"not an open relay|requires authentication when attempting to send to a non-local|"
         r"specified domain is not allowed|we don't handle mail for",
         "norelaying", "relaying refused",
         f"Postfix '554 5.7.1 Relay access denied' ({PF_SMTPD}); Sendmail '550 5.7.1 Relaying "
         "denied' (srvrsmtp.c); qmail-smtpd 'sorry, that domain isn't in my list of allowed "
         f"rcpthosts (#5.7.1)'; {MSNDR} 5.7.1 'Unable to relay'; Zoho Mail '553 Relaying disallowed'; " + _sis("norelaying")),

    # ---------------------------------------------------------------- recipient unknown
    Rule(r"user unknown in (?:local recipient|virtual (?:mailbox|alias)|relay recipient) table",
         "userunknown", "no such user in the receiver's recipient table",
         f"Postfix smtpd reject_unlisted_recipient '550 5.1.1 <a>: Recipient address rejected: User "
         f"unknown in local recipient table' ({PF_SMTPD})", strong=True),
    Rule(r"mail\.local: unknown user|unknown user: \"",
         "userunknown", "the local delivery agent has no such user",
         f"Sendmail mail.local 'mail.local: unknown user: <name>' (mail.local/mail.local.c); Postfix "
         f"local(8) / virtual(8) 'unknown user: \"<name>\"' ({PF_LOCAL})", strong=True),
    Rule(r"not listed in (?:domino directory|public name)|non répertorié dans l'annuaire domino|"
         r"no se encuentra en el directorio de domino|domino ディレクトリには見つかりません|ディレクトリのリストにありません",
         "userunknown", "not in the receiver's Domino Directory",
         "HCL/IBM Domino router 'User ... not listed in Domino Directory' (earlier 'not listed in Public Name & "
         "Address Book'; its French, Spanish and Japanese translations): the router's recipient lookup",
         strong=True),
    Rule(r"no mailbox here by that name|no mail ?box (?:by that name|available for this user|found)|"
         r"invalid or unknown virtual user",
         "userunknown", "no mailbox by that name",
         "qmail-local.c 'Sorry, no mailbox here by that name. (#5.1.1)'; vpopmail vdelivermail; "
         + _sis("userunknown"), strong=True),
    Rule(r"(?<!mentioned in )(?<!mentioned in email )(?<!ip )(?<!sender )(?<!sender's )(?<!from )(?:user|mailbox|recipient|address|account|alias|addressee|destination|local[- ]?part|e-?mail)(?: name| address)?"
         r"(?: is| was)? (?:unknown|not (?:found|known|exist|valid|listed|recogni[sz]ed|local|present)|"
         r"does(?:n't| not) exist|doesn't have|nonexist|non-exist|no longer exists)|"
         r"unknown (?:user|mailbox|recipient|address|local[- ]?part|e-?mail)|"
         r"no (?:such|mailbox|account) (?:user|mailbox|recipient|person|address|account|here|found)|"
         r"(?:invalid|bad|undeliverable|non-existent|nonexistent|inexistent|unverified) (?:recipient|mailbox|user|destination(?! system))|"
         r"unroute?able (?:recipient|mailbox|user)|(?:recipient|address|user|mailbox) (?:verification|lookup) fail|"
         r"@[a-z0-9.-]{1,200}>?[.:,]? (?:does not|doesn't) exist|not a (?:valid|known) (?:user|mailbox|recipient)|"
         r"no account by that name|user doesn't have a .{0,30} account|not our customer|this user doesn't have|"
         r"mailbox not found|unknown or illegal alias|mailbox (?:is )?unavailable(?!.{0,40}(?:rate|spam|policy|block|reputation|later|quota|full|storage|temporar|access denied|free space))|"
         r"(?:address|mailbox) invalid|rejected: account unavailable|recipient address rejected\. \(in reply to rcpt|"
         r"domain or user isn't in my list|>\s?not found|mailbox [^ ]{1,100} does not exist|rcpt <[^>]{0,200}> does not exist|"
         r"recipient .{0,100} was not found in|user [^ ]{1,100} (?:was not found|does not exist)|user \([^)]{1,100}\) unknown|"
         r"mailbox unavaiable|address unknown|the email account that you tried to reach does not exist|"
         r"the recipient's inbox is unavailable|no valid recipients, bye|user not local|"
         r"resolver\.adr\.recip(?:ient)? ?notfound|recipnotfound|recipient not found by smtp address lookup|"
         r"address rejected [^ ]{1,100}@|recipient address rejected: (?:invalid|userunknown)|"
         r"not listed in (?:the directory|our directory|address book)|"
         r"address not present in directory|no such local user|bad destination mailbox|is not a valid mailbox|"
         r"invalid (?:e-?mail )?address|(?<!ip )(?<!sender )address (?:not|is not) valid|no one (?:here )?by that name|"
         r"(?<!ip )(?<!sender )(?<!sender's )address is (?:marked as )?invalid|"
         r"no one at this address|can't accept user|destination addresses were unknown|"
         r"destination server rejected recipients|email address could not be found|"
         r"address is wrong or no longer valid|badrcptto|badrecipientto|not in my validrcptto|"
         r"not a local address|user missing home directory|recipient not ok|recipient is not accepted|"
         r"sorry, your envelope recipient has been denied|the following recipients was undeliverable|"
         r"email name is not found|does not exist at the organization|in name directory|address couldn'?t be found|"
         r"(?:address|mailbox|account|user) you (?:entered|specified|tried to reach|are trying to reach|wrote to) "
         r"(?:does not|doesn't) exist|"
         r"\bis not an active address|\buser not active|mailbox is inactive|"
         r"utilisateur inconnu|adresse (?:inconnue|invalide|introuvable)|destinataire (?:inconnu|invalide)|"
         r"usuario (?:desconocido|no existe)|no existe (?:dicha persona|ese usuario)|"
         r"benutzer (?:unbekannt|existiert nicht)|(?:adresse|empfänger|postfach) (?:ist )?(?:unbekannt|existiert nicht)|"
         r"(?:die )?adresse existiert nicht|unbekannte(?:r)? (?:empfänger|benutzer)|"
         r"utente (?:inesistente|sconosciuto)|nessun utente simile|"
         r"(?:адресат|пользователь|ящик|адрес|получатель)[а-я ]{0,20}не существует|нет такого (?:пользователя|ящика|адресата)|"
         r"несуществующ[а-я]{0,4} (?:адрес|ящик|пользовател)|неизвестн[а-я]{0,4} (?:пользовател|адресат|получател)|"
         r"用户不存在|收件人不存在|邮箱不存在|帐号不存在|账户不存在|宛先.{0,10}存在しない|メールアドレスは存在しない|宛先不明|アカウントが存在",
         "userunknown", "no such user or mailbox",
         f"Sendmail '550 5.1.1 <a>... User unknown' (recipient.c); Exim router 'Unknown user'; mail.local "
         f"'unknown user' ; {GMAIL} 550 5.1.1 'The email account that you tried to reach does not "
         f"exist'; {MSNDR} 5.1.1 'RESOLVER.ADR.RecipNotFound', 5.1.10; {OSMTPD} 'Invalid recipient'; "
         "Domino 'not listed in Domino Directory'; Yandex 'No such user!'; mail.ru 'user not found'; "
         "Orange 'Adresse destinataire invalide'; Comcast 'Not our Customer'; " + _sis("userunknown")),

    Rule(r"(?<!helo command rejected: )host (?:or domain name )?not found|(?:unknown|invalid|unrouteable|unroutable|non-?existent|bad) "
         r"(?:mail )?(?:host|domain|hostname)|domain (?:does not exist|doesn't exist|is not (?:valid|registered))|"
         r"no (?:a|dns) record|name service error|name or service not known|hostname (?:lookup failed|not found)|"
         r"unable to (?:resolve|look ?up) (?:domain|host|mx|dns)|mx (?:lookup|record) (?:failed|error|not found)|dns record not found|"
         r"dns server returned answer with no data|remote domain doesn'?t exist|"
         r"all relevant mx records point to non-existent hosts|all host address lookups failed permanently|"
         r"unroutable domain|domain .{0,40} (?:does not|doesn't) exist|could not be resolved|"
         r"no such domain|dns error: domain (?:name )?not found|domain (?:is )?unknown|domain has no (?:mx|valid)|"
         r"hostname is not (?:valid|registered)|recipient domain .{0,40}(?:not found|not exist)|illegal host|"
         r"bad destination system address|域名不存在|"
         r"(?<![@\w.-])[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,6}\.? (?:does not|doesn't) exist",
         "hostunknown", "the domain or host does not exist",
         f"Sendmail 'Host unknown (Name server: ...: host not found)' (deliver.c); Postfix 'Host or "
         f"domain name not found. Name service error for name=... type=MX: Host not found' ({PF_SMTP}); "
         f"Exim 'all relevant MX records point to non-existent hosts', 'unknown mail domain' (src/routers/dnslookup.c); "
         f"{GMAIL} 'DNS Error: "
         "Domain name not found'; " + _sis("hostunknown") + ". Not Postfix's reject_unknown_helo_hostname "
         f"'Helo command rejected: Host not found' ({PF_SMTPD}): the client's HELO name"),

    # ---------------------------------------------------------------- blocked client
    Rule(r"blocked using |blocked by (?:rbl|dnsbl|spamhaus|spamcop|sorbs|barracuda)|block ?list|black ?list|"
         r"\brbl\b|dnsbl|\bdnsbl\b|listed (?:at|in|on|by) .{0,40}(?:bl\b|spamhaus|spamcop|sorbs|barracuda|abuseat|uceprotect|\.org|\.net|list)|"
         r"(?:is|was|has been|are) listed (?:at|in|on|by)|blacklisted|barracuda reputation|spamcop|sorbs|spamhaus|"
         r"cbl\.abuseat|uceprotect|invaluement|listed as abusive|on our block list",
         "blocked", "the client IP is on a block list",
         f"Postfix reject_rbl_client '554 5.7.1 Service unavailable; Client host [IP] blocked using "
         f"<DNSBL>' ({PF_SMTPD}); Exim 'rejected because <IP> is in a black list at <DNSBL>' "
         f"(acl.c dnslists); {YAHOO} 553 5.7.1 [BL21]; {MSNDR} S3150; " + _sis("blocked")),
    Rule(r"(?:your|the sending|sending|connecting|client|sender) (?:ip|host|server|network|mta)(?: address)? .{0,40}"
         r"(?:blocked|banned|denied|rejected|not allowed|refused)|"
         r"(?:ip|host) (?:address )?(?:blocked|banned|rejected|denied)|not allowed to connect|"
         r"you are not allowed to connect|refused to talk|(?:is|which is) an open relay|rejecting open proxy|"
         r"your (?:ip|server|host) .{0,40}(?:has been|is) .{0,20}(?:blocked|rejected|listed)|"
         r"client host rejected|\bbanned\b(?!:)|ip .{0,30}not allowed|"
         r"not currently accepting mail from your ip|no access from mail server|server access forbidden by your ip|"
         r"dynamic/zombied|we do not accept mail from dynamic ips|hosts with dynamic ip|dynamic (?:ip|address|pool)|"
         r"dialup|dial-up|residential|\bdul\b|too many (?:spams|unwanted messages) .{0,40}from|"
         r"extreme bad ip profile|your server requires confirmation|confirm this mail server|\bgo away\b|"
         r"helo command rejected|bad sender ip address|invalid ip for sending mail|"
         r"smtp error from remote mail server after initial connection|"
         r"not passed validation|looks suspiciously like spammer|currently sending spam|you are sending spam|"
         r"connections not accepted from(?! servers without a valid sender)|connections will not be accepted from|"
         r"\bblocked - see|refused - see|(?<!message )(?<!mail )was blocked by|(?:ip|ip address|mail server at) .{0,60} (?:is )?blocked|"
         r"said: 5\d\d blocked|email blocked by|:blocked\)|"
         r"no matches to nameserver query|service not available, closing transmission channel|"
         r"temporarily deferred due to user complaints|"
         r"connection reset by peer|connection dropped|"
         r"connection was dropped by",
         "blocked", "the client host or IP refused",
         f"Postfix check_client_access / reject_unknown_helo_hostname 'Client host rejected', 'Helo "
         f"command rejected' ({PF_SMTPD}); Sendmail 'Rejecting open proxy' (srvrsmtp.c); Exim 'SMTP "
         f"error from remote mail server after initial connection' ({EXIM}); {MSNDR} 5.7.606-649 "
         "'Access denied, banned sending IP'; Spamhaus PBL dial-up listings; a reset or dropped "
         "connection during the dialogue (the receiver hanging up on the client); " + _sis("blocked")),

    # ---------------------------------------------------------------- the recipient's filter
    Rule(r"(?:message|email|mail) (?:was |has been )(?:filtered|rejected by (?:the )?(?:recipient|user|filter|rules?))|"
         r"filter(?:ed|ing) (?:by|rule)|message rejected due to user rules|"
         r"(?:recipient|user) (?:has )?(?:rejected|refused|blocked|denied)|user reject|"
         r"(?:rejected|refused|blocked|denied) by (?:recipient|user|addressee)|(?<!our )mail filter|cannot route mail to user|"
         r"not accept(?:ing)? (?:mail|messages|e-?mail) from (?:you|this sender|your address)|"
         r"refuse(?:d|s)? to (?:accept|receive)|refused due to recipient preferences|permission denied|"
         r"you are not (?:authori[sz]ed|allowed|permitted) to (?:send|post)(?! mail, authentication)|only accepts? (?:mail|messages) from|"
         r"(?:may not|do not|don't) have permission to post|"
         r"only accepting mail from specific|has restricted|members? only|not a member|"
         r"restricted (?:group|access|to members)|recipient rejected by the owner|"
         r"this (?:e-?mail address|recipient) (?:does not|doesn't) receive|disallowed by recipient|"
         r"this account is protected by|is not accepting any mail|not currently being accepted for this mailbox|"
         r"bounced address|blocked by the recipient|not found recipient account|受信拒否|拒否",
         "filtered", "refused by the recipient's own filter",
         "Postfix access(5) on the recipient; au/KDDI and docomo sender filters; Google Groups "
         "'members only', 'The group you tried to contact ... may not exist, or you may not have permission to post "
         "messages to the group' (support.google.com/groups); Facebook 'refused due to recipient preferences'; "
         + _sis("filtered")),
    Rule(r"(?:policy|policies) (?:violation|reasons?|rejection|restriction)|(?<!dns )violat(?:es|ed|ion)|"
         r"not (?:compliant|comply) with|(?:content|organi[sz]ation|security|sender|mail|local) policy|"
         r"prohibited by|message (?:rejected|refused|denied) (?:due to|for|by) (?:policy|local)|refused by policy|"
         r"unacceptable language|acceptable use|against (?:our|the) (?:policy|policies|terms)|\bpolicy\b",
         "policyviolation", "refused by policy",
         f"{MSNDR} 5.7.1; Exim ACL 'policy violation'; {GMAIL} 550 5.7.1 'has a policy that "
         "prohibited the mail that you sent'"),

    # ---------------------------------------------------------------- transport, server state
    Rule(r"(?:tls|ssl|starttls|encryption|secure connection|certificate)(?: is| was)? (?:required|failed|failure|"
         r"not (?:available|supported|offered)|error|problem|handshake)|must (?:issue|use) (?:a )?starttls|"
         r"requires? (?:tls|encryption|authentication)|authentication required|authentication is required|"
         r"not authenticated|\bsmtp auth(?:entication)?\b.{0,20}(?:required|fail)|must authenticate|"
         r"relay requires auth|530 5\.7\.0|user not authenticated|invalid credentials|login (?:failed|incorrect|denied)|"
         r"password (?:incorrect|invalid)|authentication failed; server|authentication failure|verification failure|"
         r"authentification (?:invalide|requise)|authentication failed|executable files are not allowed in compressed files|"
         r"tls is required, but host .{1,100} refused to start tls|tls session is required|did not offer tls|"
         r"dane attempt failed|certificate verif(?:ication|y) failed|could not retrieve credentials|security alert",
         "securityerror", "TLS or SMTP authentication required / failed",
         f"Postfix smtpd_tls_security_level=encrypt '530 5.7.0 Must issue a STARTTLS command first' "
         f"({PF_SMTPD_C}); Postfix smtp 'SASL authentication failed; server ... said'; {MSNDR} 5.7.57; "
         f"{GMAIL} 421 4.7.0 'TLS required'; Exim src/transports/smtp.c 'a TLS session is required, but the server "
         "did not offer TLS support', 'DANE attempt failed; TLS connection to ...'; " + _sis("securityerror")),
    Rule(r"retry time ?out|retry timeout exceeded|delivery time expired|delivery time \(\d{1,10}s\) expired|"
         r"delivery expired|message expired|"
         r"envelope expired|expired after sitting in queue|"
         r"could not be delivered (?:within|for|in) .{0,20}(?:days|hours)|could not be delivered for more than|"
         r"cannot send message for|(?:has|have) been (?:delayed|queued) (?:for|over|more than)|has been delayed|"
         r"(?:giving|gave) up|queue(?:d)? too long|in the queue too long|maximum time|max(?:imum)? (?:queue|retry)|"
         r"undelivered for|unable to deliver .{0,30} (?:days|hours)|was not delivered .{0,60} (?:days|hours)|"
         r"not (?:been )?delivered for .{0,10} (?:days|hours)|delivery attempts? (?:will|have) (?:continue|stopped|failed)|"
         r"had not (?:been )?delivered|have been failing for a long time|retry time not reached for any host|"
         r"not reachable within the allowed queue period|unable to deliver message after multiple retries|"
         r"connection timed out|timed out while|\btimed out\b|smtp timeout after|"
         r"it has not been collected after|message timed out|failed to deliver to domain|"
         r"could not find a gateway for|server did not respond|could not deliver for the last|not delivered within|"
         r"did not accept our requests to connect|could not contact dns servers|message is administratively expired",
         "expired", "retried until the queue lifetime ran out",
         f"Exim 'retry timeout exceeded', 'all hosts ... have been failing for a long time', 'retry "
         f"time not reached for any host after a long failure period' ({EXIM}, src/retry.c); Sendmail "
         f"'Cannot send message for 5 days' (queue.c); qmail-send.c 'I'm not going to try again; "
         f"this message has been in the queue too long'; {OSMTPD} 'Envelope expired'; {MSNDR} 4.4.7 "
         "'QUEUE.Expired'; " + _sis("expired")),
    Rule(r"(?:network|socket) (?:error|failure|problem|unreachable|reset|closed|lost|dropped)|"
         r"connection (?:error|failure|problem|unreachable|closed|lost)|"
         r"could not connect|connect(?:ion)? (?:to [^:]{0,60} )?failed|lost connection|"
         r"no answer|host (?:is )?(?:down|unreachable)|name server (?:timeout|failure)|no route to host|"
         r"dns (?:lookup )?(?:temporarily|failure|timeout|server failure)|bad connection|network is unreachable|"
         r"broken pipe|wasn't able to establish an smtp connection|connection died|"
         r"tls (?:handshake )?(?:failure|failed) .{0,10}(?:connection|handshake)",
         "networkerror", "the connection to the receiving server failed",
         f"Postfix 'connect to ...: Connection refused', 'lost connection with ... while', "
         f"'conversation with ... timed out while' ({PF_SMTP}); Sendmail 'Deferred: Connection refused "
         "by', 'Connection reset by' (daemon.c); qmail-remote.c 'Sorry, I wasn't able to establish an "
         "SMTP connection. (#4.4.1)', 'connection died'; Exim 'host lookup did not complete', 'Remote host "
         "closed connection in response to ...' (src/transports/smtp.c)"),
    Rule(r"(?:disk|system|server|storage|mail server|mail system) (?:is )?(?:full|out of space)|"
         r"insufficient system (?:storage|resources)|not enough (?:disk|system) (?:space|storage)|"
         r"insufficient disk space|no space left|file system full|queue (?:is )?full|disk space|"
         r"exceeded storage allocation|mail system full|mailbox unavailable \(not enough free space\)",
         "systemfull", "the receiving system is out of storage",
         f"Postfix smtpd '452 4.3.1 Insufficient system storage' ({PF_SMTPD_C}); Sendmail '452 4.4.5 "
         f"Insufficient disk space; try again later' (srvrsmtp.c); {MSNDR} 4.3.1; Postfix src/global/mbox_open.c "
         "mbox_dsn() ('No space left on device', ENOSPC: 4.3.0 mail system full; a quota's EDQUOT is 5.2.2); "
         + _sis("systemfull")),
    Rule(r"(?:does not|doesn't|will not|won't|not) accept (?:any )?(?:mail|e-?mail|messages)(?! from| with| contain)|"
         r"destination seem(?:s)? to reject all mails|"
         r"no mail service|no host found for existing smtp connection|not accepting (?:mail|network messages)(?! from| with| contain)|"
         r"mail is not accepted|this (?:domain|host|address) does not (?:accept|receive)",
         "notaccept", "the server accepts no mail",
         f"{RFC3463} X.3.2 'System not accepting network messages'; RFC 5321 s.3.1 (554 at greeting)"),
    Rule(r"syntax error|command unrecognized|expected word or \"<\"|unrecognized command|command not (?:recognized|implemented)|"
         r"bad sequence of commands|invalid (?:command|argument|syntax)|parameter|unknown command|"
         r"command (?:rejected|out of sequence)|malformed (?:address|command)|address (?:syntax|format)|"
         r"missing (?:argument|parameter)|\bsyntax\b|improper use of smtp command pipelining|protocol synchronization|"
         r"angle-brackets nested too deep|domain missing in source-routed address",
         "syntaxerror", "SMTP syntax or command error",
         "RFC 5321 s.4.2.2-4.2.3 (500-504 replies); Postfix/Sendmail 500/501/503 replies"),
    Rule(r"(?:internal|local|system|server|configuration|config|unexpected|processing|operating system) "
         r"(?:server |system )?(?:error|failure|problem)|temporary (?:local |server )?problem|"
         r"system (?:not available|unavailable|malfunction)|server (?:configuration|busy|unavailable|too busy)|"
         r"service (?:not available(?!, closing transmission channel)|temporarily unavailable|currently unavailable)|transaction failed\b|"
         r"(?:mail|local) (?:delivery )?(?:system|configuration) (?:error|problem)|too many (?:errors|bad)|lmtp error after|"
         r"bad interpreter: no such file|dns violates rfc ?1035|"
         r"misconfigur|unable to process|unable to contact ldap|delivery to (?:file|pipe) forbidden|"
         r"several matches found in (?:the )?domino directory|ldap (?:error|lookup failed)|"
         r"timeout waiting for input|aliasing/forwarding loop broken|can't create user output file|"
         r"interrupted system call|error while being processed|would create a mail loop|"
         r"loop was found in the mail exchanger|queue file write error|there is no mdb|"
         r"could not load drd|internal error reading data|operation now in progress|loops back to myself|"
         r"temporary mta failure on relaying|rejected by next-hop mta on relaying|unable to relay message back to mta|"
         r"local delivery failed|automatic homedir creat|illegal value in ldap attribute|ldap attribute is not given|"
         r"search on ldap server|too many results returned but needs to be unique|while executing qmail-forward|"
         r"failure in ldap lookup|unable to login into ldap server|loop alert:|loop back warning:|unix from loop|"
         r"detected a loop condition|duplicated message-id",
         "systemerror", "an error inside the receiving system",
         f"Sendmail '451 4.3.0 Local configuration error'; Postfix 'mail system configuration error', "
         f"'queue file write error' ({PF_SMTPD_C}); Exim 'local delivery failed'; {GMAIL} 421 4.3.0 "
         "'Temporary System Problem'; " + _sis("systemerror")),
    Rule(r"(?:pipe|program|command|delivery agent|procmail|maildrop|local delivery) (?:failed|error|returned|exited|terminated)|"
         r"mailer (?:error|failed)|(?:exit|returned) (?:code|status)|command died|cannot execute|X-Unix;|"
         r"service unavailable: (?:command|pipe)|permission denied.{0,20}(?:pipe|program)|unable to (?:write|open|create)|"
         r"procmail: |bin/procmail|bin/maildrop|command output:|pipe to \|/|\|\| exit |command time limit exceeded|"
         r"command failed: |child process of .{1,40} transport returned",
         "mailererror", "the local delivery program failed",
         "Postfix local(8) pipe 'Command died with status N' (src/global/pipe_command.c); Sendmail "
         "prog mailer 'X-Unix; ...'; Exim pipe transport 'Child process of ... returned'; "
         + _sis("mailererror")),
    Rule(r"\brejected\b|(?<!connection )\brefused\b|\bdenied\b|\bnot (?:allowed|permitted|accepted)\b",
         "rejected", "refused, no reason given",
         "Catch-all refusals of MAIL FROM or the message ('Message rejected', 'Mail refused')",
         weak=True),
)
