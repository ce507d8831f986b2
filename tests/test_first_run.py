"""The first ten minutes: the README's first try classifies a real bounce; reading commands
find the store serve made, or say where they looked; every command and flag has help; the
systemd units' documentation links point to files that exist."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bouncesink.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent / "bouncesink"


def quick_start() -> str:
    return README.split("## Quick start", 1)[1].split("\n## ", 1)[0]


def start_serve(cwd: Path) -> tuple[subprocess.Popen, int, Path]:
    log = cwd / "serve.log"
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "bouncesink", "serve", "--domain",
                                 "bounces.example.org", "--listen", "127.0.0.1:0",
                                 "--log-format", "json"], cwd=cwd, stdout=f,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if '"server_started"' in line:
                return proc, json.loads(line[line.index("{"):])["listen"][0][1], log
        time.sleep(0.05)
    proc.terminate()
    raise AssertionError(log.read_text())


def readme_command(prefix: str) -> list[str]:
    [line] = [ln.strip() for ln in quick_start().splitlines() if ln.strip().startswith(prefix)]
    return shlex.split(line.split("  #")[0])


@pytest.mark.parametrize("client", ["swaks", "python"])
def test_the_readme_first_try_shows_a_classified_bounce(tmp_path, client):
    if client == "swaks" and not shutil.which("swaks"):
        pytest.skip("swaks is not installed (Debian package swaks)")
    work = tmp_path / "checkout"
    (work / "tests" / "data").mkdir(parents=True)
    for name in ("dsn-hard-userunknown.eml",):
        shutil.copy(ROOT / "tests" / "data" / name, work / "tests" / "data" / name)
    proc, port, log = start_serve(work)
    try:
        if client == "swaks":
            cmd = readme_command("swaks ")
            cmd[cmd.index("--server") + 1] = f"127.0.0.1:{port}"
            assert cmd[cmd.index("--from") + 1] == "<>"
        else:
            cmd = readme_command(".venv/bin/python -c")
            cmd = [sys.executable] + cmd[1:]
            cmd[-1] = cmd[-1].replace("2525", str(port))
        out = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        why = readme_command(".venv/bin/bouncesink why")
        deadline = time.monotonic() + 30
        while True:
            res = subprocess.run([str(BIN)] + why[1:], cwd=work, capture_output=True,
                                 text=True, timeout=60)
            if "hard/userunknown" in res.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("alice@example.com: SUPPRESSED")
        assert "hard/userunknown" in res.stdout
        show = subprocess.run([str(BIN), "show", "1"], cwd=work, capture_output=True,
                              timeout=60)
        assert show.returncode == 0 and b"alice@example.com" in show.stdout
    finally:
        proc.terminate()
        proc.wait(30)
    assert '"event": "message_received"' in log.read_text()


def test_a_reading_command_elsewhere_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("BOUNCESINK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["why", "a@example.com"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"no such store: {tmp_path}/var/bouncesink.db" in err
    assert "relative to the current directory" in err and "`bouncesink serve` creates it" in err
    assert not (tmp_path / "var").exists()  # looking created nothing


def test_the_config_in_the_environment_names_the_store_from_anywhere(tmp_path, monkeypatch,
                                                                    capsys):
    db = tmp_path / "srv" / "sink.db"
    conf = tmp_path / "sink.toml"
    conf.write_text(f'[store]\ndb = "{db}"\n')
    assert main(["suppress", "x@example.com", "--reason", "asked", "--db", str(db)]) == 1
    from bouncesink.store import open_store

    open_store(str(db)).close()  # as serve creates it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("BOUNCESINK_CONFIG", str(conf))
    capsys.readouterr()
    assert main(["suppress", "x@example.com", "--reason", "asked"]) == 0
    assert main(["why", "x@example.com"]) == 0
    assert "SUPPRESSED" in capsys.readouterr().out


def actions(parser: argparse.ArgumentParser, path=()):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in a._choices_actions}
            for name, sub in a.choices.items():
                yield path + (name,), "(command)", helps.get(name)
                yield from actions(sub, path + (name,))
        elif not isinstance(a, (argparse._HelpAction, argparse._VersionAction)):
            yield path, "/".join(a.option_strings) or a.dest, a.help


def test_every_command_and_flag_has_help_text():
    seen = list(actions(build_parser()))
    assert len(seen) > 50
    missing = [f"{' '.join(p)} {name}" for p, name, text in seen
               if not text or text == argparse.SUPPRESS or not text.strip()]
    assert missing == []


def test_the_units_documentation_links_point_to_files_that_exist():
    units = sorted((ROOT / "systemd").glob("*.service")) + sorted((ROOT / "systemd").glob("*.timer"))
    assert units
    installed = re.findall(r"install -D -m 0644 -t /usr/share/doc/bouncesink ([^\n]+)", README)
    assert installed, "the README's install step puts the docs under /usr/share/doc/bouncesink"
    shipped = installed[0].split()
    for unit in units:
        text = unit.read_text()
        for link in re.findall(r"^Documentation=(.+)$", text, re.M):
            for url in link.split():
                if url.startswith("file:///usr/share/doc/bouncesink/"):
                    name = url.rsplit("/", 1)[1]
                    assert name in shipped and (ROOT / name).is_file(), (unit.name, url)
                else:
                    assert url.startswith(("man:", "https://", "http://", "info:")), url
        # repository paths named in comments ("see README.md", "config/bouncesink.toml")
        for ref in re.findall(r"(?<![/\w.])((?:[\w-]+/)*[\w.-]+\.(?:md|toml|service|timer))",
                              text):
            assert (ROOT / ref).exists() or (ROOT / "systemd" / ref).exists(), (unit.name, ref)
