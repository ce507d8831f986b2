"""Run the matrix: real MTAs relay to the scripted remote; their DSNs land in a real sink.

    outcomes = run(["postfix", "exim"])        # -> list[Outcome], one per MTA and case

For each MTA: its own scripted remote (one listener per case), its own instance on a
loopback port, one message per case submitted over SMTP with an envelope sender in the
sink's domain (bounce-<mta>-<case>@bounces.example.org), so the MTA's genuine DSN goes to
the one bouncesink server of the run. The run ends when every case's DSN is stored and
classified (or at a time-out); each case is then judged from the sink's store: the result
for the case's recipient, its type and reason against the case's truth.
"""

from __future__ import annotations

import email.utils
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cases import CASES, Case
from .exim import Exim
from .mta import MTA, Routes
from .opensmtpd import OpenSMTPD
from .postfix import Postfix
from .remote import Remote
from .sendmail import Sendmail
from .sink import SINK_DOMAIN, Row, Sink, free_port

DRIVERS: dict[str, type[MTA]] = {"postfix": Postfix, "exim": Exim, "opensmtpd": OpenSMTPD,
                                 "sendmail": Sendmail}
DEAD_DOMAIN = "nxdomain.invalid"    # RFC 6761: never resolves
LIFETIME = 4                        # queue lifetime of every MTA, seconds


def unavailable(name: str) -> str | None:
    """Why an MTA cannot run here, or None."""
    return DRIVERS[name].unavailable()


def dead_domain_unavailable() -> str | None:
    """The dead-domain case needs a resolver that answers NXDOMAIN (not one that times out,
    which any MTA rightly reads as a temporary failure)."""
    import socket
    try:
        socket.getaddrinfo(DEAD_DOMAIN, 25)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return None
        return f"the resolver does not answer NXDOMAIN for {DEAD_DOMAIN} ({exc})"
    return f"{DEAD_DOMAIN} resolves here"


def recipient(case: Case) -> str:
    if case.route == "dead":
        return f"user-{case.name}@{DEAD_DOMAIN}"
    return f"user-{case.name}@{case.name}.remote.test"


def sender(mta: str, case: Case) -> str:
    return f"bounce-{mta}-{case.name}@{SINK_DOMAIN}"


def message(mta: str, case: Case) -> bytes:
    return (
        f"From: Newsletter <{sender(mta, case)}>\r\n"
        f"To: <{recipient(case)}>\r\n"
        f"Subject: realmta {mta} {case.name}\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: <{case.name}.{mta}.{os.getpid()}@client.realmta.test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This message exists to be bounced.\r\n"
    ).encode("ascii")


