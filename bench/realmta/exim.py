"""A throwaway Exim 4 (Debian's exim4-daemon-light, unpacked under /opt/exim: it conflicts
with Postfix as a package), run as a daemon on a loopback port with its own configuration.

`exim4 -C FILE -bdf -q1s`, our foreground child: the file (written here, owned by root)
sets the spool, log and pid paths under the work directory, exim_path (the binary re-execs
itself for deliveries and queue runs), and exim_user/exim_group Debian-exim (the binary
looks that name up at start whatever the configuration says; dpkg -x does not run the
package's postinst, so .ci/system-packages creates the user). Routers as in a plain
Debian set-up: a manualroute router for the domains the harness routes to loopback (address
and port from one table, read by the router and the smtp transport), and a dnslookup router
for everything else, so the dead domain is looked up and found unroutable. Retry rule
`F,<lifetime>s,1s` with a queue run every second makes a persistent 4xx bounce within the
run (Exim spec, "Retry configuration"); delay warnings are off.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess

from .mta import MTA, Routes

EXIM = "/opt/exim/usr/sbin/exim4"
USER = "Debian-exim"   # the binary looks this name up at start (created by .ci/system-packages)

CONFIGURE = """\
exim_path = {exim}
primary_hostname = exim.realmta.test
qualify_domain = exim.realmta.test
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
rfc1413_query_timeout = 0s
tls_advertise_hosts =
acl_smtp_rcpt = acl_rcpt
delay_warning = 0s
timeout_frozen_after = 1m
ignore_bounce_errors_after = 1m
queue_run_max = 20
remote_max_parallel = 20

begin acl

acl_rcpt:
  accept hosts = 127.0.0.1
  deny   message = relay not permitted

begin routers

loopback:
  driver = manualroute
  domains = lsearch;{base}/routes
  route_data = ${{extract{{1}}{{ }}{{$domain_data}}}}
  self = send
  transport = relay_smtp
  no_more

dnslookup:
  driver = dnslookup
  transport = relay_smtp
  no_more

begin transports

relay_smtp:
  driver = smtp
  port = ${{extract{{2}}{{ }}{{$domain_data}}{{$value}}{{25}}}}
  allow_localhost
  hosts_avoid_tls = *
  connect_timeout = 5s

begin retry

*   *   F,{lifetime}s,1s

begin rewrite
"""


class Exim(MTA):
    name = "exim"

    @staticmethod
    def unavailable() -> str | None:
        if not os.access(EXIM, os.X_OK):
            return f"Exim not unpacked at {EXIM} (see .ci/system-packages)"
        if os.geteuid() != 0:
            return "Exim's daemon must start as root (it drops to exim_user)"
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"no '{USER}' user (the binary looks it up at start; .ci/system-packages adds it)"
        try:
            # A binary that cannot load (a missing library) fails here, not mid-run.
            done = subprocess.run([EXIM, "-C", "/dev/null", "-bV"], capture_output=True,
                                  text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{EXIM} does not run: {exc}"
        if done.returncode != 0 or "Exim version" not in done.stdout:
            return f"{EXIM} -bV failed: {(done.stderr or done.stdout).strip()[:200]}"
        return None

    def configure(self, routes: Routes) -> None:
        base = self.workdir
        pw = pwd.getpwnam(USER)
        for d in ("spool", "log"):
            (base / d).mkdir(parents=True, exist_ok=True)
            os.chown(base / d, pw.pw_uid, pw.pw_gid)
        lines = [f"{dom}: {host} {port}" for dom, (host, port) in routes.relays.items()]
        (base / "routes").write_text("\n".join(lines) + "\n")
        self.conf = base / "exim.conf"
        self.conf.write_text(CONFIGURE.format(
            exim=EXIM, user=USER, group=grp.getgrgid(pw.pw_gid).gr_name, base=base, port=self.port,
            lifetime=self.lifetime))
        os.chmod(self.conf, 0o644)

    def start(self) -> None:
        self.proc = subprocess.Popen([EXIM, "-C", str(self.conf), "-bdf", "-q1s"],
                                     stdin=subprocess.DEVNULL, stdout=self.logfile(),
                                     stderr=subprocess.STDOUT)
        self.wait_listening()

    def log_text(self) -> str:
        out = []
        for name in ("mainlog", "paniclog", "rejectlog"):
            p = self.workdir / "log" / name
            if p.exists():
                out.append(p.read_text(errors="replace"))
        p = self.workdir / "stdout.log"
        if p.exists():
            out.append(p.read_text(errors="replace"))
        return "\n".join(out)

    def stop(self) -> None:
        self.terminate()
