"""Real peers for the roads' tests: a throwaway Postfix and Dovecot on loopback.

Neither is the system's service: each instance has its own configuration, queue and data
directories under a temporary directory, listens on 127.0.0.1 only, and is stopped when the
fixture ends. They need root (Postfix's master and Dovecot drop privileges themselves) and
the Debian packages (.ci/system-packages); the helpers say why they cannot run, and the
fixtures skip with that reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not met after {timeout} s")


def shared_tmpdir(prefix: str) -> Path:
    """A directory the unprivileged users of the peers can enter (pytest's tmp_path sits
    under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


# -- the bouncesink command as an unprivileged user sees it -----------------------------------
def command_for(user: str = "nobody") -> list[str] | None:
    """argv (before the sub-command) that runs this checkout's bouncesink as `user`, or
    None. Postfix pipe(8) refuses to run commands as root, and the venv's interpreter may sit
    where `user` cannot reach it (pyenv under /root): then the system Python of the same
    minor version, with this checkout and the venv's site-packages on PYTHONPATH."""
    site = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    candidates = [[sys.executable, "-m", "bouncesink"]]
    system = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if system and site:
        path = ":".join([str(ROOT)] + site)
        candidates.append(["/usr/bin/env", f"PYTHONPATH={path}", system, "-m", "bouncesink"])
    for argv in candidates:
        try:
            probe = subprocess.run(argv + ["--version"], user=user, capture_output=True,
                                   timeout=30, cwd="/")
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return argv
    return None


# -- Postfix --------------------------------------------------------------------------------
MASTER_CF = """\
{smtpd}   inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_unavailable() -> str | None:
    if not os.path.exists(POSTFIX):
        return "Postfix is not installed (apt-get install postfix; see .ci/system-packages)"
    if os.geteuid() != 0:
        return "a throwaway Postfix instance needs root (its master drops privileges itself)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (the Debian package creates it)"
    return None


class Postfix:
    """A throwaway Postfix on 127.0.0.1:`port`: `main` and `services` (master.cf lines) are
    added to a minimal configuration that relays nothing but the given transport_maps."""

    def __init__(self, root: Path, main: dict[str, str], services: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.conf = root / "conf"
        self.main = {
            "compatibility_level": "3.6",
            "queue_directory": str(root / "queue"),
            "data_directory": str(root / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "mta.example.net",
            "mydomain": "example.net",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "maillog_file": str(root / "maillog"),
            "maillog_file_prefixes": str(root),
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtputf8_enable": "no",
            "biff": "no",
            "delay_warning_time": "0",
            # A deferred message is tried again within seconds (the retry tests).
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtpd_banner": "$myhostname ESMTP",
        }
        self.main.update(main)
        self.services = services

    def start(self) -> "Postfix":
        self.conf.mkdir(parents=True)
        for sub in ("queue", "data"):
            (self.root / sub).mkdir(mode=0o755)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.root / "data", postfix.pw_uid, postfix.pw_gid)
        (self.conf / "main.cf").write_text(
            "".join(f"{k} = {v}\n" for k, v in self.main.items()))
        (self.conf / "master.cf").write_text(
            MASTER_CF.format(smtpd=f"127.0.0.1:{self.port}") + self.services)
        self.postfix("start")
        wait_port(self.port)
        return self

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        out = subprocess.run([POSTFIX, "-c", str(self.conf), *args], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {out.stderr or out.stdout}")
        return out

    def stop(self) -> None:
        try:
            self.postfix("stop")
        except (RuntimeError, subprocess.SubprocessError):
            subprocess.run([POSTFIX, "-c", str(self.conf), "abort"], capture_output=True)

    def log(self) -> str:
        try:
            return (self.root / "maillog").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def flush(self) -> None:
        self.postfix("flush")


# -- Dovecot --------------------------------------------------------------------------------
def dovecot_unavailable() -> str | None:
    if not os.path.exists(DOVECOT):
        return "Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)"
    if not os.path.exists("/usr/lib/dovecot/imap") or not os.path.exists("/usr/lib/dovecot/pop3"):
        return "Dovecot's imap and pop3 services are not installed (dovecot-imapd, dovecot-pop3d)"
    if os.geteuid() != 0:
        return "a throwaway Dovecot needs root (it drops privileges itself)"
    for user in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"the {user} user does not exist (the Debian package creates it)"
    return None


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{root}/mail/%n
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
"""


class Dovecot:
    """A throwaway Dovecot on 127.0.0.1 with IMAP, IMAPS, POP3 and POP3S; users from a
    passwd-file (`add_user`), mail in Maildirs under `root`, a certificate from `ca`
    (a trustme.CA) for 127.0.0.1."""

    def __init__(self, root: Path, ca) -> None:
        self.root = root
        self.ca = ca
        self.ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
        self.proc = None
        self.users: dict[str, str] = {}

    def start(self) -> "Dovecot":
        nobody = pwd.getpwnam("nobody")
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(mode=0o755)
        for sub in ("mail", "home"):
            os.chown(self.root / sub, nobody.pw_uid, nobody.pw_gid)
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(self.root / "cert.pem"))
        for pem in cert.cert_chain_pems[1:]:
            pem.write_to_path(str(self.root / "cert.pem"), append=True)
        cert.private_key_pem.write_to_path(str(self.root / "key.pem"))
        self.ca.cert_pem.write_to_path(str(self.root / "ca.pem"))
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF.format(root=self.root, uid=nobody.pw_uid,
                                                 gid=nobody.pw_gid, **self.ports))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for port in self.ports.values():
                wait_port(port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"dovecot did not start: {self.log()}") from None
        return self

    def add_users(self, users: dict[str, str]) -> None:
        """Users (name -> password) for the passwd-file; before start() (Dovecot does not
        re-read a passwd-file changed within the second it last read it)."""
        self.users.update(users)

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def imap(self, user: str):
        """A logged-in IMAPClient over IMAPS, trusting our CA."""
        import ssl

        from imapclient import IMAPClient

        ctx = ssl.create_default_context(cafile=str(self.root / "ca.pem"))
        c = IMAPClient("127.0.0.1", port=self.ports["imaps"], ssl=True, ssl_context=ctx,
                       timeout=30)
        c.login(user, self.users[user])
        return c

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