@dataclass
class Outcome:
    mta: str
    case: Case
    recipient: str              # the address the message was sent to
    rows: list[Row]             # the sink's results for the case's DSN(s)
    attempts: int               # failures the remote answered
    dsn: bytes = b""            # the DSN as stored (first one)

    @property
    def void(self) -> str:
        """Why this case cannot be judged here ("" when it can): the dead domain needs a
        resolver that answers NXDOMAIN; when it timed out instead, the MTA rightly reports
        a temporary failure ("Host not found, try again", Status 4.4.3) and the truth
        "the domain does not exist" is not in the DSN."""
        if self.case.route == "dead":
            text = " ".join(self.dsn.decode("utf-8", "replace").split()).lower()
            if "try again" in text or "status: 4.4.3" in text:
                return "the resolver failed to answer (the DSN says 'try again')"
        return ""

    @property
    def result(self) -> Row | None:
        """The result for the case's recipient (else the first result, else None)."""
        good = [r for r in self.rows if r.recipient == self.recipient]
        if good:
            return good[0]
        rows = [r for r in self.rows if r.recipient is not None]
        return rows[0] if rows else (self.rows[0] if self.rows else None)

    @property
    def dsns(self) -> int:
        return len({r.message_ref for r in self.rows})

    @property
    def recipient_ok(self) -> bool:
        r = self.result
        return r is not None and r.recipient == self.recipient

    @property
    def type_ok(self) -> bool:
        r = self.result
        return self.recipient_ok and r.type == self.case.type

    @property
    def reply_carried(self) -> bool:
        """Whether the DSN quotes the remote's reply (its first words after the codes)."""
        first = self.case.reply_for(self.recipient).split("\n")[0]
        words = re.sub(r"^\d{3}[ -](?:\d\.\d{1,3}\.\d{1,3} )?", "", first).split()[:4]
        if not words:
            return True
        text = " ".join(self.dsn.decode("utf-8", "replace").split())
        return " ".join(words) in text

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons that are right for this DSN: the case's; and `expired` as well where
        the DSN does not quote the remote's reply: OpenSMTPD 6.8 gives up on a 4xx (and on a
        5xx greeting, which it takes as temporary) writing only "Envelope expired". No
        reader can know more than the DSN says."""
        if self.case.route == "remote" and not self.reply_carried:
            return self.case.reasons + ("expired",)
        return self.case.reasons

    @property
    def reason_ok(self) -> bool:
        r = self.result
        return self.recipient_ok and r.reason in self.reasons

    def got(self) -> str:
        r = self.result
        if self.void:
            return "void: " + self.void
        if r is None:
            return "no DSN"
        if r.recipient is None:
            return f"{r.state} (no result)"
        return f"{r.reason}/{r.type}"


class Run:
    """One harness run: a sink, and per MTA a remote and an instance. Use as a context
    manager; `outcomes()` after `wait()`."""

    def __init__(self, mtas: list[str], cases: tuple[Case, ...] = CASES,
                 workdir: Path | None = None, lifetime: int = LIFETIME, keep: bool = False):
        self.mtas = mtas
        self.cases = cases
        self.lifetime = lifetime
        self.keep = keep or workdir is not None
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="realmta-"))
        workdir.mkdir(parents=True, exist_ok=True)
        # The MTAs' unprivileged users (postfix, exim's) must reach their directories.
        os.chmod(workdir, 0o755)
        self.workdir = workdir
        self.sink = Sink(workdir / "sink")
        self.remotes: dict[str, Remote] = {}
        self.instances: dict[str, MTA] = {}
        self.started = 0.0

    def __enter__(self) -> "Run":
        self.started = time.monotonic()
        try:
            (self.workdir / "sink").mkdir(exist_ok=True)
            self.sink.start()
            for name in self.mtas:
                remote = Remote(self.cases, same_port=DRIVERS[name].one_port).start()
                self.remotes[name] = remote
                routes = Routes(dead=DEAD_DOMAIN)
                routes.relays[SINK_DOMAIN] = ("127.0.0.1", self.sink.port)
                for case in self.cases:
                    dom = recipient(case).split("@")[1]
                    if case.route == "remote":
                        routes.relays[dom] = remote.addrs[case.name]
                    elif case.route == "refused":
                        routes.relays[dom] = remote.refused
                mta = DRIVERS[name](self.workdir / name, free_port(), self.lifetime)
                self.instances[name] = mta
                mta.configure(routes)
                mta.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def submit(self) -> None:
        """Every case to every MTA, a few SMTP sessions at once (each MTA takes one
        message per session, as a bulk sender's client would)."""
        jobs = [(mta, name, case) for name, mta in self.instances.items() for case in self.cases]
        with ThreadPoolExecutor(8) as pool:
            for f in [pool.submit(m.submit, sender(n, c), recipient(c), message(n, c))
                      for m, n, c in jobs]:
                f.result()

    def wait(self, timeout: float | None = None) -> None:
        """Until every case's DSN is stored and classified, or the time-out."""
        timeout = timeout if timeout is not None else self.lifetime * 4 + 60
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = True
            for name in self.instances:
                stored, pending = self.sink.stored(f"bounce-{name}-")
                if stored < len(self.cases) or pending:
                    done = False
            if done:
                return
            time.sleep(0.25)

    def outcomes(self) -> list[Outcome]:
        out = []
        for name in self.instances:
            rows = self.sink.rows(f"bounce-{name}-")
            for case in self.cases:
                mine = [r for r in rows if r.envelope_to.lower() == sender(name, case).lower()]
                dsn = self.sink.raw(mine[0].message_ref) if mine else b""
                out.append(Outcome(name, case, recipient(case), mine,
                                   self.remotes[name].attempts[case.name], dsn))
        return out

    def __exit__(self, *exc) -> None:
        for mta in self.instances.values():
            try:
                mta.stop()
            except Exception:  # noqa: BLE001 - stop the others all the same
                pass
        for remote in self.remotes.values():
            remote.stop()
        self.sink.stop()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def run(mtas: list[str], cases: tuple[Case, ...] = CASES, **kw) -> list[Outcome]:
    with Run(mtas, cases, **kw) as r:
        r.submit()
        r.wait()
        return r.outcomes()
