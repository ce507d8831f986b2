"""Diagnostic-text rules: what a remote server's words say about why delivery failed.

The table is data: one `Rule` per phrase family, in priority order (the first rule that
matches decides). Each rule names where such text comes from, so that a rule can be checked
against the MTA that writes it and removed when nobody writes it any more. Patterns are
matched case-insensitively against one line of diagnostic text (bounded in length by the
classifier), so they must stay simple: no nested quantifiers.

Ordering principle: specific sender-side causes (authentication, PTR, reputation, rate) come
before the generic "rejected"/"blocked" phrases, and mailbox-state phrases (full, disabled,
moved) before "user unknown", because servers often mix them ("5.1.1 mailbox disabled").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .prefilter import Guarded, Prefilter, guard


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str   # regular expression, matched case-insensitively
    reason: str    # one of model.REASONS
    where: str     # which MTA / provider writes such text
    weak: bool = False  # a catch-all: decides only when no other rule and no status does

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.I)


RULES: tuple[Rule, ...] = (
    # --- Postfix "Recipient address rejected: <why>" and RFC 3463 texts quoted verbatim
    Rule(r"media error|media type not supported|invalid (?:mime|content)",
         "contenterror", "Postfix/Sendmail quoting RFC 3463 5.6.0 'Other or undefined media error'"),
    Rule(r"no relaying|not configured to relay|identities failed the check|email address is not verified",
         "norelaying", "Postfix/Sendmail 'No relaying', Exchange 'not configured to relay', Amazon SES sandbox 'Email address is not verified'"),
    Rule(r"recipient address rejected: on hold|\bon hold\b", "onhold",
         "Postfix check_recipient_access answering 'On hold'"),
    Rule(r"delivery not authori[sz]ed|unauthenticated senders?|turn on smtp authentication|smtp authentication (?:is )?required",
         "securityerror", "RFC 3463 5.7.1 'Delivery not authorized', MessageLabs 'Please turn on SMTP Authentication', 'Unauthenticated senders not allowed'"),
    Rule(r"content presents a potential|rejected for policy reasons|not accepted for policy reasons",
         "policyviolation", "Gmail 552-5.7.0 'content presents a potential security issue', Yahoo 5.7.9, generic 'rejected for policy reasons'"),
    Rule(r"frequency limited|connection rate limit|too many (?:connections|concurrent|simultaneous)",
         "toomanyconn", "QQ/Tencent 'Ip frequency limited', Postfix anvil 'Connection rate limit exceeded'"),
    Rule(r"mismatches client ip|ip name lookup failed", "requireptr",
         "Outlook.com 'domain mismatches client ip', Sendmail 'IP name lookup failed'"),
    Rule(r"hop count exceeded|maximum hop count|routing loop|mail loop|loops back to myself|loop detected|"
         r"host not found, try again|dns query failed|temporary (?:lookup|dns) failure",
         "networkerror", "Domino 'Maximum hop count exceeded', Postfix 'Name service error ... try again', Office 365 5.4.312 'DNS query failed'"),
    Rule(r"no mx (?:record )?found|no mx record|indicated no smtp service|couldn't find a mail exchanger|"
         r"(?:doesn't|does not) receive e-?mail|null mx|does not accept mail",
         "notaccept", "qmail 'couldn't find a mail exchanger', Yahoo 'No mx record found', Gmail null-MX 'doesn't receive email', RFC 7505"),
    Rule(r"\bhost unknown|unknown host|domain is not reachable|domain (?:name )?not found|host or domain name not found",
         "hostunknown", "Sendmail 'Host unknown (Authoritative answer from name server)', Outlook.com 'domain is not reachable', Postfix 'Host or domain name not found'"),
    Rule(r"number of messages in recipient's mailbox exceeded|mailbox exceeded",
         "mailboxfull", "BIGLOBE 'The number of messages in recipient's mailbox exceeded the local limit'"),
    Rule(r"please use the smtp server of your isp|not accepting connections",
         "blocked", "Japanese ISPs 'Please use the smtp server of your ISP' (OP25B), iCloud 'not accepting connections'"),
    Rule(r"invalid final delivery userid", "userunknown", "IMail 'Invalid final delivery userid'"),
    # --- authentication of the sender domain (SPF / DKIM / DMARC)
    Rule(r"\bdmarc\b.{0,40}\b(?:fail|reject|policy)|(?:unauthenticated|dmarc) (?:email|message|policy)|unauthenticated email from",
         "authfailure", "Gmail 5.7.26 'Unauthenticated email', Yahoo/AOL/Microsoft DMARC rejects"),
    Rule(r"\bspf\b.{0,40}(?:fail|check|validation|not pass|softfail|permerror|reject)|sender policy framework|spf record|is not (?:an? )?authori[sz]ed (?:to send|sender)|not permitted to send|sender-id.{0,20}fail|sender id.{0,20}fail",
         "authfailure", "Postfix policyd-spf, Exim SPF ACL, Gmail 5.7.23/5.7.27, Outlook.com SPF"),
    Rule(r"\bdkim\b.{0,40}(?:fail|invalid|required|signature)|(?:no|invalid) dkim|domainkeys? .{0,20}fail",
         "authfailure", "OpenDKIM milter, Gmail 5.7.20/5.7.26, Microsoft 365 DKIM rejects"),
    Rule(r"authentication (?:checks? )?(?:failed|failure|required)(?! .{0,10}\bsmtp\b)|does not pass authentication|failed authentication|\bauthentication results?\b.{0,30}fail",
         "authfailure", "Microsoft 365 5.7.509/5.7.515, Yahoo/AOL, Mimecast authentication checks"),

    # --- reverse DNS of the sending IP
    Rule(r"\bptr\b|reverse (?:dns|lookup|ip|hostname)|rdns|no (?:dns|rdns) (?:entry|record)|cannot (?:find|resolve) your (?:hostname|reverse)|client host .{0,80} (?:not|has no) .{0,20}(?:resolve|reverse|ptr)|(?:ip|hostname) .{0,40}(?:does not|doesn't|did not) (?:resolve|match)|(?:resolve|lookup) .{0,30}(?:hostname|ip address) .{0,20}fail|hostname (?:of|for) your ip|lookup of your ip|unresolvable (?:relay )?host ?name|not (?:have|has) a (?:valid )?(?:hostname|fqdn)|helo .{0,40}(?:not|does not) .{0,20}resolve|dynamic (?:ip|address|pool)|dialup|dial-up|residential|generic (?:hostname|rdns|reverse)|\bdul\b|broadband|dynamic/residential|use your isp(?:'s)? (?:mail|smtp) server|not accept mail from dynamic",
         "requireptr", "Exim 'Client host has no PTR', Postfix reject_unknown_client_hostname, Comcast/Spamhaus PBL dialup blocks, Japanese ISPs 'use the smtp server of your ISP'"),

    # --- reputation, rate, connections
    Rule(r"poor reputation|bad reputation|low reputation|reputation (?:of|is) .{0,30}(?:poor|low|bad)|sender reputation|ip reputation|senderscore|domain reputation",
         "badreputation", "Gmail 4.7.0/5.7.1 'low reputation', Microsoft 'sender reputation'"),
    Rule(r"(?<!connection )rate limit|ratelimit|too many (?:messages|emails|mails|recipients? per|sessions|attempts)|sending rate|(?:message|receiving|sending) (?:rate|frequency)|throttl|unusual rate|rate of (?:unsolicited|mail)|exceeded the (?:rate|maximum number of messages)|too fast|please slow down|try again (?:later )?\(?rate|received too many",
         "speeding", "Gmail 4.7.28/4.7.0 'unusual rate', Yahoo TS01/TSS04, Outlook.com 'rate limit', Postfix anvil"),
    Rule(r"too many (?:connections|concurrent|simultaneous)|connection limit|maximum (?:number of )?connections|concurrent connections|connection rate limit|too many open connections",
         "toomanyconn", "Postfix smtpd_client_connection_count_limit, Exim smtp_accept_max_per_host"),

    # --- content
    Rule(r"\bvirus|malware|infected|\bworm\b|trojan|malicious (?:content|attachment|code)|dangerous attachment",
         "virusdetected", "ClamAV milter, Exim exiscan, MessageLabs, McAfee, Sophos 'virus detected'"),
    Rule(r"\bspam\b|junk mail|unsolicited|bulk (?:mail|email)|uce\b|blocked as spam|content filter|message content rejected|identified as (?:spam|suspicious)|scored as|high probability of|score exceeded|spamassassin|spam score|looks like spam|considered as spam|classified as spam|rejected by recurrent|\[mfrm\]|suspicious|blacklisted (?:url|content)|phish",
         "spamdetected", "SpamAssassin/amavis, Exim spam ACL, Gmail 5.7.1 'likely unsolicited', Barracuda, Proofpoint"),
    Rule(r"message (?:size|length) exceeds|message too (?:big|large)|too (?:big|large) for|exceeds (?:the )?(?:maximum|max|size|message size)|size limit|message size|maximum (?:message )?size|mail size|letter exceeds|(?:message|mail) is too large|larger than (?:the )?(?:allowed|maximum)",
         "mesgtoobig", "Postfix 'message size exceeds fixed limit', Exchange 5.3.4, Exim message_size_limit"),
    Rule(r"header (?:size )?(?:exceeds|too long)|too many (?:headers|hops)|too many .?received.? headers|attachment (?:not allowed|rejected)|(?:prohibited|banned|forbidden|not allowed) (?:attachment|file ?type|content|extension)|contains? (?:a )?(?:prohibited|banned|blocked) |mime (?:error|format)|malformed (?:mime|header|message)|invalid mime|message header (?:was )?(?:not|non)|non-?compliant (?:header|message)|8-?bit (?:data|characters) not|bare (?:lf|linefeed|cr)|line too long",
         "contenterror", "Exim 'Too many Received headers', amavis banned files, Postfix header_checks, Gmail 'not RFC 5322 compliant'"),

    Rule(r"not rfc ?5322 compliant|not (?:rfc|rfc ?2822|rfc ?822) compliant|(?:multiple|duplicate) '?(?:from|date|subject|to|message-id|sender)'? headers?|missing (?:a )?'?(?:date|from|message-id)'? header|missing a valid address in from: header|headers? (?:are|is) not rfc",
         "notcompliantrfc", "Gmail 550 5.7.1 'this message is not RFC 5322 compliant: Multiple From headers', Exchange Online 'duplicate headers'"),
    # --- the sender address refused (before the recipient phrases: "sender ... does not exist")
    Rule(r"purported responsible address|from: domain is invalid|(?:^|\d )access denied|all recipient addresses rejected|sender (?:address )?(?:rejected|refused|denied|invalid|unknown|verify failed|verification failed|domain (?:must exist|not found|does not exist|unknown|invalid))|(?:invalid|unknown|bad|unverifiable|unresolvable) sender|sender (?:is |was )?(?:not (?:allowed|accepted|authorized)|blacklisted|on (?:the|our) (?:block|black)list)|domain of sender address|from address (?:rejected|invalid|not)|mail from .{0,40} (?:rejected|refused|denied)(?! for policy)|envelope sender|return path|reverse-path|address rejected.{0,20}sender|sender address does not exist|must be a valid sender|your (?:e-?mail )?address has been blacklisted|access denied.{0,30}sender|not accepting mail from|null sender|mailer-daemon .{0,10}not",
         "rejected", "Postfix reject_unknown_sender_domain / reject_sender_login_mismatch, Sendmail 'Domain of sender address ... does not exist', Exim sender verify ACL"),
    # --- mailbox states
    Rule(r"mailbox (?:is |was )?full|mailbox (?:size|quota) .{0,20}(?:exceed|limit|full)|over ?quota|quota (?:exceeded|exceed|full|violation|limit)|exceeded (?:storage|quota|(?:their|the|his|her) (?:storage|quota))|storage (?:quota|allocation)|(?:account|mailbox|inbox|user) (?:is )?over (?:the )?(?:quota|limit|storage)|out of (?:storage|space)|full mailbox|box ?full|disk quota|mailfolder is full|not enough (?:storage|space) (?:in|for)|too much mail data|would exceed .{0,20}(?:quota|size)|exceeds? (?:the )?(?:mailbox|storage|quota)|user has exceeded|has exceeded (?:the )?max(?!imum hop)|has too many messages|mail quota|quota|容量|"
         r"postfach (?:ist )?(?:voll|über)|speicherplatz|bo[iî]te (?:aux lettres )?(?:est )?pleine|bo[iî]te du destinataire pleine|"
         r"buz[oó]n (?:est[aá] )?(?:lleno|completo)|casella (?:di posta )?(?:è )?piena|ящик переполнен|превышен .{0,20}квот|"
         r"邮箱已满|邮箱空间不足|信箱已满|メールボックスがいっぱい|ボックス.{0,6}満杯",
         "mailboxfull", "Postfix/Dovecot 'Mailbox is full', Exim appendfile 'mailbox is full', Gmail 4.2.2 'OverQuotaTemp', Yahoo 'over quota', qmail 'over quota'; GMX/web.de 'Postfach voll', Orange 'boite pleine', Telefonica 'buzón lleno', mail.ru/Yandex 'ящик переполнен', QQ/163 '邮箱已满', Japanese ISPs"),
    Rule(r"(?:account|mailbox|user|address|recipient)(?: is| has been| was)? (?:disabled|suspended|deactivated|inactive|locked|frozen|blocked|closed|expired|terminated|on hold|no longer active|not active|unavailable due to|temporarily disabled)|(?:disabled|suspended|inactive|deactivated|expired|closed|locked|frozen) (?:account|mailbox|user|recipient|address)|account (?:has been )?(?:disabled|discontinued|suspended|cancell?ed)|is not active|not an active|currently suspended|service (?:is )?(?:disabled|suspended)|temporar(?:y|ily) locked|account that you tried to reach is (?:disabled|inactive)|user suspended|boite du destinataire (?:archivee|fermee)|this account has been",
         "suspend", "Gmail 'account that you tried to reach is disabled', Yahoo 'user account is unavailable', Outlook.com 'mailbox unavailable', Orange/Wanadoo 'boite archivee'"),
    Rule(r"has moved|address (?:has )?changed|no longer (?:at|with|in use|valid|working|in service|employed|available at)|(?:mailbox|owner|recipient) has changed|moved to|forward(?:ing)? address|new (?:e-?mail )?address|changed (?:his|her|their) (?:e-?mail )?address|is not (?:here|with us) any ?more|has left",
         "hasmoved", "Sendmail 'User has moved; please try', Exchange 'recipient no longer at', RFC 3463 5.1.6 texts"),

    # --- relaying and recipients
    Rule(r"relay(?:ing)? (?:denied|not (?:permitted|allowed|authorized)|access denied|prohibited)|(?:not|no) (?:allowed|permitted|authori[sz]ed) to relay|unable to relay|relay (?:not|denied)|we do not relay|does not relay|not a gateway|insecure mail relay|relaying mail to .{0,40} is not allowed|not (?:local|our) (?:host|domain)|no such domain here|domain isn't in my list|is not in my list of allowed rcpthosts|cannot relay|can't relay|couldn't relay|relay access|rcpthosts|not (?:permitted|allowed) to send mail to|we do not accept mail for",
         "norelaying", "Postfix 'Relay access denied', Sendmail 'Relaying denied', qmail 'not in my list of allowed rcpthosts', Exchange 5.7.1 'Unable to relay'"),
    Rule(r"(?:user|mailbox|recipient|address|account|alias|addressee|destination|local[- ]?part|e-?mail)(?: name| address)?(?: is| was)? (?:unknown|not (?:found|known|exist|valid|listed|recogni[sz]ed|available|here|registered|local)|does(?:n't| not) exist|doesn't have|invalid|nonexist|non-exist|not exist|rejected: user unknown|no longer exists|unavailable(?!.{0,20}(?:rate|spam|policy|block|reputation|later)))|unknown (?:user|mailbox|recipient|address|local[- ]?part|e-?mail)|no (?:such|mailbox|account) (?:user|mailbox|recipient|person|address|account|here|found)|no such user|no such mailbox|no such recipient|no such address|no mailbox here|(?:invalid|bad|undeliverable|non-existent|nonexistent|inexistent|unverified) (?:recipient|mailbox|address|user|destination)|unroute?able (?:recipient|mailbox|user)|(?:recipient|address|user|mailbox) (?:verification|lookup) fail|@[a-z0-9.-]{1,200}>?[.:,]? (?:does not|doesn't) exist|not a (?:valid|known) (?:user|mailbox|recipient)|no account by that name|recipient (?:not found|unknown)|user doesn't have a .{0,30} account|not our customer|sorry, no mailbox here by that name|this user doesn't have|mailbox not found|unknown or illegal alias|mailbox unavailable|address unknown|the email account that you tried to reach does not exist|the recipient's inbox is unavailable|no valid recipients|user not local|resolver\.adr\.recip(?:ient)?notfound|recipnotfound|requested action not taken: mailbox unavailable|address rejected [^ ]+@|recipient address rejected: access denied|not listed in (?:domino directory|public name|the directory|our directory|address book)|not registered|unknown address|no such local user|bad destination mailbox|is not a valid mailbox|invalid address|address (?:not|is not) valid|no one (?:here )?by that name|utilisateur inconnu|adresse (?:inconnue|invalide|introuvable)|destinataire inconnu|usuario (?:desconocido|no existe)|unbekannt|existiert nicht|ungültige|utente (?:inesistente|sconosciuto)|не существует|нет такого|несуществующ|неизвестн|用户不存在|收件人不存在|不存在|存在しない|宛先不明|アカウントが存在",
         "userunknown", "Postfix 'User unknown in local recipient table', Sendmail 'User unknown', Exim 'Unrouteable address', qmail 'no mailbox here by that name', Gmail 'account ... does not exist', Exchange 'RESOLVER.ADR.RecipNotFound', Domino 'not listed in Domino Directory', mail.ru/Yandex Russian texts, Orange French texts"),
    Rule(r"host (?:or domain name )?not found|domain (?:name )?not found|(?:unknown|invalid|unrouteable|unroutable|non-?existent|bad) (?:host|domain|mail domain|hostname)|domain (?:does not exist|doesn't exist|is not (?:valid|registered))|no (?:mx|a|dns) record|name service error|name or service not known|host unknown|hostname (?:lookup failed|not found)|unable to (?:resolve|look ?up) (?:domain|host|mx|dns)|(?:mx|dns) (?:lookup|record) (?:failed|error|not found)|all relevant mx records point to non-existent hosts|unroute?able address|all host address lookups failed permanently|no route to host|unroutable domain|domain .{0,40} (?:does not|doesn't) (?:exist|accept)|could not be resolved|cannot find your mail server|no such domain|dns error|domain (?:is )?unknown|ホスト名|domain has no (?:mx|valid)|hostname is not (?:valid|registered)|recipient domain .{0,40}(?:not found|not exist)|illegal host|bad destination system address|(?<![@\w.-])[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,6}\.? (?:does not|doesn't) exist",
         "hostunknown", "Sendmail 'Host unknown (Name server: ...: host not found)', Postfix 'Host or domain name not found', Exim 'all relevant MX records point to non-existent hosts', Gmail 'DNS Error: Domain name not found'"),

    Rule(r"(?<!message was )(?<!message has been )blocked|connection (?:refused|reset) by|block ?list|black ?list|\bbl\b|\brbl\b|dnsbl|listed (?:at|in|on|by)|(?:was|has been|is|are) listed|blacklisted|barracuda reputation|spamcop|sorbs|spamhaus|cbl\.abuseat|uceprotect|invaluement|(?:your|the sending|connecting|client) (?:ip|host|server|network|mta) .{0,40}(?:blocked|banned|denied|rejected|listed|not allowed|refused)|(?:ip|host) (?:address )?(?:blocked|banned|rejected|denied)|not allowed to (?:connect|send)|banned|refused to talk|(?:is|which is) an open relay|you are not allowed|service refused|your (?:ip|server|host) .{0,40}(?:has been|is) .{0,20}(?:blocked|rejected|listed)|rejected because of|denied by policy|client host rejected|administrative prohibition|poor reputation|\bbanned\b|ip .{0,30}not allowed",
         "blocked", "Postfix reject_rbl_client 'blocked using <DNSBL>', Exim 'rejected because <IP> is in a black list', Microsoft S3150 'blocked using Spamhaus', Barracuda/Spamhaus/SpamCop/UCEPROTECT texts"),
    Rule(r"(?:message|email|mail) (?:was |has been )?(?:filtered|rejected by (?:the )?(?:recipient|user|filter|rules?))|filter(?:ed|ing) (?:by|rule)|(?:recipient|user) (?:has )?(?:rejected|refused|blocked|denied)|(?:rejected|refused|blocked|denied) by (?:recipient|user|addressee)|mail filter|cannot route mail to user|not accept(?:ing)? (?:mail|messages|e-?mail) from (?:you|this sender|your address)|does not accept mail from|refuse(?:d|s) to accept|permission denied|you are not (?:authori[sz]ed|allowed|permitted) to (?:send|post)|only accepts? (?:mail|messages) from|has restricted|members? only|not a member|restricted (?:group|access|to members)|recipient rejected by the owner|user refuses to accept|this (?:e-?mail address|recipient) (?:does not|doesn't) receive|disallowed by recipient|受信拒否|拒否",
         "filtered", "Postfix access(5) on recipient, au/KDDI and docomo sender filters, Google Groups 'members only', Exchange transport rules"),
    Rule(r"(?:policy|policies) (?:violation|reasons?|rejection|restriction)|violat(?:es|ed|ion)|not (?:compliant|comply) with|(?:content|organi[sz]ation|security|sender|mail|local) policy|prohibited by|message (?:rejected|refused|denied) (?:due to|for|by) (?:policy|local)|refused by policy|unacceptable (?:content|language)|acceptable use|against (?:our|the) (?:policy|policies|terms)|\bpolicy\b",
         "policyviolation", "Microsoft 550 5.7.1 'Service unavailable... policy', Exim ACL 'policy violation', Gmail 5.7.1 'violates our policy', Mimecast policy rejections"),

    # --- transport and server state
    Rule(r"(?:tls|ssl|starttls|encryption|secure connection|certificate)(?: is| was)? (?:required|failed|failure|not (?:available|supported|offered)|error|problem|handshake)|must (?:issue|use) (?:a )?starttls|requires? (?:tls|encryption|authentication)|authentication required|authentication is required|not authenticated|\bsmtp auth(?:entication)?\b.{0,20}(?:required|fail)|must authenticate|relay requires auth|530 5\.7\.0|user not authenticated|invalid credentials|login (?:failed|incorrect|denied)|password (?:incorrect|invalid)",
         "securityerror", "Postfix smtpd_tls_security_level=encrypt '530 Must issue a STARTTLS', 535 authentication failures, Exchange 530 5.7.57"),
    Rule(r"retry time ?out|retry timeout exceeded|timeout exceeded|delivery time expired|(?:message )?expired|could not be delivered (?:within|for|in) .{0,20}(?:days|hours)|(?:has|have) been (?:delayed|queued) (?:for|over|more than)|(?:giving|gave) up|too long|queue(?:d)? too long|maximum time|max(?:imum)? (?:queue|retry)|time limit|in queue|undelivered for|unable to deliver .{0,30} (?:days|hours)|was not delivered .{0,60} (?:days|hours)|not (?:been )?delivered for .{0,10} (?:days|hours)|delivery attempts? (?:will|have) (?:continue|stopped|failed)|had not (?:been )?delivered|time ?out|timed out",
         "expired", "Exim 'retry timeout exceeded', Sendmail 'Cannot send message for 5 days', Postfix 'message expired', qmail 'I'm not going to try again; this message has been in the queue too long'"),
    Rule(r"(?:network|socket) (?:error|failure|problem|unreachable|reset|closed|lost|dropped)|connection (?:error|failure|problem|unreachable|closed|lost|dropped)|could not connect|connect(?:ion)? (?:to .{0,60} )?failed|lost connection|no answer|host (?:is )?(?:down|unreachable)|name server|resolver|dns (?:lookup )?(?:temporarily|failure|timeout|server failure)|temporary (?:lookup|dns) failure|routing loop|mail loop|loops back to myself|loop detected|too many hops|bad connection|network is unreachable|broken pipe|wasn't able to establish an smtp connection|tls (?:handshake )?(?:failure|failed) .{0,10}(?:connection|handshake)",
         "networkerror", "Postfix 'lost connection with', 'mail for ... loops back to myself', Sendmail 'Deferred: Connection refused by', Exim 'Connection timed out'"),
    Rule(r"(?:disk|system|server|storage|mail server|mail system) (?:is )?(?:full|out of space)|insufficient system (?:storage|resources)|not enough (?:disk|system) (?:space|storage)|insufficient disk space|no space left|file system full|queue (?:is )?full|disk space",
         "systemfull", "Postfix 'Insufficient system storage', Sendmail 452 4.4.5, Exchange 452 4.3.1"),
    Rule(r"(?:does not|doesn't|will not|won't|not) accept (?:any )?(?:mail|e-?mail|messages)(?! from)|null mx|no mail service|no host found for existing smtp connection|not accepting (?:mail|network messages)|does not receive e-?mail|(?:domain|host) does not (?:accept|receive) mail|mail is not accepted|this (?:domain|host|address) does not (?:accept|receive)",
         "notaccept", "RFC 7505 null MX 'Domain does not accept mail', Gmail 'Domain ... does not receive email', Postfix 'nullmx'"),
    Rule(r"syntax error|command unrecognized|unrecognized command|command not (?:recognized|implemented)|bad sequence of commands|line too long|invalid (?:command|argument|syntax)|parameter|unknown command|command (?:rejected|out of sequence)|malformed (?:address|command)|address (?:syntax|format)|missing (?:argument|parameter)|\bsyntax\b",
         "syntaxerror", "Postfix/Sendmail 500/501/503 replies to a bad SMTP dialogue"),
    Rule(r"(?:internal|local|system|server|configuration|config|unexpected|processing|operating system) (?:server |system )?(?:error|failure|problem)|temporary (?:local |server )?problem|system (?:not available|unavailable|malfunction)|server (?:configuration|busy|unavailable|too busy)|service (?:not available|temporarily unavailable|currently unavailable)|transaction failed|(?:mail|local) (?:delivery )?(?:system|configuration) (?:error|problem)|too many (?:errors|bad)|misconfigur|unable to process|unable to contact ldap|delivery to (?:file|pipe) forbidden|several matches found in (?:the )?domino directory|ldap (?:error|lookup failed)|timeout waiting for input",
         "systemerror", "Sendmail 'Local configuration error', Exim 'local delivery failed', Postfix 'mail system configuration error', 451 4.3.0 from many MTAs"),
    Rule(r"(?:pipe|program|command|delivery agent|procmail|maildrop|local delivery) (?:failed|error|returned|exited|terminated)|mailer (?:error|failed)|(?:exit|returned) (?:code|status)|command died|cannot execute|X-Unix;|service unavailable: (?:command|pipe)|permission denied.{0,20}(?:pipe|program)|unable to (?:write|open|create)",
         "mailererror", "Sendmail 'X-Unix; ...' prog mailer, Exim pipe transport 'Child process ... returned', qmail 'Unable to forward'"),
    Rule(r"\brejected\b|\brefused\b|\bdenied\b|\bnot (?:allowed|permitted|accepted)\b",
         "rejected", "Catch-all refusals of MAIL FROM or the message (many MTAs: 'Message rejected', 'Mail refused')",
         weak=True),
)

# (each rule's own compiled pattern: Rule.compiled(); the table is searched through _PREFILTER)


@dataclass(frozen=True, slots=True)
class ProviderRule:
    """Words one provider gives a meaning of its own (Sisimai's lib/sisimai/rhost/*.rb): they
    decide before the general order, when the remote host (Remote-MTA, the host named in the
    diagnostic or the recipient's domain) is that provider's."""
    host: str      # regular expression on the remote host / recipient domain; "" = any host
    pattern: str   # regular expression on the diagnostic text
    reason: str
    where: str
    status: str = ""  # when set, the status code must match it too


PROVIDER_RULES: tuple[ProviderRule, ...] = (
    # au / KDDI (ezweb.ne.jp, au.com): its sender filter answers "550 : User unknown" (no
    # address) after DATA, a dead address "550 <a@ezweb.ne.jp>: User unknown" at RCPT
    ProviderRule(r"ezweb\.ne\.jp|\bau\.com|auone-net\.jp|\bkddi\.", r">: user unknown|recipient address rejected\.?\s*$",
                 "userunknown", "au/KDDI 'User unknown' naming the address"),
    ProviderRule(r"ezweb\.ne\.jp|\bau\.com|auone-net\.jp|\bkddi\.", r"(?:^|\d{3}[ -]?)\s?:\s*user unknown",
                 "filtered", "au/KDDI sender filter '550 : User unknown'"),
    # NTT docomo answers "550 Unknown user" after DATA to senders its filter refuses
    ProviderRule(r"docomo\.ne\.jp", r"550 unknown user", "rejected",
                 "NTT docomo mfsmax '550 Unknown user' with Status 5.0.0", status=r"^(?:5\.0\.0)?$"),
    # Yahoo Inc. (yahoo.com, yahoodns.net)
    ProviderRule("", r"user doesn't have a (?:yahoo|ymail|rocketmail|aol)\.[a-z.]{2,12} account",
                 "userunknown", "Yahoo 554 'This user doesn't have a yahoo.com account'"),
    ProviderRule("", r"\[ts[s]?0[1-4]\]|temporarily deferred due to unexpected volume or user complaints",
                 "rejected", "Yahoo 421 4.7.0 [TSS04] 'temporarily deferred due to ... user complaints'"),
    # Orange / Wanadoo / La Poste (France Telecom): an error code after every reply
    ProviderRule("", r"\b(?:ofr|lpn)\d{0,3}_(?:416|418)\b", "userunknown",
                 "Orange/La Poste 'Adresse destinataire invalide' codes 416/418"),
    ProviderRule("", r"\b(?:ofr|lpn)\d{0,3}_417\b", "mailboxfull", "Orange/La Poste 'Boite du destinataire pleine' 417"),
    ProviderRule("", r"\b(?:ofr|lpn)\d{0,3}_(?:10[0-5]|109)\b", "blocked",
                 "Orange/La Poste 'Adresse IP source bloquee' 1xx codes"),
    ProviderRule("", r"\b(?:ofr|lpn)\d{0,3}_50[6-9]\b|\bofr_50[6-9]\b", "spamdetected",
                 "Orange 'Mail rejete. Mail rejected. ofr_506' (spam)"),
    # MessageLabs (Symantec.cloud): its refusal of unauthenticated submission goes on to say
    # "is not permitted to relay through this server without authentication"; Sisimai's
    # MessageLabs table reads it as the authentication failure it names first
    ProviderRule("", r"please turn on smtp authentication in your mail client", "securityerror",
                 "MessageLabs 550 'Please turn on SMTP Authentication in your mail client. ... is not permitted to relay'"),
    # Mimecast (mimecast.com)
    ProviderRule("", r"host network not allowed", "policyviolation", "Mimecast 554 'Host network not allowed'"),
    ProviderRule("", r"rejected due to security policies", "virusdetected",
                 "Mimecast 554 'email rejected due to security policies' (signature match)"),
    # Exchange 2007+ / Exchange Online: the component.category.reason code after the status
    # names the cause exactly (Sisimai's Exchange2007 table)
    ProviderRule("", r"RESOLVER\.ADR\.(?:RecipNotFound|RecipientNotFound|ExRecipNotFound|BadPrimary|InvalidInSmtp)",
                 "userunknown", "Exchange 'RESOLVER.ADR.RecipNotFound; not found'"),
    ProviderRule("", r"RESOLVER\.RST\.(?:RecipSizeLimit|SendSizeLimit)", "mesgtoobig",
                 "Exchange 'RESOLVER.RST.RecipSizeLimit; message too large for this recipient'"),
    ProviderRule("", r"RESOLVER\.RST\.AuthRequired", "securityerror", "Exchange 'RESOLVER.RST.AuthRequired; authentication required'"),
    ProviderRule("", r"RESOLVER\.RST\.NotAuthorized|RESOLVER\.RST\.RestrictedToRecipients", "rejected",
                 "Exchange 'RESOLVER.RST.NotAuthorized; not authorized'"),
    ProviderRule("", r"RESOLVER\.ADR\.RecipLimit|RESOLVER\.ADR\.RecipientLimit", "toomanyconn",
                 "Exchange 550 5.5.3 'RESOLVER.ADR.RecipLimit; too many recipients' (Sisimai's NDR table)"),
    ProviderRule("", r"QUEUE\.Expired", "expired", "Exchange 'QUEUE.Expired; message expired'"),
    ProviderRule("", r"SMTPSEND\.DNS\.NonExistentDomain", "hostunknown", "Exchange 'SMTPSEND.DNS.NonExistentDomain; nonexistent domain'"),
    ProviderRule("", r"SMTPSEND\.DNS\.MxLoopback", "networkerror", "Exchange 'SMTPSEND.DNS.MxLoopback; DNS config error'"),
    # Microsoft 365 Directory Based Edge Blocking: the recipient is not in the directory
    ProviderRule(r"outlook\.com|outlook\.office365|hotmail|\blive\.com", r"recipient address rejected: access denied",
                 "userunknown", "Microsoft 365 550 5.4.1 DBEB 'Recipient address rejected: Access denied'"),
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
    # Google (aspmx.l.google.com, smtp.gmail.com): phrases Sisimai's Google table reads
    # otherwise than their words' general meaning
    ProviderRule("", r"not authorized to send email directly to our servers", "blocked",
                 "Gmail 550 5.7.1 'The IP you're using to send mail is not authorized to send email directly to our servers' (a PBL-style block, not SPF)"),
    ProviderRule("", r"daily (?:user )?sending quota exceeded|daily smtp relay limit exceeded", "speeding",
                 "Gmail 550 5.4.5 'Daily user sending quota exceeded' (the sender's quota, not a full mailbox)"),
    ProviderRule("", r"receiving mail (?:at a rate that prevents|too quickly)", "speeding",
                 "Gmail 450 4.2.1 'The user you are trying to contact is receiving mail at a rate that prevents additional messages'"),
    # Tencent QQ (mx.qq.com): the help page number follows the words
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mail content denied|spam is embedded in the email", "spamdetected",
                 "QQ 550 'Mail content denied' / 'Spam is embedded in the email'"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"is a deactivated mailbox", "suspend", "QQ 'is a deactivated mailbox'"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mail is rejected by recipients", "rejected",
                 "QQ 550 'Mail is rejected by recipients' (help page 122/92)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"suspected spam ip|suspected bounce attacks|connection denied", "blocked",
                 "QQ 'Suspected spam ip' / 'Suspected bounce attacks' / 'Connection denied' (help pages 122/66, 122/57, 122/170)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mailbox unavailable or access denied", "speeding",
                 "QQ 550 'Mailbox unavailable or access denied' (help page 122/166: too many messages to the mailbox)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"(?:domain|sender) frequency limited", "toomanyconn",
                 "QQ 'Domain frequency limited' / 'Sender frequency limited' (help pages 122/173, 122/174)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"bad address syntax", "syntaxerror", "QQ 'Bad address syntax' (help page 122/167)"),
    ProviderRule(r"\bqq\.com|tencent|exmail\.qq", r"mailbox not found", "userunknown", "QQ 550 'Mailbox not found' (help page 122/169)"),
    # Cox (cox.net): "AUP#<code>" after the reply names the cause
    ProviderRule("", r"AUP#(?:CXBL|CDRBL|IPBL\d{0,4})\b", "blocked", "Cox 554 'AUP#CXBL' sending IP blocked"),
    ProviderRule("", r"AUP#CXSNDR\b|AUP#CXSMTP\b", "rejected", "Cox 'AUP#CXSNDR' problem with the sender's domain"),
    ProviderRule("", r"AUP#CXCNCT\b", "toomanyconn", "Cox 'AUP#CXCNCT' connection limit"),
    ProviderRule("", r"AUP#CXMXRT\b", "speeding", "Cox 'AUP#CXMXRT' too many recipients, wait before sending more"),
    ProviderRule("", r"AUP#CXDNS\b", "requireptr", "Cox 'AUP#CXDNS' issue with the connecting IP's DNS (no PTR)"),
    ProviderRule("", r"AUP#(?:CXTHRT|CXMJ)\b", "securityerror",
                 "Cox 'AUP#CXTHRT' / 'AUP#CXMJ' sending limited for suspicious account activity"),
    ProviderRule("", r"AUP#URLBL\d{0,4}\b", "spamdetected", "Cox 'AUP#URLBL011' a URL of the body on SURBL / Spamhaus DBL"),
    ProviderRule("", r"AUP#RRBL\d{0,4}\b", "blocked", "Cox 'AUP#RRBL0001' sending IP on a reputation block list"),
    # GoDaddy (secureserver.net): its own words and codes (godaddy.com/help 3568)
    ProviderRule(r"secureserver\.net|godaddy", r"account does not exist|recipient not found", "userunknown",
                 "GoDaddy 550 5.1.1 'Recipient not found' / 'Account does not exist'"),
    ProviderRule(r"secureserver\.net|godaddy", r"account disabled", "suspend", "GoDaddy 'Account disabled'"),
    ProviderRule(r"secureserver\.net|godaddy", r"account storage limit", "mailboxfull", "GoDaddy 552 'Account storage limit'"),
    ProviderRule(r"secureserver\.net|godaddy", r"\bURLBL\d{3}\b", "spamdetected",
                 "GoDaddy 552 5.3.0 'Inbound URL reject URLBL011' (a blacklisted URL in the message)"),
    # Spectrum / Charter (charter.net, rr.com): "AUP#In-1310" / "AUP#O-1000", the number
    # names the cause (spectrum.net "Understanding email error codes")
    ProviderRule("", r"AUP#(?:In?|Out?)?-?1(?:3[0-4]\d|350)\b", "toomanyconn",
                 "Spectrum 'AUP#In-1310' concurrent connection / recipient limits (1300-1350)"),
    ProviderRule("", r"AUP#(?:In?|Out?)?-?1(?:000|2[01]0)\b", "blocked",
                 "Spectrum 'AUP#1000' IP blocked for suspicious activity, 1200-1210 IP flagged by Cloudmark CSI"),
    ProviderRule("", r"AUP#(?:In?|Out?)?-?1(?:1[0-4]\d|150)\b", "requireptr",
                 "Spectrum 'AUP#1100'-'1150' the connecting IP has an issue with DNS"),
    ProviderRule("", r"AUP#(?:In?|Out?)?-?12[2-5]0\b", "speeding",
                 "Spectrum 'AUP#1220'-'1250' too many recent emails from this IP"),
    ProviderRule("", r"AUP#(?:In?|Out?)?-?1530\b", "mesgtoobig", "Spectrum 'AUP#1530' larger than the maximum size"),
    # Microsoft (outlook.com, hotmail, Exchange Online Protection): an IP ban, not a sender check
    ProviderRule(r"outlook\.com|hotmail|\blive\.com|\bmsn\.com|microsoft", r"access denied, banned sender",
                 "blocked", "Microsoft 550 5.7.511 'Access denied, banned sender[IP]. To request removal ... delist@messaging.microsoft.com'"),
    ProviderRule(r"outlook\.com|hotmail|\blive\.com|\bmsn\.com", r"requested action not taken: mailbox unavailable",
                 "userunknown", "Outlook.com/Hotmail 550 5.5.0 'Requested action not taken: mailbox unavailable' (its answer for an address it does not have, at whatever stage)"),
    ProviderRule("", r"recipient not found by smtp address lookup", "userunknown",
                 "Exchange Online 550 5.1.10 'Recipient not found by SMTP address lookup' (5.1.10 is not RFC 7505's null MX here)"),
)
_PROVIDER_WORDS = Prefilter([r.pattern for r in PROVIDER_RULES], re.I | re.M)


_PROVIDER_CONDITIONS: dict[int, tuple[Guarded | None, re.Pattern[str] | None]] = {}


def _provider_conditions(i: int) -> tuple[Guarded | None, re.Pattern[str] | None]:
    """Rule i's host and status patterns, compiled when its words first occur in a text (as
    Prefilter compiles its branches): most rules are never tried in a run."""
    got = _PROVIDER_CONDITIONS.get(i)
    if got is None:
        r = PROVIDER_RULES[i]
        got = _PROVIDER_CONDITIONS[i] = (guard(re.compile(r.host, re.I)) if r.host else None,
                                         re.compile(r.status) if r.status else None)
    return got


def provider(text: str, host: str, status: str = "") -> ProviderRule | None:
    """The first provider rule for `host` (or naming its provider in `text`) that matches."""
    if not text:
        return None
    for i in _PROVIDER_WORDS.matching(text):  # the rules whose words occur, in table order
        rule = PROVIDER_RULES[i]
        host_re, status_re = _provider_conditions(i)
        if host_re is not None and not (host_re.search(host) or host_re.search(text)):
            continue
        if status_re is not None and not status_re.search(status):
            continue
        return rule
    return None


# Most texts examined (paragraphs around addresses) match no rule at all: each text is searched
# only with the alternatives whose literal words it holds (classify/prefilter.py).
_PREFILTER = Prefilter([r.pattern for r in RULES])


@lru_cache(maxsize=4096)
def reasons(text: str) -> tuple[tuple[str, Rule], ...]:
    """Every reason some non-weak rule finds in `text`, each with its first rule, table order."""
    if not text:
        return ()
    out: dict[str, Rule] = {}
    for i in _PREFILTER.matching(text):
        rule = RULES[i]
        if not rule.weak and rule.reason not in out:
            out[rule.reason] = rule
    return tuple(out.items())


@lru_cache(maxsize=4096)
def match(text: str) -> Rule | None:
    """The first rule whose pattern occurs in `text`, or None."""
    if not text:
        return None
    found = _PREFILTER.matching(text)
    return RULES[found[0]] if found else None
