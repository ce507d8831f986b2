"""/v1 over the real uvicorn server on port 0, with httpx, on SQLite and PostgreSQL:
suppressions (filters, cursor pages), addresses with recorded history, PUT/DELETE with
reasons, the change feed in commit order, stats, report, campaign sent; bad input -> JSON
4xx; a schemathesis run of /openapi.json finds no 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pgschema import fresh_schema
from webserver import READ, TOKENS, WRITE, running_app

from bouncesink.config import Config, PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store
from test_store import T0, bounce, env

POLICY = PolicyConfig(soft_threshold=3, soft_window_days=30, soft_min_span_days=1,
                      confirm_hostunknown_dns=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.db'}"
    else:
        with fresh_schema() as schema:
            yield schema.url()


@pytest.fixture
def store(url):
    s = open_store(url, durability="off")
    yield s
    s.close()


@pytest.fixture
def web(store, url):
    cfg = Config().replace("http", tokens=TOKENS).replace("store", db=url)
    with running_app(cfg, store) as w:
        yield w


def test_suppressions_come_in_cursor_pages_with_filters(web, store):
    for i in range(23):
        bounce(store, f"h{i:02d}@example.com", at=T0 + timedelta(minutes=i))
    for i in range(5):
        bounce(store, f"c{i}@example.org", "complaint", "abuse", "", at=T0 + timedelta(hours=1, minutes=i))
    seen, cursor = [], None
    with web.client(READ) as c:
        while True:
            r = c.get("/v1/suppressions", params={"limit": 10, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200
            page = r.json()
            seen += [s["email"] for s in page["suppressions"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert len(seen) == 28 and len(set(seen)) == 28
        assert seen[:3] == ["h00@example.com", "h01@example.com", "h02@example.com"]
        got = c.get("/v1/suppressions", params={"type": "complaint"}).json()["suppressions"]
        assert [s["email"] for s in got] == [f"c{i}@example.org" for i in range(5)]
        assert got[0]["reason"] == "abuse" and got[0]["count"] == 1
        got = c.get("/v1/suppressions", params={"since": (T0 + timedelta(minutes=20)).isoformat()})
        assert [s["email"] for s in got.json()["suppressions"]][:3] == [
            "h20@example.com", "h21@example.com", "h22@example.com"]
        assert c.get("/v1/suppressions", params={"reason": "nothing"}).json() == {
            "suppressions": [], "next": None}


def test_address_shows_state_and_recorded_decisions_only(web, store):
    """A DSN for two recipients whose VERP address names one: the other's result is
    recorded as ignored, with the rule, and does not count towards the campaign."""
    e = env()
    [ref] = store.add_messages([(e, b"two recipients")])
    parsed = Parsed(kind="dsn", detector="test", results=[
        Result(recipient="first@example.com", action="failed", status="5.1.1",
               reason="userunknown", type="hard", rule="status 5.1.1"),
        Result(recipient="second@example.com", action="failed", status="5.1.1",
               reason="userunknown", type="hard", rule="status 5.1.1")])
    store.record([(ref, e, parsed, "spring")], POLICY, now=T0,
                 verp_recipients={ref: "first@example.com"})
    with web.client(READ) as c:
        first = c.get("/v1/addresses/First@Example.com").json()
        second = c.get("/v1/addresses/second@example.com").json()
        report = c.get("/v1/report", params={"campaign": "spring"}).json()
        nobody = c.get("/v1/addresses/nobody@example.com").json()
    assert first["email"] == "first@example.com" and first["suppressed"] is True
    [item] = first["history"]
    assert item["decision"]["action"] == "suppress" and item["campaign"] == "spring"
    assert second["suppressed"] is False
    [item] = second["history"]
    assert item["decision"]["action"] == "ignore"
    assert "not the VERP recipient first@example.com" in item["decision"]["rule"]
    assert item["campaign"] is None
    assert report["campaigns"]["spring"]["hard"] == 1
    assert nobody == {"email": "nobody@example.com", "suppressed": False, "suppression": None,
                      "history": []}


def test_put_and_delete_carry_reasons_and_the_feed_sees_both(web, store):
    with web.client(WRITE) as c:
        assert c.put("/v1/suppressions/Ann@Example.com", json={"reason": "asked by phone"}).json() \
            == {"email": "ann@example.com", "suppressed": True}
        assert c.request("DELETE", "/v1/suppressions/ann@example.com",
                         json={"reason": "resubscribed"}).json()["suppressed"] is False
        assert c.delete("/v1/suppressions/ann@example.com").status_code == 404
        c.put("/v1/suppressions/ben@example.com", json={"reason": "legal hold"})
        r = c.delete("/v1/suppressions/ben@example.com")      # no body: allowed
        assert r.status_code == 200
        feed = c.get("/v1/changes").json()
        assert [(x["email"], x["action"], x["reason"]) for x in feed["changes"]] == [
            ("ann@example.com", "suppress", "asked by phone"),
            ("ann@example.com", "unsuppress", "resubscribed"),
            ("ben@example.com", "suppress", "legal hold"),
            ("ben@example.com", "unsuppress", "unsuppressed")]
        assert feed["next"] == feed["changes"][-1]["seq"]
        assert c.get("/v1/changes", params={"after": feed["next"]}).json() == {
            "changes": [], "next": feed["next"]}
        second = c.get("/v1/changes", params={"after": feed["changes"][1]["seq"], "limit": 1}).json()
        assert [x["email"] for x in second["changes"]] == ["ben@example.com"]
        history = c.get("/v1/addresses/ann@example.com").json()["history"]
    assert [(h["action"], h["rule"]) for h in history] == [
        ("suppress", "asked by phone"), ("unsuppress", "resubscribed")]
    assert history[0]["actor"] == "api:token2"
    rows = list(store.suppressions())
    assert rows == []


def test_manual_suppression_exports_the_persons_reason(web, store):
    with web.client(WRITE) as c:
        c.put("/v1/suppressions/cy@example.com", json={"reason": "asked by phone"})
        [row] = c.get("/v1/suppressions").json()["suppressions"]
    assert (row["type"], row["reason"]) == ("manual", "asked by phone")


def test_stats_report_and_campaign_sent(web, store):
    bounce(store, "d@example.com", campaign="c1")
    with web.client(WRITE) as c:
        assert c.put("/v1/campaigns/c1/sent", json={"sent": 200}).json() == {"campaign": "c1", "sent": 200}
        assert c.get("/v1/stats").json()["suppressed"] == 1
        rep = c.get("/v1/report", params={"campaign": "c1"}).json()
        assert rep["campaigns"]["c1"]["sent"] == 200 and rep["campaigns"]["c1"]["hard_rate"] == 0.005
        assert c.put("/v1/campaigns/c1/sent", json={"sent": -1}).status_code == 422


@pytest.mark.parametrize("path,params,status", [
    ("/v1/suppressions", {"since": "yesterday"}, 422),
    ("/v1/suppressions", {"since": "0001-01-01T00:00:00+05:00"}, 422),
    ("/v1/suppressions", {"since": "9999-12-31T23:59:59-05:00"}, 422),
    ("/v1/suppressions", {"cursor": "abc"}, 400),
    ("/v1/suppressions", {"limit": 0}, 422),
    ("/v1/suppressions", {"limit": 1001}, 422),
    ("/v1/changes", {"after": -1}, 422),
    ("/v1/changes", {"after": "x"}, 422),
    ("/v1/addresses/not-an-address", {}, 400),
    ("/v1/addresses/a%00b@example.com", {}, 400),
    ("/v1/report", {"since": "nope"}, 422),
])
def test_bad_input_is_a_json_4xx(web, path, params, status):
    with web.client(READ) as c:
        r = c.get(path, params=params)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail"}


def test_bad_write_bodies_are_422(web):
    with web.client(WRITE) as c:
        assert c.put("/v1/suppressions/e@example.com", json={}).status_code == 422
        assert c.put("/v1/suppressions/e@example.com", json={"reason": "x" * 501}).status_code == 422
        assert c.put("/v1/suppressions/e@example.com", json={"reason": "   "}).status_code == 422
        assert c.put("/v1/suppressions/e@example.com", content=b"\xff\xfe",
                     headers={"content-type": "application/json"}).status_code == 422


def test_the_feed_never_skips_a_change_that_commits_late(url):
    """Two writers: the one that started first commits last. A reader that already moved
    past the first commit still gets the late one (seqs are taken at commit)."""
    if not url.startswith("postgresql"):
        pytest.skip("one SQLite writer at a time: commit order is insertion order")
    slow, fast, reader = (open_store(url, durability="off") for _ in range(3))
    try:
        from bouncesink.model import utcnow
        slow._lock_address("late@example.com")
        slow._add_event("late@example.com", "suppress", "manual", "manual", "late", None, "t", utcnow())
        slow._suppress("late@example.com", "late", "manual", "", utcnow())   # not committed
        fast.suppress_manual("early@example.com", "early")
        first = reader.changes(0)
        assert [c["email"] for c in first] == ["early@example.com"]
        slow._commit()
        after = reader.changes(first[-1]["seq"])
        assert [c["email"] for c in after] == ["late@example.com"]
    finally:
        for s in (slow, fast, reader):
            s.close()


SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")


@pytest.mark.skipif(not Path(SCHEMATHESIS).exists(), reason="schemathesis is not installed")
def test_schemathesis_finds_no_server_error(tmp_path):
    """Property-based requests from /openapi.json (bounded: a few dozen per operation)."""
    store = open_store(str(tmp_path / "st.db"), durability="off")
    bounce(store, "f@example.com", campaign="c2")
    cfg = Config().replace("http", tokens=TOKENS).replace("store", db=str(tmp_path / "st.db"))
    try:
        with running_app(cfg, store) as w:
            proc = subprocess.run(
                [SCHEMATHESIS, "run", f"{w.url}/openapi.json", "--checks", "not_a_server_error",
                 "--max-examples", "10", "--seed", "1", "-H", f"Authorization: Bearer {WRITE}",
                 "--workers", "1", "--no-shrink"],
                capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        store.close()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
