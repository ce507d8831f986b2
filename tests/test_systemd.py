"""The systemd unit: hardened directives (always), systemd-analyze verify and security (if present)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "bouncesink.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")


def directives(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values in order (systemd keys may repeat, e.g. SystemCallFilter)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        if s.startswith("["):
            section = out.setdefault(s.strip("[]"), {})
            continue
        key, _, value = s.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.fixture(scope="module")
def unit():
    return directives(UNIT.read_text())


def one(unit, key, section="Service"):
    values = unit[section].get(key, [])
    assert len(values) == 1, f"{key}= expected once in [{section}], found {values}"
    return values[0]


def test_runs_as_unprivileged_user_with_only_the_port_25_capability(unit):
    assert one(unit, "User") not in ("", "root", "0")
    assert one(unit, "AmbientCapabilities") == "CAP_NET_BIND_SERVICE"
    assert one(unit, "CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE"
    assert one(unit, "NoNewPrivileges") == "yes"


def test_filesystem_is_read_only_except_the_store(unit):
    assert one(unit, "ProtectSystem") == "strict"
    assert one(unit, "ReadWritePaths") == "/var/lib/bouncesink"
    assert one(unit, "StateDirectory") == "bouncesink"
    assert one(unit, "PrivateTmp") == "yes"
    assert one(unit, "ProtectHome") == "yes"
    assert one(unit, "UMask") == "0077"


def test_kernel_devices_and_syscalls_are_fenced(unit):
    for key in ("PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces",
                "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality",
                "MemoryDenyWriteExecute", "ProtectClock", "ProtectHostname"):
        assert one(unit, key) == "yes", key
    assert set(one(unit, "RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    filters = unit["Service"]["SystemCallFilter"]
    assert "@system-service" in filters
    denied = [f for f in filters if f.startswith("~")]
    assert denied and "@privileged" in denied[0]
    # the classifier lowers its own priority and caps its memory (sched_setscheduler,
    # setrlimit: @resources); denied, it would compete with SMTP at full priority
    assert not any("@resources" in f for f in denied)
    assert one(unit, "SystemCallArchitectures") == "native"


def test_serves_the_installed_config_checks_it_first_and_reloads_with_sighup(unit):
    start = one(unit, "ExecStart")
    assert re.search(r"bouncesink serve --config /etc/bouncesink/bouncesink\.toml", start)
    assert "check-config --config /etc/bouncesink/bouncesink.toml" in one(unit, "ExecStartPre")
    assert unit["Service"]["ExecReload"] == [
        "/usr/local/bin/bouncesink check-config --config /etc/bouncesink/bouncesink.toml",
        "/bin/kill -HUP $MAINPID"]
    # The server drains for up to 30 s; systemd must not SIGKILL it before that.
    assert int(one(unit, "TimeoutStopSec").rstrip("s")) > 30


def test_memory_is_capped_and_the_data_budget_fits_in_it(unit):
    from bouncesink.config import ServerConfig

    size = {"K": 2**10, "M": 2**20, "G": 2**30}
    limit = one(unit, "MemoryMax")
    cap = int(limit[:-1]) * size[limit[-1]]
    assert cap <= 512 * 2**20
    # The server's own ~160 MB besides, and ~2.5 bytes held per byte in transfer.
    assert 160 * 2**20 + 2.5 * ServerConfig().max_inflight_bytes <= cap


def test_logs_go_to_the_journal(unit):
    assert one(unit, "StandardOutput") == "journal"
    assert one(unit, "SyslogIdentifier") == "bouncesink"
    assert one(unit, "WantedBy", "Install") == "multi-user.target"


UNITS = UNIT.parent
PRUNE = UNITS / "bouncesink-prune.service"
TIMER = UNITS / "bouncesink-prune.timer"


def _installable_copy(tmp_path, unit: Path = UNIT) -> Path:
    """Every unit, with ExecStart pointing at a program that exists here (verify checks
    it); returns the copy of `unit`."""
    exe = Path(sys.executable).parent / "bouncesink"
    if not exe.exists():
        exe = tmp_path / "bouncesink"
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    for u in (UNIT, PRUNE, TIMER):
        (tmp_path / u.name).write_text(u.read_text().replace("/usr/local/bin/bouncesink", str(exe)))
    return tmp_path / unit.name


def test_prune_runs_weekly_as_the_service_user_with_no_capability():
    service = directives(PRUNE.read_text())["Service"]
    assert service["User"] == ["bouncesink"] and service["CapabilityBoundingSet"] == [""]
    assert service["ExecStart"][0].endswith(
        "bouncesink prune --config /etc/bouncesink/bouncesink.toml --raw-older-than 90")
    assert service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == ["/var/lib/bouncesink"]
    timer = directives(TIMER.read_text())
    assert timer["Timer"]["OnCalendar"] == ["weekly"] and timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


@needs_analyze
def test_systemd_analyze_verify_prune_units_is_clean(tmp_path):
    copy = _installable_copy(tmp_path, PRUNE)
    proc = subprocess.run([ANALYZE, "verify", str(copy), str(tmp_path / TIMER.name)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""


@needs_analyze
def test_systemd_analyze_security_of_prune_is_at_most_3(tmp_path):
    proc = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager",
                           str(_installable_copy(tmp_path, PRUNE))],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    m = re.search(r"Overall exposure level for bouncesink-prune\.service: (\d+\.\d)", proc.stdout)
    assert m, proc.stdout[-500:] + proc.stderr
    assert float(m.group(1)) <= 3.0


@needs_analyze
def test_systemd_analyze_verify_is_clean(tmp_path):
    proc = subprocess.run([ANALYZE, "verify", str(_installable_copy(tmp_path))],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""


@needs_analyze
def test_systemd_analyze_security_exposure_is_at_most_3(tmp_path):
    proc = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager",
                           str(_installable_copy(tmp_path))],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    m = re.search(r"Overall exposure level for bouncesink\.service: (\d+\.\d)", proc.stdout)
    assert m, proc.stdout[-500:] + proc.stderr
    assert float(m.group(1)) <= 3.0
