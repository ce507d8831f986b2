"""/v1: suppressions, addresses, the change feed, stats, reports and campaign bookkeeping.

Every route needs a token (web/auth.py): reading needs `read`, changing needs `write`.
Lists are cursor-paginated with bounded pages (one indexed query each: constant memory
whatever the store's size): pass back `next` as `cursor` (suppressions) or `after`
(changes) until a page comes back short.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bouncesink.history import timeline
from bouncesink.web.auth import Principal, require

router = APIRouter(prefix="/v1", tags=["v1"])

Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]

MAX_ADDRESS = 320          # RFC 5321 4.5.3.1: 64 octets of local part, @, 255 of domain
MAX_REASON = 500
TYPES = ("hard", "soft", "complaint", "manual")

AddressPath = Annotated[str, Path(min_length=3, max_length=MAX_ADDRESS,
                                  description="an email address (case-insensitive)")]


# -- input checks ---------------------------------------------------------------------------------
def address_of(value: str) -> str:
    """The address as stored (lower case, no brackets), or 400 for what cannot be one."""
    a = value.strip().strip("<>")
    local, at, domain = a.rpartition("@")
    if (not at or not local or not domain or len(a) > MAX_ADDRESS
            or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7f for c in a)):
        raise HTTPException(400, f"not an email address: {value[:100]!r}")
    return a.lower()


def time_of(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time (UTC when no offset is given), or 422."""
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
        return t.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise HTTPException(422, f"{name}: not an ISO 8601 time within range: {value[:60]!r}") \
            from None


def cursor_of(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise HTTPException(400, "cursor: pass back the `next` of the previous page")
    return int(value)


# -- models (the OpenAPI document) --------------------------------------------------------------
class Suppression(BaseModel):
    email: str
    reason: str | None
    type: str | None
    status: str
    first_seen: str | None
    last_seen: str | None
    count: int
    suppressed_at: str
    seq: int


class SuppressionPage(BaseModel):
    suppressions: list[Suppression]
    next: str | None = Field(description="cursor of the next page; null on the last page")


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="why, for the history")


class OptionalReason(BaseModel):
    reason: str = Field("", max_length=MAX_REASON)


class State(BaseModel):
    email: str
    suppressed: bool


class AddressHistory(BaseModel):
    email: str
    suppressed: bool
    suppression: dict | None
    history: list[dict]


class Change(BaseModel):
    seq: int
    email: str
    action: Literal["suppress", "unsuppress"]
    reason: str | None
    type: str | None
    at: str


class Changes(BaseModel):
    changes: list[Change]
    next: int = Field(description="pass as `after` to get what comes next")


class SentBody(BaseModel):
    sent: int = Field(ge=0, le=2**62, description="messages the campaign sent")







def _store(request: Request):
    return request.app.state.store


Store = Annotated[object, Depends(_store)]


# -- routes ------------------------------------------------------------------------------------
@router.get("/suppressions", response_model=SuppressionPage,
            summary="suppressed addresses, oldest suppression first, a page at a time")
def list_suppressions(
        _: Reader, store: Store,
        type: Annotated[str | None, Query(max_length=40, description="hard, soft, complaint, manual")] = None,
        reason: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[str | None, Query(max_length=64, description="ISO 8601 time")] = None,
        cursor: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 1000):
    after = cursor_of(cursor)
    rows = store.suppression_page(after, limit, type_=type, reason=reason,
                                  since=time_of(since, "since"))
    # Built by the store in the documented shape: a JSONResponse skips re-validating
    # 1,000 rows through the response model (a third of a page's time).
    return JSONResponse({"suppressions": rows,
                         "next": str(rows[-1]["seq"]) if len(rows) == limit else None})


@router.get("/addresses/{address}", response_model=AddressHistory,
            summary="an address's state and its recorded history (what `why` shows)")
def get_address(address: AddressPath, _: Reader, store: Store):
    return timeline(store.history(address_of(address)))


@router.put("/suppressions/{address}", response_model=State,
            summary="suppress an address by hand, with the reason")
def put_suppression(address: AddressPath, body: ReasonBody, who: Writer, store: Store):
    a = address_of(address)
    reason = body.reason.strip()
    if not reason:
        raise HTTPException(422, "reason must not be blank")
    store.suppress_manual(a, reason, actor=f"api:{who.name}")
    return {"email": a, "suppressed": True}


@router.delete("/suppressions/{address}", response_model=State,
               responses={404: {"description": "the address is not suppressed"}},
               summary="lift a suppression (the history stays); optional body {reason}")
def delete_suppression(address: AddressPath, who: Writer, store: Store,
                       body: Annotated[OptionalReason | None, Body()] = None):
    a = address_of(address)
    if not store.unsuppress(a, (body.reason.strip() if body else ""), actor=f"api:{who.name}"):
        raise HTTPException(404, f"{a} is not suppressed")
    return {"email": a, "suppressed": False}


@router.get("/stats", summary="counts by type, reason and domain; last 24 h and all time")
def get_stats(_: Reader, store: Store) -> dict:
    return store.stats()


@router.get("/report", summary="per campaign and per receiving domain: counts and rates")
def get_report(_: Reader, store: Store,
               campaign: Annotated[str | None, Query(max_length=200)] = None,
               since: Annotated[str | None, Query(max_length=64)] = None) -> dict:
    from bouncesink.cli.suppression import rates

    return rates(store.report(campaign=campaign, since=time_of(since, "since")))


@router.put("/campaigns/{campaign}/sent", summary="record how many messages a campaign sent")
def put_campaign_sent(campaign: Annotated[str, Path(min_length=1, max_length=200)],
                      body: SentBody, _: Writer, store: Store) -> dict:
    if not campaign.strip() or any(ord(c) < 0x20 or ord(c) == 0x7f for c in campaign):
        raise HTTPException(400, "bad campaign id")
    store.set_campaign_sent(campaign, body.sent)
    return {"campaign": campaign, "sent": body.sent}


@router.get("/changes", response_model=Changes,
            summary="every suppress and unsuppress after `after`, in commit order")
def get_changes(_: Reader, store: Store,
                after: Annotated[int, Query(ge=0, le=2**62, description="the `next` of the last call")] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 1000):
    # Seqs grow in commit order (store/base.py, the outbox), so following `next` never
    # skips a change that committed late.
    rows = store.changes(after, limit)
    return JSONResponse({"changes": rows, "next": rows[-1]["seq"] if rows else after})
