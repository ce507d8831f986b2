"""The LMTP and pipe roads behind a real Exim 4 (Debian's, unpacked under /opt/exim): the
router and transports the README shows, in a throwaway Exim on loopback."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import smtplib
import sqlite3
import subprocess

import pytest

from conftest import DATA_DIR, make_config, start_sink
from peers import command_for, free_port, shared_tmpdir, wait_for, wait_port

EXIM = "/opt/exim/usr/sbin/exim4"
EXIM_USER = "Debian-exim"
TRUSTED = "/etc/exim4/trusted_configs"   # Debian's TRUSTED_CONFIG_LIST
DSN = (DATA_DIR / "dsn-soft-mailboxfull.eml").read_bytes()

# Routers and transports as in README "Roads in" (LMTP and pipe), around a minimal
# configuration of our own (spool, logs and pid under the test's directory).
CONFIGURE = """\
exim_path = {exim}
primary_hostname = mta.example.net
exim_user = {user}
exim_group = {group}
never_users = root
spool_directory = {base}/spool
log_file_path = {base}/log/%slog
pid_file_path = {base}/exim.pid
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
keep_environment =
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
acl_smtp_rcpt = acl_rcpt

begin acl

acl_rcpt:
  accept hosts = 127.0.0.1
  deny   message = relay not permitted

begin routers

bouncesink:
  driver = accept
  domains = lmtp.example.org
  transport = bouncesink_lmtp

bouncesink_pipe:
  driver = accept
  domains = pipe.example.org
  transport = bouncesink_pipe

begin transports

bouncesink_lmtp:
  driver = smtp
  protocol = lmtp
  hosts = 127.0.0.1
  port = {lmtp_port}
  hosts_override
  allow_localhost

bouncesink_pipe:
  driver = pipe
  command = {deliver} --db {db}
  user = nobody
  temp_errors = 75
  log_output

begin retry

*   *   F,1m,1s
"""


def exim_unavailable() -> str | None:
    if not os.access(EXIM, os.X_OK):
        return f"Exim is not unpacked at {EXIM} (see .ci/system-packages)"
    if os.geteuid() != 0:
        return "Exim's daemon must start as root (it drops to exim_user)"
    try:
        pwd.getpwnam(EXIM_USER)
    except KeyError:
        return f"no {EXIM_USER} user (.ci/system-packages creates it)"
    return None


@pytest.fixture(scope="module")
def exim():
    reason = exim_unavailable()
    if reason:
        pytest.skip(reason)
    command = command_for("nobody")
    if command is None:
        pytest.skip("the bouncesink command cannot run as an unprivileged user here")
    base = shared_tmpdir("bouncesink-exim-")
    sink = start_sink(make_config(base / "sink", lmtp={"listen": "127.0.0.1:0"},
                                  server={"domains": ("lmtp.example.org",),
                                          "listen": "127.0.0.1:0", "hostname": "sink.test"}))
    nobody, user = pwd.getpwnam("nobody"), pwd.getpwnam(EXIM_USER)
    pipe_store = base / "pipe"
    pipe_store.mkdir()
    os.chown(pipe_store, nobody.pw_uid, nobody.pw_gid)
    for d in ("spool", "log"):
        (base / d).mkdir()
        os.chown(base / d, user.pw_uid, user.pw_gid)
    port = free_port()
    conf = base / "exim.conf"
    conf.write_text(CONFIGURE.format(
        exim=EXIM, user=EXIM_USER, group=grp.getgrgid(user.pw_gid).gr_name, base=base,
        port=port, lmtp_port=sink.server.lmtp_port, deliver=" ".join(command) + " deliver",
        db=pipe_store / "sink.db"))
    conf.chmod(0o644)
    # Exim gives up root for a -C file unless TRUSTED_CONFIG_LIST names it, and the pipe
    # transport needs root to become `user`. The list is a system file: we create it only
    # where none exists (dpkg -x of Exim leaves none), and remove it again.
    made_trust = not os.path.exists(TRUSTED)
    if made_trust:
        os.makedirs(os.path.dirname(TRUSTED), exist_ok=True)
        with open(TRUSTED, "w") as fh:
            fh.write(f"{conf}\n")
        os.chmod(TRUSTED, 0o644)
    proc = subprocess.Popen([EXIM, "-C", str(conf), "-bdf", "-q1s"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
    except TimeoutError:
        proc.kill()
        sink.stop()
        pytest.fail(f"exim did not start: {(base / 'log' / 'paniclog').read_text() if (base / 'log' / 'paniclog').exists() else ''}")
    yield {"port": port, "sink": sink, "pipe_db": str(pipe_store / "sink.db"), "base": base,
           "trusted": made_trust}
    if made_trust:
        os.unlink(TRUSTED)
        try:
            os.rmdir(os.path.dirname(TRUSTED))
        except OSError:
            pass
    proc.terminate()
    proc.wait(30)
    sink.stop()
    shutil.rmtree(base, ignore_errors=True)


def mainlog(exim) -> str:
    p = exim["base"] / "log" / "mainlog"
    return p.read_text(errors="replace") if p.exists() else ""


def test_exim_hands_a_bounce_over_lmtp(exim):
    with smtplib.SMTP("127.0.0.1", exim["port"], timeout=30) as c:
        c.sendmail("", ["bounces+x@lmtp.example.org"], DSN)
    sink = exim["sink"]
    wait_for(lambda: sink.count("SELECT COUNT(*) FROM messages") >= 1,
             what=f"stored over LMTP; exim mainlog:\n{mainlog(exim)}")
    sink.wait_classified(1)
    assert "R=bouncesink T=bouncesink_lmtp" in mainlog(exim)


def test_exim_pipes_a_bounce_to_deliver(exim):
    if not exim["trusted"]:
        pytest.skip(f"{TRUSTED} exists already: not changed by a test, so the pipe's -C"
                    f" configuration is not trusted")
    with smtplib.SMTP("127.0.0.1", exim["port"], timeout=30) as c:
        c.sendmail("", ["bounces+y@pipe.example.org"], DSN)

    def stored():
        if not os.path.exists(exim["pipe_db"]):
            return []
        with sqlite3.connect(exim["pipe_db"]) as conn:
            try:
                return conn.execute("SELECT state, mail_from, rcpt_to FROM messages").fetchall()
            except sqlite3.OperationalError:
                return []

    rows = wait_for(stored, what=f"stored by the pipe; exim mainlog:\n{mainlog(exim)}")
    assert rows[0][1:] == ("", '["bounces+y@pipe.example.org"]')  # from SENDER, RECIPIENT
    wait_for(lambda: "R=bouncesink_pipe T=bouncesink_pipe" in mainlog(exim)
             and "Completed" in mainlog(exim).split("T=bouncesink_pipe", 1)[1],
             what=f"Exim logs the pipe delivery done; mainlog:\n{mainlog(exim)}")
