"""The messages held in a path: an mbox file, a Maildir folder, a tree of message files, one
message file, or `-` for standard input (an mbox stream or one message).

    for item in iter_messages(path, max_bytes=...):
        if item.error:      # one line: unreadable entry, symlink loop, message too large
            ...
        else:
            use(item.raw)

Everything is streamed: an mbox is read line by line (a line read at most LINE_LIMIT bytes
at a time), so a 1 GiB mbox never sits in memory; a message larger than `max_bytes` is
reported (`error`, with the first `max_bytes` bytes in `raw`) and never held whole.

mbox (RFC 4155): a message starts at a line beginning "From " at the start of the file or
after an empty line; the "From " line itself is not part of the message. Lines quoted as
">From ", ">>From " ... lose one ">" (the mboxrd convention, which also reads mboxo files
right for every line that was not itself a quoted ">From "). A file (or standard input) is
read as an mbox when its first five bytes are "From "; any other file is one message.

Maildir (maildir(5)): a directory holding cur/ and new/; the messages are the files in
those two, tmp/ (deliveries in progress) is skipped. A directory that is not a Maildir is
walked recursively in path order (names compared part by part); in Maildir folders met inside
it (Maildir++ sub-folders too) only cur/, new/ and sub-folders are read. Symbolically linked directories are
not entered (so a link loop cannot recurse); a link that cannot be resolved (a loop, a
dangling link) is reported as one error item, and the walk goes on.

Pure of policy: nothing here parses or stores; `bouncesink parse` and `bouncesink import`
decide what to do with each item.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

__all__ = ["MailItem", "MailFilesError", "iter_messages", "iter_paths", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024   # one message; larger ones are reported, not read
LINE_LIMIT = 1 << 20                    # bytes read per readline() call of an mbox
_FROM = b"From "


class MailFilesError(Exception):
    """A path given by the user that does not exist or cannot be opened at all (one line)."""


@dataclass(frozen=True, slots=True)
class MailItem:
    """One message (or one problem) found in a path.

    path:  the file it came from ("-" for standard input)
    index: 1-based position in an mbox; 0 for a file holding one message
    raw:   the message bytes (for an mbox without its "From " line, unquoted); on an
           oversize message the first max_bytes bytes, on other errors b""
    size:  the message's full size in bytes (as far as it was read)
    error: "" when raw is the whole message, else one line saying what went wrong
    """

    path: str
    index: int
    raw: bytes
    size: int
    error: str = ""

    @property
    def name(self) -> str:
        """How to name the item to a person: the path, and "#N" for the Nth mbox message."""
        return f"{self.path}#{self.index}" if self.index else self.path


def iter_paths(paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
               stdin: BinaryIO | None = None) -> Iterator[MailItem]:
    """iter_messages over several paths in turn."""
    for p in paths:
        yield from iter_messages(p, max_bytes=max_bytes, stdin=stdin)


def iter_messages(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  stdin: BinaryIO | None = None) -> Iterator[MailItem]:
    """Every message of `path` (see the module docstring). Raises MailFilesError, before
    yielding anything, when `path` itself does not exist or is neither file nor directory;
    problems below it are yielded as items with `error` set."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        yield from _read_stream("-", stream, max_bytes)
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MailFilesError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise MailFilesError(f"{path}: {exc.strerror or exc}") from None
    import stat as _stat
    if _stat.S_ISDIR(st.st_mode):
        top = path.rstrip("/") or "/"
        if top == ".":
            top = ""
        for name in _files_under(top):
            if isinstance(name, _Problem):
                yield MailItem(name.path, 0, b"", 0, name.error)
            else:
                yield from _read_file(name, max_bytes)
    elif _stat.S_ISREG(st.st_mode) or _stat.S_ISFIFO(st.st_mode) or _stat.S_ISCHR(st.st_mode):
        yield from _read_file(os.path.normpath(path) if path.endswith("/") else path, max_bytes)
    else:
        raise MailFilesError(f"{path}: not a file or directory")


# -- reading ---------------------------------------------------------------------------------
def _read_file(path: str, max_bytes: int) -> Iterator[MailItem]:
    try:
        fh = open(path, "rb")
    except OSError as exc:
        yield MailItem(path, 0, b"", 0, f"cannot read: {exc.strerror or exc}")
        return
    with fh:
        try:
            yield from _read_stream(path, fh, max_bytes)
        except OSError as exc:  # e.g. EIO or EISDIR half-way
            yield MailItem(path, 0, b"", 0, f"cannot read: {exc.strerror or exc}")


def _read_stream(path: str, fh: BinaryIO, max_bytes: int) -> Iterator[MailItem]:
    head = _read_upto(fh, len(_FROM))
    if head == _FROM:
        yield from _read_mbox(path, fh, head, max_bytes)
        return
    data = head + _read_upto(fh, max_bytes + 1 - len(head))
    if len(data) <= max_bytes:
        yield MailItem(path, 0, data, len(data))
        return
    size = len(data) + _drain(fh)
    yield MailItem(path, 0, data[:max_bytes], size, _too_large(size, max_bytes))


