"""Provider tables: words one provider gives a meaning of its own.

A provider rule decides before the general order (classify/__init__.py) when the remote host
(Remote-MTA, or the recipient's domain) is that provider's; rules with an empty host are codes
unique enough to stand anywhere (Exchange's RESOLVER.ADR.RecipNotFound, Cox's AUP#CXBL, Orange's
OFR_417). Each `where` names the provider's wording and the page that documents it (the
provider's published error-code page where there is one; Sisimai's lib/sisimai/rhost/*.rb lists
the same tables and was read to learn which codes exist).
"""

from __future__ import annotations

from .rule import ProviderRule

# Mimecast's and GoDaddy's inbound servers
_MIMECAST = r"\.mimecast\.com|\bmimecast\b"
_GODADDY = r"secureserver\.net|godaddy"
# Symantec / Broadcom Email Security.cloud (MessageLabs) inbound clusters
_MESSAGELABS = r"\.messagelabs\.com"
# NetEase (163.com, 126.com, yeah.net) inbound servers and domains
_NETEASE = r"netease\.com|\b(?:163|126)\.com|\byeah\.net"
# Cox's residential cluster on Cloudmark's hosted MX, and its domain
_COX = r"\bcox\.net|\bcxr\.mx\.a\.cloudfilter\.net"
# Spectrum's "AUP#" code, its letters, then the number: "AUP#In-1310", "AUP#O-1000", "AUP#1530"
_SPECTRUM = r"AUP#[a-z]{0,4}-?"
# Orange's code suffix: "OFR_417", "OFR004_201", "LPN007_416", "LPNAAA_105", "OUK_513"
_ORANGE = r"\b(?:ofr|lpn|lpnaaa|ouk)(?:\d{3})?[-_]"
# Apple iCloud's inbound servers and domains
_APPLE = r"\.mail\.icloud\.com|\bicloud\.com|\bme\.com|\bmac\.com|\.apple\.com"
# Gmail's inbound servers (Remote-MTA) and Google-hosted recipient domains
_GOOGLE = r"(?:aspmx|gmail-smtp-in|alt\d\.aspmx|alt\d\.gmail-smtp-in)\.l\.google\.com|\bgmail\.com|\bgooglemail\.com"

