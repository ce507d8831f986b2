"""The HTTP app: health, auth (bearer tokens, scopes), JSON errors, `bouncesink web`.

The real uvicorn server on 127.0.0.1 port 0 and a real SQLite file; httpx as the client.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from webserver import READ, TOKENS, WRITE, running_app

from bouncesink.config import Config, ConfigError, from_dict
from bouncesink.store import open_store
from bouncesink.web.auth import Auth


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "web.db"), durability="off")
    yield s
    s.close()


@pytest.fixture
def web(store):
    cfg = Config().replace("http", tokens=TOKENS)
    with running_app(cfg, store) as w:
        yield w


def test_healthz_and_openapi_need_no_token(web):
    with web.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json() == {"status": "ok"}
        doc = c.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_readyz_says_503_when_the_store_is_gone(web, store, tmp_path):
    store.close()
    os.remove(tmp_path / "web.db")
    os.mkdir(tmp_path / "web.db")   # cannot be reopened as a file
    with web.client() as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"] == "service_unavailable"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope-not-a-token-at-all"},
                                     {"Authorization": f"Basic {READ}"},
                                     {"Authorization": "Bearer"}])
def test_no_or_bad_token_is_401_json(web, headers):
    with web.client() as c:
        r = c.get("/v1/suppressions", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"error": "unauthorized", "detail": "missing or unknown token"}


def test_read_token_reads_and_cannot_write(web):
    with web.client(READ) as c:
        assert c.get("/v1/suppressions").status_code == 200
        r = c.put("/v1/suppressions/a@example.com", json={"reason": "asked"})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    with web.client(WRITE) as c:
        assert c.put("/v1/suppressions/a@example.com", json={"reason": "asked"}).status_code == 200


def test_unknown_path_and_bad_json_are_json_errors(web):
    with web.client(WRITE) as c:
        r = c.get("/v1/nothing-here")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = c.put("/v1/suppressions/a@example.com", content=b"{not json",
                  headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def test_token_check_is_by_value_and_scope():
    auth = Auth(TOKENS)
    assert auth.check(READ).scope == "read"
    assert auth.check(WRITE).may("read") and auth.check(WRITE).may("write")
    assert not auth.check(READ).may("write")
    assert auth.check(READ[:-1]) is None and auth.check(READ + "x") is None
    assert auth.check("\udcff") is None   # a header that is not valid text


def test_dashboard_can_add_a_credential_extractor(store):
    """Another way of carrying a token (the dashboard's basic auth / cookie) gets the same
    check and scopes."""
    cfg = Config().replace("http", tokens=TOKENS)
    from bouncesink.web import create_app
    app = create_app(cfg, store)
    app.state.auth.extractors.append(lambda request: request.cookies.get("session"))
    with running_app(cfg, store, app=app) as w:
        with w.client(cookies={"session": READ}) as c:
            assert c.get("/v1/suppressions").status_code == 200
        with w.client(cookies={"session": "x" * 20}) as c:
            assert c.get("/v1/suppressions").status_code == 401


def test_http_config_is_checked():
    cfg = from_dict({"http": {"listen": "127.0.0.1:8025", "tokens": [
        {"token": READ, "scope": "read"}]}})
    assert cfg.http.tokens[0]["scope"] == "read"
    with pytest.raises(ConfigError) as e:
        from_dict({"http": {"tokens": [{"token": "short", "scope": "admin"}]}})
    text = "\n".join(e.value.problems)
    assert "16 characters" in text and "read or write" in text
    with pytest.raises(ConfigError):
        from_dict({"http": {"tokens": "abc"}})


def test_bouncesink_web_serves_on_the_listen_address_and_stops_on_sigterm(tmp_path):
    conf = tmp_path / "b.toml"
    conf.write_text(f'[store]\ndb = "{tmp_path / "w.db"}"\n[http]\n'
                    f'tokens = [{{ token = "{READ}", scope = "read" }}]\n')
    proc = subprocess.Popen([sys.executable, "-m", "bouncesink", "web", "--config", str(conf),
                             "--listen", "127.0.0.1:0", "--log-format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r'"listen": "127.0.0.1:(\d+)"', line).group(1))
        r = httpx.get(f"http://127.0.0.1:{port}/v1/stats",
                      headers={"Authorization": f"Bearer {READ}"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bouncesink_web_port_in_use_is_one_line(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        r = subprocess.run([sys.executable, "-m", "bouncesink", "web", "--db",
                            str(tmp_path / "w.db"), "--listen", f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=30)
    finally:
        s.close()
    assert r.returncode == 1
    assert r.stderr.strip().startswith(f"bouncesink: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in r.stderr


def test_web_unit_is_sandboxed_like_the_sink():
    unit = (Path(__file__).resolve().parent.parent / "systemd" / "bouncesink-web.service").read_text()
    for line in ("ExecStart=/usr/local/bin/bouncesink web --config /etc/bouncesink/bouncesink.toml",
                 "User=bouncesink", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/bouncesink", "PrivateDevices=yes",
                 "MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service",
                 "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
        assert line in unit.splitlines(), line
    assert "CAP_NET_BIND_SERVICE" not in unit


WEB_UNIT = Path(__file__).resolve().parent.parent / "systemd" / "bouncesink-web.service"
_ANALYZE = __import__("shutil").which("systemd-analyze")


def _installable_web_unit(tmp_path) -> Path:
    exe = Path(sys.executable).parent / "bouncesink"
    copy = tmp_path / WEB_UNIT.name
    copy.write_text(WEB_UNIT.read_text().replace("/usr/local/bin/bouncesink", str(exe))
                    .replace(" bouncesink.service", ""))  # After= a unit not installed here
    return copy


@pytest.mark.skipif(_ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_web_unit_verifies_and_exposure_is_at_most_3(tmp_path):
    copy = _installable_web_unit(tmp_path)
    proc = subprocess.run([_ANALYZE, "verify", str(copy)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    proc = subprocess.run([_ANALYZE, "security", "--offline=true", "--no-pager", str(copy)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    m = re.search(r"Overall exposure level for bouncesink-web\.service: (\d+\.\d)", proc.stdout)
    assert m, proc.stdout[-500:] + proc.stderr
    assert float(m.group(1)) <= 3.0
