"""An address's history as recorded: what `why` prints and `GET /v1/addresses/{a}` returns.

Only recorded decisions are shown. Each result carries the decision the policy recorded for
it (an event with its result id: suppress, count, reset, alert or ignore, with the rule that
chose it); a result recorded before decisions to ignore were stored has none, and says so
(`"decision": null`) rather than guessing what the policy would decide today. Manual
suppressions and unsuppressions come from their events, with the reason a person gave.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidi overrides/isolates (Trojan Source, CVE-2021-42574):
# text a stranger wrote must not move a terminal's cursor or reorder what a person reads.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str | None) -> str:
    """Printable text for a terminal: tab and newline as \\t and \\n (a diagnostic is one
    line on screen), other controls and bidi marks as \\xNN / \\uNNNN."""
    if not text:
        return ""
    text = text.replace("\n", "\\n").replace("\t", "\\t")
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def timeline(h: dict) -> dict:
    """The store's `history()` dict -> {email, suppressed, suppression, history}.

    `history` is oldest first; each item is a bounce (`kind: "result"`, with its recorded
    `decision` or null) or a decision made without a bounce (`kind: "event"`: manual
    suppress / unsuppress, alerts)."""
    by_result: dict = {}
    for e in h["events"]:
        if e["result_id"] is not None and e["action"] != "reclassified":
            by_result.setdefault(e["result_id"], e)
    items = []
    for r in h["results"]:
        ev = by_result.get(r["id"])
        items.append({
            "kind": "result", "result_id": r["id"], "at": r["received_at"], "type": r["type"], "reason": r["reason"],
            "status": r["status"], "reply_code": r["reply_code"], "rule": r["rule"],
            "diagnostic": r["diagnostic"], "campaign": r["campaign"],
            "message_ref": r["message_ref"],
            "decision": None if ev is None else {
                "action": ev["action"], "reason": ev["reason"], "rule": ev["rule"],
                "at": ev["at"], "actor": ev["actor"]},
        })
    for e in h["events"]:
        if e["result_id"] is None:
            items.append({"kind": "event", "at": e["at"], "action": e["action"],
                          "reason": e["reason"], "type": e["type"], "rule": e["rule"],
                          "actor": e["actor"]})
        elif e["action"] == "reclassified":
            items.append({"kind": "event", "at": e["at"], "action": e["action"],
                          "reason": e["reason"], "type": e["type"], "rule": e["rule"],
                          "actor": e["actor"], "result_at": next(
                              (r["received_at"] for r in h["results"] if r["id"] == e["result_id"]),
                              None)})
    items.sort(key=lambda i: i["at"] or "")
    s = h["suppression"]
    return {
        "email": h["address"],
        "suppressed": h["suppressed"],
        "suppression": ({"reason": s["reason"], "type": s["type"], "since": s["since"]}
                        if s and h["suppressed"] else None),
        "history": items,
    }
