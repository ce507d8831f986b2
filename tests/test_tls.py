"""STARTTLS (RFC 3207) with a certificate made for the test (trustme) and a real TLS client."""

from __future__ import annotations

import smtplib
import ssl

import pytest
import trustme

from conftest import DOMAIN

RCPT = f"bounces@{DOMAIN}"


@pytest.fixture
def ca():
    return trustme.CA()


@pytest.fixture
def tls_files(ca, tmp_path):
    cert = ca.issue_cert("sink.test")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return str(cert_path), str(key_path)


def client_context(ca) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def test_starttls_then_a_message_is_stored(make_sink, tls_files, ca, dsn_bytes):
    cert, key = tls_files
    sink = make_sink(server={"tls_cert": cert, "tls_key": key})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        assert c.has_extn("starttls")
        code, _ = _starttls(c, ca)
        assert code == 220
        assert c.sock.version().startswith("TLS")
        # The certificate the client verified is the one we configured.
        assert c.sock.getpeercert()["subjectAltName"] == (("DNS", "sink.test"),)
        c.ehlo("mx.example.net")
        assert c.sendmail("", [RCPT], dsn_bytes("dsn-hard-userunknown.eml")) == {}
    sink.wait_classified(1)
    assert sink.count("SELECT COUNT(*) FROM results") == 1


def _starttls(c: smtplib.SMTP, ca):
    """smtplib checks the host name it connected to; ours is 127.0.0.1, the cert's sink.test."""
    c._host = "sink.test"
    return c.starttls(context=client_context(ca))


def test_a_client_that_does_not_trust_the_cert_fails_the_handshake(make_sink, tls_files):
    cert, key = tls_files
    sink = make_sink(server={"tls_cert": cert, "tls_key": key})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c._host = "sink.test"
        with pytest.raises(ssl.SSLCertVerificationError):
            c.starttls(context=ssl.create_default_context())


def test_require_tls_refuses_mail_before_starttls(make_sink, tls_files, ca):
    cert, key = tls_files
    sink = make_sink(server={"tls_cert": cert, "tls_key": key, "require_tls": True})
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        code, _ = c.mail("")
        assert code == 530
        _starttls(c, ca)
        c.ehlo("mx.example.net")
        assert c.mail("")[0] == 250


def test_no_starttls_without_a_certificate(sink):
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        c.ehlo("mx.example.net")
        assert not c.has_extn("starttls")


def test_a_certificate_that_does_not_load_stops_serve_with_one_line(tmp_path):
    import subprocess
    import sys

    cfg = tmp_path / "sink.toml"
    cfg.write_text(f'[server]\nlisten = "127.0.0.1:0"\ndomains = ["{DOMAIN}"]\n'
                   f'tls_cert = "{tmp_path}/missing.pem"\ntls_key = "{tmp_path}/missing.key"\n'
                   f'[store]\ndb = "{tmp_path}/sink.db"\n')
    proc = subprocess.run([sys.executable, "-m", "bouncesink", "serve", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("bouncesink: server.tls_cert / tls_key: cannot load")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_second_starttls_inside_tls_gets_a_clear_reply_and_no_traceback(
        make_sink, tls_files, ca, dsn_bytes, capfd):
    cert, key = tls_files
    sink = make_sink(server={"tls_cert": cert, "tls_key": key})
    capfd.readouterr()
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        _starttls(c, ca)
        c.ehlo("mx.example.net")
        assert not c.has_extn("starttls")
        assert c.docmd("STARTTLS") == (503, b"5.5.1 TLS already active")
        # The session goes on, in the TLS it has.
        assert c.sendmail("", [RCPT], dsn_bytes("dsn-hard-userunknown.eml")) == {}
    sink.wait_classified(1)
    out = capfd.readouterr()
    assert "Traceback" not in out.out + out.err
