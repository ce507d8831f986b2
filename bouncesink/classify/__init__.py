"""Fill `reason`, `type` and `rule` on a parsed Result.

Order of evidence, strongest first:
1. the report kind: complaint (ARF), auto-reply, success (Action delivered/relayed/expanded,
   status 2.x.x); a sending MTA's "still trying" words make a delay (classify() below);
2. a reason the MTA detector already established from MTA-specific wording (rule "mta: ..."),
   unless it is one the words may refine (Sisimai's retry list);
3. a provider's own words or codes for its own hosts (classify/providers.py), and the detail
   codes that name a cause exactly (Exchange Online's 5.7.606 ...; status.py);
4. per-recipient Status and the recipient's own diagnostic words together, in the class order
   of Sisimai's lib/sisimai/reason.rb: for each class, the words (classify/wordings.py) or a
   status naming it decide; the vague codes (x.0.0, 5.7.1, 5.1.1 sent for policy blocks...)
   yield to words, and a few classes (suspend, hasmoved, speeding ...) only words decide;
5. the words alone in a second order, then the vague status code, then the reply code, then
   "onhold" (words not recognised) / "undefined" (no words).
A cause-less temporary failure that the sending MTA retried until it gave up is `expired`.

Hard = evidence that the address itself is dead: userunknown, hostunknown or hasmoved from a
permanent (5xx) failure, and a permanent notaccept only on explicit evidence (status X.1.10,
reply 556 or 521, or a null-MX wording). A temporary failure (4xx) is never hard; sender-side
reasons never are, nor words answered to MAIL FROM (they are about the sender's address). When
the status code and the words disagree, `rule` says so.

The SMTP command a reply answered decides some readings ("user unknown" answered to DATA is a
filter's refusal); when the parser found none, the command is read from the diagnostic's own
words ("in reply to RCPT TO command", "after RCPT TO:<...>", ">>> DATA").

When the bounce carried no status at all, a pseudo status x.0.9NN (Sisimai's scheme) is set
from the reason so that status-less bounces still report a stable code.
"""

from __future__ import annotations

import re

from .. import model
from . import rules as _rules
from . import status as _status

_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
_MAX_TEXT = 2000  # diagnostic characters examined: bounded regex input


def _temporary(result: model.Result) -> bool:
    if result.status:
        return result.status[0] == "4"
    if result.reply_code:
        return result.reply_code[0] == "4"
    return result.action == "delayed"


# The command a reply answered, as MTAs quote it: Postfix "(in reply to RCPT TO command)",
# Exim "SMTP error from remote mail server after RCPT TO:<a>:" / "after end of data" /
# "after initial connection", Sendmail's transcript ">>> DATA", qmail-remote "... does not like
# recipient". The last one named is the one that failed (Sisimai lib/sisimai/smtp/command.rb
# reads the text the same way).
_COMMAND_RE = re.compile(
    r"\b(RCPT TO|MAIL FROM|DATA|EHLO|HELO|STARTTLS|AUTH)\b|after (end of data|initial connection|"
    r"pipelined|sending data block)|(does not like recipient|in reply to end of DATA|but greeting failed|"
    r"but my name was rejected|but sender was rejected|failed after I sent the message)|"
    r"\(state (6|8|9|12|13|14|15|17|18)\)")
# qmail-remote.c names the step in words: "Connected to %s but greeting failed.", "... but my
# name was rejected.", "... but sender was rejected.", "%s does not like recipient.", "%s
# failed after I sent the message."
_COMMAND_OF = {"RCPT TO": "RCPT", "MAIL FROM": "MAIL", "DATA": "DATA", "EHLO": "EHLO",
               "HELO": "HELO", "STARTTLS": "STARTTLS", "AUTH": "AUTH", "end of data": "DATA",
               "initial connection": "CONN", "pipelined": "", "sending data block": "DATA",
               "does not like recipient": "RCPT", "in reply to end of DATA": "DATA",
               "but greeting failed": "CONN", "but my name was rejected": "EHLO",
               "but sender was rejected": "MAIL", "failed after I sent the message": "DATA",
               # Gmail's older bounces end the remote's reply with "(state N)", the step of
               # its SMTP client (Sisimai lib/sisimai/lhost/gmail.rb StateTable)
               "6": "MAIL", "8": "AUTH", "9": "AUTH", "12": "AUTH", "13": "EHLO", "14": "RCPT",
               "15": "DATA", "17": "DATA", "18": "DATA"}


