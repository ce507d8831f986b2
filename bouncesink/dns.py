"""DNS checks behind a small interface (dnspython). The only DNS code.

`DomainChecker.verdict(domain)` confirms a hostunknown before the policy suppresses:

- NXDOMAIN -> dead: the domain does not exist.
- a null MX (RFC 7505: one MX with preference 0 and exchange ".") -> dead: the domain says
  it accepts no mail.
- no MX and no A / AAAA -> dead: RFC 5321 section 5.1 leaves no host to deliver to.
- an MX, or an A / AAAA used as the implicit MX -> alive.
- a timeout, SERVFAIL, refused, no answer from any server -> unknown (never a suppression).

Verdicts are cached (unknown only briefly), and each lookup has a short lifetime, since it
runs in the server's writer thread. Tests point the Resolver at a DNS server on loopback.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

DEAD, ALIVE, UNKNOWN = "dead", "alive", "unknown"


def make_resolver(nameservers: list[str] | None = None, port: int = 53,
                  timeout: float = 2.0) -> dns.resolver.Resolver:
    """A Resolver: the system's, or one pointed at given servers (tests, doctor)."""
    if nameservers:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = list(nameservers)
        r.port = port
    else:
        r = dns.resolver.Resolver()
    r.timeout = timeout
    r.lifetime = timeout
    return r


def mx_hosts(resolver: dns.resolver.Resolver, domain: str) -> list[tuple[int, str]] | None:
    """(preference, exchange) of a domain's MX records, sorted; None for NXDOMAIN.

    [] means the name exists without MX. Resolver errors (timeout, SERVFAIL) propagate.
    """
    try:
        answer = resolver.resolve(domain, "MX", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return None
    return sorted((rr.preference, rr.exchange.to_text(omit_final_dot=True) or ".")
                  for rr in (answer.rrset or []))


def is_null_mx(mx: list[tuple[int, str]]) -> bool:
    """RFC 7505 section 3: a single MX, preference 0, exchange the root."""
    return len(mx) == 1 and mx[0] == (0, ".")


def has_address(resolver: dns.resolver.Resolver, domain: str) -> bool:
    for rdtype in ("A", "AAAA"):
        try:
            if resolver.resolve(domain, rdtype, raise_on_no_answer=False).rrset:
                return True
        except dns.resolver.NXDOMAIN:
            return False
    return False


def domain_verdict(resolver: dns.resolver.Resolver, domain: str) -> tuple[str, str]:
    """(dead | alive | unknown, why) for a recipient domain. Never raises."""
    domain = domain.strip().rstrip(".").lower()
    try:
        dns.name.from_text(domain)
        if not domain or "." not in domain:
            return DEAD, "not a domain name"
        mx = mx_hosts(resolver, domain)
        if mx is None:
            return DEAD, "NXDOMAIN"
        if is_null_mx(mx):
            return DEAD, "null MX (RFC 7505)"
        if mx:
            return ALIVE, f"MX {mx[0][1]}"
        if has_address(resolver, domain):
            return ALIVE, "no MX, address record as implicit MX"
        return DEAD, "no MX and no address record"
    except (dns.name.EmptyLabel, dns.name.LabelTooLong, dns.name.NameTooLong,
            dns.name.BadEscape) as exc:
        return DEAD, f"not a domain name: {exc}"
    except (dns.exception.DNSException, OSError) as exc:
        return UNKNOWN, f"{type(exc).__name__}: {exc}"[:200]


class DomainChecker:
    """Cached verdicts about recipient domains."""

    def __init__(self, resolver: dns.resolver.Resolver | None = None, *, ttl: float = 3600.0,
                 unknown_ttl: float = 60.0, max_entries: int = 10000, clock=time.monotonic):
        self.resolver = resolver or make_resolver()
        self.ttl, self.unknown_ttl, self.max_entries = ttl, unknown_ttl, max_entries
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, str, str]] = OrderedDict()
        self.lookups = 0

    def check(self, domain: str) -> tuple[str, str]:
        domain = domain.strip().rstrip(".").lower()
        now = self.clock()
        hit = self._cache.get(domain)
        if hit and hit[0] > now:
            self._cache.move_to_end(domain)
            return hit[1], hit[2]
        self.lookups += 1
        verdict, why = domain_verdict(self.resolver, domain)
        self._cache[domain] = (now + (self.unknown_ttl if verdict == UNKNOWN else self.ttl),
                               verdict, why)
        self._cache.move_to_end(domain)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return verdict, why

    def verdict(self, domain: str) -> str:
        return self.check(domain)[0]


class HostunknownDNS:
    """The DNS verdicts the policy needs for a batch of parsed messages (server side).

    Built from PolicyConfig; the resolver is made on first use, so a sink that never sees a
    hostunknown never reads resolv.conf.
    """

    def __init__(self, policy, checker: DomainChecker | None = None) -> None:
        self.policy = policy
        self.checker = checker

    def _checker(self) -> DomainChecker:
        if self.checker is None:
            servers, port = [], 53
            for s in self.policy.dns_resolvers:
                host, _, p = s.rpartition(":") if s.count(":") == 1 else (s, "", "")
                servers.append(host or s)
                port = int(p) if p else port
            self.checker = DomainChecker(make_resolver(servers or None, port=port,
                                                       timeout=self.policy.dns_timeout))
        return self.checker

    def verdicts(self, parsed_list) -> dict[str, str]:
        """{domain: dead | alive | unknown} for every result the policy wants DNS for."""
        from bouncesink.policy import needs_dns

        domains = {r.recipient.rpartition("@")[2].lower()
                   for parsed in parsed_list for r in parsed.results if needs_dns(r, self.policy)}
        if not domains:
            return {}
        try:
            checker = self._checker()
        except Exception:  # no resolver configuration: nothing is confirmed dead
            return {d: UNKNOWN for d in domains}
        return {d: checker.verdict(d) for d in domains}
