"""The mailbox road: bounces that land in a mailbox, read over IMAP or POP3.

One pass over a `[[mailbox]]` (`fetch_mailbox`): log in over TLS (imaps/pop3s from the
start, imap/pop3 with STARTTLS / STLS unless `insecure_plaintext`), list the messages, and
for each chunk of new ones: fetch, store durably (the SMTP store call, one transaction),
record their UIDs as taken (`mailbox_uids`), and only then move them to the processed
folder or delete them (`after`). The order makes a crash at any moment harmless:

- before the commit: nothing stored, the messages are still in the mailbox: fetched again;
- after the commit, before the UIDs are recorded: fetched again, found by their content
  hash (`messages.digest`) and not stored twice;
- after the UIDs are recorded, before the move or delete (or POP3's QUIT, which is when
  deletions happen, RFC 1939 6): the next pass moves or deletes them without fetching.

IMAP UIDs are only meaningful with the folder's UIDVALIDITY (RFC 3501 2.3.1.1), so both are
recorded; POP3's UIDL values are unique per maildrop (RFC 1939 7) and recorded with an
empty validity. With `after = "keep"` the recorded UIDs are what tells new from seen.

`MailboxPoller` runs passes for `serve`: IMAP IDLE (RFC 2177) where the server offers it,
else every `interval` seconds.
"""

from __future__ import annotations

import imaplib
import poplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import timezone
from urllib.parse import unquote, urlsplit

from bouncesink import logs
from bouncesink.config import Config, MailboxConfig
from bouncesink.roads import intake
from bouncesink.roads.files import envelope_of
from bouncesink.store import SQLStore

CHUNK = 50           # messages fetched, stored and moved together
# What a mailbox server or the network can do to a pass (IMAPClient's errors derive from
# imaplib's); anything else (the store) is not the mailbox's fault.
READ_ERRORS = (OSError, ssl.SSLError, EOFError, poplib.error_proto, imaplib.IMAP4.error)
DEFAULT_PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
IDLE_MAX = 25 * 60   # RFC 2177: re-issue IDLE at least every 29 minutes


class MailboxError(Exception):
    """A mailbox cannot be read now (network, TLS, login, folder): one line."""


@dataclass(frozen=True)
class Where:
    """A mailbox URL taken apart: imaps://USER@HOST:PORT/FOLDER."""

    scheme: str
    user: str
    host: str
    port: int
    folder: str
    key: str        # the URL without any password: the name UIDs are recorded under

    @property
    def imap(self) -> bool:
        return self.scheme.startswith("imap")

    @property
    def implicit_tls(self) -> bool:
        return self.scheme.endswith("s")


def where_of(url: str) -> Where:
    u = urlsplit(url)
    folder = unquote(u.path.lstrip("/")) or "INBOX"
    key = f"{u.scheme}://{u.username}@{u.hostname}:{u.port or DEFAULT_PORTS[u.scheme]}/{folder}"
    return Where(u.scheme, unquote(u.username or ""), u.hostname or "",
                 u.port or DEFAULT_PORTS[u.scheme], folder, key)


def _text(exc: BaseException) -> str:
    """An error as one line (servers' replies come as bytes, or as the str() of bytes)."""
    arg = exc.args[0] if len(exc.args) == 1 else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    if len(text) > 3 and text[:2] in ("b'", 'b"') and text[-1] == text[1]:
        text = text[2:-1]
    return " ".join(text.split())[:300] or type(exc).__name__


def password_of(box: MailboxConfig) -> str:
    if box.password_file:
        try:
            with open(box.password_file, encoding="utf-8") as fh:
                return fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise MailboxError(f"password_file {box.password_file}:"
                               f" {exc.strerror or exc}") from None
    return box.password


def tls_context(box: MailboxConfig) -> ssl.SSLContext:
    """Certificates checked against the system trust store, or `ca_file`."""
    try:
        return ssl.create_default_context(cafile=box.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"ca_file {box.ca_file}: {getattr(exc, 'strerror', None) or exc}") \
            from None


@dataclass
class PassReport:
    mailbox: str
    stored: int = 0        # new messages committed to the store
    known: int = 0         # already stored (by content hash): recorded, not stored again
    finished: int = 0      # moved / deleted (or, with keep, recorded) after being stored
    too_large: int = 0     # left in the mailbox, never stored
    refs: list[int] = field(default_factory=list)


def fetch_mailbox(config: Config, db: SQLStore, box: MailboxConfig,
                  stop: threading.Event | None = None) -> PassReport:
    """One pass over one mailbox. Raises MailboxError (the mailbox cannot be read) or the
    store's exception (nothing more is moved or deleted then)."""
    where = where_of(box.url)
    reader = ImapReader(where, box) if where.imap else PopReader(where, box)
    try:
        reader.open(password_of(box), tls_context(box))
        return take(config, db, box, reader, stop)
    except READ_ERRORS as exc:
        raise MailboxError(f"{where.key}: {_text(exc)}") from None
    finally:
        reader.close()


