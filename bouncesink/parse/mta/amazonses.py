"""Amazon SES notifications delivered by e-mail through SNS ("AWS Notification Message",
From no-reply@sns.amazonaws.com): the body is one JSON document, not a DSN.

Quirks handled: notificationType Bounce (bouncedRecipients with status / diagnosticCode,
bounceType Transient -> delay-like soft), Complaint (complainedRecipients -> feedback),
Delivery (delivery.recipients -> delivered); the SNS footer after the JSON is ignored.
The JSON is bounded in size before decoding."""

from __future__ import annotations

import json

from ...model import Result
from ..dsn import reply_code, strip_type

NAME = "mta.amazonses"
_MAX_JSON = 256 * 1024


def sniff(ctx) -> bool:
    return "amazonaws.com" in ctx.from_ and "{" in ctx.body[:2000]


def detect(ctx):
    body = ctx.body[:_MAX_JSON]
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return []
    # SNS e-mail wraps the one-line JSON at a fixed width, inside strings too: unwrap
    doc = json.loads(body[start:end + 1].replace("\r", "").replace("\n", ""), strict=False)
    if isinstance(doc.get("Message"), str):  # raw SNS envelope
        doc = json.loads(doc["Message"][:_MAX_JSON])
    kind = (doc.get("notificationType") or doc.get("eventType") or "").lower()
    results: list[Result] = []
    if kind == "bounce":
        for item in (doc.get("bounce") or {}).get("bouncedRecipients", [])[:100]:
            diag = strip_type(str(item.get("diagnosticCode", "")))
            status = str(item.get("status", ""))
            results.append(Result(recipient=item.get("emailAddress"), action=item.get("action", "failed"),
                                  status=status, diagnostic=diag[:1000],
                                  reply_code=reply_code(diag, status[:1]), detector=NAME))
    elif kind == "complaint":
        complaint = doc.get("complaint") or {}
        for item in complaint.get("complainedRecipients", [])[:100]:
            results.append(Result(recipient=item.get("emailAddress"), reason="feedback",
                                  feedback_type=complaint.get("complaintFeedbackType", "abuse"),
                                  detector=NAME))
    elif kind == "delivery":
        for addr in (doc.get("delivery") or {}).get("recipients", [])[:100]:
            results.append(Result(recipient=addr, action="delivered", status="2.0.0", detector=NAME))
    return [r for r in results if r.recipient]