def command_of(result: model.Result) -> str:
    """The SMTP command the failure answered: the parser's, else the one the words name."""
    if result.command:
        return result.command.upper()
    last = ""
    for m in _COMMAND_RE.finditer(result.diagnostic[:_MAX_TEXT]):
        last = _COMMAND_OF.get(m.group(m.lastindex), "") or last
    return last


# The sending MTA's own "still trying" words: Exim's delay warning ("Delay reason:", "No action
# is required on your part"), Postfix's "Delayed Mail (still being retried)", Sendmail's
# "Warning: could not send message for past 4 hours" / "Will keep trying until message is 5
# days old", qmail's and Gmail's "will retry" / "Message will be retried", Exchange's
# "Delivery is delayed" / "has not been delivered yet". Never "delivery temporarily
# suspended" (Postfix writes it in final failures too).
_STILL_RETRYING = re.compile(
    r"delay reason:|no action is required on your part|still being retried|will keep trying|"
    r"could not send message for past|will (?:continue to )?(?:retry|be retried|try again)|"
    r"message will be retried|has not (?:yet )?been delivered yet|has not yet been delivered|"
    r"delivery (?:is|has been) delayed|this is (?:only )?a warning|warning: message .{0,80} delayed",
    re.I)


def _prefer_status(status: str, text: str) -> str:
    """A vague X.0.0 Status with a more specific code of the same class in the words: the
    words' code (Sisimai lib/sisimai/smtp/status.rb prefer(): "X.0.0" yields to the code in
    the message)."""
    if not status.endswith(".0.0"):
        return status
    said = _status.normalise(text[:_MAX_TEXT])
    if said and said[0] == status[0] and not said.endswith(".0.0"):
        return said
    return status


def classify(result: model.Result) -> model.Result:
    """Classify one result in place and return it."""
    action = (result.action or "").strip().lower()
    result.action = action
    result.status = _status.normalise(result.status)

    if result.reason == "feedback" or result.type == model.COMPLAINT:
        result.reason, result.type = "feedback", model.COMPLAINT
        result.rule = result.rule or "report: arf"
        return result
    if result.reason == "vacation" or result.type == model.AUTOREPLY:
        result.reason, result.type = "vacation", model.AUTOREPLY
        result.rule = result.rule or "report: auto-reply"
        return result
    if action in _SUCCESS_ACTIONS or result.status.startswith("2"):
        result.reason, result.type = "delivered", model.DELIVERED
        result.rule = f"action {action}" if action in _SUCCESS_ACTIONS else f"status {result.status}"
        return result

    result.status = _prefer_status(result.status, result.diagnostic)
    if action != "delayed" and result.status[:1] != "5" and result.reply_code[:1] != "5" \
            and _STILL_RETRYING.search(result.diagnostic[:_MAX_TEXT]):
        # a warning: the sending MTA says it keeps trying (not a failure yet)
        action = result.action = "delayed"
    reason, rule = _decide(result)
    result.reason, result.rule = reason, rule
    temporary = _temporary(result)
    if not result.status or result.status.endswith(".0.0") and reason not in ("undefined", "onhold"):
        pseudo = _status.pseudo(reason, temporary)
        if pseudo and not result.status:
            result.status = pseudo
    if action == "delayed":
        result.type = model.DELAY
    elif _dead(result, reason, rule, temporary):
        result.type = model.HARD
    else:
        result.type = model.SOFT
    return result


