"""The dashboard at `/` of the API's app: the real uvicorn on port 0 over a real SQLite store.

HTTP checks with httpx (who gets in, what is escaped), then a real headless Chromium driven
by Selenium through Debian's chromedriver (skipped, saying why, where those are absent):
pages load with no console errors, charts carry their data points, search finds an address,
a diagnostic holding <script> shows as text. Screenshots go to artifacts/screenshots/
(ignored by git) for a person to look at.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from webserver import READ, TOKENS, WRITE, running_app

from bouncesink.config import Config, PolicyConfig
from bouncesink.model import Envelope, Parsed, Result, utcnow
from bouncesink.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
HOSTILE = "<script>alert(1)</script>"
VICTIM = "victim@example.net"
POLICY = PolicyConfig(alert_threshold=2, confirm_hostunknown_dns=False)


def put(store, at, rcpt, type_, reason, status="5.1.1", campaign=None, diagnostic="",
        raw=b"x") -> int:
    env = Envelope(peer="192.0.2.9", mail_from="", rcpt_tos=["b@bounces.example.org"],
                   received_at=at)
    [ref] = store.add_messages([(env, raw)])
    parsed = Parsed(kind="dsn", results=[Result(recipient=rcpt, status=status, reason=reason,
                                                type=type_, rule="test", diagnostic=diagnostic)]
                    if rcpt else [])
    store.record([(ref, env, parsed, campaign)], POLICY, now=at)
    return ref


@pytest.fixture
def store(tmp_path):
    """A store with 10 days of bounces of several types, campaigns, an alert, a hostile
    diagnostic and an unrecognised message."""
    s = open_store(str(tmp_path / "dash.db"), durability="off")
    now = utcnow()
    kinds = [("hard", "userunknown", "5.1.1"), ("soft", "mailboxfull", "4.2.2"),
             ("complaint", "feedback", "")]
    for day in range(10):
        for i in range(day % 4 + 1):
            t, r, st = kinds[(day + i) % 3]
            put(s, now - timedelta(days=day, hours=i), f"u{day}-{i}@example.com", t, r, st,
                campaign="spring" if i % 2 == 0 else "summer")
    for i in range(2):  # two blocks within minutes: a sender_blocked alert
        put(s, now - timedelta(hours=3) + timedelta(minutes=i), f"b{i}@blocky.example.org",
            "hard", "blocked", "5.7.1", diagnostic="554 5.7.1 blocked using zen.example")
    put(s, now - timedelta(hours=1), VICTIM, "hard", "userunknown", "5.1.1", campaign="spring",
        diagnostic=f"550 5.1.1 {HOSTILE} no such user \u202etxet",
        raw=f"Subject: {HOSTILE}\x1b[2J\r\n\r\nbody {HOSTILE}\r\n".encode())
    put(s, now - timedelta(hours=2), None, "", "", raw=b"Subject: what is this\r\n\r\n?\r\n")
    s.set_campaign_sent("spring", 1000)
    s.set_campaign_sent("summer", 10)
    yield s
    s.close()


@pytest.fixture
def web(store):
    cfg = Config().replace("http", tokens=TOKENS)
    with running_app(cfg, store) as w:
        yield w


# -- who gets in --------------------------------------------------------------------------------
def test_without_a_token_the_login_form_and_no_data(web):
    with web.client() as c:
        r = c.get("/")
        r2 = c.get("/?q=" + VICTIM)
        r3 = c.get("/messages/1")
    for resp in (r, r2, r3):
        assert resp.status_code == 401
        assert re.search(r'<input type="password" id="token" name="token"', resp.text)
        assert VICTIM not in resp.text and "spring" not in resp.text
    with web.client("not-a-token-at-all-0123456789") as c:
        assert c.get("/").status_code == 401
    # a browser asks for HTML: it is sent to the form
    with web.client() as c:
        r = c.get("/?q=" + VICTIM, headers={"Accept": "text/html"}, follow_redirects=True)
    assert r.status_code == 200 and str(r.url).endswith("/login")
    assert 'name="token"' in r.text and VICTIM not in r.text


def test_a_bearer_or_basic_token_opens_it(web):
    with web.client(READ) as c:
        assert c.get("/").status_code == 200
    with web.client(WRITE) as c:
        assert c.get("/").status_code == 200
    basic = base64.b64encode(f"anyone:{READ}".encode()).decode()
    r = httpx.get(web.url + "/", headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200 and 'id="per-day"' in r.text
    bad = base64.b64encode(b"anyone:wrong-token-0123456789abc").decode()
    assert httpx.get(web.url + "/", headers={"Authorization": f"Basic {bad}"}).status_code == 401


def test_the_login_form_sets_a_session_cookie_that_holds_no_token(web):
    with httpx.Client(base_url=web.url) as c:
        r = c.post("/login", data={"token": READ})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert READ not in cookie
        assert c.get("/").status_code == 200
        value = c.cookies["bouncesink_session"]
        c.cookies.set("bouncesink_session", value[:-1] + ("0" if value[-1] != "0" else "1"))
        assert c.get("/").status_code == 401  # tampered
        c.cookies.set("bouncesink_session", value)
        assert c.post("/logout").status_code == 303
        c.cookies.clear()
        assert c.get("/").status_code == 401
    with httpx.Client(base_url=web.url) as c:
        r = c.post("/login", data={"token": "wrong-token-0123456789abc"})
        assert r.status_code == 401 and "Unknown token" in r.text and "set-cookie" not in r.headers


def test_cookie_and_basic_auth_never_write_through_the_api(web):
    basic = base64.b64encode(f"x:{WRITE}".encode()).decode()
    with httpx.Client(base_url=web.url) as c:
        assert c.post("/login", data={"token": WRITE}).status_code == 303
        assert c.get("/").status_code == 200
        r = c.put("/v1/suppressions/z@example.com", json={"reason": "forged"})
        assert r.status_code == 401
        r = c.put("/v1/suppressions/z@example.com", json={"reason": "forged"},
                  headers={"Authorization": f"Basic {basic}"})
        assert r.status_code == 401
    with web.client(WRITE) as c:  # the header itself still writes
        assert c.put("/v1/suppressions/z@example.com", json={"reason": "asked"}).status_code \
            in (200, 201, 204)


def test_pages_carry_a_policy_that_allows_no_script(web):
    with web.client(READ) as c:
        r = c.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in r.text


# -- what it shows ------------------------------------------------------------------------------
def test_search_shows_the_history_with_the_diagnostic_escaped(web):
    with web.client(READ) as c:
        r = c.get("/", params={"q": VICTIM.upper()})
    assert r.status_code == 200
    assert f"<h2>{VICTIM}</h2>" in r.text and "Suppressed since" in r.text
    assert HOSTILE not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "suppress: " in r.text  # the recorded decision
    assert "\u202e" not in r.text and "no such user \\u202etxet" in r.text  # bidi shown


def test_a_stored_message_is_shown_escaped(web, store):
    ref = store.history(VICTIM)["results"][0]["message_ref"]
    with web.client(READ) as c:
        r = c.get(f"/messages/{ref}")
        head = c.get(f"/messages/{ref}", params={"headers": 1})
        missing = c.get("/messages/999999")
        odd = c.get("/messages/abc")
    assert r.status_code == 200 and HOSTILE not in r.text
    assert "body &lt;script&gt;" in r.text
    assert "\x1b" not in r.text and "&lt;/script&gt;\\x1b[2J" in r.text
    assert head.status_code == 200 and "body &lt;script&gt;" not in head.text
    assert missing.status_code == 404 and odd.status_code == 404


def test_charts_and_tables_come_from_the_rollups(web, store):
    with web.client(READ) as c:
        html = c.get("/").text
    points = re.findall(r'<rect class="point" [^>]*data-day="([\d-]+)" data-type="(\w+)"'
                        r' data-count="(\d+)"', html)
    want = {}
    for day, _, type_, n in store.per_day("reason", utcnow() - timedelta(days=29)):
        want[(day, type_)] = want.get((day, type_), 0) + n
    assert {(d, t): int(n) for d, t, n in points} == want
    assert sum(want.values()) == store.stats()["all_time"]["messages"] - 1  # one unrecognised
    # campaigns with rates against the thresholds: summer's 10 sent make its rates high
    assert re.search(r'<td>summer</td>.*?class="rate bad"', html, re.S)
    assert "support.google.com/a/answer/81126" in html
    # top domains with their mix, the alert on the timeline, the unrecognised backlog
    assert 'data-domain="example.com" data-type="hard"' in html
    # a block of our mail is not a hard bounce of the address: the mix shows it apart
    assert 'data-domain="blocky.example.org" data-type="blocked" data-count="2"' in html
    assert 'data-domain="blocky.example.org" data-type="hard"' not in html
    assert re.search(r'<circle class="point" [^>]*data-domain="blocky.example.org"', html)
    assert 'id="unrecognised-count">1<' in html and 'id="pending">0<' in html


# -- a real browser ------------------------------------------------------------------------------
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(f"{CHROMIUM} and {CHROMEDRIVER} are needed (Debian packages chromium,"
                    " chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--window-size=1280,2000",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver named explicitly: Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def console_errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _after_navigation(d, element_id: str):
    """The element of the page a click or a submit leads to, once that page has loaded (a
    click returns before the browser has followed the form's POST or the link)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, 20).until(ec.presence_of_element_located((By.ID, element_id)))


def test_in_a_real_browser(browser, web, store):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    d = browser
    d.get(web.url + "/")
    assert d.find_elements(By.CSS_SELECTOR, "svg .point") == []  # no data before login
    shot(d, "login")
    d.find_element(By.NAME, "token").send_keys(READ)
    d.find_element(By.ID, "sign-in").click()
    _after_navigation(d, "per-day")
    shot(d, "dashboard")
    assert console_errors(d) == []
    assert d.find_elements(By.TAG_NAME, "script") == []

    # the bounces-per-day chart has a point per day and type, with its count
    points = d.find_elements(By.CSS_SELECTOR, "#per-day rect.point")
    total = sum(int(p.get_attribute("data-count")) for p in points)
    assert len(points) >= 10 and total == store.stats()["all_time"]["messages"] - 1
    assert all(float(p.get_attribute("height")) > 0 for p in points)
    assert d.find_elements(By.CSS_SELECTOR, "#alerts circle.point")
    assert d.find_elements(By.CSS_SELECTOR, "#domains rect.point")

    # search an address: its history, the hostile diagnostic as text
    q = d.find_element(By.NAME, "q")
    q.send_keys(VICTIM)
    q.submit()
    history = _after_navigation(d, "history")
    assert VICTIM in history.text and "userunknown" in history.text
    diag = history.find_element(By.CSS_SELECTOR, "td.diagnostic")
    assert HOSTILE in diag.text
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text
    assert d.find_elements(By.TAG_NAME, "script") == []
    shot(d, "search")

    # the raw message behind the bounce, escaped
    history.find_element(By.CSS_SELECTOR, "td a").click()
    raw = _after_navigation(d, "raw")
    assert f"Subject: {HOSTILE}" in raw.text
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text
    shot(d, "message")
    assert console_errors(d) == []
    assert shutil.disk_usage(SHOTS).free > 0 and (SHOTS / "dashboard.png").stat().st_size > 1000
