"""`bouncesink doctor`: is this host ready to receive bounces for a domain?

One check per line, each PASS or FAIL with what was found and, on failure, what to fix:

- mx D: the domain has MX records (not NXDOMAIN, not a null MX, RFC 7505), and at least one
  MX host resolves to an address of this host. "This host" is the addresses given with
  --address or `[doctor] addresses` (needed behind NAT, where the public address is not on
  an interface), else the non-loopback addresses of the local interfaces.
- smtp: the sink answers on its port with a 220 banner, and accepts RCPT for each domain
  (to postmaster@D, which RFC 5321 4.5.1 requires a server to accept). MAIL and RCPT only:
  nothing is stored.
- store: the store can be written (a row inserted and rolled back), or for a SQLite store not
  created yet, its directory can; and its file system is not nearly full.

Run it as the service user (`sudo -u bouncesink bouncesink doctor ...`): as root every
store check passes.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import re
import shutil
import smtplib
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.resolver

from bouncesink import dns as bdns
from bouncesink.config import Config, parse_hostport

MIN_FREE_FRACTION = 0.05   # a store file system less free than this fails the store check


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"
        return text if self.ok or not self.fix else f"{text}; fix: {self.fix}"


def make_resolver(nameserver: str | None, timeout: float = 5.0) -> dns.resolver.Resolver:
    """The system resolver, or one asking HOST[:PORT] ('192.0.2.53', '[::1]:5353')."""
    if not nameserver:
        return bdns.make_resolver(timeout=timeout)
    value = nameserver.strip()
    host, port = value, 53
    if value.startswith("[") or value.count(":") == 1:
        host, port = parse_hostport(value if ":" in value.rsplit("]", 1)[-1] else value + ":53")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"expected an IP address with an optional :PORT, got {nameserver!r}") from None
    return bdns.make_resolver([host], port=port, timeout=timeout)


# -- this host's addresses ----------------------------------------------------------------------
SIOCGIFADDR = 0x8915


def local_addresses(include_loopback: bool = False) -> set[str]:
    """Addresses on this machine's interfaces (Linux: ioctl for IPv4, /proc for IPv6)."""
    found: set[str] = set()
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        names = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                req = struct.pack("256s", name.encode()[:15])
                res = fcntl.ioctl(s.fileno(), SIOCGIFADDR, req)
                found.add(socket.inet_ntoa(res[20:24]))
            except OSError:  # no IPv4 address on this interface
                continue
    try:
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            raw = line.split()[0]
            found.add(str(ipaddress.IPv6Address(bytes.fromhex(raw))))
    except (OSError, ValueError, IndexError):
        pass
    if not found:  # not Linux: what the host name resolves to
        try:
            for info in socket.getaddrinfo(socket.gethostname(), None):
                found.add(info[4][0])
        except OSError:
            pass
    if not include_loopback:
        found = {a for a in found if not ipaddress.ip_address(a).is_loopback
                 and not ipaddress.ip_address(a).is_link_local}
    return found


def _resolve_addresses(resolver, host: str) -> list[str]:
    out = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        out += [rr.to_text() for rr in (answer.rrset or [])]
    return out


# -- the checks ---------------------------------------------------------------------------------
def check_mx(resolver, domain: str, addresses: set[str]) -> Check:
    name = f"mx {domain}"
    mine = ", ".join(sorted(addresses)) or "(none found)"
    example = f"{domain}. IN MX 10 <name of this host>. (whose A/AAAA is {mine})"
    try:
        mx = bdns.mx_hosts(resolver, domain)
        if mx is None:
            return Check(name, False, "the domain does not exist (NXDOMAIN)",
                         f"create it in DNS with an MX record: {example}")
        if bdns.is_null_mx(mx):
            return Check(name, False, "null MX (RFC 7505): the domain says it accepts no mail",
                         f"replace the null MX with {example}")
        if not mx:
            return Check(name, False, "no MX record",
                         f"add one: {example}")
        seen = []
        matching = []
        for pref, host in mx:
            addrs = _resolve_addresses(resolver, host)
            seen.append(f"{pref} {host} -> {', '.join(addrs) or 'no address'}")
            if set(addrs) & addresses:
                matching.append((pref, host))
    except (dns.exception.DNSException, OSError) as exc:
        return Check(name, False, f"DNS lookup failed: {type(exc).__name__}: {exc}"[:300],
                     "check the resolver (or --nameserver) and that the zone is served")
    found = "; ".join(seen)
    if not matching:
        return Check(name, False, f"no MX host points at this host ({mine}): {found}",
                     f"point an MX at this host: {example}; behind NAT pass --address PUBLIC-IP")
    best = mx[0][0]
    note = "" if matching[0][0] == best else \
        f" (but preference {best} goes elsewhere first)"
    return Check(name, True, f"{matching[0][1]} points at this host{note}: {found}")