def _dead(result: model.Result, reason: str, rule: str, temporary: bool) -> bool:
    """Evidence that the address itself is dead (issue: hard only on evidence)."""
    if temporary or result.reply_code[:1] == "4":
        return False  # a 4xx is a "try again": never the end of an address
    if reason in model.HARD_REASONS:
        return True
    if reason == "notaccept":
        # RFC 7505 s.3-4: a null MX answers 5.1.10 / 556 (RFC 7504: 521, a host that accepts
        # no mail); otherwise the words must say so explicitly. A general "does not accept
        # mail" wording is not enough (it is said of attachments, senders, sizes), nor the
        # status X.3.2 "System not accepting network messages" (RFC 3463: a shutdown, load or
        # maintenance, the host's state), nor a provider's "not accepting" (said of a sending
        # server or a tenant's set-up); an MTA's own no-MX wording or an explicit null-MX /
        # no-MX statement is
        if result.status.endswith(".1.10") or result.reply_code in ("521", "556"):
            return True
        if rule.startswith(("status ", "provider: ")):
            return False
        return not rule.startswith("text: ") or rule.startswith(_STRONG_NOTACCEPT)
    return False


# Sisimai's decision order (lib/sisimai/reason.rb ClassOrder): first the reasons whose
# status code OR text decides (a text of an earlier class beats a status of a later one:
# "5.2.3 message too large" is mesgtoobig), then, when none did and the status is vague or
# a retry reason, the text alone in a second order, then the status, then onhold/undefined.
_ORDER_FIRST = (
    "mailboxfull", "mesgtoobig", "exceedlimit", "suspend", "hasmoved", "norelaying",
    "authfailure", "userunknown", "filtered", "requireptr", "notcompliantrfc", "badreputation",
    "rejected", "hostunknown", "spamdetected", "speeding", "toomanyconn",
    "blocked",
)
_ORDER_TEXT = (
    "mailboxfull", "authfailure", "badreputation", "speeding", "spamdetected", "virusdetected",
    "policyviolation", "norelaying", "systemerror", "networkerror", "suspend", "contenterror",
    "systemfull", "notaccept", "expired", "securityerror", "mailererror",
)
_ORDER_LAST = (
    "userunknown", "filtered", "rejected", "hostunknown", "spamdetected", "speeding",
    "toomanyconn", "blocked", "hasmoved", "syntaxerror", "onhold",
)
# Classes of the first pass that only words decide (Sisimai's suspend.rb, hasmoved.rb,
# norelaying.rb, notcompliantrfc.rb, badreputation.rb, speeding.rb test the text, not the
# status): a 4.2.1 with Gmail's "receiving mail at a rate that prevents additional messages"
# is a rate limit, not the suspended mailbox 4.2.1 alone would mean. Their status still
# counts after every text rule.
_WORDS_ONLY = frozenset({"suspend", "hasmoved", "norelaying", "notcompliantrfc", "badreputation", "speeding"})
# Reasons a detector or a status may give that the words can still refine (Sisimai's
# Reason.retry): a detector saying "userunknown" is overruled by "mailbox full" in the text.
_RETRY = frozenset({"undefined", "onhold", "systemerror", "securityerror", "expired", "suspend",
                    "networkerror", "hostunknown", "userunknown"})
# A status naming userunknown is not believed when the words name one of these (Sisimai's
# UserUnknown prematches: "5.1.1 ... Relay access denied" is norelaying).
_NOT_UNKNOWN = frozenset({"norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept",
                          "speeding", "toomanyconn", "suspend", "badreputation", "filtered"})
# Words that put the refusal on the sender (its address, its relay, its client host): a
# "does not exist" / "unknown" / "invalid" in the same reply is then about the sender's
# address, not the recipient's ("553 5.1.8 Domain of sender address s@example.com does not
# exist"): never a reason to call the recipient dead.
_SENDER_SAID = frozenset({"rejected", "norelaying", "blocked"})
# Reasons that say the recipient's address is dead, when they are about the recipient at all.
_ADDRESS_DEAD = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
# The rule text of the explicit null-MX wordings (hard evidence for notaccept).
_STRONG_NOTACCEPT = tuple(f"text: {r.label}" for r in _rules.RULES if r.strong and r.reason == "notaccept")


