"""Provider error pages: each reply as the provider documents it, with the meaning its page gives.

Every case is a reply text a mailbox provider or a filtering service publishes on its own
postmaster, help or error-code page (the page is named in `source`), classified the way a
parsed DSN is (tests/test_source_wordings.run: the Status and the reply code of a failed
recipient, the SMTP command where one is known, and the provider's inbound host as the
Remote-MTA). The expected reason and hard/soft verdict follow the page's meaning: hard only
where the page says the address does not exist (or its domain); a block for spam, reputation,
policy, authentication or rate is the sender's problem and soft; a 4xx is never hard.
"""

from __future__ import annotations

import pytest

from bouncesink import model
from bouncesink.classify import rules
from test_source_wordings import Case, run

HARD, SOFT = model.HARD, model.SOFT

# Inbound hosts (the Remote-MTA a bounce names)
ORANGE_MX = "smtp-in.orange.fr"
LAPOSTE_MX = "smtpz4.laposte.net"
FREE_MX = "mx1.free.fr"
SFR_MX = "smtp-in.sfr.fr"
GMX_MX = "mx00.emig.gmx.net"
WEBDE_MX = "mx-ha02.web.de"
IONOS_MX = "mx00.ionos.de"
TONLINE_MX = "mx00.t-online.de"
LIBERO_MX = "smtp-in.libero.it"
VIRGILIO_MX = "mxin.virgilio.it"
MAILRU_MX = "mxs.mail.ru"
YANDEX_MX = "mx.yandex.ru"
QQ_MX = "mx3.qq.com"
NETEASE_MX = "163mx01.mxmail.netease.com"
DOCOMO_MX = "mfsmax.docomo.ne.jp"
KDDI_MX = "lsean.ezweb.ne.jp"
SOFTBANK_MX = "mx.i.softbank.jp"
COMCAST_MX = "mx1.comcast.net"
COX_MX = "cxr.mx.a.cloudfilter.net"
CHARTER_MX = "mx.charter.net"
ATT_MX = "al-ip4-mx-vip1.prodigy.net"
BELLSOUTH_MX = "mx.bellsouth.net"
VERIZON_MX = "relay.verizon.net"
YAHOO_MX = "mta5.am0.yahoodns.net"
AOL_MX = "mailin-01.mx.aol.com"
APPLE_MX = "mx01.mail.icloud.com"
MS_MX = "example-org.mail.protection.outlook.com"
OUTLOOK_MX = "hotmail-com.olc.protection.outlook.com"
GOOGLE_MX = "gmail-smtp-in.l.google.com"
PROOFPOINT_MX = "mx0a-00000000.pphosted.com"
MIMECAST_MX = "eu-smtp-inbound-1.mimecast.com"
BARRACUDA_MX = "d000000a.ess.barracudanetworks.com"
MESSAGELABS_MX = "cluster1.eu.messagelabs.com"
ZOHO_MX = "mx.zoho.com"
PROTON_MX = "mail.protonmail.ch"
FASTMAIL_MX = "in1-smtp.messagingengine.com"
RACKSPACE_MX = "mx1.emailsrvr.com"
GODADDY_MX = "mx.secureserver.net"
SES = "email-smtp.us-east-1.amazonaws.com"

# Pages
ORANGE = ("postmaster.orange.fr / assistance.orange.fr 'Codes d'erreur SMTP' (OFR_/LPN codes; Sisimai "
          "lib/sisimai/rhost/franceptt.rb lists the same codes)")
LAPOSTE = "La Poste (laposte.net) LPN codes, the France Telecom table of postmaster.orange.fr"
FREE = "postmaster.free.fr (messages d'erreur des serveurs MX de Free)"
GMX = "postmaster.gmx.net / postmaster.web.de 'Fehlermeldungen' and support.gmx.com 'Email returned as undeliverable'"
TONLINE = "postmaster.t-online.de 4.7 'Warum wurde der Aufbau einer SMTP-Verbindung ... abgelehnt?'"
LIBERO = "aiuto.libero.it / aiuto.virgilio.it 'Messaggi di errore piu frequenti dopo invio email'"
MAILRU = "help.mail.ru/mail/mailer/popular (Mail.ru delivery errors)"
YANDEX = "yandex.com/support/mail (error messages in bounces)"
QQ = "service.mail.qq.com/detail/122 (QQ Mail 'delivery failure' help pages)"
NETEASE = "help.mail.163.com 'Bounce codes' (NetEase 163/126 MI:/DT:/RP:/HL: codes)"
DOCOMO = "NTT docomo (mfsmax) replies: '550 Unknown user' by SMTP stage (Sisimai lib/sisimai/rhost/nttdocomo.rb)"
KDDI = "au/KDDI (ezweb.ne.jp) SMTP replies (Sisimai lib/sisimai/rhost/kddi.rb)"
SOFTBANK = "SoftBank (i.softbank.jp, softbank.ne.jp) SMTP replies for invalid recipients and senders"
COMCAST = "postmaster.comcast.net/mail-error-codes (Comcast mail delivery error codes; xfinity.com/support/articles/email-errors)"
COX = "postmaster.cox.net 'Error Codes' (AUP#CX... codes)"
SPECTRUM = "spectrum.net/support/internet/understanding-email-error-codes (AUP# codes)"
ATT = "att.net / worldnet.att.net 'Error Message Summary' (block_enduser.html, AT&T mailblock inquiry)"
VERIZON = "Verizon Online postmaster (verizon.net) replies"
YAHOO = "senders.yahooinc.com/smtp-error-codes"
AOL = "postmaster.aol.com 'Error Messages' (RTR/HVU/DNS/RLY/DYN/CON blocks)"
APPLE = "support.apple.com/HT204137 (iCloud Mail postmaster information)"
MS = "learn.microsoft.com 'Email non-delivery reports and SMTP errors in Exchange Online'"
OUTLOOK = "sendersupport.olc.protection.outlook.com/pm/troubleshooting.aspx (Outlook.com)"
GMAIL = "support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
PROOFPOINT = "Proofpoint ipcheck.proofpoint.com / help.proofpoint.com 'Proofpoint Essentials SMTP rejections'"
MIMECAST = "community.mimecast.com 'Mimecast SMTP Error Codes' (DOC-1369)"
BARRACUDA = "campus.barracuda.com 'Email Security Gateway: reading bounce messages' (cuda codes)"
MESSAGELABS = ("knowledge.broadcom.com Email Security.cloud (MessageLabs) articles 165163, 175710, 173082, 162232, "
               "164955, 165165, 162137, 162152, 175407, 173867, 385809")
ZOHO = "zoho.com/mail/help (Zoho Mail bounce / SMTP error codes)"
PROTON = "proton.me/support/smtp-errors (Proton Mail SMTP errors)"
RACKSPACE = "Rackspace Email postmaster (emailsrvr.com) G-codes"
GODADDY = "godaddy.com/help 3568 'Email bounce-back messages' (IB codes)"
SESDOC = "docs.aws.amazon.com/ses 'Using the Amazon SES account-level suppression list' / 'bounce types'"


