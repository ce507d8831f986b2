"""Google Groups: "the group you tried to contact may not exist, or you may not have
permission to post messages to the group", written in the sender's language (Arabic,
Japanese...). The group address is in X-Failed-Recipients; the failure is always a refusal
of the sender by the group (rejected), never a dead address."""

from __future__ import annotations

from ...model import Result
from . import _base

NAME = "mta.googlegroups"


def sniff(ctx) -> bool:
    return ("googlemail.com" in ctx.from_ or "google.com" in ctx.from_) and (
        "groups.google" in ctx.body[:20000] or "Google Groups" in ctx.body[:20000])


def detect(ctx):
    failed = _base.failed_recipients(ctx)
    if not failed:
        return []
    text = " ".join(ctx.body.split("----- Original message -----")[0].split())[:400]
    return [Result(recipient=a, diagnostic=text, reason="rejected",
                   rule="mta: google groups refuses the sender", detector=NAME) for a in failed]
