"""Store first, then classify: the two steps every road shares with SMTP ingest.

`store` is the call the SMTP server's group commit makes (`SQLStore.message_row` then
`SQLStore.add_rows_once`: one transaction, a message already stored found by its content
hash, refs once committed); `classify` hands the committed
refs to the server's `Classifier`, which reads each message back from the store, parses it
and records results and decisions, exactly as after an SMTP 250. A message whose
classification fails stays pending in the store; a running `serve` classifies it (its
start-up recovery and periodic sweep), so a road never has to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from bouncesink import logs
from bouncesink.config import Config
from bouncesink.model import Envelope, utcnow
from bouncesink.store import SQLStore

# sysexits.h: the exit codes an MTA's pipe transport understands (Postfix pipe(8), Exim).
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_SOFTWARE = 70
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_CONFIG = 78


EVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


def store(db: SQLStore, items: Iterable[tuple[Envelope, bytes]],
          since: datetime | None = None) -> list[tuple[int, bool]]:
    """Store messages durably in ONE transaction, the way SMTP ingest does: a message whose
    content hash is already stored (received at or after `since`) is not stored again.
    Returns (ref, stored_now) per message once committed; raises if not (then none is)."""
    rows = [db.message_row(env, raw) for env, raw in items]
    return db.add_rows_once(rows, since or EVER)


def duplicate_since(config: Config) -> datetime:
    """The window SMTP ingest de-duplicates retransmissions in (server.duplicate_window):
    an MTA's pipe or LMTP retry of a message we stored is recognised the same way."""
    return utcnow() - timedelta(seconds=config.server.duplicate_window) \
        if config.server.duplicate_window else utcnow()


def reset(db: SQLStore, log) -> None:
    """After a failed store call: drop the connection so the next call starts afresh (the
    server's writer thread does the same)."""
    try:
        reconnect = getattr(db, "reconnect", None)
        if reconnect is not None:
            reconnect()
    except Exception as exc:  # still broken: the next call fails and tries again
        log.warning("store_reconnect_failed", error=str(exc)[:300])


class Classifying:
    """The server's classifier, run in this process over refs a road has committed."""

    BATCH = 256

    def __init__(self, config: Config, db: SQLStore, parse=None) -> None:
        from bouncesink.server.classifier import Classifier  # the SMTP server's own

        if parse is None:
            from bouncesink.parse import parse
        self.log = logs.get()
        self.work = Classifier(config, db, parse)

    def classify(self, refs: list[int]) -> int:
        """Classify committed messages; how many were recorded. Failures are logged and
        leave the message pending (serve classifies it later), never raise."""
        from bouncesink.server.classifier import _Committed

        done = 0
        for i in range(0, len(refs), self.BATCH):
            batch = [_Committed(ref) for ref in refs[i:i + self.BATCH]]
            try:
                done += len(self.work.classify(batch))
            except Exception as exc:
                self.log.error("classify_failed", error=str(exc)[:300], messages=len(batch))
                done += len(self.work.classify_each(batch))
        return done


def classify(config: Config, db: SQLStore, refs: list[int], parse=None) -> int:
    if not refs:
        return 0
    return Classifying(config, db, parse).classify(refs)
