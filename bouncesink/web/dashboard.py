"""The dashboard: read-only pages at `/` of the API's app, drawn from the store's rollups.

    GET  /login            the login form (where a browser without a credential is sent)
    GET  /                 bounces per day by type, campaign rates against the providers'
                           thresholds, top receiving domains and their mix, reasons,
                           sender_blocked alerts, pending and unrecognised backlog
    GET  /?q=ADDRESS       that address's history (what `bouncesink why` shows)
    GET  /messages/REF     a stored message as received, escaped (?headers=1: headers only)
    POST /login, /logout   a session cookie from a read token (the form's field `token`)

Credentials are the API's tokens (read scope): `Authorization: Bearer TOKEN`, HTTP basic
auth with the token as the password, or the login form, which sets a session cookie that
holds no token: a fingerprint of it, an expiry and an HMAC keyed by the configured tokens
(so it works across processes sharing a config and dies when the tokens change). Without a
credential the answer is 401 with the login form and no data (a browser, which asks for
HTML, is redirected to /login instead: the form, status 200, no data).

Everything a stranger can put in a bounce (addresses, diagnostics, subjects, whole messages)
reaches the page through Jinja2 with autoescape on; the pages carry a Content-Security-Policy
that allows no script at all. Charts are SVG drawn here (web/charts.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bouncesink.textsafe import escape
from bouncesink.web import charts

HERE = Path(__file__).parent
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
# Autoescape makes stranger text inert for the browser; `shown` also makes control and bidi
# characters visible (\x1b, \u202e), so a diagnostic cannot read differently from what it is.
ENV.filters["shown"] = lambda v: escape("" if v is None else str(v))
COOKIE = "bouncesink_session"
SESSION_SECONDS = 12 * 3600
DAYS = 30
MAX_FORM = 4096
MAX_RAW_SHOWN = 2 * 1024 * 1024   # bytes of a stored message shown on a page
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
       " frame-ancestors 'none'; base-uri 'none'")

# What the mailbox providers publish, shown beside each campaign's rates.
# Complaints: Google's email sender guidelines (https://support.google.com/a/answer/81126):
# keep the spam rate below 0.1% and never let it reach 0.3%; Yahoo's sender best practices
# (https://senders.yahooinc.com/best-practices/): keep it below 0.3%.
# Bounces: neither publishes a rate; Amazon SES reviews an account from a 5% bounce rate and
# may pause it at 10% (https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html).
COMPLAINT_AIM, COMPLAINT_LIMIT = 0.001, 0.003
BOUNCE_REVIEW, BOUNCE_PAUSE = 0.05, 0.10

router = APIRouter(include_in_schema=False)


# -- credentials ------------------------------------------------------------------------------
# A browser sends basic credentials and cookies by itself, to any request a page of another
# site makes (cross-site request forgery): both are honoured for reading only (GET, HEAD),
# so they open the dashboard and the API's reads, never a write. Writes need the header.
SAFE_METHODS = ("GET", "HEAD")


def basic_token(request: Request) -> str | None:
    """The password of HTTP basic auth (RFC 7617): the token; the user name is not read."""
    if request.method not in SAFE_METHODS:
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep and password else None


class Sessions:
    """Session cookies standing for a token without holding it."""

    def __init__(self, tokens) -> None:
        self._tokens = [t["token"] for t in tokens]
        self._key = hashlib.sha256(b"bouncesink-session\0" + "\0".join(
            sorted(self._tokens)).encode()).digest()

    @staticmethod
    def _fingerprint(token: str) -> str:
        return hashlib.sha256(b"bouncesink-fp\0" + token.encode()).hexdigest()[:32]

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, token: str, now: float | None = None) -> str:
        body = f"{self._fingerprint(token)}.{int((now or time.time()) + SESSION_SECONDS)}"
        return f"{body}.{self._sign(body)}"

    def token(self, request: Request) -> str | None:
        """The token a valid, unexpired session cookie stands for (an Auth extractor)."""
        if request.method not in SAFE_METHODS:
            return None
        value = request.cookies.get(COOKIE, "")
        fp, _, rest = value.partition(".")
        expires, _, sig = rest.partition(".")
        if not sig or not hmac.compare_digest(sig, self._sign(f"{fp}.{expires}")):
            return None
        if not expires.isdigit() or int(expires) < time.time():
            return None
        for t in self._tokens:
            if hmac.compare_digest(self._fingerprint(t), fp):
                return t
        return None


def install(app: FastAPI) -> None:
    """Add the dashboard to the API's app: its routes and its two ways of carrying a token."""
    sessions = Sessions(app.state.config.http.tokens)
    app.state.sessions = sessions
    app.state.auth.extractors += [basic_token, sessions.token]
    app.include_router(router)


def _page(name: str, status: int = 200, **context) -> HTMLResponse:
    html = ENV.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def _reader(request: Request):
    principal = request.app.state.auth.authenticate(request)
    return principal if principal is not None and principal.may("read") else None


