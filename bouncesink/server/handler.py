"""The application side of SMTP (and LMTP): `BounceHandler`'s hooks return the replies.

RCPT: our domains only (the sink never relays, see `bouncesink.envelope.is_ours`), bounded
recipients, signed VERP checked. DATA: 250 only once the raw message is committed to the
store by `Ingest` (group commit); any failure inside answers 451 4.3.0 so the sender retries.
The handler knows nothing of the protocol engine: aiosmtpd's SMTP (protocol.SinkSMTP) and
its LMTP both call these hooks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bouncesink import logs, verp
from bouncesink.config import Config
from bouncesink.envelope import is_ours, message_id_of
from bouncesink.metrics import Metrics
from bouncesink.model import Envelope, utcnow
from bouncesink.textsafe import unsafe

if TYPE_CHECKING:
    from bouncesink.server.ingest import Ingest

REPLY_TEMPFAIL = "451 4.3.0 Temporary failure storing the message, try again later"
REPLY_RELAY = "550 5.7.1 Relaying denied: not a domain of this server"
REPLY_TOO_MANY_RCPT = "452 4.5.3 Too many recipients"
# RFC 3463 5.1.3 / 5.1.7: bad destination / sender address syntax.
REPLY_UNSAFE_RCPT = "553 5.1.3 Address refused: it holds control or bidi characters"
REPLY_UNSAFE_SENDER = "553 5.1.7 Sender address refused: it holds control or bidi characters"


class BounceHandler:
    """aiosmtpd handler: the hook's return value is the SMTP reply."""

    metrics: Metrics = Metrics()  # the Server sets its own

    def __init__(self, config: Config, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self.log = logs.get()
        self.domains = frozenset(d.lower() for d in config.server.domains)
        self.in_flight = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """aiosmtpd's EHLO reply, with PIPELINING (RFC 2920) before its last line."""
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # No one can type or see such an address, and it would reach logs and exports.
        if unsafe(address):
            self.log.info("sender_rejected", peer=session.peer[0] if session.peer else "",
                          mail_from=address)
            return REPLY_UNSAFE_SENDER
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        peer = session.peer[0] if session.peer else ""
        if unsafe(address):  # even in a quoted local part (RFC 5321 4.1.2 allows it)
            self.log.info("recipient_rejected", peer=peer, rcpt_to=address,
                          reply=REPLY_UNSAFE_RCPT)
            return REPLY_UNSAFE_RCPT
        if not is_ours(address, self.domains):
            self.log.info("recipient_rejected", peer=peer, rcpt_to=address)
            return REPLY_RELAY
        if len(envelope.rcpt_tos) >= self.config.server.max_recipients:
            self.log.warning("limit_exceeded", peer=peer, limit="max_recipients",
                             rcpt_to=address)
            return REPLY_TOO_MANY_RCPT
        refused = verp.refusal(address, self.config.verp)
        if refused:
            self.log.warning("verp_rejected", peer=peer, rcpt_to=address, reply=refused)
            return refused
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        t0 = time.perf_counter()
        raw = envelope.original_content or b""
        env = Envelope(peer=session.peer[0] if session.peer else "",
                       mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                       helo=session.host_name or "", received_at=utcnow())
        self.in_flight += 1
        try:
            ref = await self.ingest.submit(env, raw, t0=t0)
            self.metrics.message_received()
            # Logged with its results once classified (Ingest._log_results).
            return f"250 2.0.0 OK queued as {ref}"
        except Exception as exc:
            self.log.error("message_tempfailed", peer=env.peer, mail_from=env.mail_from,
                           rcpt_to=env.rcpt_tos, message_id=message_id_of(raw), size=len(raw),
                           error=str(exc)[:300], reply="451",
                           duration_ms=round((time.perf_counter() - t0) * 1000, 2))
            return REPLY_TEMPFAIL
        finally:
            self.in_flight -= 1
