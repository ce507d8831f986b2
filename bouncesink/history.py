"""An address's history as recorded: what `why` prints and `GET /v1/addresses/{a}` returns.

Only recorded decisions are shown. Each result carries the decision the policy recorded for
it (an event with its result id: suppress, count, reset, alert or ignore, with the rule that
chose it); a result recorded before decisions to ignore were stored has none, and says so
(`"decision": null`) rather than guessing what the policy would decide today. Manual
suppressions and unsuppressions come from their events, with the reason a person gave.
"""

from __future__ import annotations


def escape_controls(text: str | None) -> str:
    """Stranger text for a terminal (bouncesink.textsafe.escape), None as empty."""
    from bouncesink.textsafe import escape

    return escape(text) if text else ""


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
