"""The mailbox road: `bouncesink fetch` against a real Dovecot (IMAP, IMAPS, POP3, POP3S)."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import DATA_DIR
from peers import Dovecot, dovecot_unavailable, shared_tmpdir, wait_for

from bouncesink.store import open_store

# One mailbox per test (Dovecot reads its passwd-file at start).
USERS = ("imaps1", "keep1", "pop1", "pop2", "plain1", "trust1", "auth1", "killimaps",
         "killpop3s", "poll1")
BOUNCES = sorted(p.read_bytes() for p in DATA_DIR.glob("dsn-*.eml"))


@pytest.fixture(scope="module")
def dovecot():
    reason = dovecot_unavailable()
    if reason:
        pytest.skip(reason)
    trustme = pytest.importorskip("trustme")
    root = shared_tmpdir("bouncesink-dovecot-")
    d = Dovecot(root, trustme.CA())
    d.add_users({f"{u}@example.org": f"pw-{u}" for u in USERS})
    d.start()
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


def mailbox(dovecot, tmp_path, user: str, scheme: str = "imaps", after: str = "move:Processed",
            **extra) -> tuple[str, str]:
    """A user with a password file, and a config naming its mailbox; (config path, db)."""
    (tmp_path / f"{user}.pass").write_text(f"pw-{user}\n")
    db = str(tmp_path / "sink.db")
    lines = [f'[store]\ndb = "{db}"\ndurability = "normal"\n[log]\nlevel = "warning"\n',
             "[[mailbox]]",
             f'url = "{scheme}://{user}%40example.org@127.0.0.1:{dovecot.ports[scheme]}/INBOX"',
             f'password_file = "{tmp_path / (user + ".pass")}"',
             f'after = "{after}"', f'ca_file = "{dovecot.root / "ca.pem"}"']
    lines += [f"{k} = {v}" for k, v in extra.items()]
    config = tmp_path / f"{user}.toml"
    config.write_text("\n".join(lines) + "\n")
    return str(config), db


def deliver_to(dovecot, user: str, messages: list[bytes]) -> None:
    c = dovecot.imap(f"{user}@example.org")
    try:
        for raw in messages:
            c.append("INBOX", raw)
    finally:
        c.logout()


def folder_count(dovecot, user: str, folder: str) -> int:
    c = dovecot.imap(f"{user}@example.org")
    try:
        if not c.folder_exists(folder):
            return 0
        return c.select_folder(folder, readonly=True)[b"EXISTS"]
    finally:
        c.logout()


def fetch(config: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bouncesink", "fetch", "--config", config],
                          capture_output=True, timeout=timeout)


def digests(db: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT digest FROM messages ORDER BY id")]


def test_imaps_fetch_stores_classifies_and_moves(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "imaps1")
    deliver_to(dovecot, "imaps1", BOUNCES)
    out = fetch(config)
    assert out.returncode == 0, out.stderr
    store = open_store(db)
    try:
        stats = store.stats()
    finally:
        store.close()
    assert stats["all_time"]["messages"] == len(BOUNCES)
    assert stats["pending"] == 0  # classified before fetch exits
    assert folder_count(dovecot, "imaps1", "INBOX") == 0
    assert folder_count(dovecot, "imaps1", "Processed") == len(BOUNCES)


def test_imap_starttls_keep_takes_each_message_once(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "keep1", scheme="imap", after="keep")
    deliver_to(dovecot, "keep1", BOUNCES[:2])
    assert fetch(config).returncode == 0
    deliver_to(dovecot, "keep1", BOUNCES[2:4])
    assert fetch(config).returncode == 0
    assert fetch(config).returncode == 0
    assert len(digests(db)) == 4 and len(set(digests(db))) == 4
    assert folder_count(dovecot, "keep1", "INBOX") == 4  # kept, tracked by UID


def test_pop3s_fetch_deletes_after_storing(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "pop1", scheme="pop3s", after="delete")
    deliver_to(dovecot, "pop1", BOUNCES[:3])
    out = fetch(config)
    assert out.returncode == 0, out.stderr
    assert len(digests(db)) == 3
    assert folder_count(dovecot, "pop1", "INBOX") == 0


def test_pop3_stls_keep_takes_each_message_once(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "pop2", scheme="pop3", after="keep")
    deliver_to(dovecot, "pop2", BOUNCES[:2])
    assert fetch(config).returncode == 0
    assert fetch(config).returncode == 0
    assert len(digests(db)) == 2
    assert folder_count(dovecot, "pop2", "INBOX") == 2


def test_insecure_plaintext_logs_in_without_tls_and_others_use_starttls(dovecot, tmp_path):
    """imap:// logs in after STARTTLS, unless the mailbox says insecure_plaintext (Dovecot
    allows plaintext on loopback, and logs whether a login was over TLS)."""
    config, db = mailbox(dovecot, tmp_path, "plain1", scheme="imap",
                         insecure_plaintext="true")
    deliver_to(dovecot, "plain1", BOUNCES[:1])
    out = fetch(config)
    assert out.returncode == 0, out.stderr
    assert len(digests(db)) == 1
    logins = [line for line in dovecot.log().splitlines()
              if "imap-login: Info: Login:" in line]
    plain = [line for line in logins if "user=<plain1@" in line]
    # the test's own IMAPS login, and fetch's without TLS
    assert any(", TLS" not in line for line in plain)
    keep = [line for line in logins if "user=<keep1@" in line]  # imap:// with STARTTLS
    assert keep and all(", TLS" in line for line in keep)


def test_an_untrusted_certificate_fails_the_pass_and_touches_nothing(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "trust1")
    text = open(config).read().replace(f'ca_file = "{dovecot.root / "ca.pem"}"\n', "")
    open(config, "w").write(text)  # the system trust store does not know our test CA
    deliver_to(dovecot, "trust1", BOUNCES[:1])
    out = fetch(config)
    assert out.returncode == 75
    assert b"CERTIFICATE_VERIFY_FAILED" in out.stderr or b"certificate" in out.stderr
    assert folder_count(dovecot, "trust1", "INBOX") == 1


def test_wrong_password_is_one_line_and_exit_75(dovecot, tmp_path):
    config, db = mailbox(dovecot, tmp_path, "auth1")
    (tmp_path / "auth1.pass").write_text("wrong\n")
    out = fetch(config)
    assert out.returncode == 75
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "auth1%40example.org" in lines[0]
    assert "Authentication failed" in lines[0] and "could not store" not in lines[0]


@pytest.mark.parametrize("scheme,after", [("imaps", "move:Processed"), ("pop3s", "delete")])
def test_kill_9_in_the_middle_of_a_pass_loses_and_duplicates_nothing(dovecot, tmp_path,
                                                                     scheme, after):
    user = f"kill{scheme}"
    config, db = mailbox(dovecot, tmp_path, user, scheme=scheme, after=after)
    total = 300
    messages = [b"X-Seq: %d\r\n" % i + BOUNCES[i % len(BOUNCES)] for i in range(total)]
    deliver_to(dovecot, user, messages)
    proc = subprocess.Popen([sys.executable, "-m", "bouncesink", "fetch", "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def some_stored():
        try:
            return 0 < len(digests(db)) < total
        except sqlite3.Error:
            return False

    deadline = time.monotonic() + 60
    while not some_stored():
        assert proc.poll() is None, f"fetch ended before it was killed (exit {proc.returncode})"
        assert time.monotonic() < deadline, "nothing stored within 60 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = len(digests(db))
    assert killed_at < total  # the kill landed mid-pass
    out = fetch(config, timeout=300)
    assert out.returncode == 0, out.stderr
    got = digests(db)
    assert len(got) == total and len(set(got)) == total
    assert folder_count(dovecot, user, "INBOX") == 0
    if scheme == "imaps":
        assert folder_count(dovecot, user, "Processed") == total


def test_serve_polls_a_mailbox_and_idle_brings_new_mail_at_once(dovecot):
    """`serve` with a [[mailbox]]: IMAP IDLE (interval 600 s, so only IDLE can be this
    quick) takes a message appended while the server runs."""
    import dataclasses

    from conftest import make_config, start_sink

    from bouncesink.config import MailboxConfig

    root = shared_tmpdir("bouncesink-poll-")
    box = MailboxConfig(
        url=f"imaps://poll1%40example.org@127.0.0.1:{dovecot.ports['imaps']}/INBOX",
        password="pw-poll1", after="move:Done", interval=600.0,
        ca_file=str(dovecot.root / "ca.pem"))
    config = dataclasses.replace(make_config(root), mailbox=(box,))
    deliver_to(dovecot, "poll1", BOUNCES[:1])
    sink = start_sink(config)
    try:
        sink.wait_classified(1)
        time.sleep(1.0)  # the poller is in IDLE now
        deliver_to(dovecot, "poll1", BOUNCES[1:2])
        sink.wait_classified(2, timeout=20)
        wait_for(lambda: folder_count(dovecot, "poll1", "Done") == 2, timeout=20,
                 what="both moved to Done")
        assert folder_count(dovecot, "poll1", "INBOX") == 0
    finally:
        sink.stop()
        shutil.rmtree(root, ignore_errors=True)