def C(host: str, status: str, text: str, reason: str, type_: str, source: str, command: str = "",
      xfail: str = "") -> Case:
    return Case(status, text, reason, type_, source, command, host, xfail)


CASES: list[Case] = [
    # ------------------------------------------------------------ Orange / Wanadoo / La Poste
    C(ORANGE_MX, "5.1.1", "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
      "userunknown", HARD, ORANGE, "RCPT"),
    C(LAPOSTE_MX, "5.1.1", "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. LPN416",
      "userunknown", HARD, LAPOSTE, "RCPT"),
    C(ORANGE_MX, "5.2.2", "552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
      "mailboxfull", SOFT, ORANGE, "RCPT"),
    C(ORANGE_MX, "5.0.0", "550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for "
      "spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/?ip=192.0.2.1", "blocked", SOFT, ORANGE, "CONN"),
    C(ORANGE_MX, "5.0.0", "550 mwinf5c10 ME Service refuse. Veuillez essayer plus tard. Service refused, please try "
      "later. OFR006_103 192.0.2.1 [103]", "blocked", SOFT, ORANGE, "CONN"),
    C(ORANGE_MX, "4.0.0", "421 mwinf5c79 ME Trop de connexions, veuillez verifier votre configuration. Too many "
      "connections, slow down. OFR005_104 [104]", "toomanyconn", SOFT, ORANGE, "CONN"),
    C(LAPOSTE_MX, "4.0.0", "421 4.2.1 Too many connections, slow down. LPN105_104", "toomanyconn", SOFT, LAPOSTE, "CONN"),
    C(ORANGE_MX, "5.7.0", "550 5.7.0 Code d'authentification invalide OFR_305", "securityerror", SOFT, ORANGE, "MAIL"),
    C(LAPOSTE_MX, "5.5.0", "550 5.5.0 SPF: s@example.com is not allowed to send mail. LPN004_401",
      "authfailure", SOFT, LAPOSTE, "MAIL"),
    C(LAPOSTE_MX, "5.5.0", "550 5.5.0 Authentification requise. Authentication Required. LPN105_402",
      "securityerror", SOFT, LAPOSTE, "MAIL"),
    C(ORANGE_MX, "5.1.0", "501 5.1.0 Emetteur invalide. Invalid Sender. OFR004_405 [405]", "rejected", SOFT, ORANGE, "MAIL"),
    C(LAPOSTE_MX, "5.5.0", "550 5.5.0 Boite du destinataire archivee. Archived recipient. LPN007_420",
      "suspend", SOFT, LAPOSTE, "RCPT"),
    C(LAPOSTE_MX, "5.5.3", "553 5.5.3 Mail from not owned by user. LPN105_421", "rejected", SOFT, LAPOSTE, "MAIL"),
    C(LAPOSTE_MX, "5.5.0", "550 5.5.0 Le compte du destinataire est bloque. The recipient account isblocked. LPN007_426",
      "suspend", SOFT, LAPOSTE, "RCPT"),
    C(ORANGE_MX, "4.2.0", "421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. "
      "OFR005_505 [505]", "expired", SOFT, f"{ORANGE}: 505 a system error; a 4xx the sending MTA gave up on is read as "
      "retried until the queue lifetime ran out (classify/__init__.py)", "DATA"),
    C(ORANGE_MX, "5.2.0", "550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]", "spamdetected", SOFT, ORANGE, "DATA"),
    C(LAPOSTE_MX, "5.5.0", "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. "
      "LPN005_510", "blocked", SOFT, LAPOSTE, "DATA"),
    C(LAPOSTE_MX, "5.3.4", "552 5.3.4 Taille limite du message atteinte. Message size limit reached. LPN001_514",
      "mesgtoobig", SOFT, LAPOSTE, "DATA"),
    C(LAPOSTE_MX, "5.7.1", "571 5.7.1 Message refused, DMARC verification Failed. Message refuse, verification DMARC "
      "en echec LPN007_517", "authfailure", SOFT, LAPOSTE, "DATA"),
    C(LAPOSTE_MX, "5.7.1", "554 5.7.1 Client host rejected LPN000_630", "policyviolation", SOFT, LAPOSTE, "RCPT"),
    C(ORANGE_MX, "4.0.0", "421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try "
      "later. OFR_999 [999]", "blocked", SOFT, ORANGE, "CONN"),
    C(LAPOSTE_MX, "5.7.1", "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using Spamhaus. Les emails "
      "envoyes vers la messagerie Laposte.net ont ete bloques par nos services. https://www.spamhaus.org/lookup/ "
      "LPNAAA_101", "blocked", SOFT, LAPOSTE, "RCPT"),
    C(ORANGE_MX, "4.0.0", "421 smtp.orange.fr [192.0.2.1] Emetteur invalide, Veuillez verifier la configuration SPF/DNS "
      "de votre nom de domaine. Invalid Sender. SPF check failed, please verify the SPF/DNS configuration for your "
      "domain name.", "authfailure", SOFT, ORANGE, "MAIL"),
    # ------------------------------------------------------------ Free, SFR
    C(FREE_MX, "5.0.0", "550 spam detected", "spamdetected", SOFT, FREE, "DATA"),
    C(SFR_MX, "5.7.1", "550 5.7.1 Message content rejected", "spamdetected", SOFT,
      "SFR (smtp-in.sfr.fr) content filter reply, as documented on the Gadz.org list of French ISP refusals", "DATA"),
    # ------------------------------------------------------------ GMX / Web.de / 1&1 IONOS
    C(GMX_MX, "5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD, GMX, "RCPT"),
    C(WEBDE_MX, "5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD, GMX, "RCPT"),
    C(IONOS_MX, "5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD,
      "1&1 IONOS (United Internet, the same mail system as GMX / Web.de): ionos.de digitalguide 'SMTP-Fehler 550'", "RCPT"),
    C(GMX_MX, "5.0.0", "552 Requested mail action aborted: exceeded storage allocation", "mailboxfull", SOFT,
      "newsroom.gmx.net 'Unzustellbar: Fehlermeldungen' (5xy 'exceeded storage allocation, Quota exceeded')", "RCPT"),
    C(WEBDE_MX, "4.0.0", "421 Rate limit reached. Please try again later", "speeding", SOFT, GMX, "MAIL"),
    C(GMX_MX, "5.0.0", "554-gmx.net (mxgmx117) Nemesis ESMTP Service not available 554-No SMTP service "
      "554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=192.0.2.1",
      "blocked", SOFT, GMX, "CONN"),
    C(GMX_MX, "5.0.0", "554-gmx.net (mxgmx117) Nemesis ESMTP Service not available 554-No SMTP service 554-invalid DNS PTR "
      "resource record, IP=192.0.2.1 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0202",
      "requireptr", SOFT, GMX, "CONN"),
    C(WEBDE_MX, "5.0.0", "550 Reject due to SPF policy. The originating IP of the message is not permitted by the domain "
      "owner", "authfailure", SOFT, GMX, "RCPT"),
    # ------------------------------------------------------------ T-Online
    C(TONLINE_MX, "5.0.0", "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help or to contact "
      "tosa@rx.t-online.de to clarify.) (BL)", "blocked", SOFT, TONLINE, "CONN"),
    C(TONLINE_MX, "5.0.0", "554 IP=192.0.2.1 - None/bad reputation. Ask your postmaster for help or to contact "
      "tobr@rx.t-online.de for reset. (NOWL)", "badreputation", SOFT, TONLINE, "CONN"),
    # ------------------------------------------------------------ Libero / Virgilio
    C(LIBERO_MX, "5.2.2", "552 5.2.2 MAILBOX FULL (User quota exceeded)", "mailboxfull", SOFT, LIBERO, "RCPT"),
    C(VIRGILIO_MX, "5.1.1", "550 5.1.1 Bad destination mailbox address - User unknown", "userunknown", HARD, LIBERO, "RCPT"),
    C(LIBERO_MX, "5.7.1", "550 5.7.1 Relaying not allowed (550 Relay Disabled)", "norelaying", SOFT, LIBERO, "RCPT"),
    # ------------------------------------------------------------ Mail.ru / Yandex
    C(MAILRU_MX, "5.0.0", "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.ru is unavailable: "
      "user not found", "userunknown", HARD, MAILRU, "RCPT"),
    C(MAILRU_MX, "5.0.0", "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.ru is unavailable: "
      "account is disabled", "suspend", SOFT, MAILRU, "RCPT"),
    C(MAILRU_MX, "5.0.0", "550 spam message rejected. Please visit https://help.mail.ru/notspam-support/id?c=AbCdEf or "
      "report details to abuse@corp.mail.ru. Error code: 0123456789ABCDEF. ID: 0000000000000000.",
      "spamdetected", SOFT, MAILRU, "DATA"),
    C(MAILRU_MX, "4.0.0", "451 Ratelimit exceeded for mailbox a@mail.ru. Try to send mail later.", "speeding", SOFT,
      MAILRU, "RCPT"),
    C(MAILRU_MX, "5.2.2", "552 5.2.2 Mailbox Full (User quota exceeded)", "mailboxfull", SOFT, MAILRU, "RCPT"),
    C(YANDEX_MX, "5.7.1", "550 5.7.1 No such user!", "userunknown", HARD, YANDEX, "RCPT"),
    C(YANDEX_MX, "5.2.2", "552 5.2.2 Mailbox size limit exceeded", "mailboxfull", SOFT, YANDEX, "RCPT"),
    C(YANDEX_MX, "5.7.1", "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234567890abc",
      "spamdetected", SOFT, YANDEX, "DATA"),
    # ------------------------------------------------------------ QQ / NetEase
    C(QQ_MX, "5.0.0", "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
      "userunknown", HARD, QQ, "RCPT"),
    C(QQ_MX, "5.0.0", "550 Ip frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725",
      "toomanyconn", SOFT, QQ, "MAIL"),
    C(QQ_MX, "5.0.0", "550 Domain frequency limited. https://service.mail.qq.com/detail/122/173", "toomanyconn", SOFT, QQ, "MAIL"),
    C(QQ_MX, "5.0.0", "550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726",
      "spamdetected", SOFT, QQ, "DATA"),
    C(QQ_MX, "5.0.0", "550 Suspected spam ip, please try later. https://service.mail.qq.com/detail/122/66",
      "blocked", SOFT, QQ, "CONN"),
    C(QQ_MX, "5.1.3", "501 Bad address syntax. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000730",
      "syntaxerror", SOFT, QQ, "RCPT"),
    C(NETEASE_MX, "5.0.0", "550 User not found: a@163.com", "userunknown", HARD, NETEASE, "RCPT"),
    C(NETEASE_MX, "5.0.0", "554 DT:SPM 163 mx14,QMCowECpWEQ4gVBfAAAA--.1234S2 1599111111, please see "
      "http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1&hostid=mx14&time=1599111111", "spamdetected", SOFT,
      NETEASE, "DATA"),
    C(NETEASE_MX, "4.0.0", "451 DT:SPM 163 mx14,QMCowECpWEQ4gVBfAAAA--.1234S2 1599111111, please try again",
      "spamdetected", SOFT, NETEASE, "DATA"),
    C(NETEASE_MX, "4.0.0", "421 HL:ICC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "toomanyconn", SOFT, NETEASE, "CONN"),
    C(NETEASE_MX, "4.0.0", "421 HL:IFC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "speeding", SOFT, NETEASE, "CONN"),
    C(NETEASE_MX, "4.0.0", "421 HL:REP 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "blocked", SOFT, NETEASE, "CONN"),
    C(NETEASE_MX, "4.0.0", "450 DT:RBL 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "blocked", SOFT, NETEASE, "CONN"),
    C(NETEASE_MX, "4.0.0", "451 MI:SFQ 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "speeding", SOFT, NETEASE, "MAIL"),
    C(NETEASE_MX, "4.0.0", "450 RP:DRC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "toomanyconn", SOFT, NETEASE, "RCPT"),
    C(NETEASE_MX, "5.0.0", "552 Requested mail action aborted: exceeded mailsize limit", "mesgtoobig", SOFT,
      NETEASE, "DATA"),
    # ------------------------------------------------------------ Japanese carriers
    C(DOCOMO_MX, "5.0.0", "550 Unknown user a@docomo.ne.jp", "userunknown", HARD, DOCOMO, "RCPT"),
    C(DOCOMO_MX, "5.0.0", "550 Unknown user a@docomo.ne.jp", "rejected", SOFT, DOCOMO, "DATA"),
    C(DOCOMO_MX, "5.0.0", "550 Unknown user a@docomo.ne.jp (in reply to RCPT TO command)", "userunknown", HARD,
      f"{DOCOMO} (Postfix names the command in the text)", "RCPT"),
    C(DOCOMO_MX, "5.0.0", "SMTP error from remote mail server after RCPT TO:<a@docomo.ne.jp>: 550 Unknown user "
      "a@docomo.ne.jp", "userunknown", HARD, f"{DOCOMO} (Exim names the command in the text)", "RCPT"),
    C(DOCOMO_MX, "5.0.0", "550 Unknown user a@docomo.ne.jp (in reply to end of DATA command)", "rejected", SOFT,
      f"{DOCOMO} (after DATA: its sender filter)", "DATA"),
    C(DOCOMO_MX, "5.2.0", "550 Unknown user a@docomo.ne.jp", "filtered", SOFT, DOCOMO, "DATA"),
    C(DOCOMO_MX, "5.0.0", "552 too many recipients", "toomanyconn", SOFT, DOCOMO, "RCPT"),
    C(KDDI_MX, "5.0.0", "550 <a@ezweb.ne.jp>: User unknown", "userunknown", HARD,
      f"{KDDI}; note.com/sendmagic 'SMTP応答コードについて【au編】' (550 <...>: User unknown)", "RCPT"),
    C(KDDI_MX, "5.0.0", "550 : User unknown", "filtered", SOFT, KDDI, "DATA"),
    C(SOFTBANK_MX, "5.0.0", "550 Invalid recipient: <a@i.softbank.jp>", "userunknown", HARD,
      f"{SOFTBANK}: note.com/sendmagic 'SMTP応答コードについて【SoftBank編】' (550 Invalid recipient)", "RCPT"),
    C(SOFTBANK_MX, "5.0.0", "553 example.com does not exist", "rejected", SOFT,
      f"{SOFTBANK}: the envelope sender's domain has no DNS record (553 ... does not exist)", "MAIL"),
    # ------------------------------------------------------------ Comcast / Cox / Spectrum / AT&T / Verizon
    C(COMCAST_MX, "5.0.0", "554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 192.0.2.1 found on one "
      "or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000010", "blocked", SOFT, COMCAST, "CONN"),
    C(COMCAST_MX, "5.0.0", "554 resimta-po-01v.sys.comcast.net 192.0.2.1 found on one or more DNSBLs, see "
      "http://postmaster.comcast.net/smtp-error-codes.php#BL000000", "blocked", SOFT, COMCAST, "CONN"),
    C(COMCAST_MX, "5.0.0", "554 resimta-po-01v.sys.comcast.net comcast 192.0.2.1 Comcast block for spam.  Please see "
      "http://postmaster.comcast.net/smtp-error-codes.php#ES000010", "blocked", SOFT, COMCAST, "CONN"),
    C(COMCAST_MX, "4.0.0", "421 resimta-po-01v.sys.comcast.net 192.0.2.1 rate limited, see "
      "http://postmaster.comcast.net/smtp-error-codes.php#RL000001", "speeding", SOFT, COMCAST, "MAIL"),
    C(COMCAST_MX, "5.1.1", "550 5.1.1 <a@comcast.net> Not our Customer", "userunknown", HARD, COMCAST, "RCPT"),
    C(COMCAST_MX, "4.0.0", "421 Too many sessions opened", "toomanyconn", SOFT, COMCAST, "CONN"),
    C(COMCAST_MX, "4.0.0", "421 Reverse DNS failure : Try again later", "requireptr", SOFT, COMCAST, "CONN"),
    C(COX_MX, "5.0.0", "554 cxr.mx.a.cloudfilter.net cox.net 192.0.2.1 IP=192.0.2.1 - A problem occurred. "
      "(Ask your postmaster for help or to contact neblock@cox.net to clarify.) AUP#CXBL", "blocked", SOFT, COX, "CONN"),
    C(COX_MX, "4.0.0", "421 cox.net too many connections from 192.0.2.1 AUP#CXCNCT", "toomanyconn", SOFT, COX, "CONN"),
    C(COX_MX, "5.0.0", "554 cox.net 192.0.2.1 rejected - no rDNS AUP#CXDNS", "requireptr", SOFT, COX, "CONN"),
    C(COX_MX, "5.0.0", "550 cox.net 192.0.2.1 sender rejected AUP#CXSNDR", "authfailure", SOFT, COX, "MAIL"),
    C(COX_MX, "5.1.1", "550 5.1.1 <a@cox.net> recipient rejected", "userunknown", HARD, COX, "RCPT"),
    C(CHARTER_MX, "5.7.1", "554 5.7.1 Your IP address has been blocked due to suspicious activity. AUP#I-1000",
      "blocked", SOFT, SPECTRUM, "CONN"),
    C(CHARTER_MX, "4.0.0", "421 4.7.0 Too many concurrent connections from your IP. AUP#In-1310",
      "toomanyconn", SOFT, SPECTRUM, "CONN"),
    C(CHARTER_MX, "5.3.4", "552 5.3.4 Message is larger than the maximum size. AUP#O-1530", "mesgtoobig", SOFT, SPECTRUM, "DATA"),
    C(ATT_MX, "5.3.0", "553 5.3.0 flpd575 DNSBL:RBL 521< 192.0.2.1 >_is_blocked.For assistance forward this error to "
      "abuse_rbl@abuse-att.net", "blocked", SOFT, ATT, "CONN"),
    C(ATT_MX, "5.7.1", "550 5.7.1 Connections not accepted from servers without a valid sender domain.flph829 Fix "
      "reverse DNS for 192.0.2.1", "requireptr", SOFT, ATT, "CONN"),
    C(BELLSOUTH_MX, "5.0.0", "550 [suspend] Mailbox currently suspended--Please contact correspondent directly.",
      "suspend", SOFT, ATT, "RCPT"),
    C(BELLSOUTH_MX, "5.0.0", "550 [permfail] bellsouth.net requires valid sender domain", "rejected", SOFT, ATT, "MAIL"),
    C(BELLSOUTH_MX, "4.0.0", "421-failure in DNS look-up.", "requireptr", SOFT, ATT, "CONN"),
    C(BELLSOUTH_MX, "5.0.0", "550 <192.0.2.1> blocked by ldap:ou=rblmx,dc=bellsouth,dc=net", "blocked", SOFT, ATT, "CONN"),
    C(VERIZON_MX, "5.1.1", "550 5.1.1 unknown or illegal alias: a@verizon.net", "userunknown", HARD, VERIZON, "RCPT"),
    C(VERIZON_MX, "5.0.0", "571 Email from 192.0.2.1 is currently blocked by Verizon Online's anti-spam system. The "
      "email sender or Email Service Provider may visit http://www.verizon.net/whitelist and request removal of the block.",
      "blocked", SOFT, VERIZON, "CONN"),
    # ------------------------------------------------------------ Yahoo / AOL
    C(YAHOO_MX, "5.0.0", "554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] - "
      "mta1010.mail.ne1.yahoo.com", "userunknown", HARD, YAHOO, "DATA"),
    C(YAHOO_MX, "5.0.0", "552 1 Requested mail action aborted, mailbox not found", "userunknown", HARD, YAHOO, "RCPT"),
    C(YAHOO_MX, "5.0.0", "554 delivery error: dd Sorry your message to a@yahoo.com cannot be delivered. This account has "
      "been disabled or discontinued [#102]. - mta1010.mail.ne1.yahoo.com", "suspend", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.7.9", "554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes",
      "policyviolation", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.7.9", "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all "
      "senders to authenticate with either SPF or DKIM.", "authfailure", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.7.2", "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT "
      "succeed. See https://postmaster.yahooinc.com/error-codes", "blocked", SOFT, YAHOO, "CONN"),
    C(YAHOO_MX, "5.7.1", "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in "
      "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", "blocked", SOFT, YAHOO, "CONN"),
    C(YAHOO_MX, "4.0.0", "451 Message temporarily deferred due to unresolvable RFC.5321 from domain; see "
      "https://postmaster.yahooinc.com/error-codes", "rejected", SOFT, YAHOO, "MAIL"),
    C(AOL_MX, "5.7.1", "554 5.7.1 RLY:B1 http://postmaster.info.aol.com/errors/554rlyb1.html", "blocked", SOFT, AOL, "CONN"),
    C(AOL_MX, "4.7.1", "421 4.7.1 : (DYN:T1) http://postmaster.info.aol.com/errors/421dynt1.html", "blocked", SOFT, AOL, "CONN"),
    C(AOL_MX, "5.0.0", "554 RTR:DU http://postmaster.info.aol.com/errors/554rtrdu.html", "blocked", SOFT, AOL, "CONN"),
    C(AOL_MX, "5.0.0", "554 HVU:B1 http://postmaster.info.aol.com/errors/554hvub1.html", "blocked", SOFT, AOL, "CONN"),
    C(AOL_MX, "4.0.0", "421 DNS:NR http://postmaster.info.aol.com/errors/421dnsnr.html", "requireptr", SOFT, AOL, "CONN"),
    C(AOL_MX, "4.0.0", "421 CON:B1 http://postmaster.info.aol.com/errors/421conb1.html", "toomanyconn", SOFT, AOL, "CONN"),
    # ------------------------------------------------------------ Apple iCloud
    C(APPLE_MX, "5.1.1", "550 5.1.1 <a@icloud.com>: inactive email address", "userunknown", HARD, APPLE, "RCPT"),
    C(APPLE_MX, "5.1.1", "550 5.1.1 <a@icloud.com>: user does not exist", "userunknown", HARD, APPLE, "RCPT"),
    C(APPLE_MX, "5.2.2", "552 5.2.2 <a@icloud.com>: user is over quota", "mailboxfull", SOFT, APPLE, "RCPT"),
    C(APPLE_MX, "5.7.1", "554 5.7.1 [CS01] Message rejected due to local policy. Please visit "
      "https://support.apple.com/en-us/HT204137", "policyviolation", SOFT, APPLE, "DATA"),
    C(APPLE_MX, "5.7.1", "554 5.7.1 [HM08] Message rejected due to local policy. Please visit "
      "https://support.apple.com/en-us/HT204137", "policyviolation", SOFT, APPLE, "DATA"),
    C(APPLE_MX, "4.7.0", "421 4.7.0 Message rejected due to excessive volume", "speeding", SOFT, APPLE, "DATA"),
    # ------------------------------------------------------------ Microsoft
    C(MS_MX, "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "userunknown", HARD, MS, "RCPT"),
    C(MS_MX, "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
      "userunknown", HARD, MS, "RCPT"),
    C(MS_MX, "5.4.1", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN1NAM02FT022.eop-nam02.prod."
      "protection.outlook.com]", "userunknown", HARD, MS, "RCPT"),
    C(MS_MX, "5.7.1", "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal "
      "from this list see https://www.spamhaus.org/query/ip/192.0.2.1 AS(1442)", "blocked", SOFT, MS, "CONN"),
    C(MS_MX, "5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list "
      "please visit https://sender.office.com/ and follow the directions.", "blocked", SOFT, MS, "CONN"),
    C(MS_MX, "5.7.509", "550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a "
      "DMARC policy of reject.", "authfailure", SOFT, MS, "DATA"),
    C(MS_MX, "5.7.23", "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
      "authfailure", SOFT, MS, "DATA"),
    C(MS_MX, "5.2.2", "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
      "mailboxfull", SOFT, MS, "DATA"),
    C(MS_MX, "5.7.124", "550 5.7.124 Sender not in allowed-senders list", "rejected", SOFT, MS, "RCPT"),
    C(MS_MX, "5.4.14", "554 5.4.14 Hop count exceeded - possible mail loop ATTR34", "networkerror", SOFT, MS, "DATA"),
    C(MS_MX, "5.3.4", "552 5.3.4 Message size exceeds fixed maximum message size", "mesgtoobig", SOFT, MS, "DATA"),
    C(MS_MX, "5.2.1", "550 5.2.1 Mailbox cannot be accessed", "suspend", SOFT, MS, "RCPT"),
    C(MS_MX, "5.7.504", "550 5.7.504 Recipient address rejected: Access denied", "userunknown", HARD,
      f"{MS} (5.7.504: the recipient address isn't valid; verify it)", "RCPT"),
    C(MS_MX, "5.7.513", "550 5.7.513 Service unavailable, Client host [192.0.2.1] blocked by example.com using Customer "
      "Block list (AS16012607)", "blocked", SOFT, MS, "CONN"),
    C(MS_MX, "5.7.507", "550 5.7.507 Access denied, rejected by recipient", "blocked", SOFT, MS, "CONN"),
    C(MS_MX, "5.7.515", "550 5.7.515 Access denied, sending domain example.com doesn't meet the required authentication "
      "level.", "authfailure", SOFT, MS, "DATA"),
    C(MS_MX, "5.7.750", "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains",
      "rejected", SOFT, MS, "MAIL"),
    C(MS_MX, "5.4.300", "550 5.4.300 Message expired", "expired", SOFT, MS),
    C(OUTLOOK_MX, "5.5.0", "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
      "[DB3EUR04FT052.eop-eur04.prod.protection.outlook.com]", "userunknown", HARD, OUTLOOK, "RCPT"),
    C(OUTLOOK_MX, "5.7.1", "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet "
      "service provider since part of their network is on our block list (S3150). You can also refer your provider to "
      "http://mail.live.com/mail/troubleshooting.aspx#errors.", "blocked", SOFT, OUTLOOK, "CONN"),
    C(OUTLOOK_MX, "5.0.0", "550 SC-001 (BAY004-MC3F21) Unfortunately, messages from 192.0.2.1 weren't sent. Please "
      "contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP "
      "ranges.", "blocked", SOFT, OUTLOOK, "CONN"),
    C(OUTLOOK_MX, "4.0.0", "421 RP-001 (BAY004-MC1F3) Unfortunately, some messages from 192.0.2.1 weren't sent. Please "
      "try again. We have limits for how many messages can be sent per hour and per day.", "speeding", SOFT, OUTLOOK, "MAIL"),
    # ------------------------------------------------------------ Gmail
    C(GOOGLE_MX, "5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 "
      "double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. "
      "https://support.google.com/mail/?p=NoSuchUser", "userunknown", HARD, GMAIL, "RCPT"),
    C(GOOGLE_MX, "5.2.2", "552-5.2.2 The email account that you tried to reach is over quota. Please direct 552-5.2.2 "
      "the recipient to https://support.google.com/mail/?p=OverQuotaPerm", "mailboxfull", SOFT, GMAIL, "RCPT"),
    C(GOOGLE_MX, "5.2.1", "550-5.2.1 The email account that you tried to reach is disabled.", "suspend", SOFT, GMAIL, "RCPT"),
    C(GOOGLE_MX, "4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your "
      "message at a later time.", "speeding", SOFT, GMAIL, "RCPT"),
    C(GOOGLE_MX, "4.7.28", "421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your "
      "IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.",
      "blocked", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.26", "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC "
      "policy.", "authfailure", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.1", "550-5.7.1 Our system has detected that this message is likely unsolicited mail.",
      "spamdetected", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.0", "552-5.7.0 This message was blocked because its content presents a potential 552-5.7.0 "
      "security issue.", "policyviolation", SOFT, f"{GMAIL} (its content and attachment guidelines: a policy refusal, "
      "as tests/test_source_wordings.py reads it)", "DATA"),
    C(GOOGLE_MX, "5.7.25", "550-5.7.25 The IP address sending this message does not have a PTR record setup.",
      "requireptr", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "4.7.0", "421-4.7.0 TLS required for RCPT domain, closing connection.", "securityerror", SOFT, GMAIL, "RCPT"),
    C(GOOGLE_MX, "5.1.2", "553-5.1.2 We weren't able to find the recipient domain. Please check for any spelling errors.",
      "hostunknown", HARD, GMAIL, "RCPT"),
    C(GOOGLE_MX, "5.7.1", "550-5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited "
      "the mail that you sent.", "policyviolation", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "4.7.0", "421-4.7.0 This message is suspicious due to the very low reputation of the sending IP address.",
      "badreputation", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.6.0", "554-5.6.0 Mail message is malformed. Not accepted.", "notcompliantrfc", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.1", "550-5.7.1 The IP you're using to send mail is not authorized to send email directly to our "
      "servers. Please use the SMTP relay at your service provider instead.", "blocked", SOFT, GMAIL, "RCPT"),
    # ------------------------------------------------------------ filtering services
    C(PROOFPOINT_MX, "5.7.0", "554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
      "blocked", SOFT, PROOFPOINT, "CONN"),
    C(PROOFPOINT_MX, "5.1.1", "550 5.1.1 User Unknown", "userunknown", HARD, PROOFPOINT, "RCPT"),
    C(MIMECAST_MX, "5.0.0", "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
      "userunknown", HARD, MIMECAST, "RCPT"),
    C(MIMECAST_MX, "5.0.0", "550 Rejected by header based Blocked Senders - block policy for Header From - "
      "https://community.mimecast.com/docs/DOC-1369#550", "rejected", SOFT, MIMECAST, "DATA"),
    C(MIMECAST_MX, "5.0.0", "550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550",
      "rejected", SOFT, MIMECAST, "MAIL"),
    C(MIMECAST_MX, "5.0.0", "554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554",
      "virusdetected", SOFT, MIMECAST, "DATA"),
    C(MIMECAST_MX, "5.0.0", "550 Local CT IP Reputation - (reject) https://community.mimecast.com/docs/DOC-1369#550",
      "badreputation", SOFT, MIMECAST, "CONN"),
    C(MIMECAST_MX, "4.0.0", "421 Sender address blocked - https://community.mimecast.com/docs/DOC-1369#421",
      "blocked", SOFT, MIMECAST, "CONN"),
    C(MIMECAST_MX, "5.0.0", "554 Maximum email size exceeded - https://community.mimecast.com/docs/DOC-1369#554",
      "mesgtoobig", SOFT, MIMECAST, "DATA"),
    C(BARRACUDA_MX, "5.1.1", "550 cuda_nsu 5.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual "
      "mailbox table", "userunknown", HARD, BARRACUDA, "RCPT"),
    C(BARRACUDA_MX, "5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; "
      "http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1", "blocked", SOFT, BARRACUDA, "CONN"),
    C(MESSAGELABS_MX, "5.1.1", "550-Invalid recipient <a@example.org> 550 (#5.1.1)", "userunknown", HARD, MESSAGELABS, "RCPT"),
    C(MESSAGELABS_MX, "5.0.0", "553 Recipient mailbox is not allowed", "userunknown", HARD, MESSAGELABS, "RCPT"),
    C(MESSAGELABS_MX, "5.0.0", "553-Sorry, your email address has been blacklisted. Please contact the recipient by other "
      "means.", "rejected", SOFT, MESSAGELABS, "MAIL"),
    C(MESSAGELABS_MX, "5.7.1", "553 sorry, your envelope sender is in my badmailfrom list. Please visit "
      "www.symanteccloud.com/troubleshooting for more details about this error message and instructions to resolve "
      "this issue. (#5.7.1)", "rejected", SOFT, MESSAGELABS, "MAIL"),
    C(MESSAGELABS_MX, "5.0.0", "553-mail rejected because your IP is in the PBL. See http://www.spamhaus.org/pbl",
      "blocked", SOFT, MESSAGELABS, "CONN"),
    C(MESSAGELABS_MX, "5.0.0", "501 Connection rejected by policy [7.7] 20805, please visit www.messagelabs.com/support "
      "for more details about this error message.", "badreputation", SOFT, MESSAGELABS, "CONN"),
    C(MESSAGELABS_MX, "5.0.0", "553-SPF (Sender Policy Framework) domain authentication fail.", "authfailure", SOFT,
      MESSAGELABS, "MAIL"),
    C(MESSAGELABS_MX, "5.0.0", "553 DMARC domain authentication fail", "authfailure", SOFT, MESSAGELABS, "DATA"),
    C(MESSAGELABS_MX, "4.7.1", "451 TLS/SSLv3 Connection required. (#4.7.1)", "securityerror", SOFT, MESSAGELABS, "RCPT"),
    C(MESSAGELABS_MX, "5.1.8", "550 sender envelope domain not allowed for sender IP address (#5.1.8)", "rejected", SOFT,
      MESSAGELABS, "MAIL"),
    C(MESSAGELABS_MX, "5.0.0", "553 You are trying to use me [server-1.tower-1.messagelabs.com] as a relay, but I have not "
      "been configured to let you [192.0.2.1, s@example.com] do this.", "norelaying", SOFT, MESSAGELABS, "RCPT"),
    C(MESSAGELABS_MX, "4.0.0", "452 Too many recipients received this hour", "speeding", SOFT, MESSAGELABS, "RCPT"),
    C(ZOHO_MX, "5.1.1", "550 5.1.1 User does not exist - <a@zoho.com>", "userunknown", HARD, ZOHO, "RCPT"),
    C(ZOHO_MX, "5.7.1", "550 5.7.1 Email rejected per SPF policy", "authfailure", SOFT, ZOHO, "DATA"),
    C(ZOHO_MX, "5.2.2", "552 5.2.2 Mailbox size limit exceeded", "mailboxfull", SOFT, ZOHO, "RCPT"),
    C(PROTON_MX, "5.1.1", "550 5.1.1 <a@proton.me>: Recipient address rejected: Address does not exist", "userunknown",
      HARD, PROTON, "RCPT"),
    C(FASTMAIL_MX, "5.1.1", "550 5.1.1 <a@fastmail.com>: Recipient address rejected: User unknown in virtual alias table",
      "userunknown", HARD, "Fastmail (messagingengine.com, Postfix front end): unknown recipient", "RCPT"),
    C(RACKSPACE_MX, "4.0.0", "421 Too many concurrent connections from this client (G2)", "toomanyconn", SOFT,
      RACKSPACE, "CONN"),
    C(GODADDY_MX, "5.0.0", "554 p3plibsmtp01-11.prod.phx3.secureserver.net bizsmtp IB104 192.0.2.1 Connection refused. "
      "Your IP address has been blocked by our system.", "blocked", SOFT, GODADDY, "CONN"),
    C(GODADDY_MX, "5.1.1", "550 5.1.1 <a@example.net> Recipient not found. <https://godaddy.com/help?articleId=3568>",
      "userunknown", HARD, GODADDY, "RCPT"),
    # ------------------------------------------------------------ more of the same pages
    C(YAHOO_MX, "5.0.0", "554 Message not allowed - [PH01] Email not accepted for policy reasons. Please visit "
      "https://postmaster.yahooinc.com/error-codes", "policyviolation", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.0.0", "550 relaying denied for <a@yahoo.com>", "norelaying", SOFT, YAHOO, "RCPT"),
    C(YAHOO_MX, "4.0.0", "450 User is receiving mail too quickly", "speeding", SOFT, YAHOO, "RCPT"),
    C(YAHOO_MX, "4.0.0", "421 Max message per connection reached, closing transmission channel", "toomanyconn", SOFT,
      YAHOO, "MAIL"),
    C(YAHOO_MX, "5.0.0", "554 delivery error: dd a@yahoo.com is no longer valid. [-20] - mta1010.mail.ne1.yahoo.com",
      "suspend", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.0.0", "554 30 Sorry, your message to a@aol.jp cannot be delivered. This mailbox is disabled (554.30)",
      "suspend", SOFT, YAHOO, "DATA"),
    C(YAHOO_MX, "5.7.1", "553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see "
      "http://postmaster.yahoo.com/errors/550-bl23.html [550]", "blocked", SOFT, YAHOO, "CONN"),
    C(AOL_MX, "5.0.0", "550 MAILBOX NOT FOUND", "userunknown", HARD,
      "postmaster.aol.com/trouble/mailer.html (AOL Mailer-Daemon errors)", "RCPT"),
    C(APPLE_MX, "5.1.1", "550 5.1.1 unknown or illegal alias: a@icloud.com", "userunknown", HARD, APPLE, "RCPT"),
    C(APPLE_MX, "5.1.6", "550 5.1.6 recipient no longer on server: a@icloud.com", "hasmoved", HARD, APPLE, "RCPT"),
    C(APPLE_MX, "5.7.1", "554 5.7.1 Your message was rejected due to example.com's DMARC policy. See "
      "https://support.apple.com/en-us/HT204137 for", "authfailure", SOFT, APPLE, "DATA"),
    C(APPLE_MX, "5.7.1", "550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus SBL. For details "
      "please see http://www.spamhaus.org/query/bl?ip=192.0.2.1", "blocked", SOFT, APPLE, "CONN"),
    C(APPLE_MX, "4.7.1", "421 4.7.1 Messages to a@icloud.com deferred due to excessive volume. Try again later - "
      "https://support.apple.com/en-us/HT204137", "speeding", SOFT, APPLE, "RCPT"),
    C(APPLE_MX, "5.7.1", "554 5.7.1 <a@icloud.com>: Relay access denied", "norelaying", SOFT, APPLE, "RCPT"),
    C(APPLE_MX, "5.0.0", "554 p01-smtpin001.me.com ESMTP not accepting connections", "blocked", SOFT, APPLE, "CONN"),
    C(MS_MX, "5.7.133", "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery "
      "restriction check failed because the sender was not authenticated when sending to this group", "rejected", SOFT,
      MS, "RCPT"),
    C(MS_MX, "5.7.64", "550 5.7.64 TenantAttribution; Relay Access Denied", "norelaying", SOFT, MS, "RCPT"),
    C(MS_MX, "5.7.57", "530 5.7.57 Client was not authenticated to send anonymous mail during MAIL FROM",
      "securityerror", SOFT, MS, "MAIL"),
    C(MS_MX, "5.7.501", "550 5.7.501 Access denied, spam abuse detected", "rejected", SOFT, MS, "MAIL"),
    C(MS_MX, "5.7.510", "550 5.7.510 Access denied, domain does not accept email over IPv6", "blocked", SOFT, MS, "CONN"),
    C(MS_MX, "5.2.2", "550 5.2.2 Submission quota exceeded", "speeding", SOFT, MS, "MAIL"),
    C(MS_MX, "5.1.90", "550 5.1.90 Your message can't be sent because you've reached your daily limit for message "
      "recipients", "speeding", SOFT, MS, "RCPT"),
    C(DOCOMO_MX, "5.1.1", "550 Unknown user a@docomo.ne.jp", "userunknown", HARD, DOCOMO, "RCPT"),
    C(COMCAST_MX, "5.0.0", "554 resimta-po-01v.sys.comcast.net comcast 192.0.2.1 Comcast requires that all mail servers "
      "must have a PTR record with a valid Reverse DNS entry. Learn more at "
      "http://postmaster.comcast.net/smtp-error-codes.php#554", "requireptr", SOFT, COMCAST, "CONN"),
    C(COMCAST_MX, "5.2.2", "552 5.2.2 <a@comcast.net> mailbox full", "mailboxfull", SOFT, COMCAST, "RCPT"),
    C(COX_MX, "4.0.0", "421 cox.net cox too many bad commands from 192.0.2.1", "blocked", SOFT,
      "cox.com/business/support/email-error-codes.html", "CONN"),
    C(COX_MX, "5.0.0", "550 cox.net 192.0.2.1 rejected - attachment extension is forbidden", "policyviolation", SOFT,
      "cox.com/business/support/email-error-codes.html", "DATA"),
    C(GMX_MX, "5.0.0", "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit "
      "https://postmaster.gmx.net/en/case?c=hi&i=ip&v=192.0.2.1&r=0MAbCd", "policyviolation", SOFT, GMX, "DATA"),
    C(YANDEX_MX, "5.3.4", "552 5.3.4 Message too big for system", "mesgtoobig", SOFT, YANDEX, "DATA"),
    C(MIMECAST_MX, "4.0.0", "451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451",
      "norelaying", SOFT, MIMECAST, "RCPT"),
    C(MIMECAST_MX, "5.0.0", "550 Anti-Spoofing policy - Inbound not allowed - https://community.mimecast.com/docs/DOC-1369#550",
      "policyviolation", SOFT, MIMECAST, "MAIL"),
    C(MIMECAST_MX, "4.0.0", "451 IP Temporarily Blacklisted - https://community.mimecast.com/docs/DOC-1369#451",
      "blocked", SOFT, MIMECAST, "CONN"),
    C(MIMECAST_MX, "5.0.0", "553 This route requires encryption (TLS) - https://community.mimecast.com/docs/DOC-1369#553",
      "securityerror", SOFT, MIMECAST, "MAIL"),
    C(MESSAGELABS_MX, "5.6.2", "553 Stray linefeeds in message (#5.6.2)", "contenterror", SOFT, MESSAGELABS, "DATA"),
    C(MESSAGELABS_MX, "5.0.0", "553-Message Filtered", "spamdetected", SOFT, MESSAGELABS, "DATA"),
    C(NETEASE_MX, "4.0.0", "421 HL:MEP 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "blocked", SOFT, NETEASE, "CONN"),
    C(NETEASE_MX, "4.0.0", "451 MI:DMC 163 mx14 http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.1",
      "toomanyconn", SOFT, NETEASE, "DATA"),
    C(YAHOO_MX, "5.0.0", "552 1 Requested mail action aborted, mailbox not found", "userunknown", HARD,
      f"{YAHOO} (the same answer at the end of DATA)", "DATA"),
    C(APPLE_MX, "5.1.1", "550 5.1.1 <a@icloud.com>: user does not exist", "userunknown", HARD,
      f"{APPLE} (no SMTP command known)"),
    C(APPLE_MX, "5.1.1", "550 5.1.1 unknown or illegal alias: a@icloud.com", "userunknown", HARD,
      f"{APPLE} (no SMTP command known)"),
    C(YAHOO_MX, "4.7.0", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
      "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", "rejected", SOFT,
      f"{YAHOO} (unusual traffic or complaints: the sender's mail refused for now)", "MAIL"),
    C(MS_MX, "4.3.2", "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing "
      "transmission channel", "toomanyconn", SOFT,
      "learn.microsoft.com Exchange Server 'Receive connectors' (MaxInboundConnection, MaxInboundConnectionPerSource)", "CONN"),
    C(OUTLOOK_MX, "4.7.650", "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP "
      "reputation. For e-mail delivery information, see https://postmaster.live.com (S775)", "badreputation", SOFT,
      OUTLOOK, "MAIL"),
    C(QQ_MX, "5.0.0", "550 SPF check failed. https://service.mail.qq.com/detail/122/72", "authfailure", SOFT, QQ, "MAIL"),
    C(QQ_MX, "5.0.0", "550 DMARC check failed. https://service.mail.qq.com/detail/122/72", "authfailure", SOFT, QQ, "DATA"),
    C(QQ_MX, "5.0.0", "552 Message too large. https://service.mail.qq.com/detail/122/168", "mesgtoobig", SOFT, QQ, "DATA"),
    C(QQ_MX, "5.0.0", "550 Connection frequency limited. https://service.mail.qq.com/detail/122/175", "toomanyconn", SOFT,
      QQ, "CONN"),
    C(QQ_MX, "5.0.0", "550 Mail is rejected by recipients [MDZNQ/9YKgCLOGTPuEW5JDlhGhA= IP: 192.0.2.1]. "
      "https://service.mail.qq.com/detail/122/92", "rejected", SOFT, QQ, "DATA"),
    C(QQ_MX, "5.0.0", "550 a@qq.com is a deactivated mailbox http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000742",
      "suspend", SOFT, QQ, "RCPT"),
    C(MS_MX, "5.6.11", "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, which cannot be sent "
      "via DATA and receiving system does not support BDAT", "contenterror", SOFT,
      "learn.microsoft.com 'Fix NDR error 550 5.6.11 in Exchange Online' (bare line feeds)", "DATA"),
    C(GOOGLE_MX, "5.7.1", "550-5.7.1 [192.0.2.1] Gmail has detected that this message is likely suspicious due to the very "
      "low reputation of the sending domain.", "badreputation", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.26", "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all "
      "senders to authenticate with either SPF or DKIM.", "authfailure", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.7.1", "550-5.7.1 Messages missing a valid address in From: header, or having no From: header, are not "
      "accepted.", "notcompliantrfc", SOFT, GMAIL, "DATA"),
    C(GOOGLE_MX, "5.2.1", "550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional "
      "messages from being delivered.", "speeding", SOFT, GMAIL, "RCPT"),
    C(GOOGLE_MX, "5.7.0", "530-5.7.0 Must issue a STARTTLS command first.", "securityerror", SOFT, GMAIL, "MAIL"),
    C(GOOGLE_MX, "5.5.2", "555-5.5.2 Syntax error.", "syntaxerror", SOFT, GMAIL, "MAIL"),
    C("msmx.au.com", "5.0.0", "550 <a@au.com>: User unknown", "userunknown", HARD, KDDI, "RCPT"),
    C(DOCOMO_MX, "5.0.0", "503 bad sequence of commands", "syntaxerror", SOFT, DOCOMO, "DATA"),
    # the same unknown-address answers with no SMTP command known (a relaying MTA's "Remote Server returned ...")
    C(SOFTBANK_MX, "5.0.0", "550 Invalid recipient: <a@i.softbank.jp>", "userunknown", HARD, SOFTBANK),
    C(GMX_MX, "5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD, GMX),
    C(WEBDE_MX, "5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", HARD, GMX),
    C(NETEASE_MX, "5.0.0", "550 User not found: a@163.com", "userunknown", HARD, NETEASE),
    C(MIMECAST_MX, "5.0.0", "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550", "userunknown", HARD,
      MIMECAST),
    C(MESSAGELABS_MX, "5.0.0", "550-Invalid recipient <a@example.org> 550 (#5.1.1)", "userunknown", HARD, MESSAGELABS),
    C(SES, "5.1.1", "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an "
      "invalid address. For more information about how to remove an address from the suppression list, see the "
      "Amazon SES Developer Guide: https://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppression-list.html",
      "userunknown", HARD, SESDOC),
]


# Near misses: a provider's code or wording from another host is not that provider's reading.
NEAR_MISSES = [
    ("554 DT:SPM 163 mx14,QMCowECpWEQ4gVBfAAAA--.1234S2 1599111111", "mx.example.net", "5.0.0"),
    ("421 HL:ICC 163 mx14", "mx.example.net", "4.0.0"),
    ("550 5.1.1 <a@example.org> recipient rejected", "mx.example.net", "5.1.1"),
    ("553 Recipient mailbox is not allowed", "mx.example.net", "5.0.0"),
    ("501 Connection rejected by policy [7.7] 20805", "mx.example.net", "5.0.0"),
    ("550 5.1.1 <a@example.org>: user does not exist", "mx.example.net", "5.1.1"),
    ("550 Invalid recipient: <a@example.org>", "mx.example.net", "5.0.0"),
    ("550 Requested action not taken: mailbox unavailable", "mx.example.net", "5.0.0"),
    ("550 User not found: a@example.org", "mx.example.net", "5.0.0"),
    ("550 Rejected by header based Blocked Senders - block policy for Header From", "mx.example.net", "5.0.0"),
]


@pytest.mark.parametrize("text, host, status", NEAR_MISSES)
def test_provider_words_from_another_host_are_not_its_reading(text, host, status):
    assert rules.provider(text, host, status) is None


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, marks=marks, id=f"{c.host.split('.')[-2] if '.' in c.host else c.host}-{c.reason}:{c.text[:40]}")


def test_table_is_large_and_cited():
    assert len(CASES) >= 120
    for c in CASES:
        assert c.reason in model.REASONS and c.type in (HARD, SOFT) and c.source and c.host
        if c.type == HARD:  # hard only for a dead address, never for a 4xx
            assert c.reason in model.HARD_REASONS and not c.status.startswith("4")


@pytest.mark.parametrize("case", list(_params()))
def test_provider_page(case: Case):
    r = run(case)
    assert (r.reason, r.type) == (case.reason, case.type), r.rule