def take(config: Config, db: SQLStore, box: MailboxConfig, reader, stop=None) -> PassReport:
    """Store what is new in an opened mailbox, then finish (move, delete) what is stored."""
    log = logs.get()
    where = reader.where
    report = PassReport(where.key)
    validity, uids = reader.list()
    seen = db.mailbox_uids(where.key, validity)
    leftover = [u for u in uids if u in seen]   # stored earlier, not yet moved or deleted
    if leftover and box.after != "keep":
        reader.finish(leftover, box.after)
        report.finished += len(leftover)
    new = [u for u in uids if u not in seen]
    limit = config.server.max_message_size
    for i in range(0, len(new), CHUNK):
        if stop is not None and stop.is_set():
            break
        chunk = new[i:i + CHUNK]
        messages = reader.fetch(chunk, limit)
        to_store, taken = [], []
        for uid, raw, received_at in messages:
            if raw is None:
                report.too_large += 1
                log.warning("message_too_large", road="mailbox", mailbox=where.key, uid=uid,
                            limit=limit)
                continue
            env = envelope_of(raw, f"{where.scheme}://{where.host}/{where.folder}")
            if received_at is not None:
                env.received_at = received_at
            to_store.append((uid, env, raw))
        if to_store:
            # A message stored by a pass that died before recording its UID is found by
            # its content hash and not stored again.
            stored = intake.store(db, [(env, raw) for _, env, raw in to_store])
            for (uid, _, _), (ref, fresh) in zip(to_store, stored):
                taken.append((uid, ref))
                if fresh:
                    report.stored += 1
                    report.refs.append(ref)
                else:
                    report.known += 1
        if taken:
            db.track_mailbox_uids(where.key, validity, taken)
            if box.after != "keep":
                reader.finish([uid for uid, _ in taken], box.after)
            report.finished += len(taken)
    reader.commit()
    log.info("mailbox_fetched", mailbox=where.key, stored=report.stored, known=report.known,
             finished=report.finished, too_large=report.too_large, after=box.after)
    return report


