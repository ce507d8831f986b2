"""A DSN naming an Original-Recipient and an alias-expanded Final-Recipient suppresses the
address the sender's list holds (the original), and keeps both in the result."""

from datetime import datetime, timezone

from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope
from bouncesink.parse import parse
from bouncesink.store import open_store

DSN = b"""\
From: MAILER-DAEMON@mx.example.net
To: bounces@bounces.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Original-Recipient: rfc822;team@example.com
Final-Recipient: rfc822;carol.left@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <carol.left@example.net>: Recipient address rejected: User unknown

--B--
"""


def record(tmp_path, raw, verp=None):
    store = open_store(str(tmp_path / "s.db"))
    env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["bounces@bounces.example.org"],
                   received_at=datetime(2026, 11, 2, 10, tzinfo=timezone.utc))
    (ref,) = store.add_messages([(env, raw)])
    parsed = parse(raw, verp_recipient=verp)
    store.record([(ref, env, parsed, None)], PolicyConfig(),
                 verp_recipients={ref: verp} if verp else None)
    return store, parsed


def suppressed(store) -> set[str]:
    return {row["email"] for row in store.suppressions()}


def test_the_original_recipient_is_suppressed_and_both_are_kept(tmp_path):
    store, parsed = record(tmp_path, DSN)
    try:
        (r,) = parsed.results
        assert (r.recipient, r.original_recipient, r.suppress_as) == \
            ("carol.left@example.net", "team@example.com", "team@example.com")
        assert r.type == "hard"
        assert suppressed(store) == {"team@example.com"}
    finally:
        store.close()


def test_without_an_original_recipient_the_final_one_is_suppressed(tmp_path):
    raw = DSN.replace(b"Original-Recipient: rfc822;team@example.com\n", b"")
    store, parsed = record(tmp_path, raw)
    try:
        assert parsed.results[0].suppress_as == "carol.left@example.net"
        assert suppressed(store) == {"carol.left@example.net"}
    finally:
        store.close()


def test_a_verp_address_naming_the_original_recipient_is_acted_on(tmp_path):
    store, parsed = record(tmp_path, DSN, verp="team@example.com")
    try:
        assert suppressed(store) == {"team@example.com"}
    finally:
        store.close()
