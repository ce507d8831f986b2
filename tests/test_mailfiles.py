"""mailfiles: the messages of an mbox, a Maildir, a tree of files, one file, standard input;
and `bouncesink parse` reading them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bouncesink.cli import main
from bouncesink.mailfiles import MailFilesError, iter_messages, iter_paths

DATA = Path(__file__).parent / "data"
DSN = (DATA / "dsn-hard-userunknown.eml").read_bytes()
TWO = (DATA / "dsn-postfix-multi.eml").read_bytes()


def msg(n: int, body: bytes = b"hello\n") -> bytes:
    return b"From: a%d@example.com\nSubject: m%d\n\n" % (n, n) + body


def mbox(*messages: bytes) -> bytes:
    out = b""
    for i, m in enumerate(messages):
        body = b"\n".join(b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln
                          for ln in m.split(b"\n"))
        out += b"From sender%d@example.com Mon Nov  2 10:00:00 2026\n" % i + body
        out += b"\n" if body.endswith(b"\n") else b"\n\n"
    return out


def test_mbox_every_message_with_from_lines_unquoted(tmp_path):
    body = b"line\nFrom here on, quoted\n>From already quoted\n\nFrom the start\n"
    box = tmp_path / "box.mbox"
    box.write_bytes(mbox(msg(1), msg(2, body), msg(3)))
    items = list(iter_messages(str(box)))
    assert [i.index for i in items] == [1, 2, 3]
    assert [i.error for i in items] == ["", "", ""]
    assert items[0].raw == msg(1)
    assert items[1].raw == msg(2, body)
    assert items[2].raw == msg(3)
    assert all(i.path == str(box) for i in items) and items[1].name == f"{box}#2"


def test_mbox_with_crlf_lines(tmp_path):
    raw = mbox(msg(1), msg(2)).replace(b"\n", b"\r\n")
    (tmp_path / "b").write_bytes(raw)
    items = list(iter_messages(str(tmp_path / "b")))
    assert [i.raw for i in items] == [msg(1).replace(b"\n", b"\r\n"), msg(2).replace(b"\n", b"\r\n")]


def test_from_inside_a_paragraph_does_not_split(tmp_path):
    # "From " at a line start not after an empty line is body text (mboxcl writers)
    body = b"text\nFrom me to you\n"
    (tmp_path / "b").write_bytes(b"From x@example.com Mon Nov  2 10:00:00 2026\n" + msg(1, body))
    items = list(iter_messages(str(tmp_path / "b")))
    assert len(items) == 1 and items[0].raw == msg(1, body)


def test_oversize_messages_are_reported_not_held(tmp_path):
    big = msg(2, b"x" * 5000 + b"\n")
    (tmp_path / "b").write_bytes(mbox(msg(1), big, msg(3)))
    items = list(iter_messages(str(tmp_path / "b"), max_bytes=1000))
    assert [bool(i.error) for i in items] == [False, True, False]
    assert "too large" in items[1].error and len(items[1].raw) == 1000
    assert items[1].size == len(big)
    assert items[2].raw == msg(3)
    (tmp_path / "one.eml").write_bytes(big)
    [one] = iter_messages(str(tmp_path / "one.eml"), max_bytes=1000)
    assert "too large" in one.error and one.size == len(big) and len(one.raw) == 1000


def test_a_long_line_in_an_mbox_is_read_in_bounded_pieces(tmp_path, monkeypatch):
    from bouncesink import mailfiles
    monkeypatch.setattr(mailfiles, "LINE_LIMIT", 64)
    body = b"y" * 1000 + b"\n\nFrom the middle of nothing\n"
    (tmp_path / "b").write_bytes(mbox(msg(1, body), msg(2)))
    items = list(iter_messages(str(tmp_path / "b")))
    assert [i.raw for i in items] == [msg(1, body), msg(2)]


def test_maildir_reads_cur_and_new_not_tmp_nor_its_own_files(tmp_path):
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (md / sub).mkdir(parents=True)
    (md / "new" / "1.host").write_bytes(msg(1))
    (md / "cur" / "2.host:2,S").write_bytes(msg(2))
    (md / "tmp" / "3.host").write_bytes(b"half written")
    (md / "dovecot-uidlist").write_bytes(b"3 V1 N3\n")
    (md / ".Sent" / "cur" / "4.host:2,").write_bytes(msg(4))
    items = list(iter_messages(str(md)))
    assert sorted(i.raw for i in items) == sorted([msg(1), msg(2), msg(4)])
    assert not any(i.error for i in items)


def test_tree_with_symlink_loops_reports_them_and_goes_on(tmp_path):
    (tmp_path / "a.eml").write_bytes(msg(1))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.eml").write_bytes(msg(2))
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "gone").symlink_to(tmp_path / "nothing")
    items = list(iter_messages(str(tmp_path)))
    good = [i.raw for i in items if not i.error]
    bad = {Path(i.path).name: i.error for i in items if i.error}
    assert good == [msg(1), msg(2)]
    assert set(bad) == {"loop1", "loop2", "gone"}
    assert "symbolic link" in bad["loop1"].lower()


def test_missing_path_raises_one_line():
    with pytest.raises(MailFilesError, match="no such file"):
        list(iter_messages("/nonexistent/x.eml"))


def test_stdin_mbox_and_single_message():
    items = list(iter_messages("-", stdin=io.BytesIO(mbox(msg(1), msg(2)))))
    assert [(i.path, i.index, i.raw) for i in items] == [("-", 1, msg(1)), ("-", 2, msg(2))]
    [one] = iter_messages("-", stdin=io.BytesIO(msg(7)))
    assert (one.index, one.raw) == (0, msg(7))
    assert list(iter_paths(["-"], stdin=io.BytesIO(b""))) == [
        type(one)("-", 0, b"", 0)]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_reads_every_message_of_an_mbox(tmp_path, capsys):
    (tmp_path / "b.mbox").write_bytes(mbox(DSN, msg(1), TWO))
    code, out, err = run(capsys, "parse", str(tmp_path / "b.mbox"))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["message"], r["recipient"]) for r in rows] == [
        (1, "alice@example.com"), (3, "alice@example.org"), (3, "bob@example.org")]


def test_parse_reads_a_maildir(tmp_path, capsys):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "1").write_bytes(DSN)
    (tmp_path / "cur" / "2:2,S").write_bytes(TWO)
    code, out, err = run(capsys, "parse", str(tmp_path))
    assert code == 0, err
    assert sorted(json.loads(line)["recipient"] for line in out.splitlines()) == [
        "alice@example.com", "alice@example.org", "bob@example.org"]


def test_parse_symlink_loop_is_one_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(DSN)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    code, out, err = run(capsys, "parse", str(tmp_path))
    assert code == 1
    assert len(out.splitlines()) == 1
    assert err.count("\n") == 1 and "loop" in err and "Traceback" not in err


def test_parse_of_stdin_as_a_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bouncesink", "parse", "-"],
                          input=mbox(DSN, TWO), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["file"], r["message"]) for r in rows] == [("-", 1), ("-", 2), ("-", 2)]


def test_parse_keeps_a_huge_file_out_of_memory(tmp_path):
    """A sparse 1 GiB file: `parse` reads it in bounded pieces and reports it as too large;
    the child's peak memory stays far below the file's size."""
    big = tmp_path / "huge.eml"
    with open(big, "wb") as fh:
        fh.write(b"From: a@example.com\n\n")
        fh.truncate(1 << 30)
    code = ("import resource, sys\n"
            "from bouncesink.cli import main\n"
            "rc = main(['parse', sys.argv[1]])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True,
                          timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    err = done.stderr.decode().splitlines()
    assert done.returncode == 1
    assert "too large" in err[0]
    assert int(err[-1]) < 400 * 1024  # KiB: well under the 1 GiB file


def _parse_proc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bouncesink", "parse", *args],
                          capture_output=True, timeout=120)


def test_parse_on_several_cores_keeps_the_input_order(tmp_path):
    """Past its first messages `parse` hands batches to forked workers: the rows, the
    problem lines and the exit code are those of one process, in the same order."""
    tree = tmp_path / "tree"
    for i in range(260):
        sub = tree / f"d{i // 50}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"m{i:03d}.eml").write_bytes((DSN, TWO, msg(i))[i % 3])
    (tree / "d2" / "loop").symlink_to(tree / "d2" / "loop")  # a problem half-way
    box = tmp_path / "many.mbox"
    box.write_bytes(mbox(*[(TWO, DSN)[i % 2] for i in range(230)]))
    one = _parse_proc("-j", "1", str(tree), str(box))
    two = _parse_proc("--jobs", "2", str(tree), str(box))
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert two.stderr.decode().count("\n") == 1 and b"loop" in two.stderr
    rows = [json.loads(line) for line in two.stdout.splitlines()]
    files = [r["file"] for r in rows if r["file"] != str(box)]
    assert files == sorted(files) and len(files) == 87 * 1 + 87 * 2  # DSN 1 row, TWO 2 rows
    assert [r["message"] for r in rows if r["file"] == str(box)] == [
        n for i in range(230) for n in ([i + 1] * (2 if i % 2 == 0 else 1))]


@pytest.mark.parametrize("value", ["x", "-1", "1000"])
def test_parse_jobs_must_be_a_small_number(value, tmp_path):
    done = _parse_proc("--jobs", value, str(tmp_path))
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert b"--jobs" in done.stderr