# What a temporary failure that was retried until the sender's MTA gave up says when its words
# name no cause of their own: the result is the expiry. Postfix reports such a message with
# `Action: failed` and the last deferral's 4.x.x Status and reply (it never writes
# "expired"); Exim appends "retry timeout exceeded" to the last reply.
_NAMES_NO_CAUSE = frozenset({"systemerror"})
_STATUS_NAMES_NO_CAUSE = frozenset({"securityerror", "filtered", "syntaxerror", "contenterror",
                                    "systemerror", "rejected"})


def _retried_until_expiry(result: model.Result) -> bool:
    if result.action == "failed" and (result.status[:1] == "4" or (
            not result.status and result.reply_code[:1] == "4")):
        return True
    return any(r.reason == "expired" for _, r in _rules.reasons(result.diagnostic[:_MAX_TEXT])) \
        and bool(_TEMP_REPLY_RE.search(result.diagnostic[:_MAX_TEXT]))


# a 4xx reply quoted in the words (the remote's answer to the last attempt)
_TEMP_REPLY_RE = re.compile(r"(?<![\d.])4[0-5]\d[ -](?:4\.\d{1,3}\.\d{1,3}\b)?")


def _decide(result: model.Result) -> tuple[str, str]:
    reason, rule = _decide_reason(result)
    if reason in _ADDRESS_DEAD and command_of(result) == "MAIL":
        # RFC 5321 s.3.3: MAIL FROM names the sender only, the recipients come after; a "user
        # unknown" / "domain not found" answered to it (a callout-verifying receiver) is the
        # sender's address
        reason, rule = "rejected", f"{rule}, answered to MAIL FROM (the sender's address)"
    if (reason in _NAMES_NO_CAUSE or (reason in _STATUS_NAMES_NO_CAUSE and rule.startswith("status"))) \
            and _retried_until_expiry(result):
        reason, rule = "expired", f"temporary failure retried until the queue lifetime ran out ({rule})"
    status = result.status
    by_status = _status.reason_for(status)
    if (by_status and by_status != reason and not rule.startswith("status")
            and not _status.is_weak(status) and reason not in ("onhold", "undefined")):
        rule += f" (status {status} reads {by_status})"  # code and words disagree: say so
    return reason, rule


