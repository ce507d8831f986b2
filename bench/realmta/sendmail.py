"""A throwaway Sendmail 8.17 (Debian's sendmail-bin, -base and -cf unpacked under
/opt/sendmail: it conflicts with Postfix as a package), run as a foreground daemon
(`sendmail -C FILE -bD -q1s`) on a loopback port.

Its sendmail.cf is built here with m4 from the package's cf/ macros (cf/README): the queue,
pid, statistics and class files under the work directory; confDOMAIN_NAME set, so it never
waits on a look-up of its own name; Timeout.queuereturn of a few seconds and no warnings.
Routing is a mailertable (makemap hash) naming, per domain, the host and a mailer whose
`A=TCP $h PORT` carries the port (Sendmail's SMTP mailers take the port from their argv,
not from the mailertable, and at most 25 mailers are allowed: so the scripted remote gives
all its listeners one port number, and there is one mailer for them and one for the sink);
everything else goes out by host look-up, so the dead domain is found unknown.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from .mta import MTA, Routes

ROOT = "/opt/sendmail"
SENDMAIL = f"{ROOT}/usr/libexec/sendmail/sendmail"
MAKEMAP = f"{ROOT}/usr/libexec/sendmail/makemap"
CF = f"{ROOT}/usr/share/sendmail/cf"

MC = """\
divert(-1)
divert(0)dnl
include(`{cf}/m4/cf.m4')dnl
VERSIONID(`bouncesink realmta')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `sendmail.realmta.test')dnl
define(`QUEUE_DIR', `{base}/mqueue')dnl
define(`STATUS_FILE', `{base}/statistics')dnl
define(`confPID_FILE', `{base}/sendmail.pid')dnl
define(`confCW_FILE', `-o {base}/local-host-names')dnl
define(`ALIAS_FILE', `{base}/aliases')dnl
define(`confHELP_FILE', `')dnl
define(`confSERVICE_SWITCH_FILE', `{base}/service.switch')dnl
define(`confTO_QUEUERETURN', `{lifetime}s')dnl
define(`confTO_QUEUEWARN', `7d')dnl
define(`confMIN_QUEUE_AGE', `0s')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDELIVERY_MODE', `background')dnl
define(`confDONT_BLAME_SENDMAIL', `MapInUnsafeDirPath')dnl
FEATURE(`nouucp', `reject')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`promiscuous_relay')dnl
FEATURE(`mailertable', `hash -o {base}/mailertable')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA, Addr=127.0.0.1, Port={port}')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
"""

# An ESMTP mailer per routed domain: the smtp mailer's flags and rulesets, its own port.
MAILER = """\
M{name},	P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,
		T=DNS/RFC822/SMTP,
		A=TCP $h {port}
"""


class Sendmail(MTA):
    name = "sendmail"
    one_port = True

    @staticmethod
    def unavailable() -> str | None:
        if not os.access(SENDMAIL, os.X_OK):
            return f"Sendmail not unpacked at {SENDMAIL} (see .ci/system-packages)"
        if not shutil.which("m4"):
            return "no m4 to build sendmail.cf (Debian package m4)"
        if os.geteuid() != 0:
            return "Sendmail's daemon must start as root"
        try:
            done = subprocess.run(["unshare", "--mount", "--uts", "true"], capture_output=True,
                                  text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"unshare does not run: {exc}"
        if done.returncode != 0:
            return f"no private mount/UTS namespace here: {done.stderr.strip()[:200]}"
        return None

    def configure(self, routes: Routes) -> None:
        base = self.workdir
        (base / "mqueue").mkdir(parents=True, exist_ok=True)
        os.chmod(base / "mqueue", 0o700)
        for name in ("statistics", "local-host-names", "aliases"):
            (base / name).touch()
        # Host names from files only: at start Sendmail canonicalises its own name with an
        # MX-trying DNS query, which some sandboxes' resolvers never answer. The dead
        # domain is then "host not found" from the same look-up.
        (base / "service.switch").write_text("hosts files\naliases files\n")
        mailers, table, names = [], [], {}
        for dom, (host, port) in routes.relays.items():
            if port not in names:           # one mailer per port
                names[port] = f"p{port}"
                mailers.append(MAILER.format(name=names[port], port=port))
            table.append(f"{dom} {names[port]}:[{host}]")
        (base / "mailertable").write_text("\n".join(table) + "\n")
        mc = MC.format(cf=CF, base=base, port=self.port, lifetime=self.lifetime)
        (base / "sendmail.mc").write_text(mc)
        cf = subprocess.run(["m4"], input=mc, capture_output=True, text=True, check=True,
                            timeout=60).stdout
        self.cf = base / "sendmail.cf"
        self.cf.write_text(cf + "\n" + "".join(mailers))
        os.chmod(self.cf, 0o644)
        # makemap reads a sendmail.cf too (/etc/mail's by default, absent here): ours.
        subprocess.run([MAKEMAP, "-C", str(self.cf), "hash", str(base / "mailertable")],
                       input=(base / "mailertable").read_bytes(), check=True,
                       capture_output=True, timeout=30)

    def start(self) -> None:
        # Before it reads its cf, Sendmail canonicalises the machine's name; an unqualified
        # one ("vm") means DNS look-ups and, failing them, a minute's sleep. So it runs in
        # namespaces of its own where the host name is qualified and /etc/hosts knows it.
        hosts = self.workdir / "hosts"
        hosts.write_text("127.0.0.1 sendmail.realmta.test sendmail localhost\n")
        # `-bi` (newaliases) first: without an alias database Sendmail defers every message.
        script = (f'mount --make-rprivate / && mount --bind "{hosts}" /etc/hosts'
                  ' && hostname sendmail.realmta.test && "$1" -C "$3" -bi >/dev/null'
                  ' && exec "$@"')
        self.proc = subprocess.Popen(["unshare", "--mount", "--uts", "sh", "-c", script, "sh",
                                      SENDMAIL, "-C", str(self.cf), "-bD", "-q1s"],
                                     stdin=subprocess.DEVNULL, stdout=self.logfile(),
                                     stderr=subprocess.STDOUT)
        self.wait_listening()

    def log_text(self) -> str:
        p = self.workdir / "stdout.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        self.terminate()
