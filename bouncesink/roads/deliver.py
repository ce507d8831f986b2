"""The pipe road: one message on standard input, from an MTA's pipe transport.

Postfix pipe(8), Exim's pipe transport and a `.forward` pipe all run a command per message
and read its exit status as sysexits.h: 0 delivered, 75 (EX_TEMPFAIL) try again later, other
codes bounce. So `deliver` exits 0 only once the message is committed to the store, 75 when
the store cannot take it (the MTA keeps it queued and retries), and a sysexits code for
input it will never take. Classification follows the commit, in this process, before it
exits; if it fails the message stays pending and a running `serve` classifies it.
"""

from __future__ import annotations

from typing import BinaryIO

from bouncesink import logs, verp
from bouncesink.config import Config
from bouncesink.model import Envelope, utcnow
from bouncesink.roads import intake
from bouncesink.roads.intake import EX_DATAERR, EX_NOINPUT, EX_OK, EX_TEMPFAIL


class Refused(Exception):
    """Input the pipe will never take; `code` is its sysexits status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def read_message(stream: BinaryIO, limit: int) -> bytes:
    """The whole of `stream`, at most `limit` bytes (server.max_message_size)."""
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise Refused(f"message exceeds server.max_message_size ({limit} bytes)", EX_DATAERR)
    if not raw.strip():
        raise Refused("no message on standard input", EX_NOINPUT)
    return raw


def envelope_of(sender: str | None, recipient: str | None) -> Envelope:
    """The envelope the MTA passed as flags; the null sender may come as '', '<>' or
    Postfix's MAILER-DAEMON (pipe(8) null_sender)."""
    mail_from = (sender or "").strip().strip("<>")
    rcpt = (recipient or "").strip().strip("<>")
    return Envelope(peer="pipe", helo="", mail_from=mail_from,
                    rcpt_tos=[rcpt] if rcpt else [], received_at=utcnow())


def deliver(config: Config, stream: BinaryIO, sender: str | None = None,
            recipient: str | None = None, parse=None) -> int:
    """Store the message on `stream`, then classify it; the sysexits status to exit with.

    Refusals (Refused) and store failures are logged and turned into the status here;
    the store is opened only once the message has been read (EX_TEMPFAIL if it cannot be).
    """
    from bouncesink.store import open_store

    log = logs.get()
    env = envelope_of(sender, recipient)
    try:
        raw = read_message(stream, config.server.max_message_size)
        for rcpt in env.rcpt_tos:
            refused = verp.refusal(rcpt, config.verp)  # the check SMTP makes at RCPT
            if refused:
                raise Refused(f"{rcpt}: {refused}", 77)  # EX_NOPERM
    except Refused as exc:
        log.error("message_refused", road="pipe", mail_from=env.mail_from,
                  rcpt_to=env.rcpt_tos, error=str(exc), exit=exc.code)
        return exc.code
    try:
        db = open_store(config.store.db, durability=config.store.durability)
    except Exception as exc:
        log.error("message_tempfailed", road="pipe", mail_from=env.mail_from,
                  rcpt_to=env.rcpt_tos, size=len(raw), error=str(exc)[:300], exit=EX_TEMPFAIL)
        return EX_TEMPFAIL
    try:
        try:
            ((ref, fresh),) = intake.store(db, [(env, raw)], intake.duplicate_since(config))
        except Exception as exc:
            log.error("message_tempfailed", road="pipe", mail_from=env.mail_from,
                      rcpt_to=env.rcpt_tos, size=len(raw), error=str(exc)[:300],
                      exit=EX_TEMPFAIL)
            return EX_TEMPFAIL
        log.info("message_stored" if fresh else "message_duplicate", road="pipe", ref=ref,
                 mail_from=env.mail_from, rcpt_to=env.rcpt_tos, size=len(raw))
        try:  # stored: whatever happens now, the MTA is done with it
            if fresh:
                intake.classify(config, db, [ref], parse)
        except Exception as exc:
            log.error("classify_failed", ref=ref, error=str(exc)[:300])
        return EX_OK
    finally:
        db.close()