def _decide_reason(result: model.Result) -> tuple[str, str]:
    given = result.reason if result.reason in model.REASONS and result.reason != "undefined" else ""
    given_rule = result.rule or f"mta: {result.detector}"
    if given and given not in _RETRY:
        return given, given_rule
    status = result.status
    text = result.diagnostic[:_MAX_TEXT]
    host = f"{result.remote_mta} {(result.recipient or '').rpartition('@')[2]}"
    command = command_of(result)
    special = _rules.provider(text, host, status, command)
    if special is not None:
        return special.reason, f"provider: {special.where.split(' (')[0]}"
    precise = _status.REASON_BY_FULL_STATUS.get(status)
    if precise:
        return precise, f"status {status}"  # a provider's own detail code says it exactly
    by_status = "" if status.endswith(".0.0") else _status.reason_for(status)
    early_status = "" if _status.generic(status) in _status.LATE else by_status
    found = dict(_rules.reasons(text))
    if command in ("CONN", "EHLO", "HELO") and set(found) <= {"rejected", "blocked"} and text.strip() \
            and (_rules.match(text) is not None or result.reply_code not in ("", "421")):
        # refused at the greeting or at HELO, before any address was given (RFC 5321 s.3.1): the
        # client is blocked, whether or not the words say why; a 421 "service not available"
        # says no more than that (Sisimai lib/sisimai/reason.rb reads a HELO/EHLO refusal so too)
        return "blocked", f"text: refused at {'connection' if command == 'CONN' else 'HELO'}"

    def text_rule(reason: str) -> str:
        return f"text: {found[reason].label}"

    for cls in _ORDER_FIRST:
        if cls == given:
            return given, given_rule
        if cls == "userunknown":
            if by_status == "userunknown":
                if not _NOT_UNKNOWN.intersection(found):
                    return cls, (text_rule(cls) if cls in found else f"status {status}")
            elif cls in found and (command == "RCPT" or found[cls].strong) \
                    and not _SENDER_SAID.intersection(found):
                # at RCPT, or in words only a recipient lookup writes (a recipient table, a
                # local delivery agent): whatever command is known
                return cls, text_rule(cls)
            continue
        if cls == "filtered":
            # "user unknown" not answered to RCPT (after DATA, or with no command known, even from
            # the words) is a filter speaking: au/KDDI, docomo and appliances answer so for
            # existing addresses (Sisimai lib/sisimai/reason/filtered.rb reads it so too)
            if by_status == "suspend":
                continue
            said = "userunknown" if "userunknown" in found else ("filtered" if "filtered" in found else "")
            if said and (by_status == "filtered" or command not in ("RCPT", "MAIL", "CONN", "EHLO", "HELO")
                         or (said == "filtered" and by_status == "userunknown")):
                # the filter's own words beside a 5.1.1 (Google Groups: "may not exist, or you may
                # not have permission to post") are the filter's, whatever the command
                return cls, ("text: user unknown not answered to RCPT (a filter)" if said == "userunknown"
                             else text_rule(said))
            if by_status == "filtered" and not found:
                return cls, f"status {status}"
            continue
        if cls == "mesgtoobig" and by_status == "exceedlimit":
            continue  # "552 5.2.3 Message length exceeds administrative limit" (Sisimai)
        if cls == "hostunknown" and ("notaccept" in found or (
                "networkerror" in found and ("try again" in text.lower() or status[:1] == "4"))):
            # "No MX found" is notaccept; "Host not found, try again" or a 4.x.x "MX lookup
            # failure" (Sendmail proto.m4) a DNS failure
            continue
        if cls in found:
            if cls == "hostunknown" and status.startswith("4"):
                # a temporary DNS failure (Gmail "DNS Error ... 4.0.0") is not a dead domain
                return "networkerror", "text: temporary DNS failure"
            return cls, text_rule(cls)
        if early_status == cls and cls not in _WORDS_ONLY:
            return cls, f"status {status}"

    if given:
        return given, given_rule
    if not by_status or by_status in _RETRY or _status.is_weak(status):
        for cls in _ORDER_TEXT:
            if cls in _NAMES_NO_CAUSE and by_status and not _status.is_weak(status):
                continue  # "local problem" names no cause; a specific status does (4.7.5: TLS)
            if cls in found:
                return cls, text_rule(cls)
        if text.lower().startswith("x-unix"):
            return "mailererror", "text: X-Unix diagnostic"
    if result.action == "delayed":
        return "expired", "action delayed"  # still queued, nothing more specific said
    if by_status:
        return by_status, f"status {status}"
    for cls in _ORDER_LAST:
        if cls in found:
            return cls, text_rule(cls)
    weak = _rules.match(text)
    if weak is not None:
        return weak.reason, f"text: {weak.label}"
    if result.action == "delayed":
        return "expired", "action delayed"
    code = result.reply_code
    if text.strip():
        return "onhold", "words not recognised"
    if code:
        by_reply = _REPLY.get(code)
        if by_reply:
            return by_reply, f"reply {code}"
    if status.endswith(".0.0") and status[0] == "5" or code[:1] == "5":
        return "onhold", f"status {status or code}"
    return "undefined", "nothing recognised"


# SMTP reply codes (RFC 5321 s.4.2.3) that say something on their own.
_REPLY = {
    "421": "systemerror", "450": "systemerror", "451": "systemerror", "452": "systemfull",
    "500": "syntaxerror", "501": "syntaxerror", "502": "syntaxerror", "503": "syntaxerror",
    "504": "syntaxerror", "521": "notaccept", "552": "mailboxfull", "553": "rejected",
    "556": "notaccept",
}