def _login(request: Request, error: str = "", status: int = 401) -> Response:
    """No credential: a browser (it accepts HTML) is sent to the form; anything else gets
    401 with the form, and neither any data."""
    if not error and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", status_code=303)
    return _page("login.html", status=status, error=error)


@router.get("/login")
def login_form() -> HTMLResponse:
    return _page("login.html", error="")


# -- pages ------------------------------------------------------------------------------------
@router.get("/dashboard.css")
def stylesheet() -> Response:
    return Response((HERE / "static" / "dashboard.css").read_bytes(), media_type="text/css",
                    headers={"Cache-Control": "max-age=3600"})


@router.post("/login")
async def login(request: Request):
    body = await request.body()
    if len(body) > MAX_FORM:
        return _login(request, "That is not a token.", 400)
    token = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
    principal = request.app.state.auth.check(token) if token else None
    if principal is None or not principal.may("read"):
        return _login(request, "Unknown token.")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, request.app.state.sessions.issue(token), max_age=SESSION_SECONDS,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def dashboard(request: Request, q: str = ""):
    if _reader(request) is None:
        return _login(request)
    store = request.app.state.store
    now = datetime.now(timezone.utc)
    since = now - timedelta(days=DAYS - 1)
    snap = store.metrics_snapshot()
    day_rows = [(d, t, n) for d, _, t, n in store.per_day("reason", since)]
    report = store.report(domains=False)
    campaigns = _campaign_rows(report)
    domains = store.top_domains(since, limit=15)
    reasons = store.top_reasons(since, limit=20)
    alerts = store.alerts_since(now - timedelta(days=DAYS))
    search = _history(request, q.strip()) if q.strip() else None
    return _page(
        "dashboard.html", q=q, search=search, days=DAYS, now=now.strftime("%Y-%m-%d %H:%M"),
        snap=snap, per_day=charts.per_day_bars(day_rows, since.date(), now.date()),
        campaigns=campaigns, domains=charts.mix_bars(domains), reasons=reasons,
        alerts=alerts, timeline=charts.timeline(alerts, now - timedelta(days=DAYS), now),
        unrecognised=store.unrecognised_messages(limit=20), colour=charts.colour,
        thresholds={"aim": COMPLAINT_AIM, "limit": COMPLAINT_LIMIT, "review": BOUNCE_REVIEW,
                    "pause": BOUNCE_PAUSE})


@router.get("/messages/{ref}")
def message(request: Request, ref: str, headers: int = 0):
    if _reader(request) is None:
        return _login(request)
    if not ref.isdigit() or len(ref) > 18:
        return _page("message.html", status=404, ref=ref, stored=None, raw="", headers=headers,
                     truncated=False)
    stored = request.app.state.store.message(int(ref))
    raw = b""
    if stored is not None:
        from bouncesink.cli.show import for_terminal, header_section

        raw = header_section(stored.raw) if headers else stored.raw
    return _page("message.html", status=200 if stored else 404, ref=ref, stored=stored,
                 raw=for_terminal(raw[:MAX_RAW_SHOWN]) if raw else "", headers=headers,
                 truncated=len(raw) > MAX_RAW_SHOWN)


def _rate_class(rate, warn, bad) -> str:
    if rate is None:
        return "unknown"
    return "bad" if rate >= bad else "warn" if rate >= warn else "ok"


def _campaign_rows(report: dict) -> list[dict]:
    rows = []
    for name, part in report["campaigns"].items():
        sent = part["sent"]
        types = part["types"]
        complaints = types.get("complaint", [0, 0])
        hard = types.get("hard", [0, 0])
        c_rate = complaints[1] / sent if sent else None
        h_rate = hard[1] / sent if sent else None
        rows.append({
            "name": name or "(none)", "sent": sent,
            "results": sum(v[0] for v in types.values()),
            "complaints": complaints[1], "hard": hard[1],
            "complaint_rate": c_rate, "hard_rate": h_rate,
            "complaint_class": _rate_class(c_rate, COMPLAINT_AIM, COMPLAINT_LIMIT),
            "hard_class": _rate_class(h_rate, BOUNCE_REVIEW, BOUNCE_PAUSE),
        })
    rows.sort(key=lambda r: (-(r["complaint_rate"] or 0), -(r["hard_rate"] or 0), -r["results"]))
    return rows[:50]


def _history(request: Request, address: str) -> dict:
    h = request.app.state.store.history(address[:320])
    by_result = {}
    for e in h["events"]:
        if e["result_id"] is not None:
            by_result[e["result_id"]] = e  # the latest decision about that result
    for r in h["results"]:
        e = by_result.get(r["id"])
        r["decision"] = (f"{e['action']}: {e['rule'] or e['reason'] or ''}" if e else
                         "no decision recorded")
    return h
