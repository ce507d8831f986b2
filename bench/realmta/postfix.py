"""A throwaway Postfix instance (Debian's package, not configured, not running as a service).

Its own config_directory, queue_directory and data_directory under the work directory; its
`master` runs in the foreground (`master -d`) as our child, so stopping it is killing one
pid; mail_owner is the package's `postfix` user. It listens on a loopback port for the
harness's submissions, relays each case's domain to that case's listener of the scripted
remote (transport_maps, one nexthop per case), lets the dead domain go to DNS like any
other domain, and sends its DSNs to the sink. Queue times are seconds, so a persistent 4xx
bounces as "expired" within the run (maximal_queue_lifetime, bounce_queue_lifetime,
queue_run_delay, minimal/maximal_backoff_time: postconf(5)).
"""

from __future__ import annotations

import os
import pwd
import subprocess

from .mta import MTA, Routes

POSTFIX = "/usr/sbin/postfix"
DAEMONS = "/usr/lib/postfix/sbin"

# No chroot anywhere: the instance's daemons need nothing copied under its queue directory.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
daemon_directory = {daemons}
command_directory = /usr/sbin
mail_owner = postfix
setgid_group = postdrop
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
myhostname = postfix.realmta.test
mydomain = realmta.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
transport_maps = texthash:{etc}/transport
smtputf8_enable = no
biff = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_connect_timeout = 5s
# Seconds, not days: a persistent 4xx bounces within the run.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = {lifetime}s
bounce_queue_lifetime = {lifetime}s
delay_warning_time = 0
"""


class Postfix(MTA):
    name = "postfix"

    @staticmethod
    def unavailable() -> str | None:
        if not os.access(POSTFIX, os.X_OK) or not os.access(f"{DAEMONS}/master", os.X_OK):
            return f"Postfix not installed ({POSTFIX}, {DAEMONS}/master)"
        if os.geteuid() != 0:
            return "Postfix's master must start as root (it drops to mail_owner)"
        try:
            pwd.getpwnam("postfix")
        except KeyError:
            return "no 'postfix' user (the package's mail_owner)"
        return None

    def configure(self, routes: Routes) -> None:
        base = self.workdir
        etc, queue, data = base / "etc", base / "spool", base / "data"
        for d in (etc, queue, data):
            d.mkdir(parents=True, exist_ok=True)
        pw = pwd.getpwnam("postfix")
        os.chown(data, pw.pw_uid, pw.pw_gid)    # master refuses a data_directory it does not own
        lines = [f"{dom}\tsmtp:[{host}]:{port}" for dom, (host, port) in routes.relays.items()]
        (etc / "transport").write_text("\n".join(lines) + "\n")
        (etc / "main.cf").write_text(MAIN_CF.format(
            queue=queue, data=data, daemons=DAEMONS, base=base, etc=etc,
            lifetime=self.lifetime))
        (etc / "master.cf").write_text(MASTER_CF.format(port=self.port))
        self.etc = etc

    def start(self) -> None:
        env = dict(os.environ, MAIL_CONFIG=str(self.etc))
        # `postfix check` creates the queue directories with their owners and modes
        # (post-install create-missing); master then runs as our foreground child.
        subprocess.run([POSTFIX, "-c", str(self.etc), "check"], env=env, check=True,
                       capture_output=True, timeout=60)
        self.proc = subprocess.Popen([f"{DAEMONS}/master", "-c", str(self.etc), "-d"],
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.logfile(), stderr=subprocess.STDOUT)
        self.wait_listening()

    def log_text(self) -> str:
        p = self.workdir / "maillog"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        self.terminate()
