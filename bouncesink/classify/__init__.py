"""Fill `reason`, `type` and `rule` on a parsed Result.

Order of evidence, strongest first:
1. the report kind: complaint (ARF), auto-reply, success (Action delivered/relayed/expanded,
   status 2.x.x);
2. a reason the MTA detector already established from MTA-specific wording (rule "mta: ...");
3. a specific enhanced status code (RFC 3463), e.g. 5.2.2 mailboxfull;
4. the diagnostic text rules (classify/rules.py), which also override vague codes
   (x.0.0, 5.7.1, 5.1.1 sent for policy blocks...);
5. the vague status code, then the SMTP reply code, then "undefined"/"onhold".

Hard = the address itself is dead: userunknown, hostunknown, hasmoved, and a permanent
notaccept (RFC 7505 null MX). Sender-side reasons are never hard.

When the bounce carried no status at all, a pseudo status x.0.9NN (Sisimai's scheme) is set
from the reason so that status-less bounces still report a stable code.
"""

from __future__ import annotations

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

    reason, rule = _decide(result)
    result.reason, result.rule = reason, rule
    temporary = _temporary(result)
    if not result.status or result.status.endswith(".0.0") and reason not in ("undefined", "onhold"):
        pseudo = _status.pseudo(reason, temporary)
        if pseudo and not result.status:
            result.status = pseudo
    if action == "delayed":
        result.type = model.DELAY
    elif reason in model.HARD_REASONS or (reason == "notaccept" and not temporary):
        result.type = model.HARD
    else:
        result.type = model.SOFT
    return result


# Sisimai's decision order (lib/sisimai/reason.rb ClassOrder): first the reasons whose
# status code OR text decides (a text of an earlier class beats a status of a later one:
# "5.2.3 message too large" is mesgtoobig), then, when none did and the status is vague or
# a retry reason, the text alone in a second order, then the status, then onhold/undefined.
_ORDER_FIRST = (
    "mailboxfull", "mesgtoobig", "exceedlimit", "suspend", "hasmoved", "norelaying",
    "authfailure", "userunknown", "filtered", "requireptr", "notcompliantrfc", "badreputation",
    "contenterror", "rejected", "hostunknown", "spamdetected", "speeding", "toomanyconn",
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
# Reasons a detector or a status may give that the words can still refine (Sisimai's
# Reason.retry): a detector saying "userunknown" is overruled by "mailbox full" in the text.
_RETRY = frozenset({"undefined", "onhold", "systemerror", "securityerror", "expired", "suspend",
                    "networkerror", "hostunknown", "userunknown"})
# A status naming userunknown is not believed when the words name one of these (Sisimai's
# UserUnknown prematches: "5.1.1 ... Relay access denied" is norelaying).
_NOT_UNKNOWN = frozenset({"norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept"})


def _decide(result: model.Result) -> tuple[str, str]:
    given = result.reason if result.reason in model.REASONS and result.reason != "undefined" else ""
    given_rule = result.rule or f"mta: {result.detector}"
    if given and given not in _RETRY:
        return given, given_rule
    status = result.status
    text = result.diagnostic[:_MAX_TEXT]
    host = f"{result.remote_mta} {(result.recipient or '').rpartition('@')[2]}"
    special = _rules.provider(text, host, status)
    if special is not None:
        return special.reason, f"provider: {special.where}"
    precise = _status.REASON_BY_FULL_STATUS.get(status)
    if precise:
        return precise, f"status {status}"  # a provider's own detail code says it exactly
    by_status = "" if status.endswith(".0.0") else _status.reason_for(status)
    early_status = "" if _status.generic(status) in _status.LATE else by_status
    found = dict(_rules.reasons(text))
    command = result.command
    if command == "CONN" and set(found) <= {"rejected"} and _rules.match(text) is not None:
        # refused at the greeting, before any address was given: the client is blocked
        return "blocked", "text: refused at connection"

    def text_rule(reason: str) -> str:
        return f"text: {found[reason].where.split(',')[0]}"

    for cls in _ORDER_FIRST:
        if cls == given:
            return given, given_rule
        if cls == "userunknown":
            if by_status == "userunknown":
                if not _NOT_UNKNOWN.intersection(found):
                    return cls, (text_rule(cls) if cls in found else f"status {status}")
            elif command == "RCPT" and cls in found:
                return cls, text_rule(cls)
            continue
        if cls == "filtered":
            # "user unknown" not answered to RCPT (after DATA, or with no command known) is a
            # filter speaking: au/KDDI, docomo and appliances answer so for existing addresses
            if by_status == "suspend":
                continue
            said = "userunknown" if "userunknown" in found else ("filtered" if "filtered" in found else "")
            if said and (by_status == "filtered" or command not in ("RCPT", "MAIL")):
                return cls, ("text: user unknown not at RCPT" if said == "userunknown" else text_rule(said))
            if by_status == "filtered" and not found:
                return cls, f"status {status}"
            continue
        if cls == "mesgtoobig" and by_status == "exceedlimit":
            continue  # "552 5.2.3 Message length exceeds administrative limit" (Sisimai)
        if cls == "hostunknown" and ("notaccept" in found or (
                "networkerror" in found and "try again" in text.lower())):
            continue  # "No MX found" is notaccept, "Host not found, try again" a DNS failure
        if cls in found:
            if cls == "hostunknown" and status.startswith("4"):
                # a temporary DNS failure (Gmail "DNS Error ... 4.0.0") is not a dead domain
                return "networkerror", "text: temporary DNS failure"
            return cls, text_rule(cls)
        if early_status == cls:
            return cls, f"status {status}"

    if given:
        return given, given_rule
    if not by_status or by_status in _RETRY or _status.is_weak(status):
        for cls in _ORDER_TEXT:
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
        return weak.reason, f"text: {weak.where.split(',')[0]}"
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