PROVIDER_RULES: tuple[ProviderRule, ...] = (
    # au / KDDI (ezweb.ne.jp, au.com): its sender filter answers "550 : User unknown" (no
    # address) after DATA, a dead address "550 <a@ezweb.ne.jp>: User unknown" at RCPT
    # SoftBank (i.softbank.jp, softbank.ne.jp) answers "550 Invalid recipient: <a@...>" only for an
    # address it does not have: its users' own filters refuse nothing in SMTP
    ProviderRule(r"ezweb\.ne\.jp|\bau\.com|auone-net\.jp|\bkddi\.", r">: user unknown|recipient address rejected\.?\s*$",
                 "userunknown", "au/KDDI 'User unknown' naming the address"),
    ProviderRule(r"\bsoftbank\.(?:ne\.)?jp|\bdisney\.ne\.jp", r"\binvalid recipient: <", "userunknown",
                 "SoftBank 550 'Invalid recipient: <...>' (its published SMTP replies, as note.com/sendmagic "
                 "'SMTP応答コードについて【SoftBank編】' lists them)"),
    ProviderRule(r"ezweb\.ne\.jp|\bau\.com|auone-net\.jp|\bkddi\.", r"(?:^|\d{3}[ -]?)\s?:\s*user unknown",
                 "filtered", "au/KDDI sender filter '550 : User unknown'"),
    # NTT docomo answers "550 Unknown user" after DATA to senders its filter refuses; the same words
    # answered to RCPT TO (the parser's command, or the sending MTA's words) are a dead address and
    # follow the general order
    ProviderRule(r"docomo\.ne\.jp", r"550 unknown user", "rejected",
                 "NTT docomo mfsmax '550 Unknown user' with Status 5.0.0, not answered to RCPT TO",
                 status=r"^(?:5\.0\.0)?$", not_at="RCPT"),
    # Yahoo Inc. (yahoo.com, yahoodns.net)
    ProviderRule("", r"user doesn't have a (?:yahoo|ymail|rocketmail|aol)\.[a-z.]{2,12} account|"
                 r"\b552 1 requested mail action aborted, mailbox not found",
                 "userunknown", "Yahoo 554 'This user doesn't have a yahoo.com account', 552 '1 Requested mail action aborted, "
                 "mailbox not found' (senders.yahooinc.com/smtp-error-codes: the address does not exist, at whatever stage)"),
    ProviderRule(r"yahoodns\.net", r"\[ts[s]?0[1-4]\]|temporarily deferred due to unexpected volume or user complaints",
                 "rejected", "Yahoo 421 4.7.0 [TSS04] 'temporarily deferred due to ... user complaints'"),
    # Orange / Wanadoo / La Poste (France Telecom): an error code after every reply, "OFR_417",
    # "LPN007_416", "OUK_513" (the codes of postmaster.orange.fr "Codes d'erreur SMTP"; Sisimai
    # lib/sisimai/rhost/franceptt.rb files the same table). The codes are unique to Orange.
    ProviderRule("", _ORANGE + r"(?:416|418)\b", "userunknown", "Orange 'Adresse destinataire invalide' 416/418"),
    ProviderRule("", _ORANGE + r"417\b", "mailboxfull", "Orange 'Boite du destinataire pleine' 417"),
    ProviderRule("", _ORANGE + r"(?:10[123]|510|999)\b", "blocked", "Orange 'Adresse IP source bloquee' 101-103, 510, 999"),
    ProviderRule("", _ORANGE + r"104\b", "toomanyconn", "Orange 'Trop de connexions' 104"),
    ProviderRule("", _ORANGE + r"(?:305|402)\b", "securityerror", "Orange 'Authentification invalide' 305, 'requise' 402"),
    ProviderRule("", _ORANGE + r"(?:401|517)\b", "authfailure", "Orange 'SPF/DNS de votre nom de domaine' 401, 517"),
    ProviderRule("", _ORANGE + r"(?:403|405|415|421)\b", "rejected", "Orange 'Emetteur invalide' 403-421 (the sender refused)"),
    ProviderRule("", _ORANGE + r"(?:420|426)\b", "suspend", "Orange 'Boite du destinataire archivee / fermee' 420, 426"),
    ProviderRule("", _ORANGE + r"505\b", "systemerror", "Orange 505 system error"),
    ProviderRule("", _ORANGE + r"50[6-9]\b", "spamdetected", "Orange 'Mail rejete. Mail rejected.' 506 (spam)"),
    ProviderRule("", _ORANGE + r"514\b", "mesgtoobig", "Orange 'Taille limite du message atteinte' 514"),
    ProviderRule("", _ORANGE + r"630\b", "policyviolation", "Orange 630 policy"),
    ProviderRule("", _ORANGE + r"(?:105|10[789]|201|423|424|513)\b", "undefined",
                 "Orange 'Service refuse. Veuillez essayer plus tard' 105-109, 201, 423, 424, 513 (no cause given)"),
    # MessageLabs (Symantec.cloud): its refusal of unauthenticated submission goes on to say
    # "is not permitted to relay through this server without authentication"; Sisimai's
    # MessageLabs table reads it as the authentication failure it names first
    ProviderRule("", r"please turn on smtp authentication in your mail client|tls/sslv3 connection required", "securityerror",
                 "MessageLabs 550 'Please turn on SMTP Authentication in your mail client. ... is not permitted to relay'; "
                 "451 'TLS/SSLv3 Connection required. (#4.7.1)' (knowledge.broadcom.com 162152: the recipient's TLS policy)"),
    # Mimecast (*.mimecast.com): its published reply texts (community.mimecast.com "Mimecast
    # SMTP Error Codes", DOC-1369; Sisimai lib/sisimai/rhost/mimecast.rb files the same texts)
    ProviderRule("", r"host network,? not allowed", "policyviolation", "Mimecast 554 'Host network not allowed'"),
    ProviderRule(_COX, r"rejected - attachment extension is forbidden", "policyviolation",
                 "Cox 550 'rejected - attachment extension is forbidden' (a prohibited file type; "
                 "cox.com/business/support/email-error-codes.html)"),
    ProviderRule("", r"rejected due to security policies", "virusdetected",
                 "Mimecast 554 'email rejected due to security policies' (signature match)"),
    ProviderRule(_MIMECAST, r"(?:spf|dkim|dmarc) sender invalid - envelope rejected", "authfailure",
                 "Mimecast 550 'SPF Sender Invalid - envelope rejected'"),
    ProviderRule(_MIMECAST, r"local ct ip reputation|internal resources are temporarily unavailable", "badreputation",
                 "Mimecast 550 'Local CT IP Reputation - (reject)', 451 'Internal resources are temporarily unavailable'"),
    ProviderRule(_MESSAGELABS, r"connection rejected by policy \[7\.7\]", "badreputation",
                 "MessageLabs 501 'Connection rejected by policy [7.7]' (knowledge.broadcom.com 164955: the IP's reputation)"),
    ProviderRule(_MIMECAST, r"sender address blocked|recipient temporarily unavailable|ip temporarily blacklisted", "blocked",
                 "Mimecast 421 'Sender address blocked', 451 'IP temporarily blacklisted'"),
    ProviderRule(_MIMECAST, r"maximum email size exceeded", "mesgtoobig", "Mimecast 554 'Maximum email size exceeded'"),
    ProviderRule(_MIMECAST, r"incorrect hostname used for inbounds|mail loop detected", "networkerror",
                 "Mimecast 451 'The incorrect hostname used for inbounds', 554 'Mail loop detected'"),
    ProviderRule(_MIMECAST, r"open relay (?:is )?not allowed", "norelaying", "Mimecast 451 'Open relay not allowed'"),
    ProviderRule(_MIMECAST, r"account inbounds disabled", "notaccept", "Mimecast 451 'Account inbounds disabled'"),
    ProviderRule(_MIMECAST, r"anti-spoofing policy|content examination policy", "policyviolation",
                 "Mimecast 550 'Anti-Spoofing policy - inbound not allowed', 'Message bounced due to content examination policy'"),
    ProviderRule(_MIMECAST, r"envelope blocked - user (?:domain )?entry|header[- ]based (?:manually )?blocked senders|"
                 r"block policy for (?:envelope|header) from", "rejected", "Mimecast 550 'Envelope blocked - User Entry' (the sender blocked)"),
    ProviderRule(_MIMECAST, r"incorrect authentication data|submitter failed to|this route requires (?:encryption|tls|high-strength)|"
                 r"configuration is invalid for this certificate", "securityerror",
                 "Mimecast 535 'Incorrect authentication data', 553 'This route requires encryption (TLS)'"),
    ProviderRule(_MIMECAST, r"unable to process (?:connection|command|an email)|message ended early", "systemerror",
                 "Mimecast 451 'Unable to process connection at this time', 'Message ended early'"),
    ProviderRule(_MIMECAST, r"account service is temporarily unavailable|exceeding outbound thread limit", "toomanyconn",
                 "Mimecast 451 'Account service is temporarily unavailable', 550 'Exceeding outbound thread limit'"),
    # Exchange 2007+ / Exchange Online: the component.category.reason code after the status
    # names the cause exactly (Sisimai's Exchange2007 table)
    ProviderRule("", r"RESOLVER\.ADR\.(?:RecipNotFound|RecipientNotFound|ExRecipNotFound|BadPrimary|InvalidInSmtp)",
                 "userunknown", "Exchange 'RESOLVER.ADR.RecipNotFound; not found'"),
    ProviderRule("", r"RESOLVER\.RST\.(?:RecipSizeLimit|SendSizeLimit)", "mesgtoobig",
                 "Exchange 'RESOLVER.RST.RecipSizeLimit; message too large for this recipient'"),
    ProviderRule("", r"RESOLVER\.RST\.AuthRequired", "securityerror", "Exchange 'RESOLVER.RST.AuthRequired; authentication required'"),
    ProviderRule("", r"RESOLVER\.RST\.NotAuthorized|RESOLVER\.RST\.RestrictedToRecipients", "rejected",
                 "Exchange 'RESOLVER.RST.NotAuthorized; not authorized'"),
    ProviderRule("", r"RESOLVER\.ADR\.RecipLimit|RESOLVER\.ADR\.RecipientLimit|"
                 r"maximum number of concurrent server connections has exceeded a limit", "toomanyconn",
                 "Exchange 550 5.5.3 'RESOLVER.ADR.RecipLimit; too many recipients' (Sisimai's NDR table); Exchange's "
                 "Receive connector 421 4.3.2 'The maximum number of concurrent server connections has exceeded a limit' "
                 "(learn.microsoft.com 'Receive connectors': MaxInboundConnection / MaxInboundConnectionPerSource)"),
    ProviderRule("", r"QUEUE\.Expired", "expired", "Exchange 'QUEUE.Expired; message expired'"),
    ProviderRule("", r"SMTPSEND\.DNS\.NonExistentDomain", "hostunknown", "Exchange 'SMTPSEND.DNS.NonExistentDomain; nonexistent domain'"),
    ProviderRule("", r"SMTPSEND\.DNS\.MxLoopback", "networkerror", "Exchange 'SMTPSEND.DNS.MxLoopback; DNS config error'"),
    # Exchange Online / Microsoft 365 replies whose words name the cause (learn.microsoft.com
    # "Email non-delivery reports and SMTP errors in Exchange Online", one page per code;
    # Sisimai lib/sisimai/rhost/microsoft.rb files the same texts). The wordings are Exchange's.
    ProviderRule("", r"access denied, bad helo|restrictdomainstoipaddresses|restrictdomainstocertificate|"
                 r"does not accept email over ipv6|access denied, please try again later", "blocked",
                 "Exchange Online 5.7.506 'Access denied, Bad HELO', 5.7.510 IPv6, 5.7.51 RestrictDomainsToIPAddresses"),
    ProviderRule("", r"access denied, bad outbound sender|access denied, spam abuse detected|sender not in allowed-senders list|"
                 r"sender was not authenticated (?:by organization|for (?:group|mailbox|public folder))|sender not authenticated for group",
                 "rejected", "Exchange Online 5.1.8 'Access denied, bad outbound sender', 5.7.124, 5.7.133-136"),
    ProviderRule("", r"content filter agent quarantined this message", "spamdetected",
                 "Exchange 5.2.1 'Content Filter agent quarantined this message'"),
    ProviderRule("", r"recipient thread limit exceeded|submission quota (?:was )?exceeded|reached your daily limit for message recipients|"
                 r"per hour message receive limit|tenant has exceeded threshold|traffic not accepted from this ip|"
                 r"has exceeded permitted limits within", "speeding",
                 "Exchange Online 5.2.121/5.2.122 per-hour receive limits, 5.1.90 daily recipient limit, 5.7.705/5.7.708"),
    ProviderRule("", r"mailbox cannot be accessed|access denied, banned recipient", "suspend",
                 "Exchange Online 5.2.1 'Mailbox cannot be accessed', 5.7.505 'Access denied, banned recipient'"),
    ProviderRule("", r"too many related errors|agent generated message depth exceeded|invalid message content", "contenterror",
                 "Exchange Online 5.3.0 'Too many related errors', 5.4.11 'Agent generated message depth exceeded', 5.5.6"),
    ProviderRule("", r"message failed to be replicated|suspiciousremoteservererror|pfa agent busy|misconfigured forwarding address|"
                 r"journaling on-premises messages", "systemerror",
                 "Exchange Online 4.4.24-28 replication, 4.4.318 SuspiciousRemoteServerError, 5.2.14, 5.3.190"),
    ProviderRule("", r"recipient address reserved by rfc ?2606|invalid x\.400 address|recipient addresses in single label domains",
                 "userunknown", "Exchange Online 5.1.x 'Recipient address reserved by RFC 2606', 'Invalid X.400 address'"),
    ProviderRule("", r"hosted tenant which has no mail-enabled subscriptions|missing or bad storedriver mdb properties", "notaccept",
                 "Exchange Online 4.4.4 'hosted tenant which has no mail-enabled subscriptions', 5.3.2 STOREDRV.Deliver"),
    # Exchange Server 2003: the diagnostic code after "MSEXCH:IMS:..." names the cause (Sisimai
    # lib/sisimai/lhost/exchange2003.rb files the same codes)
    ProviderRule("", r"\b000C05A6\b", "userunknown", "Exchange 2003 000C05A6 'Unknown Recipient'"),
    ProviderRule("", r"\b000C0595\b", "filtered", "Exchange 2003 000C0595 'Ambiguous Recipient'"),
    ProviderRule("", r"\b(?:00010256|000D06B5)\b", "systemerror", "Exchange 2003 00010256 'Too many recipients', 000D06B5 'No proxy for recipient'"),
    ProviderRule("", r"\b00120270\b", "networkerror", "Exchange 2003 00120270 'Too Many Hops'"),
    ProviderRule("", r"\b(?:00050311|000502CC)\b", "contenterror", "Exchange 2003 00050311 'Conversion to Internet format failed'"),
    ProviderRule("", r"\b000B0981\b", "securityerror", "Exchange 2003 000B0981 '502 Server does not support AUTH'"),
    # Microsoft 365 Directory Based Edge Blocking: the recipient is not in the directory
    ProviderRule(r"outlook\.com|outlook\.office365|hotmail|\blive\.com", r"recipient address rejected: access denied",
                 "userunknown", "Microsoft 365 550 5.4.1 DBEB 'Recipient address rejected: Access denied'"),
    # The same words from any host name Microsoft's edge only with its DBEB marker or status: Postfix
    # access(5) and Sendmail's access map write "Recipient address rejected: Access denied" for a
    # REJECT that names no cause (learn.microsoft.com "Email non-delivery reports in Exchange
    # Online": 5.4.1 "Recipient address rejected: Access denied", the recipient's address does
    # not exist; "AS(201806281)" is the Directory Based Edge Blocking agent's code)
    ProviderRule("", r"access denied\.? ?AS\(201806281\)", "userunknown",
                 "Exchange Online 550 5.4.1 'Recipient address rejected: Access denied. AS(201806281)' (DBEB)"),
    ProviderRule("", r"recipient address rejected: access denied", "userunknown",
                 "Exchange Online 550 5.4.1 'Recipient address rejected: Access denied' (DBEB, status 5.4.1)",
                 status=r"^5\.4\.1$"),
    # Facebook (facebook.com/postmaster/response_codes): a code after the status names the cause
    ProviderRule(r"facebook\.com", r"\b(?:RCP-P1|INT-P[134])\b", "userunknown",
                 "Facebook 'RCP-P1 The attempted recipient address does not exist'"),
    ProviderRule(r"facebook\.com", r"\bRCP-P[23]\b", "filtered",
                 "Facebook 'RCP-P2 Refused due to recipient preferences', RCP-P3 privacy settings"),
    ProviderRule(r"facebook\.com", r"\b(?:MSG-P1|INT-P2)\b", "mesgtoobig", "Facebook 'MSG-P1 message exceeds maximum size'"),
    ProviderRule(r"facebook\.com", r"\b(?:MSG-P[23]|POL-P[67])\b", "contenterror",
                 "Facebook MSG-P2 attachment type, MSG-P3 duplicate headers, POL-P6 blocked URL"),
    ProviderRule(r"facebook\.com", r"\bPOL-P[125]\b", "securityerror",
                 "Facebook POL-P1 Spamhaus PBL, POL-P2 IP no longer accepted, POL-P5 virus"),
    ProviderRule(r"facebook\.com", r"\b(?:POL-P[34]|POL-T[123])\b", "notaccept",
                 "Facebook 'POL-T1 not accepting messages from your mail server'"),
    ProviderRule(r"facebook\.com", r"\b(?:DNS-P[123]|DNS-T[12])\b", "rejected",
                 "Facebook DNS-P1 'MAIL FROM domain does not exist', DNS-P3 no reverse DNS"),
    ProviderRule(r"facebook\.com", r"\bCON-T1\b", "systemerror", "Facebook 'CON-T1 too many connections open'"),
    ProviderRule(r"facebook\.com", r"\bCON-T3\b", "toomanyconn", "Facebook 'CON-T3 too many new connections'"),
    ProviderRule(r"facebook\.com", r"\bRCP-T4\b", "suspend", "Facebook 'RCP-T4 recipient address is deactivated'"),
    # i.ua (Ukraine): "see http://mail.i.ua/err/<n>/", the number names the cause
    ProviderRule("", r"\.i\.ua/err/0?[16]\b", "norelaying", "i.ua err/1 'SMTP as mail gate is forbidden', err/6 'use SMTP of your provider'"),
    ProviderRule("", r"\.i\.ua/err/0?2\b", "userunknown", "i.ua err/2 'user is not found'"),
    ProviderRule("", r"\.i\.ua/err/0?3\b", "suspend", "i.ua err/3 'mailbox was not used for more than 3 months'"),
    ProviderRule("", r"\.i\.ua/err/0?4\b", "mailboxfull", "i.ua err/4 'mailbox is full'"),
    ProviderRule("", r"\.i\.ua/err/0?5\b", "toomanyconn", "i.ua err/5 'letter sending limit is exceeded'"),
    ProviderRule("", r"\.i\.ua/err/(?:0?[79])\b", "blocked", "i.ua err/7 bad HELO, err/9 sender IP blacklisted"),
    ProviderRule("", r"\.i\.ua/err/0?8\b", "rejected", "i.ua err/8 'couldn't check sender address'"),
    ProviderRule("", r"\.i\.ua/err/10\b", "filtered", "i.ua err/10 'not in the list Mail address management'"),
    # Google (aspmx.l.google.com, gmail-smtp-in.l.google.com): Gmail's documented replies
    # (support.google.com/a/answer/3726730 "SMTP error reference"; Sisimai lib/sisimai/rhost/
    # google.rb files the same texts). Host-bound: another server's "syntax error" is not these.
    ProviderRule("", r"not authorized to send email directly to our servers", "blocked",
                 "Gmail 550 5.7.1 'The IP you're using to send mail is not authorized to send email directly to our servers' (answer/3726730; a PBL-style block, not SPF)"),
    ProviderRule("", r"daily (?:user )?sending (?:quota|limit) exceeded|daily smtp relay (?:sending )?limit exceeded|"
                 r"peak smtp relay limit exceeded", "speeding",
                 "Gmail 550 5.4.5 'Daily user sending quota exceeded' (answer/3726730: the sender's quota, not a full mailbox)"),
    ProviderRule("", r"receiving mail (?:at a rate that prevents|too quickly)|rate that prevents additional messages", "speeding",
                 "Gmail 450 4.2.1 'The user you are trying to contact is receiving mail at a rate that prevents additional messages' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"the spf record of the sending domain|senders to authenticate (?:their email )?with (?:either spf or dkim|spf|dkim)|"
                 r"fails to pass spf checks|spf record with a hard fail|not accepted due to domain's dmarc policy|"
                 r"fails to pass authentication checks|aligned with either the authenticated spf or dkim|"
                 r"unauthenticated email is not accepted",
                 "authfailure", "Gmail 4.7.24/5.7.26/5.7.27/4.7.30/4.7.32 SPF/DKIM/DMARC, 550 5.7.1 'Unauthenticated email is not "
                 "accepted from this domain' (answer/3726730, answer/81126)"),
    ProviderRule(_GOOGLE, r"very low reputation of the sending (?:ip address|domain)", "badreputation",
                 "Gmail 421 4.7.0 / 550 5.7.1 'very low reputation of the sending IP address' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"ip not in whitelist for rcpt domain|try again later, closing connection|"
                 r"empty helo/ehlo argument not allowed|helo/ehlo argument is invalid|an unusual rate of (?:unsolicited )?mail",
                 "blocked", "Gmail 421 4.7.0 'IP not in whitelist for RCPT domain', 4.7.28 / 5.7.1 'unusual rate of unsolicited mail' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"exceeded google's message size limits", "exceedlimit",
                 "Gmail 552 5.2.3 'Your message exceeded Google's message size limits' (answer/3726730)", status=r"^5\.2\.3$"),
    ProviderRule(_GOOGLE, r"exceeds google's header name limit|exceeds google's limit of .{0,20}attachments|"
                 r"message header size limit|bytes per individual header size", "exceedlimit",
                 "Gmail 552 5.3.4 header / attachment-count limits (answer/3726730)"),
    ProviderRule(_GOOGLE, r"exceeded google's message size limits|exceeds google's message size limit", "mesgtoobig",
                 "Gmail 552 5.3.4 'Your message exceeded Google's message size limits' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"timeout - closing connection|connection expired", "expired",
                 "Gmail 421 4.4.2 'Timeout - closing connection', 4.7.0 'Connection expired' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"inbox is out of storage space|is over quota|email quota exceeded", "mailboxfull",
                 "Gmail 452 4.2.2 / 552 5.2.2 'The recipient's inbox is out of storage space' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"message exceeded 50 hops", "networkerror", "Gmail 554 5.4.6 'Message exceeded 50 hops' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"mail relay denied|invalid credentials for relay", "norelaying",
                 "Gmail 550 5.7.0 'Mail relay denied', 5.7.1 'Invalid credentials for relay' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"is not a valid rfc ?5321 address", "notcompliantrfc",
                 "Gmail 553 5.1.7 'The sender address ... is not a valid RFC 5321 address' (answer/3726730)", status=r"^5\.1\.7$"),
    ProviderRule(_GOOGLE, r"is not a valid rfc ?5321 address", "userunknown",
                 "Gmail 553 5.1.3 'The recipient address ... is not a valid RFC 5321 address' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"mail message is malformed|unicode character in a disallowed header|encoded-word syntax is not permitted|"
                 r"missing a valid message-id|multiple addresses in from: header", "notcompliantrfc",
                 "Gmail 550 5.7.1 / 554 5.6.0 malformed-message replies (answer/3726730)"),
    ProviderRule(_GOOGLE, r"sending messages with the same message-id|illegal attachment|has a policy that prohibited", "policyviolation",
                 "Gmail 4.7.28 'same Message-ID', 552 5.7.0 'illegal attachment', 5.7.1 'has a policy that prohibited the mail' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"mail sending denied", "rejected",
                 "Gmail 550 5.7.0 'Mail Sending denied' (answer/3726730: the sender account is disabled)"),
    ProviderRule(_GOOGLE, r"have a ptr record, or the ptr record|ipv6 sending guidelines regarding ptr|does not have a ptr record|"
                 r"does not match the ip address of the hostname", "requireptr",
                 "Gmail 421 4.7.23 / 550 5.7.25 'does not have a PTR record setup' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"tls required for rcpt domain|too many login attempts|senders to use tls/ssl|no identity changes permitted|"
                 r"application-specific password required|username and password not accepted|log in (?:through|with) your web browser|"
                 r"cannot decode response", "securityerror",
                 "Gmail 421 4.7.0 'TLS required for RCPT domain', 535 5.7.8 'Username and Password not accepted' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"due to the nature of the content or the links within|likely unsolicited mail", "spamdetected",
                 "Gmail 550 5.7.1 'Our system has detected that this message is likely unsolicited mail' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"this mail has been rate limited", "speeding", "Gmail 5.7.1 'this mail has been rate limited' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"account that you tried to reach is (?:disabled|inactive)", "suspend",
                 "Gmail 550 5.2.1 'The email account that you tried to reach is disabled' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"your message has too many recipients|too many recipients for this sender", "toomanyconn",
                 "Gmail 452 4.5.3 'Your message has too many recipients' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"temporarily rejected (?:this )?message|multiple destination domains per transaction|temporary system problem|"
                 r"server busy|domain policy size per transaction exceeded", "systemerror",
                 "Gmail 451 4.3.0 'Mail server temporarily rejected message', 421 4.3.0 'Temporary System Problem' (answer/3726730)"),
    ProviderRule(_GOOGLE, r"bad sequence of commands|ehlo/helo first|\bmail first|\brcpt first|no data after bdat|"
                 r"too many unrecognized commands|unimplemented command|unrecognized (?:command|authentication type)|"
                 r"too many unauthenticated commands|smtp protocol violation|"
                 r"\bsyntax error|xoauth is no longer supported|starttls may not be repeated|optional argument not permitted",
                 "syntaxerror", "Gmail 5.5.1 / 5.5.2 / 4.5.0 SMTP dialogue errors (answer/3726730)"),
    ProviderRule(_GOOGLE, r"we weren't able to find the recipient domain", "hostunknown",
                 "Gmail 553 5.1.2 'We weren't able to find the recipient domain' (answer/3726730)"),
    # Apple iCloud (mx*.mail.icloud.com; icloud.com, me.com, mac.com): its own wordings
    # (support.apple.com "Postmaster information for iCloud Mail"; Sisimai lib/sisimai/rhost/apple.rb)
    ProviderRule(_APPLE, r"inactive email address|<[^<>\s]{1,254}>: user does not exist|unknown or illegal alias: ", "userunknown",
                 "iCloud 550 5.1.1 'inactive email address' (a closed account), '<...>: user does not exist', 'unknown or "
                 "illegal alias: ...' (support.apple.com/102322, HT204137: the answers for an address iCloud does not have)"),
    ProviderRule(_APPLE, r"recipient no longer on server", "hasmoved", "iCloud 550 'recipient no longer on server'"),
    ProviderRule(_APPLE, r"due to excessive volume", "speeding", "iCloud 421 'Message rejected due to excessive volume'"),
    ProviderRule(_APPLE, r"failing both spf and dkim|s dmarc policy", "authfailure",
                 "iCloud 554 5.7.1 'blocked for failing both SPF and DKIM authentication checks'"),
    ProviderRule(_APPLE, r"rejected due to (?:having a domain present in the spamhaus|listing in spamhaus)", "blocked",
                 "iCloud 554 5.7.1 'rejected due to listing in Spamhaus'"),
    # Yahoo Inc. (mta*.am0.yahoodns.net): senders.yahooinc.com/smtp-error-codes
    ProviderRule(r"yahoodns\.net", r"due to unresolvable rfc\.?5321 (?:from )?domain", "rejected",
                 "Yahoo 451 'Message temporarily deferred due to unresolvable RFC.5321 from domain' (senders.yahooinc.com/smtp-error-codes)"),
    ProviderRule(r"yahoodns\.net", r"will be permanently deferred", "blocked",
                 "Yahoo 553 5.7.2 [TSS09] 'All messages from [IP] will be permanently deferred' (senders.yahooinc.com/smtp-error-codes: the sending IP)"),
    ProviderRule(r"yahoodns\.net", r" is no longer valid\.|this mailbox is disabled", "suspend",
                 "Yahoo 554 'delivery error: dd ... is no longer valid' (senders.yahooinc.com/smtp-error-codes)"),
    # Tencent QQ (mx.qq.com): the help page number follows the words
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mail content denied|spam is embedded in the email", "spamdetected",
                 "QQ 550 'Mail content denied' / 'Spam is embedded in the email'"),
    ProviderRule(_NETEASE, r"\bDT:SPM\b", "spamdetected",
                 "NetEase 554/451 'DT:SPM' the content judged spam (help.mail.163.com bounce codes)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"is a deactivated mailbox", "suspend", "QQ 'is a deactivated mailbox'"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mail is rejected by recipients", "rejected",
                 "QQ 550 'Mail is rejected by recipients' (help page 122/92)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"suspected spam ip|suspected bounce attacks|connection denied", "blocked",
                 "QQ 'Suspected spam ip' / 'Suspected bounce attacks' / 'Connection denied' (help pages 122/66, 122/57, 122/170)"),
    ProviderRule(_NETEASE, r"\b(?:HL:REP|HL:MEP|DT:RBL|WM:BLI)\b", "blocked",
                 "NetEase 421 'HL:REP' / 'HL:MEP' the IP's behaviour, 450 'DT:RBL' on a block list, 'WM:BLI' (help.mail.163.com)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"suspected spam\b", "rejected",
                 "QQ 550 'Suspected spam' (help page 122/71: the sender's message refused)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mailbox unavailable or access denied", "speeding",
                 "QQ 550 'Mailbox unavailable or access denied' (help page 122/166: too many messages to the mailbox)"),
    ProviderRule(_NETEASE, r"\b(?:HL:IFC|MI:SFQ)\b", "speeding",
                 "NetEase 421 'HL:IFC' too much mail from the IP, 451 'MI:SFQ' the sender's 15-minute quota (help.mail.163.com)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"(?:domain|sender|ip|connection) frequency limited", "toomanyconn",
                 "QQ 'Domain frequency limited' / 'Sender frequency limited' / 'Ip frequency limited' (help pages 122/173, 122/174)"),
    ProviderRule(_NETEASE, r"\b(?:HL:ICC|RP:DRC|MI:DMC)\b", "toomanyconn",
                 "NetEase 421 'HL:ICC' concurrent connections, 450 'RP:DRC' / 'MI:DMC' recipients or messages per connection "
                 "(help.mail.163.com)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"bad address syntax", "syntaxerror", "QQ 'Bad address syntax' (help page 122/167)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mailbox not found", "userunknown", "QQ 550 'Mailbox not found' (help page 122/169)"),
    ProviderRule(_NETEASE, r"\buser not found: ", "userunknown", "NetEase 550 'User not found: a@163.com' (help.mail.163.com)"),
    # Comcast (*.comcast.net): a block code in every refusal (postmaster.comcast.net
    # "Mail delivery error codes": ES000001/ES000010 dynamic or residential sending IP,
    # BL000000-BL000111 and BL001-BL0010 block lists, RL rate limits)
    ProviderRule(r"comcast\.net", r"\b(?:ES0000(?:01|10)|BL\d{3,6})\b", "blocked",
                 "Comcast 554 'BL000001' sending IP on a block list, 'ES000010' dynamic/residential IP"),
    ProviderRule(r"comcast\.net", r"\bRL\d{3,6}\b", "speeding", "Comcast 'RL000001' rate limit"),
    # Cox (cox.net): "AUP#<code>" after the reply names the cause (postmaster.cox.net "Error Codes")
    ProviderRule("", r"AUP#(?:CXBL|CDRBL|IPBL\d{0,5})\b|\bcox too many bad commands from", "blocked",
                 "Cox 554 'AUP#CXBL' sending IP blocked, 421 'cox too many bad commands from [IP]' (a three-hour block of "
                 "the IP; cox.com/business/support/email-error-codes.html)"),
    ProviderRule("", r"blocked by verizon online's anti-spam system", "blocked",
                 "Verizon 571 'Email from [IP] is currently blocked by Verizon Online's anti-spam system' (verizon.net/whitelist)"),
    ProviderRule("", r"AUP#CXSNDR\b", "authfailure",
                 "Cox 'AUP#CXSNDR' the message failed authentication checks against the sending domain's SPF, DomainKeys or DKIM policy"),
    ProviderRule("", r"email rejected per (?:spf|dmarc) policy", "authfailure",
                 "Zoho 550 5.7.1 'Email rejected per SPF policy' / 'per DMARC policy' (zoho.com/mail/help)"),
    ProviderRule("", r"AUP#CXSMTP\b", "rejected", "Cox 'AUP#CXSMTP' problem with the sender"),
    ProviderRule("", r"\[permfail\] .{1,80} requires valid sender domain", "rejected",
                 "AT&T / BellSouth 550 '[permfail] ... requires valid sender domain' (att.net block_enduser.html)"),
    ProviderRule("", r"AUP#CXCNCT\b", "toomanyconn", "Cox 'AUP#CXCNCT' connection limit"),
    ProviderRule("", r"\bCON:B1\b", "toomanyconn",
                 "AOL 421 'CON:B1' the IP over its connection thresholds (postmaster.aol.com errors)"),
    ProviderRule("", r"AUP#CXMXRT\b", "toomanyconn",
                 "Cox 'AUP#CXMXRT' the sender exceeded the maximum number of emails (recipients) allowed; Sisimai's vocabulary files it as toomanyconn"),
    ProviderRule("", r"AUP#CXDNS\b", "requireptr", "Cox 'AUP#CXDNS' issue with the connecting IP's DNS (no PTR)"),
    ProviderRule("", r"\bDNS:NR\b", "requireptr", "AOL 421 'DNS:NR' no reverse DNS (postmaster.aol.com errors)"),
    ProviderRule("", r"\b421[- ]failure in dns look-up", "requireptr",
                 "AT&T 421 '-failure in DNS look-up' of the sending system (att.net block_enduser.html)"),
    ProviderRule("", r"AUP#(?:CXTHRT|CXMJ)\b", "securityerror",
                 "Cox 'AUP#CXTHRT' / 'AUP#CXMJ' sending limited for suspicious account activity"),
    ProviderRule("", r"AUP#URLBL\d{0,4}\b", "spamdetected", "Cox 'AUP#URLBL011' a URL of the body on SURBL / Spamhaus DBL"),
    ProviderRule("", r"AUP#RRBL\d{0,4}\b", "blocked", "Cox 'AUP#RRBL0001' sending IP on a reputation block list"),
    # GoDaddy (secureserver.net): its own words and codes (godaddy.com/help 3568)
    ProviderRule(_GODADDY, r"\bIB401\b", "securityerror", "GoDaddy IB401 authentication required"),
    ProviderRule(_GODADDY, r"\bIB50[12]\b", "notcompliantrfc", "GoDaddy IB501/IB502 message not RFC compliant"),
    ProviderRule(_GODADDY, r"\bIB506\b", "rejected", "GoDaddy IB506 sender refused"),
    ProviderRule(_GODADDY, r"\bIB508\b", "authfailure", "GoDaddy IB508 SPF/DMARC failure"),
    ProviderRule(_GODADDY, r"\bIB108\b", "requireptr", "GoDaddy IB108 no reverse DNS"),
    ProviderRule(_GODADDY, r"\bIB212\b", "spamdetected", "GoDaddy IB212 spam content"),
    ProviderRule(_GODADDY, r"\bIB705\b", "virusdetected", "GoDaddy IB705 virus"),
    ProviderRule(_GODADDY, r"\bIB(?:605|007)\b", "toomanyconn", "GoDaddy IB605/IB007 too many connections"),
    ProviderRule(_GODADDY, r"\bIB(?:101|504|510|607)\b", "speeding", "GoDaddy IB101/IB504/IB510/IB607 sending rate limits"),
    ProviderRule(_GODADDY, r"\bIB103\b", "badreputation", "GoDaddy IB103 IP reputation"),
    ProviderRule(_GODADDY, r"\bIB1(?:0[456]|1[0-3])\b", "blocked", "GoDaddy IB104-106, IB110-113 IP blocked"),
    ProviderRule(_GODADDY, r"rbl reject|spamhaus\.org/query/bl\?ip=", "blocked", "GoDaddy 554 'RBL Reject'"),
    ProviderRule(_GODADDY, r"message rejected for spam or virus content", "spamdetected",
                 "GoDaddy 552 'Message rejected for spam or virus content'"),
    ProviderRule(_GODADDY, r"account does not exist|recipient not found", "userunknown",
                 "GoDaddy 550 5.1.1 'Recipient not found' / 'Account does not exist'"),
    ProviderRule(_COX, r"\brecipient rejected\b", "userunknown",
                 "Cox 550 'recipient rejected' (cox.com email-error-codes: not a valid Cox Email account)"),
    ProviderRule(_MESSAGELABS, r"recipient mailbox is not allowed|\binvalid recipient\b", "userunknown",
                 "MessageLabs 553 'Recipient mailbox is not allowed' (knowledge.broadcom.com 175710: an invalid address in "
                 "the recipient's domain), 550 'Invalid recipient' (165163)"),
    ProviderRule(_MIMECAST, r"\binvalid recipient\b", "userunknown",
                 "Mimecast 550 'Invalid Recipient' (DOC-1369: the address is not in the customer's directory)"),
    ProviderRule(r"secureserver\.net|godaddy", r"account disabled", "suspend", "GoDaddy 'Account disabled'"),
    ProviderRule(r"secureserver\.net|godaddy", r"account storage limit", "mailboxfull", "GoDaddy 552 'Account storage limit'"),
    ProviderRule(r"secureserver\.net|godaddy", r"\bURLBL\d{3}\b", "spamdetected",
                 "GoDaddy 552 5.3.0 'Inbound URL reject URLBL011' (a blacklisted URL in the message)"),
    # Spectrum / Charter (charter.net, rr.com): "AUP#In-1310" / "AUP#O-1000", the number
    # names the cause (spectrum.net "Understanding email error codes"; Sisimai
    # lib/sisimai/rhost/spectrum.rb files the same ranges)
    ProviderRule("", _SPECTRUM + r"1(?:3[0-3]\d|340)\b", "toomanyconn",
                 "Spectrum 'AUP#In-1310' concurrent connection / recipient limits (1300-1340)"),
    ProviderRule("", _SPECTRUM + r"1(?:000|2[01]0)\b", "blocked",
                 "Spectrum 'AUP#1000' IP blocked for suspicious activity, 1200-1210 IP flagged by Cloudmark CSI"),
    ProviderRule("", _SPECTRUM + r"1(?:1[0-4]\d|150)\b", "requireptr",
                 "Spectrum 'AUP#1100'-'1150' the connecting IP has an issue with DNS"),
    ProviderRule("", _SPECTRUM + r"1(?:2[2-4]\d|250|3[5-9]\d|4[0-8]\d|490|5[458]0)\b", "speeding",
                 "Spectrum 'AUP#1220'-'1250' too many recent emails from this IP, 1350-1490 / 1540-1580 volume limits"),
    ProviderRule("", _SPECTRUM + r"1530\b", "mesgtoobig", "Spectrum 'AUP#1530' larger than the maximum size"),
    ProviderRule("", _SPECTRUM + r"1(?:010|0[2-7]\d|080|500|520)\b", "rejected",
                 "Spectrum 'AUP#1010'-'1080' the sender's domain refused, 1500/1520 the sender's address"),
    ProviderRule("", _SPECTRUM + r"1090\b", "systemerror", "Spectrum 'AUP#1090' system error"),
    ProviderRule("", _SPECTRUM + r"1(?:1[6-8]\d|190|560)\b", "policyviolation", "Spectrum 'AUP#1160'-'1190', 1560 policy"),
    ProviderRule("", _SPECTRUM + r"1260\b", "networkerror", "Spectrum 'AUP#1260' network error"),
    # Microsoft (outlook.com, hotmail, Exchange Online Protection): an IP ban, not a sender check
    ProviderRule(r"outlook\.com|hotmail|\blive\.com|\bmsn\.com|microsoft", r"access denied, banned sender",
                 "blocked", "Microsoft 550 5.7.511 'Access denied, banned sender[IP]. To request removal ... delist@messaging.microsoft.com'"),
    # United Internet (GMX, Web.de, 1&1 IONOS) gives the same RFC 5321 words for an address it does not
    # have (support.gmx.com "Email returned as undeliverable": "Requested action not taken: mailbox
    # unavailable" or "Unknown user": check the address for typos)
    ProviderRule(r"outlook\.com|hotmail|\blive\.com|\bmsn\.com", r"requested action not taken: mailbox unavailable",
                 "userunknown", "Outlook.com/Hotmail 550 5.5.0 'Requested action not taken: mailbox unavailable' (its answer for an "
                 "address it does not have, at whatever stage)"),
    ProviderRule(r"\bgmx\.(?:net|de|com|at|ch)|\bweb\.de|\bionos\.(?:de|com)|\bkundenserver\.de",
                 r"requested action not taken: mailbox unavailable", "userunknown",
                 "GMX / Web.de / IONOS 550 'Requested action not taken: mailbox unavailable' (support.gmx.com 'Email returned "
                 "as undeliverable': an address it does not have)"),
    # Outlook.com's own refusal codes (sendersupport.olc.protection.outlook.com/pm/troubleshooting.aspx,
    # "Troubleshooting: mail sent to Outlook.com"): SC-/DY-/OU- the sending IP refused (policy,
    # dynamic range, reputation), RP- over its rate limits, (S3140)/(S3150) on its block list
    ProviderRule("", r"\b(?:SC|DY|OU)-00\d\b|\(A?S31[45]0\)", "blocked",
                 "Outlook.com 550 SC-001 / DY-001 / OU-002 'Unfortunately, messages from [IP] weren't sent', (S3150) block list"),
    ProviderRule("", r"\bRP-00\d\b", "speeding",
                 "Outlook.com 421 RP-001 'We have limits for how many messages can be sent per hour and per day'"),
    ProviderRule("", r"requested action not taken: mailbox unavailable \(S\d{6,12}\)", "userunknown",
                 "Outlook.com 550 5.5.0 'Requested action not taken: mailbox unavailable (S2017062302)': the S-number is Outlook.com's own, whichever MTA quotes it"),
    # Yandex and Mail.ru answer an unknown mailbox in words of their own: whichever MTA quotes
    # them, they say the address does not exist (Yandex "550 5.7.1 No such user!", Mail.ru
    # "550 Message was not accepted -- invalid mailbox. Local mailbox a@mail.ru is unavailable:
    # user not found"; yandex.com/support/mail "error messages", help.mail.ru)
    ProviderRule("", r"\bno such user!", "userunknown", "Yandex 550 5.7.1 'No such user!'"),
    ProviderRule("", r"invalid mailbox\.\s{0,3}local mailbox [^ ]{1,200} is unavailable: user not found", "userunknown",
                 "Mail.ru 550 'Message was not accepted -- invalid mailbox. Local mailbox ... is unavailable: user not found'"),
    ProviderRule("", r"recipient not found by smtp address lookup", "userunknown",
                 "Exchange Online 550 5.1.10 'Recipient not found by SMTP address lookup' (5.1.10 is not RFC 7505's null MX here)"),
)
