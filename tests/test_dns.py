"""hostunknown confirmation by DNS (bouncesink.dns), against a real DNS server on loopback."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from bouncesink.dns import ALIVE, DEAD, UNKNOWN, DomainChecker, domain_verdict, make_resolver

# name -> {rdtype: [rdata text]}; names absent are NXDOMAIN; "servfail.example" fails.
ZONE = {
    "example.com.": {"MX": ["10 mx.example.com."]},
    "mx.example.com.": {"A": ["192.0.2.1"]},
    "nullmx.example.org.": {"MX": ["0 ."]},
    "aonly.example.net.": {"A": ["192.0.2.2"]},
    "nomail.example.net.": {"TXT": ['"v=spf1 -all"']},
}


class LoopbackDNS:
    """A tiny authoritative UDP DNS server on 127.0.0.1 (dnspython), in a thread."""

    def __init__(self, zone: dict):
        self.zone = zone
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            q = dns.message.from_wire(data)
            resp = dns.message.make_response(q)
            resp.flags |= dns.flags.AA
            question = q.question[0]
            name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            if name.startswith("servfail."):
                resp.set_rcode(dns.rcode.SERVFAIL)
            elif name.startswith("silent."):
                continue  # never answers: the resolver times out
            elif name not in self.zone:
                resp.set_rcode(dns.rcode.NXDOMAIN)
            elif rdtype in self.zone[name]:
                resp.answer.append(dns.rrset.from_text_list(
                    name, 300, "IN", rdtype, self.zone[name][rdtype]))
            self.sock.sendto(resp.to_wire(), peer)

    def close(self):
        self._stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def server():
    s = LoopbackDNS(ZONE)
    yield s
    s.close()


@pytest.fixture
def resolver(server):
    return make_resolver(["127.0.0.1"], port=server.port, timeout=0.5)


@pytest.mark.parametrize("domain, verdict", [
    ("example.com", ALIVE),
    ("EXAMPLE.com.", ALIVE),
    ("nxdomain.example.com", DEAD),
    ("nullmx.example.org", DEAD),
    ("aonly.example.net", ALIVE),
    ("nomail.example.net", DEAD),
    ("servfail.example.com", UNKNOWN),
    ("silent.example.com", UNKNOWN),
])
def test_verdict(resolver, domain, verdict):
    assert domain_verdict(resolver, domain)[0] == verdict


def test_null_mx_names_the_rfc(resolver):
    assert domain_verdict(resolver, "nullmx.example.org") == (DEAD, "null MX (RFC 7505)")


def test_checker_caches(server, resolver):
    c = DomainChecker(resolver)
    assert c.verdict("nxdomain.example.com") == DEAD
    assert c.verdict("nxdomain.example.com") == DEAD
    assert c.lookups == 1
    assert server.queries.count(("nxdomain.example.com.", "MX")) == 1


def test_checker_retries_unknown_after_its_short_ttl(resolver):
    t = [0.0]
    c = DomainChecker(resolver, unknown_ttl=60, clock=lambda: t[0])
    assert c.verdict("servfail.example.com") == UNKNOWN
    t[0] = 30
    c.verdict("servfail.example.com")
    assert c.lookups == 1
    t[0] = 61
    c.verdict("servfail.example.com")
    assert c.lookups == 2


def test_checker_is_bounded(resolver):
    c = DomainChecker(resolver, max_entries=2)
    for d in ("example.com", "aonly.example.net", "nullmx.example.org"):
        c.verdict(d)
    assert len(c._cache) == 2 and "example.com" not in c._cache