# -- IMAP (IMAPClient) ------------------------------------------------------------------------
class ImapReader:
    def __init__(self, where: Where, box: MailboxConfig) -> None:
        self.where = where
        self.box = box
        self.client = None

    def open(self, password: str, context: ssl.SSLContext) -> None:
        from imapclient import IMAPClient

        w = self.where
        self.client = IMAPClient(w.host, port=w.port, ssl=w.implicit_tls, ssl_context=context,
                                 timeout=self.box.timeout, use_uid=True)
        if not w.implicit_tls and not self.box.insecure_plaintext:
            if not self.client.has_capability("STARTTLS"):
                raise MailboxError(f"{w.key}: the server offers no STARTTLS (set"
                                   f" insecure_plaintext = true to log in without TLS)")
            self.client.starttls(context)
        self.client.login(w.user, password)

    def list(self) -> tuple[str, list[str]]:
        info = self.client.select_folder(self.where.folder)
        validity = str(info.get(b"UIDVALIDITY", ""))
        uids = self.client.search(["NOT", "DELETED"])
        return validity, [str(u) for u in sorted(uids)]

    def fetch(self, uids: list[str], limit: int):
        """(uid, raw or None when larger than `limit`, INTERNALDATE) per message."""
        nums = [int(u) for u in uids]
        sizes = self.client.fetch(nums, ["RFC822.SIZE"])
        small = [n for n in nums if sizes.get(n, {}).get(b"RFC822.SIZE", 0) <= limit]
        got = self.client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
        out = []
        for n in nums:
            data = got.get(n)
            if data is None:
                if n in small:  # expunged meanwhile by someone else: nothing to take
                    continue
                out.append((str(n), None, None))
                continue
            when = data.get(b"INTERNALDATE")
            if when is not None:
                when = when.astimezone(timezone.utc) if when.tzinfo else \
                    when.astimezone().astimezone(timezone.utc)
            out.append((str(n), data[b"BODY[]"], when))
        return out

    def finish(self, uids: list[str], after: str) -> None:
        nums = [int(u) for u in uids]
        if after.startswith("move:"):
            folder = after[5:]
            if not self.client.folder_exists(folder):
                self.client.create_folder(folder)
            if self.client.has_capability("MOVE"):  # RFC 6851: atomic
                self.client.move(nums, folder)
                return
            self.client.copy(nums, folder)
        self.client.delete_messages(nums)
        if self.client.has_capability("UIDPLUS"):  # RFC 4315: expunge only these
            self.client.uid_expunge(nums)
        else:
            self.client.expunge()

    def commit(self) -> None:
        pass

    def idle_supported(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """IDLE (RFC 2177) until the folder changes, `seconds` pass or `stop` is set."""
        self.client.idle()
        try:
            deadline = time.monotonic() + seconds
            while not stop.is_set() and time.monotonic() < deadline:
                if self.client.idle_check(timeout=1):
                    return
        finally:
            self.client.idle_done()

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except Exception:  # the connection is gone already: nothing to say goodbye to
            try:
                self.client.shutdown()
            except Exception:
                pass
        self.client = None


# -- POP3 (poplib) ----------------------------------------------------------------------------
class PopReader:
    def __init__(self, where: Where, box: MailboxConfig) -> None:
        self.where = where
        self.box = box
        self.pop = None
        self.numbers: dict[str, int] = {}

    def open(self, password: str, context: ssl.SSLContext) -> None:
        w = self.where
        if w.implicit_tls:
            self.pop = poplib.POP3_SSL(w.host, w.port, timeout=self.box.timeout,
                                       context=context)
        else:
            self.pop = poplib.POP3(w.host, w.port, timeout=self.box.timeout)
            if not self.box.insecure_plaintext:
                try:
                    self.pop.stls(context)  # RFC 2595
                except poplib.error_proto as exc:
                    raise MailboxError(f"{w.key}: STLS failed ({exc}); set"
                                       f" insecure_plaintext = true to log in without TLS") \
                        from None
        self.pop.user(w.user)
        self.pop.pass_(password)

    def list(self) -> tuple[str, list[str]]:
        _, lines, _ = self.pop.uidl()
        self.numbers = {}
        for line in lines:
            num, _, uid = line.decode("ascii", "replace").partition(" ")
            self.numbers[uid] = int(num)
        return "", list(self.numbers)

    def fetch(self, uids: list[str], limit: int):
        out = []
        for uid in uids:
            num = self.numbers[uid]
            size = int(self.pop.list(num).split()[2])
            if size > limit:
                out.append((uid, None, None))
                continue
            _, lines, _ = self.pop.retr(num)
            out.append((uid, b"\r\n".join(lines) + b"\r\n", None))
        return out

    def finish(self, uids: list[str], after: str) -> None:
        if after == "delete":
            for uid in uids:
                self.pop.dele(self.numbers[uid])

    def commit(self) -> None:
        """RFC 1939 6: deletions take effect at QUIT (the UPDATE state)."""
        self.pop.quit()
        self.pop = None

    def idle_supported(self) -> bool:
        return False

    def close(self) -> None:
        if self.pop is not None:
            try:
                self.pop.close()  # no QUIT: nothing marked is deleted
            except Exception:
                pass
            self.pop = None


# -- every mailbox, once; or polled by serve ------------------------------------------------
def fetch_all(config: Config, db: SQLStore, problem=None) -> tuple[list[int], int]:
    """One pass over every [[mailbox]]: (refs stored, mailboxes that failed)."""
    log = logs.get()
    refs, failed = [], 0
    for box in config.mailbox:
        try:
            refs += fetch_mailbox(config, db, box).refs
        except Exception as exc:  # MailboxError, or the store failed: the rest stays there
            failed += 1
            line = str(exc) if isinstance(exc, MailboxError) else \
                f"{where_of(box.url).key}: could not store: {str(exc)[:300]}"
            if problem:  # the command prints it as its one line
                problem(line)
            else:
                log.error("mailbox_failed", mailbox=where_of(box.url).key, error=line)
            if not isinstance(exc, MailboxError):
                intake.reset(db, log)
    return refs, failed


class MailboxPoller:
    """A thread per mailbox for `serve`: a pass, then IDLE or `interval`, until stopped."""

    RETRY = 30.0  # seconds after a failed pass

    def __init__(self, config: Config, box: MailboxConfig, parse=None) -> None:
        self.config = config
        self.box = box
        self.parse = parse
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"mailbox {where_of(box.url).key}")
        self.passes = 0

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        from bouncesink.store import open_store

        log = logs.get()
        db = None
        while not self.stop_event.is_set():
            wait = self.box.interval
            try:
                if db is None:
                    db = open_store(self.config.store.db, durability=self.config.store.durability)
                self._pass(db)
            except Exception as exc:
                log.error("mailbox_failed", mailbox=where_of(self.box.url).key,
                          error=str(exc)[:300])
                if db is not None:
                    intake.reset(db, log)
                wait = min(self.box.interval, self.RETRY)
            self.passes += 1
            self.stop_event.wait(wait if not self._idled else 0)
        if db is not None:
            db.close()

    _idled = False

    def _pass(self, db: SQLStore) -> None:
        """A pass; with IDLE, stay in the folder until it changes (then the next pass)."""
        where = where_of(self.box.url)
        reader = ImapReader(where, self.box) if where.imap else PopReader(where, self.box)
        self._idled = False
        try:
            reader.open(password_of(self.box), tls_context(self.box))
            report = take(self.config, db, self.box, reader, self.stop_event)
            if report.refs:
                intake.classify(self.config, db, report.refs, self.parse)
            if reader.idle_supported() and not self.stop_event.is_set():
                reader.wait(min(IDLE_MAX, 24 * 3600), self.stop_event)
                self._idled = True
        except READ_ERRORS as exc:
            raise MailboxError(f"{where.key}: {_text(exc)}") from None
        finally:
            reader.close()