def check_smtp(host: str, port: int, domains: tuple[str, ...],
               timeout: float = 5.0) -> list[Check]:
    """Connect, EHLO, MAIL FROM:<> and one RCPT per domain, then RSET and QUIT."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    name = f"smtp {where}"
    try:
        client = smtplib.SMTP(timeout=timeout)
        code, banner = client.connect(host, port)
    except (OSError, smtplib.SMTPException) as exc:
        return [Check(name, False, f"no answer: {exc}",
                      "start the sink (systemctl start bouncesink), check server.listen"
                      " and the firewall")]
    checks = []
    try:
        if code != 220:
            return [Check(name, False, f"banner {code} {banner.decode(errors='replace')}",
                          "another program answers on this port; stop it or change server.listen")]
        checks.append(Check(name, True, f"answers: {code} {banner.decode(errors='replace')}"))
        client.ehlo("doctor.bouncesink.invalid")
        for domain in domains:
            client.rset()
            code, msg = client.mail("")
            if code != 250:
                checks.append(Check(f"rcpt {domain}", False, f"MAIL FROM:<> answered {code}"
                                    f" {msg.decode(errors='replace')}",
                                    "the sink must accept the null sender (RFC 5321 4.5.5)"))
                continue
            code, msg = client.rcpt(f"postmaster@{domain}")
            text = f"RCPT TO:<postmaster@{domain}> answered {code} {msg.decode(errors='replace')}"
            checks.append(Check(f"rcpt {domain}", code == 250, text,
                                f"add {domain!r} to server.domains, then"
                                " systemctl reload bouncesink"))
        client.rset()
        client.quit()
    except (OSError, smtplib.SMTPException) as exc:
        checks.append(Check(name, False, f"session failed: {exc}", "see the sink's log"))
    finally:
        client.close()
    return checks


def check_store(cfg: Config) -> list[Check]:
    from bouncesink.store import StoreError, open_store
    from bouncesink.store.sqlite import path_of

    url = cfg.store.db
    is_sqlite = not url.startswith(("postgresql://", "postgres://"))
    name = f"store {_redact(url)}"
    checks = []
    if is_sqlite and not path_of(url).exists():
        parent = path_of(url).resolve().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return [Check(name, False, f"does not exist and {parent} is not a directory",
                          "set store.db to a path in a directory of the service user")]
        if not os.access(parent, os.W_OK | os.X_OK):
            return [Check(name, False, f"does not exist and {parent} is not writable",
                          "create the directory writable by the service user (the unit's"
                          " StateDirectory does: /var/lib/bouncesink)")]
        checks.append(Check(name, True, f"not created yet; {parent} is writable"))
    else:
        try:
            store = open_store(url, durability=cfg.store.durability, create=False)
            try:
                store.probe_write()
            finally:
                store.close()
            checks.append(Check(name, True, "writable"))
        except Exception as exc:  # StoreError, sqlite3 / psycopg errors: one line each
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            fix = "make it writable by the service user (chown bouncesink)" if is_sqlite \
                else "check the PostgreSQL URL, the role's INSERT grants and the server"
            checks.append(Check(name, False, f"cannot write: {detail}", fix))
            if not isinstance(exc, (StoreError, OSError)) and not is_sqlite:
                return checks
    if is_sqlite:
        probe = path_of(url).resolve()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        usage = shutil.disk_usage(probe)
        free = usage.free / usage.total if usage.total else 1.0
        checks.append(Check(f"disk {probe if probe.is_dir() else probe.parent}",
                            free >= MIN_FREE_FRACTION,
                            f"{usage.free // 2**20} MiB free ({free:.0%})",
                            "free space, or prune old raw bodies:"
                            " bouncesink prune --raw-older-than 90"))
    return checks


def _redact(url: str) -> str:
    """A store URL without its password, for printing."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def run(cfg: Config, domains: tuple[str, ...], *, resolver, addresses=None,
        smtp: str | None = None, timeout: float = 5.0) -> list[Check]:
    """Every check, in the order a person fixes them: DNS, the port, the store."""
    mine = set(addresses) if addresses else local_addresses()
    checks = [check_mx(resolver, d, mine) for d in domains]
    host, port = parse_hostport(smtp or cfg.server.listen)
    checks += check_smtp(host, port, domains, timeout)
    checks += check_store(cfg)
    return checks


__all__ = ["Check", "run", "check_mx", "check_smtp", "check_store", "local_addresses",
           "make_resolver"]
