"""A throwaway OpenSMTPD (Debian's opensmtpd 6.8, unpacked under /opt/opensmtpd: it conflicts
with Postfix as a package), in the foreground (`smtpd -d -f FILE`) as our child.

OpenSMTPD's spool (/var/spool/smtpd), control socket (/var/run/smtpd.sock) and privsep
chroot (/var/lib/opensmtpd/empty) are compiled in, not configurable; so the daemon runs in a
mount namespace of its own (`unshare --mount`) where the work directory's folders are
bind-mounted over /var/spool, /run and /var/lib. Nothing outside the work directory is
touched, and two runs never share a queue. The users opensmtpd and opensmtpq come from
.ci/system-packages (the package's postinst would create them; dpkg -x does not).
Configuration (smtpd.conf(5)): one `relay host` action per routed domain, plain MX lookups
for everything else (the dead domain), `queue ttl` of a few seconds, no delay warnings.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

from .mta import MTA, Routes

ROOT = "/opt/opensmtpd"
SMTPD = f"{ROOT}/usr/sbin/smtpd"
USERS = ("opensmtpd", "opensmtpq")

# Inside the namespace: the work directory's folders over the compiled-in paths, then exec.
START = """\
set -e
mount --make-rprivate /
mount --bind "$W/spool" /var/spool
mount --bind "$W/run" /run
mount --bind "$W/varlib" /var/lib
exec "$SMTPD" -d -f "$W/smtpd.conf"
"""


class OpenSMTPD(MTA):
    name = "opensmtpd"

    @staticmethod
    def unavailable() -> str | None:
        if not os.access(SMTPD, os.X_OK):
            return f"OpenSMTPD not unpacked at {SMTPD} (see .ci/system-packages)"
        if os.geteuid() != 0:
            return "OpenSMTPD must start as root (privilege separation)"
        for user in USERS:
            try:
                pwd.getpwnam(user)
            except KeyError:
                return f"no '{user}' user (.ci/system-packages adds it)"
        if not shutil.which("unshare"):
            return "no unshare(1) for a private mount namespace"
        try:
            done = subprocess.run(["unshare", "--mount", "true"], capture_output=True,
                                  text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"unshare --mount does not run: {exc}"
        if done.returncode != 0:
            return f"no private mount namespace here: {done.stderr.strip()[:200]}"
        return None

    def configure(self, routes: Routes) -> None:
        base = self.workdir
        for d in ("spool", "run", "varlib/opensmtpd/empty"):
            (base / d).mkdir(parents=True, exist_ok=True)
        lines = [
            f"queue ttl {self.lifetime}s",
            "bounce warn-interval 1d",       # no warning within a run
            f"listen on 127.0.0.1 port {self.port} hostname opensmtpd.realmta.test",
            'action "mx" relay helo opensmtpd.realmta.test',
        ]
        matches = []
        for i, (dom, (host, port)) in enumerate(routes.relays.items()):
            lines.append(f'action "r{i}" relay host smtp://{host}:{port}'
                         " helo opensmtpd.realmta.test")
            matches.append(f'match from any for domain "{dom}" action "r{i}"')
        lines += matches
        lines.append('match from any for any action "mx"')
        self.conf = base / "smtpd.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        os.chmod(self.conf, 0o644)

    def start(self) -> None:
        env = dict(os.environ, W=str(self.workdir), SMTPD=SMTPD)
        self.proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", START], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.logfile(),
                                     stderr=subprocess.STDOUT)
        self.wait_listening()

    def log_text(self) -> str:
        p = self.workdir / "stdout.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        self.terminate()
