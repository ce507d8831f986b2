"""RFC 3834 automatic responses (vacation, out-of-office).

Signals, any one suffices when the message is not a bounce (a bounce from Exim also says
"Auto-Submitted: auto-replied", so the caller runs this after the bounce paths and we refuse
messages from MAILER-DAEMON/postmaster): Auto-Submitted: auto-replied (RFC 3834 s.5),
X-Autoreply / X-Autorespond (vacation(1), Zimbra), Precedence: auto_reply (Exchange),
X-Auto-Response-Suppress with an auto-reply subject (Exchange), and the out-of-office
subjects in the languages we receive. The auto-replier (From) is the recipient.
"""

from __future__ import annotations

import re
from email.message import Message

from ..model import KIND_AUTOREPLY, Result
from . import message as m

_SUBJECT_RE = re.compile(
    r"^(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|auto:|out of (?:the )?office|"
    r"abwesenheit|vacation|on vacation|away from|absence|r[ée]ponse automatique|"
    r"respuesta autom[áa]tica|risposta automatica|automatisch antwoord|自動応答|自動返信|不在)",
    re.I)
_DAEMON_RE = re.compile(r"mailer-daemon|postmaster|mail delivery|mdaemon|mail administrator", re.I)


def sniff(msg: Message) -> bool:
    if _DAEMON_RE.search(m.header(msg, "From")):
        return False
    auto = m.header(msg, "Auto-Submitted").lower()
    if auto.startswith("auto-replied") or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    if m.header(msg, "Precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    subject = m.header(msg, "Subject")
    return bool(_SUBJECT_RE.match(subject.strip()))


def parse_autoreply(msg: Message) -> tuple[str, list[Result]]:
    sender = m.clean_address(m.header(msg, "From")) or m.clean_address(m.header(msg, "Reply-To"))
    subject = m.header(msg, "Subject")
    return KIND_AUTOREPLY, [Result(recipient=sender or None, reason="vacation",
                                   diagnostic=subject[:300], detector="rfc3834")]
