"""Config: the documented file equals the defaults; check-config names each problem; reload."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bouncesink import config
from bouncesink.cli import main
from bouncesink.config import Config, ConfigError

DOCUMENTED = Path(__file__).resolve().parent.parent / "config" / "bouncesink.toml"


def problems_of(text: str, tmp_path) -> list[str]:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    return info.value.problems


# -- the documented file ----------------------------------------------------------------------
def test_documented_file_loads_to_exactly_the_defaults():
    assert config.load(DOCUMENTED) == Config()


def test_documented_file_sets_every_key_of_every_section():
    data = tomllib.loads(DOCUMENTED.read_text())
    for section in dataclasses.fields(Config):
        if section.default_factory is dataclasses.MISSING:
            continue  # [[webhooks]]: an array of tables, none by default (documented in comments)
        assert section.name in data, f"[{section.name}] missing from {DOCUMENTED.name}"
        keys = {f.name for f in dataclasses.fields(section.default_factory())}
        missing = keys - set(data[section.name])
        assert not missing, f"[{section.name}] does not document {sorted(missing)}"


def test_documented_file_comments_every_key():
    """Each key line is preceded by a comment (or shares one with the keys just above)."""
    lines = DOCUMENTED.read_text().splitlines()
    for n, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            block = n
            while block > 0 and lines[block - 1].strip() and "=" in lines[block - 1] \
                    and not lines[block - 1].lstrip().startswith("#"):
                block -= 1
            assert block > 0 and lines[block - 1].lstrip().startswith("#"), \
                f"line {n + 1} ({line.strip()}) has no comment"


def test_documented_reload_marks_match_what_reload_applies():
    """A key is marked [reload] in the file exactly when merge_reload takes it."""
    marked, section, comment = set(), "", []
    for line in DOCUMENTED.read_text().splitlines():
        s = line.strip()
        if s.startswith("["):
            section, comment = s.strip("[]"), []
        elif s.startswith("#"):
            if comment and comment[-1] is None:  # a comment after keys starts a new block
                comment = []
            comment.append(s)
        elif "=" in s:
            if any("[reload]" in c for c in comment if c):
                marked.add(f"{section}.{s.split('=')[0].strip()}")
            comment.append(None)
        else:
            comment = []
    reloadable = set()
    for f in dataclasses.fields(Config):
        if f.default_factory is dataclasses.MISSING:
            continue  # [[webhooks]]: restart only
        for g in dataclasses.fields(f.default_factory()):
            name = f"{f.name}.{g.name}"
            if f.name in config.NOT_SERVED:
                continue
            allowed = config.RELOADABLE.get(f.name, frozenset())
            if name not in config.RESTART_ONLY and (allowed is None or g.name in allowed):
                reloadable.add(name)
    assert marked == reloadable


# -- problems: one line each, naming the key and its line ---------------------------------------
def test_every_problem_is_reported_with_key_and_line(tmp_path):
    problems = problems_of(
        '[server]\n'
        'listen = "0.0.0.0"\n'
        'domian = ["bounces.example.org"]\n'
        'max_recipients = "ten"\n'
        '\n'
        '[stor]\n'
        'db = "x"\n', tmp_path)
    assert len(problems) == 4
    assert problems[0].endswith("c.toml:2: server.listen: expected HOST:PORT, got '0.0.0.0'")
    assert "c.toml:3: server.domian: unknown key (did you mean 'domains'?)" in problems[1]
    assert "c.toml:4: server.max_recipients: expected an integer" in problems[2]
    assert "c.toml:6: [stor]: unknown section (did you mean 'store'?)" in problems[3]


@pytest.mark.parametrize("text, expected", [
    ('[store]\ndurability = "sometimes"\n', "store.durability: must be one of full, normal, off"),
    ('[server]\nmax_connections = 0\n', "server.max_connections: must be at least 1"),
    ('[server]\ncommand_timeout = 0\n', "server.command_timeout: must be more than 0"),
    ('[server]\nmax_line_length = 100\n', "server.max_line_length: must be at least 512"),
    ('[server]\ndomains = ["not a domain"]\n', "server.domains: 'not a domain' is not a domain"),
    ('[server]\nrequire_tls = "yes"\n', "server.require_tls: expected true or false"),
    ('[policy]\nactions = { mailbox_full = "count" }\n',
     "policy.actions.mailbox_full: not a result type or reason (did you mean 'mailboxfull'?)"),
    ('[policy]\nactions = { blocked = "shout" }\n', "policy.actions.blocked: must be one of"),
    ('[policy.actions]\nblocked = "shout"\n', "c.toml:1: policy.actions.blocked: must be one of"),
    ('[verp]\ndelimiter = "+-"\n', "verp.delimiter: must be one character"),
    ('[verp]\nsecrets = ["short"]\n', "verp.secrets: each secret needs at least 16 characters"),
    ('[server]\ntls_cert = "/etc/ssl/c.pem"\n',
     "server.tls_key: tls_cert and tls_key go together; tls_key is not set"),
    ('[server]\nrequire_tls = true\n', "c.toml:2: server.require_tls: needs tls_cert and tls_key"),
    ('[server]\nlisten = "127.0.0.1:2525"\n[metrics]\nlisten = "127.0.0.1:2525"\n',
     "c.toml:4: metrics.listen: same address as server.listen"),
    ('[server]\nworkers = 4\n[metrics]\nlisten = "127.0.0.1:9125"\n',
     "c.toml:4: metrics.listen: needs server.workers = 1"),
    ('[policy]\nsoft_window_days = 1\nsoft_min_span_days = 2\n',
     "c.toml:3: policy.soft_min_span_days: longer than soft_window_days"),
    ('server.listen = ":x"\n', "c.toml:1: server.listen: expected HOST:PORT"),
    ('[doctor]\naddresses = ["192.0.2.25", "mx.example.org"]\n',
     "c.toml:2: doctor.addresses: 'mx.example.org' is not an IP address"),
    ('[doctor]\nnameserver = "ns1.example.org:53"\n',
     "c.toml:2: doctor.nameserver: expected an IP address with an optional :PORT"),
    ('[log]\nlevel = "loud"\n', "c.toml:2: log.level: must be one of debug, info, warning, error"),
    ('[policy]\nsoft_window_days = nan\n',
     "c.toml:2: policy.soft_window_days: must be a finite number, got nan"),
    ('[server]\ncommand_timeout = inf\n',
     "c.toml:2: server.command_timeout: must be a finite number, got inf"),
    ('[policy]\nsoft_window_days = 1e300\n',
     "c.toml:2: policy.soft_window_days: must be at most 3650, got 1e+300"),
    ('[server]\nmax_message_size = 99999999999999999999\n', "server.max_message_size"),
    ('[server]\nmax_inflight_bytes = 1000\n',
     "c.toml:2: server.max_inflight_bytes: smaller than max_message_size"),
])
def test_bad_value_names_the_key(tmp_path, text, expected):
    problems = problems_of(text, tmp_path)
    assert len(problems) == 1
    assert expected in problems[0]


def test_each_bad_action_is_its_own_problem(tmp_path):
    problems = problems_of('[policy.actions]\nmailbox_full = "count"\nblocked = "shout"\n'
                           'hard = "suppress"\n', tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "policy.actions.mailbox_full: not a result type or reason (did you mean 'mailboxfull'?)",
        "policy.actions.blocked: must be one of suppress, count, ignore, alert, got 'shout'"]


def test_invalid_toml_is_one_line_with_the_line_number(tmp_path):
    (problem,) = problems_of('[server]\nlisten = \n', tmp_path)
    assert "invalid TOML" in problem and "line 2" in problem


def test_deeply_nested_toml_is_one_line(tmp_path):
    (problem,) = problems_of("x = " + "[" * 50_000 + "]" * 50_000 + "\n", tmp_path)
    assert problem.endswith("invalid TOML: arrays or tables nested too deeply")


def test_domains_are_normalised():
    cfg = config.from_dict({"server": {"domains": ["Bounces.Example.ORG."]}})
    assert cfg.server.domains == ("bounces.example.org",)


# -- the command ------------------------------------------------------------------------------
def test_check_config_ok_exits_zero(capsys):
    assert main(["check-config", "--config", str(DOCUMENTED)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (f"{DOCUMENTED}: ok (listen 127.0.0.1:2525; domains -;"
                                   f" store ./var/bouncesink.db; metrics off)")


def test_check_config_problems_exit_nonzero_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nlisten = "nowhere"\nfoo = 1\n')
    proc = subprocess.run([sys.executable, "-m", "bouncesink", "check-config", "--config", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines == [f"bouncesink: {bad}:2: server.listen: expected HOST:PORT, got 'nowhere'",
                     f"bouncesink: {bad}:3: server.foo: unknown key"]


def test_check_config_missing_file(capsys, tmp_path):
    assert main(["check-config", "--config", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml: cannot read config" in err and "Traceback" not in err


def test_check_config_reports_unreadable_tls_files(capsys, tmp_path):
    c = tmp_path / "c.toml"
    c.write_text(f'[server]\ntls_cert = "{tmp_path}/cert.pem"\ntls_key = "{tmp_path}/key.pem"\n')
    assert main(["check-config", "--config", str(c)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"bouncesink: {c}: server.tls_cert: cannot read {tmp_path}/cert.pem",
                   f"bouncesink: {c}: server.tls_key: cannot read {tmp_path}/key.pem"]


def test_check_config_loads_the_tls_pair_as_serve_will(capsys, tmp_path):
    c = tmp_path / "c.toml"
    c.write_text('[server]\ntls_cert = "/etc/passwd"\ntls_key = "/etc/passwd"\n')
    assert main(["check-config", "--config", str(c)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"bouncesink: {c}: server.tls_cert / tls_key: cannot load"
                           f" /etc/passwd, /etc/passwd:")


# -- reload -----------------------------------------------------------------------------------
def test_merge_reload_takes_runtime_settings_and_keeps_bound_ones():
    old = config.from_dict({"server": {"domains": ["a.example.org"], "listen": "127.0.0.1:2525"},
                            "store": {"db": "/var/lib/a.db"}})
    new = config.from_dict({"server": {"domains": ["b.example.org"], "listen": "0.0.0.0:25",
                                       "max_recipients": 7},
                            "policy": {"soft_threshold": 3},
                            "store": {"db": "/var/lib/b.db"},
                            "log": {"level": "debug", "format": "console"}})
    merged, applied, restart = config.merge_reload(old, new)
    assert merged.server.domains == ("b.example.org",)
    assert merged.server.max_recipients == 7
    assert merged.policy.soft_threshold == 3
    assert merged.log.level == "debug"
    assert merged.server.listen == "127.0.0.1:2525"
    assert merged.store.db == "/var/lib/a.db"
    assert merged.log.format == "auto"
    assert sorted(applied) == ["log.level", "policy.soft_threshold", "server.domains",
                               "server.max_recipients"]
    assert sorted(restart) == ["log.format", "server.listen", "store.db"]


def test_merge_reload_takes_command_only_settings_silently():
    new = config.from_dict({"doctor": {"addresses": ["192.0.2.25"]}})
    merged, applied, restart = config.merge_reload(Config(), new)
    assert merged.doctor.addresses == ("192.0.2.25",)
    assert (applied, restart) == ([], [])


def test_merge_reload_of_the_same_config_changes_nothing():
    cfg = Config()
    assert config.merge_reload(cfg, cfg) == (cfg, [], [])


# -- SIGHUP on a real `bouncesink serve` --------------------------------------------------------
class Serve:
    """`bouncesink serve --config FILE` as a child process, its JSON log lines read as dicts."""

    def __init__(self, config_file: Path):
        import queue
        import threading

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bouncesink", "serve", "--config", str(config_file),
             "--log-format", "json"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        started = self.wait_for("server_started")
        self.port = started["listen"][0][1]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, event: str, timeout: float = 20.0) -> dict:
        import json
        import queue
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"not a JSON log line: {line!r}") from None
            if record.get("event") == event:
                return record
        raise AssertionError(f"no {event} within {timeout}s")

    def rcpt(self, address: str) -> int:
        import smtplib

        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("client.example.net")
            c.mail("")
            return c.rcpt(address)[0]

    def stop(self) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


SERVE_CONFIG = """
[server]
listen = "127.0.0.1:0"
domains = [{domains}]
max_recipients = {max_recipients}
[store]
db = "{db}"
durability = "off"
[policy]
confirm_hostunknown_dns = false
"""


def test_sighup_reloads_domains_and_limits_and_keeps_the_old_config_on_errors(tmp_path):
    import signal

    conf = tmp_path / "bouncesink.toml"
    db = tmp_path / "sink.db"
    conf.write_text(SERVE_CONFIG.format(domains='"a.example.org"', max_recipients=100, db=db))
    serve = Serve(conf)
    try:
        assert serve.rcpt("postmaster@a.example.org") == 250
        assert serve.rcpt("postmaster@b.example.org") == 550

        conf.write_text(SERVE_CONFIG.format(domains='"a.example.org", "b.example.org"',
                                            max_recipients=5, db=tmp_path / "other.db"))
        serve.proc.send_signal(signal.SIGHUP)
        reloaded = serve.wait_for("config_reloaded")
        assert sorted(reloaded["changed"]) == ["server.domains", "server.max_recipients"]
        assert reloaded["needs_restart"] == ["store.db"]
        assert serve.rcpt("postmaster@b.example.org") == 250

        conf.write_text('[server]\ndomains = "b.example.org"\nmax_recipients = "lots"\n')
        serve.proc.send_signal(signal.SIGHUP)
        failed = serve.wait_for("config_reload_failed")
        assert failed["level"] == "error"
        assert failed["problems"] == [f"{conf}:3: server.max_recipients: expected an integer,"
                                      f" got 'lots'"]
        assert serve.rcpt("postmaster@a.example.org") == 250
        assert serve.rcpt("postmaster@b.example.org") == 250

        conf.write_text('[policy]\nsoft_window_days = nan\n')
        serve.proc.send_signal(signal.SIGHUP)
        failed = serve.wait_for("config_reload_failed")
        assert failed["problems"] == [f"{conf}:2: policy.soft_window_days: must be a finite"
                                      f" number, got nan"]
        assert serve.rcpt("postmaster@b.example.org") == 250
    finally:
        assert serve.stop() == 0
    assert not (tmp_path / "other.db").exists()


def test_sighup_reaches_every_worker(tmp_path):
    import signal

    conf = tmp_path / "bouncesink.toml"
    text = SERVE_CONFIG.format(domains='"a.example.org"', max_recipients=100, db=tmp_path / "s.db")
    conf.write_text(text.replace("[store]", "workers = 2\n[store]"))
    serve = Serve(conf)   # one worker's server_started gives the shared port
    try:
        serve.wait_for("server_started")   # the other worker: both handle SIGHUP now
        conf.write_text(conf.read_text().replace('"a.example.org"', '"a.example.org", "b.example.org"'))
        serve.proc.send_signal(signal.SIGHUP)
        pids = {serve.wait_for("config_reloaded")["pid"], serve.wait_for("config_reloaded")["pid"]}
        assert len(pids) == 2
        for _ in range(6):  # the kernel spreads connections over both workers
            assert serve.rcpt("postmaster@b.example.org") == 250
    finally:
        assert serve.stop() == 0
