"""doctor: against a real DNS server on loopback (dnspython), the real sink and a real store."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from bouncesink import doctor
from bouncesink.cli import main
from bouncesink.config import Config
from bouncesink.store import open_store

THIS_HOST = "192.0.2.10"

# The test zones, as a DNS server would serve them; names absent are NXDOMAIN.
ZONES = """
bounces.example.org.   300 IN MX 10 mx.example.org.
mx.example.org.        300 IN A 192.0.2.10
mx.example.org.        300 IN AAAA 2001:db8::10
elsewhere.example.org. 300 IN MX 10 mx.example.net.
mx.example.net.        300 IN A 198.51.100.1
backup.example.org.    300 IN MX 10 mx.example.net.
backup.example.org.    300 IN MX 20 mx.example.org.
nullmx.example.org.    300 IN MX 0 .
nomx.example.org.      300 IN A 192.0.2.10
dangling.example.org.  300 IN MX 10 gone.example.net.
"""


class ZoneServer:
    """An authoritative UDP DNS server on 127.0.0.1 serving ZONES, in a thread (dnspython)."""

    def __init__(self, text: str):
        self.records: dict[tuple[str, str], list[str]] = {}
        for line in text.strip().splitlines():
            name, ttl, _, rdtype, rdata = line.split(None, 4)
            self.records.setdefault((name.lower(), rdtype), []).append(rdata)
        self.names = {name for name, _ in self.records}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.AA
            q = query.question[0]
            name, rdtype = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
            if name not in self.names:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rdtype) in self.records:
                reply.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype,
                                                             self.records[(name, rdtype)]))
            self.sock.sendto(reply.to_wire(), peer)

    def close(self):
        self._stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def zones():
    server = ZoneServer(ZONES)
    yield server
    server.close()


@pytest.fixture
def resolver(zones):
    return doctor.make_resolver(f"127.0.0.1:{zones.port}", timeout=2.0)


# -- MX ---------------------------------------------------------------------------------------
def test_mx_pointing_at_this_host_passes(resolver):
    check = doctor.check_mx(resolver, "bounces.example.org", {THIS_HOST})
    assert check.ok
    assert check.line() == ("PASS  mx bounces.example.org: mx.example.org points at this host:"
                            " 10 mx.example.org -> 192.0.2.10, 2001:db8::10")


def test_mx_matches_ipv6_too(resolver):
    assert doctor.check_mx(resolver, "bounces.example.org", {"2001:db8::10"}).ok


def test_mx_pointing_elsewhere_fails_with_the_record_to_add(resolver):
    check = doctor.check_mx(resolver, "elsewhere.example.org", {THIS_HOST})
    assert not check.ok
    assert "no MX host points at this host (192.0.2.10): 10 mx.example.net -> 198.51.100.1" \
        in check.detail
    assert check.fix.startswith("point an MX at this host: elsewhere.example.org. IN MX 10")
    assert "--address" in check.fix


def test_lower_preference_mx_passes_with_a_note(resolver):
    check = doctor.check_mx(resolver, "backup.example.org", {THIS_HOST})
    assert check.ok
    assert "(but preference 10 goes elsewhere first)" in check.detail


@pytest.mark.parametrize("domain, detail", [
    ("missing.example.org", "the domain does not exist (NXDOMAIN)"),
    ("nullmx.example.org", "null MX (RFC 7505): the domain says it accepts no mail"),
    ("nomx.example.org", "no MX record"),
])
def test_mx_problems_fail_with_a_fix(resolver, domain, detail):
    check = doctor.check_mx(resolver, domain, {THIS_HOST})
    assert not check.ok
    assert check.detail == detail
    assert f"{domain}. IN MX 10" in check.fix


def test_mx_host_without_address_fails(resolver):
    check = doctor.check_mx(resolver, "dangling.example.org", {THIS_HOST})
    assert not check.ok and "10 gone.example.net -> no address" in check.detail


def test_unreachable_nameserver_fails_instead_of_hanging():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never answers
        check = doctor.check_mx(doctor.make_resolver(f"127.0.0.1:{port}", timeout=0.3),
                                "bounces.example.org", {THIS_HOST})
    assert not check.ok and check.detail.startswith("DNS lookup failed")


@pytest.mark.parametrize("value, expected", [
    ("127.0.0.1", (["127.0.0.1"], 53)),
    ("127.0.0.1:5353", (["127.0.0.1"], 5353)),
    ("::1", (["::1"], 53)),
    ("[::1]:5353", (["::1"], 5353)),
    ("[::1]", (["::1"], 53)),
])
def test_nameserver_option(value, expected):
    r = doctor.make_resolver(value)
    assert ([str(n) for n in r.nameservers], r.port) == expected


def test_nameserver_must_be_an_address():
    with pytest.raises(ValueError):
        doctor.make_resolver("ns.example.org")


def test_local_addresses_include_loopback_only_on_request():
    assert "127.0.0.1" in doctor.local_addresses(include_loopback=True)
    assert "127.0.0.1" not in doctor.local_addresses()


# -- SMTP ---------------------------------------------------------------------------------------
def test_smtp_probe_sees_the_banner_and_the_accepted_domain(sink):
    checks = doctor.check_smtp("127.0.0.1", sink.port, ("bounces.example.org", "other.example.org"))
    assert [(c.name, c.ok) for c in checks] == [
        (f"smtp 127.0.0.1:{sink.port}", True), ("rcpt bounces.example.org", True),
        ("rcpt other.example.org", False)]
    assert "answers: 220" in checks[0].detail
    assert checks[2].detail.startswith("RCPT TO:<postmaster@other.example.org> answered 550")
    assert checks[2].fix == "add 'other.example.org' to server.domains, then systemctl reload bouncesink"


def test_smtp_probe_stores_nothing(sink):
    doctor.check_smtp("127.0.0.1", sink.port, ("bounces.example.org",))
    assert sink.count("SELECT COUNT(*) FROM messages") == 0


def test_smtp_probe_of_a_closed_port_fails():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (check,) = doctor.check_smtp("0.0.0.0", port, ("bounces.example.org",), timeout=2)
    assert not check.ok
    assert check.name == f"smtp 127.0.0.1:{port}"
    assert "start the sink" in check.fix


# -- store ----------------------------------------------------------------------------------------
def test_store_writable(sink):
    checks = doctor.check_store(sink.config)
    assert [c.ok for c in checks] == [True, True]
    assert checks[0].detail == "writable"
    assert checks[1].name.startswith("disk ")


def test_store_not_created_yet_checks_its_directory(tmp_path):
    cfg = Config().replace("store", db=str(tmp_path / "new" / "s.db"))
    check = doctor.check_store(cfg)[0]
    assert check.ok and check.detail == f"not created yet; {tmp_path} is writable"
    assert not (tmp_path / "new").exists()


def test_store_under_a_file_fails(tmp_path):
    (tmp_path / "file").write_text("x")
    cfg = Config().replace("store", db=str(tmp_path / "file" / "s.db"))
    (check,) = doctor.check_store(cfg)
    assert not check.ok and "is not a directory" in check.detail


def test_store_that_is_not_a_database_fails(tmp_path):
    (tmp_path / "s.db").write_bytes(b"this is not SQLite" * 100)
    cfg = Config().replace("store", db=str(tmp_path / "s.db"))
    check = doctor.check_store(cfg)[0]
    assert not check.ok and check.detail.startswith("cannot write:")
    assert "chown bouncesink" in check.fix


# -- the command ----------------------------------------------------------------------------------
def test_doctor_command_all_pass(sink, zones, capsys):
    code = main(["doctor", "--domain", "bounces.example.org", "--nameserver",
                 f"127.0.0.1:{zones.port}", "--address", THIS_HOST,
                 "--smtp", f"127.0.0.1:{sink.port}", "--db", sink.db])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in out[:-1]] == ["PASS"] * 5
    assert out[-1] == "5 passed, 0 failed"


def test_doctor_command_fails_with_one_line_per_failed_check(sink, zones, capsys):
    code = main(["doctor", "--domain", "elsewhere.example.org", "--nameserver",
                 f"127.0.0.1:{zones.port}", "--address", THIS_HOST,
                 "--smtp", f"127.0.0.1:{sink.port}", "--db", sink.db])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    failed = [line for line in out if line.startswith("FAIL")]
    assert [line.split()[1:3] for line in failed] == [["mx", "elsewhere.example.org:"],
                                                      ["rcpt", "elsewhere.example.org:"]]
    assert all("; fix: " in line for line in failed)
    assert out[-1] == "3 passed, 2 failed"


def test_doctor_without_a_domain_is_bad_usage(capsys):
    assert main(["doctor"]) == 2
    assert "no domain to check" in capsys.readouterr().err


def test_doctor_rejects_a_bad_nameserver(capsys):
    assert main(["doctor", "--domain", "bounces.example.org", "--nameserver", "ns1"]) == 2
    assert "--nameserver: expected an IP address" in capsys.readouterr().err


def test_store_on_postgresql(tmp_path):
    from pgschema import fresh_schema

    with fresh_schema() as schema:
        open_store(schema.url()).close()   # the server creates it at its first start
        cfg = Config().replace("store", db=schema.url())
        (check,) = doctor.check_store(cfg)
        assert check.ok and check.detail == "writable"


def test_unreachable_postgresql_fails_and_hides_the_password():
    cfg = Config().replace("store", db="postgresql://sink:s3cret@127.0.0.1:1/bounces")
    (check,) = doctor.check_store(cfg)
    assert not check.ok and check.detail.startswith("cannot write:")
    assert check.name == "store postgresql://sink:***@127.0.0.1:1/bounces"
    assert "s3cret" not in check.line()


def test_doctor_takes_addresses_and_nameserver_from_the_config(sink, zones, capsys, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(f'[server]\nlisten = "127.0.0.1:{sink.port}"\ndomains = ["bounces.example.org"]\n'
                    f'[store]\ndb = "{sink.db}"\n'
                    f'[doctor]\naddresses = ["{THIS_HOST}"]\nnameserver = "127.0.0.1:{zones.port}"\n')
    assert main(["doctor", "--config", str(conf)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 passed, 0 failed"
