"""What every MTA driver shares: a work directory, a loopback port, a child process."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Routes:
    """Where the MTA sends each domain: relays maps a domain to a loopback (address, port):
    the cases' listeners, the closed port, the sink; dead is a domain left to the resolver."""

    relays: dict[str, tuple[str, int]] = field(default_factory=dict)
    dead: str = ""


class MTA:
    name = "mta"
    one_port = False        # the remote's listeners must share one port number

    def __init__(self, workdir: Path, port: int, lifetime: int):
        self.workdir = workdir
        self.port = port                # where it takes submissions
        self.lifetime = lifetime        # queue lifetime, seconds
        self.proc: subprocess.Popen | None = None
        self._log = None
        workdir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def unavailable() -> str | None:
        """Why this MTA cannot run here (None when it can)."""
        raise NotImplementedError

    def configure(self, routes: Routes) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def log_text(self) -> str:
        return ""

    def logfile(self):
        self._log = open(self.workdir / "stdout.log", "ab")
        return self._log

    def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): "
                                   f"{self.log_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as c:
                    c.settimeout(5)
                    if c.recv(512).startswith(b"220"):
                        c.sendall(b"QUIT\r\n")
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer on 127.0.0.1:{self.port}:"
                           f" {self.log_text()[-2000:]}")

    def submit(self, sender: str, recipient: str, message: bytes) -> None:
        """Hand one message to the MTA over SMTP, as a client on loopback would."""
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.realmta.test",
                          timeout=30) as c:
            c.sendmail(sender, [recipient], message)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log:
            self._log.close()
            self._log = None
