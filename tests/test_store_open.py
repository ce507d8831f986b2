"""Opening the store from the command line: read-only commands open it read-only and touch
nothing; a file that is not a bouncesink store is refused; a store that fails under a
command (a corrupt file) and bad numbers or times are one line, never a traceback."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from bouncesink.cli import main
from bouncesink.config import PolicyConfig
from bouncesink.model import Envelope, Parsed, Result
from bouncesink.store import open_store


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "store.db"
    store = open_store(str(path))
    env = Envelope(peer="192.0.2.1", mail_from="", rcpt_tos=["b@bounces.example.org"])
    refs = store.add_messages([(env, b"raw-%d" % i) for i in range(200)])
    store.record([(ref, env, Parsed("dsn", [Result(f"user{ref}@example.com", status="5.1.1",
                                                   reason="userunknown", type="hard")]), None)
                  for ref in refs], PolicyConfig())
    store.close()
    return path


@pytest.fixture
def foreign(tmp_path):
    """Another application's SQLite file (rollback journal, its own table)."""
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


READERS = [["stats"], ["why", "a@example.com"], ["export"], ["report"]]


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_a_reader_refuses_another_applications_file_and_changes_nothing(foreign, capsys, argv):
    before = foreign.read_bytes()
    code, out, err = run(capsys, *argv, "--db", str(foreign))
    assert code == 1 and out == ""
    assert one_line(err) == f"bouncesink: {foreign}: not a bouncesink store (a SQLite" \
                            f" database of something else)"
    assert foreign.read_bytes() == before
    assert sorted(os.listdir(foreign.parent)) == ["other.db"]  # no -wal, -shm, -journal
    conn = sqlite3.connect(foreign)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


@pytest.mark.parametrize("argv", [["suppress", "a@example.com", "--reason", "x"],
                                  ["campaign", "sent", "c1", "5"]], ids=lambda a: a[0])
def test_a_writer_refuses_it_too(foreign, capsys, argv):
    before = foreign.read_bytes()
    code, _, err = run(capsys, *argv, "--db", str(foreign))
    assert code == 1 and "not a bouncesink store" in one_line(err)
    assert foreign.read_bytes() == before


def test_dev_null_is_refused_without_a_journal_beside_it(capsys):
    if os.path.exists("/dev/null-journal"):
        pytest.skip("/dev/null-journal is already there (left by something else)")
    code, _, err = run(capsys, "stats", "--db", "/dev/null")
    assert code == 1
    assert one_line(err) == "bouncesink: /dev/null: not a bouncesink store (not a regular file)"
    assert not os.path.exists("/dev/null-journal")


def test_an_empty_file_is_not_a_store_for_a_reader(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "stats", "--db", str(empty))
    assert code == 1 and "not a bouncesink store (an empty database)" in one_line(err)
    assert empty.read_bytes() == b""


def test_a_reader_opens_the_store_read_only(store_path, capsys):
    os.chmod(store_path, 0o444)
    os.chmod(store_path.parent, 0o555)  # not even -shm can be made (root ignores this)
    try:
        code, out, err = run(capsys, "stats", "--db", str(store_path), "--json")
    finally:
        os.chmod(store_path.parent, 0o755)
        os.chmod(store_path, 0o644)
    assert code == 0, err
    assert '"pending": 0' in out or '"pending":0' in out
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_a_reader_brings_an_older_store_of_ours_up_to_date(store_path, capsys):
    from bouncesink.store.schema import MIGRATIONS

    conn = sqlite3.connect(store_path)
    conn.execute("PRAGMA user_version = 3")  # as stores were before the digest
    conn.execute("DROP INDEX messages_digest")
    for col in ("digest", "attempts", "retry_at"):
        conn.execute(f"ALTER TABLE messages DROP COLUMN {col}")
    for table in ("outbox", "deliveries", "hook_cursors"):  # migration 6
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DROP TABLE rollups")  # migration 7
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "stats", "--db", str(store_path))
    assert code == 0, err
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def corrupt(path) -> None:
    """Keep the header page (a valid SQLite file to open), random bytes in the pages after."""
    data = bytearray(path.read_bytes())
    rnd = random.Random(15)
    page = int.from_bytes(data[16:18], "big") or 65536
    for i in range(page, len(data)):
        data[i] = rnd.randrange(256)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("argv", READERS + [["suppress", "a@example.com", "--reason", "x"],
                                            ["export", "--format", "csv"]],
                         ids=lambda a: "-".join(a[:2]))
def test_a_corrupt_store_is_one_line(store_path, capsys, argv):
    conn = sqlite3.connect(store_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    corrupt(store_path)
    code, _, err = run(capsys, *argv, "--db", str(store_path))
    assert code == 1
    line = one_line(err)
    assert line.startswith("bouncesink: "), line


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
@pytest.mark.parametrize("command", ["export", "report"])
def test_a_time_at_the_ends_of_the_calendar_is_one_line(store_path, capsys, command, since):
    code, _, err = run(capsys, command, "--db", str(store_path), "--since", since)
    assert code == 2
    assert one_line(err) == f"bouncesink: --since: out of range (years 1 to 9999): {since!r}"


def test_a_sent_count_beyond_64_bits_is_one_line(store_path, capsys):
    code, _, err = run(capsys, "campaign", "sent", "c", "99999999999999999999999999",
                       "--db", str(store_path))
    assert code != 0
    assert "out of range" in one_line(err)


@pytest.mark.parametrize("days", ["nan", "1e400", "inf", "1e300"])
def test_prune_refuses_days_that_are_no_number_of_days(store_path, capsys, days):
    with pytest.raises(SystemExit) as exit_:
        main(["prune", "--db", str(store_path), "--raw-older-than", days])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--raw-older-than" in err.strip().splitlines()[-1]


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "new.db"
    code = ("import sys; from bouncesink.store import open_store;"
            " open_store(sys.argv[1]).close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stderr=subprocess.PIPE)
             for _ in range(6)]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    from bouncesink.store.schema import MIGRATIONS

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()