def _read_upto(fh: BinaryIO, n: int) -> bytes:
    """Up to n bytes (fewer only at end of input), whatever the stream's read() granularity."""
    chunks, got = [], 0
    while got < n:
        b = fh.read(n - got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _drain(fh: BinaryIO) -> int:
    """Skip the rest of an oversize message, counting its bytes, without keeping them."""
    n = 0
    while True:
        b = fh.read(1 << 20)
        if not b:
            return n
        n += len(b)


def _too_large(size: int, max_bytes: int) -> str:
    return f"message too large: {size} bytes, the limit is {max_bytes}"


def _read_mbox(path: str, fh: BinaryIO, head: bytes, max_bytes: int) -> Iterator[MailItem]:
    """Split an mbox stream into messages; `head` ("From ") has already been read."""
    index = 0
    parts: list[bytes] = []
    size = 0
    kept = 0
    prev_blank = True        # the start of the input counts as following an empty line
    in_message = False
    last = b""
    first = head + fh.readline(LINE_LIMIT)
    line = first
    # a line cut by LINE_LIMIT continues on the next readline(): not at a line start then
    at_line_start = True
    while line:
        starts_from = at_line_start and prev_blank and line.startswith(_FROM)
        if starts_from:
            if in_message:
                yield _mbox_item(path, index, parts, size, last, max_bytes)
            index += 1
            parts, size, kept, in_message, last = [], 0, 0, True, b""
            # the From_ line may itself be longer than LINE_LIMIT: skip its rest
            while not line.endswith(b"\n"):
                line = fh.readline(LINE_LIMIT)
                if not line:
                    break
            prev_blank, at_line_start = False, True
            line = fh.readline(LINE_LIMIT)
            continue
        if at_line_start and line[:1] == b">":
            stripped = line.lstrip(b">")
            if stripped.startswith(_FROM):
                line = line[1:]
        size += len(line)
        last = line if at_line_start else b""
        if kept + len(line) <= max_bytes:
            parts.append(line)
            kept += len(line)
        elif kept < max_bytes:
            parts.append(line[:max_bytes - kept])
            kept = max_bytes
        ended = line.endswith(b"\n")
        if ended:
            prev_blank = line in (b"\n", b"\r\n") and at_line_start
        else:
            prev_blank = False
        at_line_start = ended
        line = fh.readline(LINE_LIMIT)
    if in_message:
        yield _mbox_item(path, index, parts, size, last, max_bytes)


def _mbox_item(path: str, index: int, parts: list[bytes], size: int, last: bytes,
               max_bytes: int) -> MailItem:
    raw = b"".join(parts)
    # the empty line before the next "From " belongs to the mbox, not to the message
    if last in (b"\n", b"\r\n") and size > len(last):
        size -= len(last)
        if len(raw) > size:
            raw = raw[:size]
    if size > max_bytes:
        return MailItem(path, index, raw, size, _too_large(size, max_bytes))
    return MailItem(path, index, raw, size)


# -- walking ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Problem:
    path: str
    error: str


def _files_under(top: str) -> list:
    """The files under `top` in path order (names compared part by part, as
    sorted(Path(top).rglob("*")) orders them), named as os.path.join names them: symlinks to
    files included, symlinked directories not entered, a Maildir's tmp/ skipped. Entries that
    cannot be resolved come back as _Problem in their place. os.scandir and plain strings:
    one Path object per file cost as much as reading the file."""
    found: list[tuple[tuple[str, ...], object]] = []

    def walk(d: str, rel: tuple[str, ...]) -> None:
        try:
            with os.scandir(d or ".") as it:
                entries = list(it)
        except OSError as exc:
            found.append((rel, _Problem(d or ".", f"cannot read directory: {exc.strerror or exc}")))
            return
        maildir = _is_maildir(entries)
        for e in entries:
            path = os.path.join(d, e.name)
            try:
                if e.is_dir(follow_symlinks=False):
                    if not (maildir and e.name == "tmp"):
                        walk(path, rel + (e.name,))
                elif e.is_file():
                    if not maildir:  # a Maildir's own files (dovecot-uidlist ...) are not mail
                        found.append((rel + (e.name,), path))
                elif e.is_symlink() and not e.is_dir():
                    found.append((rel + (e.name,), _Problem(path, "dangling symbolic link")))
            except OSError as exc:  # ELOOP: a symbolic link loop; EACCES
                found.append((rel + (e.name,), _Problem(path, exc.strerror or str(exc))))

    walk(top, ())
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def _is_maildir(entries: list[os.DirEntry]) -> bool:
    names = set()
    for e in entries:
        if e.name in ("cur", "new"):
            try:
                if e.is_dir(follow_symlinks=False):
                    names.add(e.name)
            except OSError:
                pass
    return len(names) == 2
