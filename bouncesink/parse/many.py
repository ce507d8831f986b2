"""Parse a stream of messages on every core, in input order: what `bouncesink parse` runs.

    for text in rows(items, jobs=0):   # items: (path, index, raw) tuples; jobs 0 = one per core
        out.write(text)               # JSON lines of one message's results ("" for none)

The first messages are parsed in this process; when more follow, worker processes are
forked (they inherit the imported parser and its compiled rule tables, so they start in a
few milliseconds) and take batches of messages. Batches are written back in the order they
were read, and at most a few batches per worker are in flight: a directory of a million
files or a 1 GiB mbox is never held in memory, only what the workers are parsing.

Where fork is not available (or jobs is 1), everything runs in this process. A worker that
fails (parse() raises on no input, but a machine can run out of memory) costs
the run: the error is raised here, as in one process.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable, Iterator

from bouncesink.parse import parse

__all__ = ["rows", "default_jobs"]

# Messages parsed in this process before any worker is started: a small input is done
# before forking would have paid off.
_ALONE = 96
_BATCH = 32          # messages per task sent to a worker
_AHEAD = 4           # tasks in flight per worker

# one encoder for every row: json.dumps(..., ensure_ascii=False) builds a new one per call
_encode = json.JSONEncoder(ensure_ascii=False).encode


def message_rows(path: str, index: int, raw: bytes) -> str:
    """The JSON lines (one per result, each ending in a newline) of one message."""
    return "".join(
        _encode({"file": path, "message": index,
                 "recipient": r.recipient, "action": r.action,
                 "status": r.status, "reply_code": r.reply_code,
                 "diagnostic": r.diagnostic, "reason": r.reason, "type": r.type,
                 "rule": r.rule, "reporting_mta": r.reporting_mta,
                 "remote_mta": r.remote_mta, "message_id": r.message_id}) + "\n"
        for r in parse(raw).results)


def _batch_rows(batch: list[tuple[str, int, bytes]]) -> str:
    return "".join(message_rows(*item) for item in batch)


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _fork_context():
    import multiprocessing
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def rows(items: Iterable, jobs: int = 0) -> Iterator:
    """The rows of every (path, index, raw) tuple, in order. Any other item (a problem to
    report) is passed through unchanged, in its place."""
    jobs = jobs or default_jobs()
    it = iter(items)
    for n, item in enumerate(it):
        yield message_rows(*item) if type(item) is tuple else item
        if n + 1 >= _ALONE:
            break
    else:
        return
    ctx = _fork_context() if jobs > 1 else None
    if ctx is None:
        for item in it:
            yield message_rows(*item) if type(item) is tuple else item
        return
    yield from _parallel(it, jobs, ctx)


class _Passed:
    __slots__ = ("item",)

    def __init__(self, item):
        self.item = item


def _parallel(it: Iterator, jobs: int, ctx) -> Iterator[str]:
    pool = ctx.Pool(jobs)
    try:
        pending: deque = deque()   # AsyncResults and pass-through strings, in input order
        batch: list = []

        def submit():
            if batch:
                pending.append(pool.apply_async(_batch_rows, (list(batch),)))
                batch.clear()

        for item in it:
            if type(item) is tuple:
                batch.append(item)
                if len(batch) >= _BATCH:
                    submit()
            else:
                submit()
                pending.append(_Passed(item))
            while len(pending) > jobs * _AHEAD:
                head = pending.popleft()
                yield head.item if type(head) is _Passed else head.get()
        submit()
        while pending:
            head = pending.popleft()
            yield head.item if type(head) is _Passed else head.get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()
