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


def _decide(result: model.Result) -> tuple[str, str]:
    if result.reason in model.REASONS and result.reason not in ("", "undefined"):
        return result.reason, result.rule or f"mta: {result.detector}"
    status = result.status
    by_status = _status.reason_for(status)
    if by_status and not _status.is_weak(status):
        return by_status, f"status {status}"
    text = result.diagnostic[:_MAX_TEXT]
    rule = _rules.match(text)
    if rule is not None:
        if rule.reason == "userunknown" and (
                (result.command == "DATA" and (not status or status[2] != "1"))
                or _status.generic(status) == "x.2.0"):
            # "user unknown" answered after DATA without an addressing status (x.1.x), or
            # with the mailbox-status code x.2.0, is a filter speaking: au/KDDI, docomo and
            # appliance sender filters answer so for addresses that exist
            return "filtered", "text: user unknown after DATA"
        if rule.reason == "hostunknown" and status.startswith("4"):
            # a temporary DNS failure (Gmail "DNS Error ... 4.0.0") is not a dead domain
            return "networkerror", "text: temporary DNS failure"
        return rule.reason, f"text: {rule.where.split(',')[0]}"
    if by_status:
        return by_status, f"status {status}"
    if result.action == "delayed":
        return "expired", "action delayed"
    code = result.reply_code
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
