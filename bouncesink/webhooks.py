"""Webhook deliveries: signed as Standard Webhooks do, at least once, in order per address.

Decisions reach the `outbox` table in the transaction that made them (store/base.py). A
`Dispatcher` (run by both `serve` and `web`) loops:

1. fill: each hook copies the outbox rows it wants into its `deliveries`, behind a cursor
   over the commit-ordered seq (a row that committed late is never skipped);
2. claim: due deliveries are leased to this process (a lease plus, on PostgreSQL, FOR
   UPDATE SKIP LOCKED), at most one per address and only the address's oldest undelivered
   one, so deliveries about one address go out in commit order;
3. deliver: POST each (concurrently across addresses); a 2xx marks it delivered; anything
   else is retried, the first retry within 5 s, then with exponential backoff and full
   jitter up to an hour apart, for `retry_hours` (default 24); then it is dead and logged.
   `bouncesink webhooks --retry-dead` brings dead ones back.

A process killed mid-delivery leaves its lease to expire (timeout + a margin); the next
claim sends the same delivery again, with the same `webhook-id`, which is what receivers
de-duplicate on (at-least-once delivery).

Signing follows the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` =
`v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where the key is the
base64-decoded part of the secret after `whsec_`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import random
import re
import socket
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
import structlog

from bouncesink.config import WebhookConfig

log = structlog.get_logger("bouncesink.webhooks")

FIRST_RETRY = 5.0        # seconds: the first retry comes within this
MAX_BACKOFF = 3600.0     # seconds between retries at most
POLL = 0.2               # seconds between looks at the outbox when idle
LEASE_MARGIN = 5.0       # seconds a lease outlives the delivery timeout
_UUID = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- signing ---------------------------------------------------------------------------------
def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers_for(hook: WebhookConfig, msg_id: str, body: bytes, now: float | None = None) -> dict:
    ts = int(now if now is not None else time.time())
    h = {"content-type": "application/json", "user-agent": "bouncesink-webhooks",
         "webhook-id": msg_id, "webhook-timestamp": str(ts),
         "webhook-signature": sign(hook.secret, msg_id, ts, body)}
    if hook.authorization:
        h["authorization"] = hook.authorization
    return h


# -- bodies ----------------------------------------------------------------------------------
def body_for(hook: WebhookConfig, delivery: dict) -> bytes:
    """The JSON body of a delivery: the same bytes on every attempt."""
    data = delivery["data"]
    if hook.preset == "listmonk":
        return listmonk_body(delivery)
    return json.dumps({"type": delivery["event"], "id": delivery["uid"],
                       "timestamp": delivery["at"], "data": data},
                      separators=(",", ":"), sort_keys=True).encode()


def listmonk_body(delivery: dict) -> bytes:
    """listmonk's bounce webhook (POST /webhooks/bounce, https://listmonk.app/docs/bounces/):
    `email`, `campaign_uuid` (only a UUID: listmonk looks the campaign up by it), `source`,
    `type` one of hard / soft / complaint, `meta` a JSON object."""
    d = delivery["data"]
    type_ = d.get("type")
    if type_ not in ("hard", "soft", "complaint"):
        type_ = "hard"  # a manual suppression: listmonk's blocklisting bounce type
    body = {"email": d.get("email", ""), "source": "bouncesink", "type": type_,
            "meta": {"event": delivery["event"], "id": delivery["uid"], "reason": d.get("reason"),
                     "status": d.get("status"), "rule": d.get("rule"),
                     "campaign": d.get("campaign"), "at": delivery["at"]}}
    if d.get("campaign") and _UUID.match(d["campaign"]):
        body["campaign_uuid"] = d["campaign"]
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


# listmonk's bounce webhook records bounces; an unsuppression or a domain-wide alert is not
# one, so the preset sends these events only (whatever `events` says).
LISTMONK_EVENTS = ("suppressed", "bounce", "complaint")


def events_of(hook: WebhookConfig) -> tuple[str, ...] | None:
    """The events a hook receives (None: all)."""
    if hook.preset == "listmonk":
        return tuple(e for e in (hook.events or LISTMONK_EVENTS) if e in LISTMONK_EVENTS)
    return hook.events or None


# -- retries ---------------------------------------------------------------------------------
def backoff(attempts: int, rng: random.Random = random) -> float:
    """Seconds before the next try after `attempts` failed ones: within 5 s after the first
    failure, then 5 * 2^n capped at an hour, with full jitter (AWS Architecture Blog,
    "Exponential Backoff And Jitter")."""
    if attempts <= 1:
        return rng.uniform(1.0, FIRST_RETRY)
    return rng.uniform(FIRST_RETRY, min(MAX_BACKOFF, FIRST_RETRY * 2 ** (attempts - 1)))


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_plain_http(hooks) -> None:
    for hook in hooks:
        if hook.url.lower().startswith("http://") and not is_loopback(hook.url):
            log.warning("webhook_plain_http", hook=hook.name,
                        hint="deliveries are signed but readable on the way; use https://")


def _from_iso(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


# -- the dispatcher -----------------------------------------------------------------------------
class Dispatcher:
    """Delivers the deliveries of `hooks` from `store` until stop() is called.

    The store calls are synchronous; they run in a worker thread. Give the dispatcher a
    store connection of its own (the API's or the SMTP writer's would queue behind it).
    """

    def __init__(self, store, hooks, concurrency: int = 32, poll: float = POLL,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.store = store
        self.hooks = tuple(hooks)
        self.concurrency = concurrency
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self._stop = asyncio.Event()
        self._transport = transport
        self.delivered = 0

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        warn_plain_http(self.hooks)
        async with httpx.AsyncClient(transport=self._transport, follow_redirects=False,
                                     trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    busy = await self.step(client)
                except Exception as exc:  # the store away: log, wait, try again
                    log.warning("webhook_dispatch_failed", error=str(exc).splitlines()[0]
                                if str(exc) else type(exc).__name__)
                    busy = False
                    await asyncio.sleep(min(5.0, self.poll * 10))
                if not busy:
                    try:
                        await asyncio.wait_for(self._stop.wait(), self.poll)
                    except asyncio.TimeoutError:
                        pass

    async def step(self, client: httpx.AsyncClient) -> bool:
        """One round over every hook; True if anything was sent."""
        sent = False
        for hook in self.hooks:
            await asyncio.to_thread(self.store.webhook_fill, hook.name, events_of(hook))
            claimed = await asyncio.to_thread(self.store.webhook_claim, hook.name, self.owner,
                                              hook.timeout + LEASE_MARGIN, self.concurrency)
            if claimed:
                sent = True
                outcomes = await asyncio.gather(*(self.deliver(client, hook, d) for d in claimed))
                done = [o[0] for o in outcomes if o[1] is None]
                failed = [(o[0], o[1], o[2]) for o in outcomes if o[1] is not None]
                await asyncio.to_thread(self.store.webhook_finish, done, failed)
                self.delivered += len(done)
                self._log(hook, claimed, outcomes)
        return sent

    async def deliver(self, client: httpx.AsyncClient, hook: WebhookConfig, d: dict):
        """One attempt: (delivery id, None, ms) when delivered, else (id, error, retry_at or
        None when the retry time is over)."""
        body = body_for(hook, d)
        started = time.monotonic()
        try:
            r = await client.post(hook.url, content=body, headers=headers_for(hook, d["uid"], body),
                                  timeout=hook.timeout)
            if 200 <= r.status_code < 300:
                return d["id"], None, round((time.monotonic() - started) * 1000, 1)
            error = f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}".strip().rstrip(":") or type(exc).__name__
        deadline = _from_iso(d["created_at"]) + timedelta(hours=hook.retry_hours)
        retry_at = datetime.now(timezone.utc) + timedelta(seconds=backoff(d["attempts"] + 1))
        return d["id"], error, (retry_at if retry_at <= deadline else None)

    @staticmethod
    def _log(hook: WebhookConfig, claimed: list[dict], outcomes) -> None:
        """One line per attempt, after its outcome is recorded."""
        for d, (_, error, extra) in zip(claimed, outcomes):
            common = dict(hook=hook.name, webhook_id=d["uid"], kind=d["event"],
                          recipient=d["address"] or None, attempts=d["attempts"] + 1)
            if error is None:
                log.info("webhook_delivered", ms=extra, **common)
            elif extra is None:
                log.error("webhook_dead", error=error,
                          hint="bouncesink webhooks --retry-dead sends it again", **common)
            else:
                log.warning("webhook_failed", error=error, retry_in=round(
                    (extra - datetime.now(timezone.utc)).total_seconds(), 1), **common)
