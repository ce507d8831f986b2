"""Zero loss: every message answered 250 is in the store after `kill -9` at any moment.

Several clients send DSNs, each with a unique Message-ID, to a real `bouncesink serve`
process while the process is killed with SIGKILL and restarted on the same store, several
times. Afterwards every acknowledged Message-ID must be stored (and classified: start-up
recovers what a killed process committed but never classified).
"""

from __future__ import annotations

import os
import signal
import smtplib
import threading
import time

from bouncesink.envelope import message_id_of
from bouncesink.store import open_store
from conftest import DATA_DIR, DOMAIN
from test_server import free_port, start_serve

RCPT = f"bounces@{DOMAIN}"
TEMPLATE = (DATA_DIR / "dsn-hard-userunknown.eml").read_bytes().replace(b"\r\n", b"\n").replace(
    b"\n", b"\r\n")


def message(client: int, n: int) -> tuple[str, bytes]:
    mid = f"<crash-{client}-{n}@mx.example.net>"
    raw = TEMPLATE.replace(b"<20261102100000.AAA1@mx.example.net>", mid.encode())
    assert mid.encode() in raw
    return mid, raw


def client_loop(port: int, client: int, acked: set, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        mid, raw = message(client, n)
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
                for _ in range(5):  # several messages per session
                    c.sendmail("", [RCPT], raw)
                    acked.add(mid)  # only reached after a 250
                    n += 1
                    mid, raw = message(client, n)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.02)  # killed or refused: not acknowledged, try again
        n += 1


def start_clients(port: int, n: int = 6):
    """n client threads sending until `stop` is set; `acked` collects what got a 250."""
    acked: set[str] = set()
    stop = threading.Event()
    clients = [threading.Thread(target=client_loop, args=(port, i, acked, stop))
               for i in range(n)]
    for t in clients:
        t.start()
    return acked, stop, clients


def read_back(tmp_path):
    """The store a test's sink left: (message refs, Message-IDs stored, messages pending,
    messages with results, messages with more than one result)."""
    store = open_store(str(tmp_path / "sink.db"), create=False)
    try:
        refs = [r for (r,) in store._execute("SELECT id FROM messages")]
        stored = {message_id_of(store.message(r).raw) for r in refs}
        pending = store._execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'"
                                 ).fetchone()[0]
        classified = store._execute("SELECT COUNT(DISTINCT message_ref) FROM results"
                                    ).fetchone()[0]
        twice = store._execute(
            "SELECT COUNT(*) FROM (SELECT message_ref FROM results GROUP BY message_ref"
            " HAVING COUNT(*) > 1)").fetchone()[0]
    finally:
        store.close()
    return refs, stored, pending, classified, twice


def test_kill_9_under_load_loses_no_acknowledged_message(tmp_path):
    port = free_port()
    proc, _ = start_serve(tmp_path, port=port)
    acked, stop, clients = start_clients(port)
    kills = 0
    try:
        for delay in (0.7, 0.45, 0.9, 0.3):
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            kills += 1
            proc, _ = start_serve(tmp_path, port=port)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in clients:
            t.join(60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    proc, _ = start_serve(tmp_path, port=port)  # one more start-up: recovery of pending
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0

    refs, stored, pending, results, duplicated = read_back(tmp_path)
    print(f"acked={len(acked)} stored={len(stored)} kills={kills}")
    assert kills == 4
    assert len(acked) > 50, "the load did not get going"
    assert acked - stored == set(), f"{len(acked - stored)} acknowledged messages lost"
    assert pending == 0
    assert results == len(refs)  # every stored message classified ...
    assert duplicated == 0       # ... exactly once


def test_kill_9_of_the_classifier_loses_nothing_and_records_once(make_sink, dsn_bytes):
    sink = make_sink()
    raw = dsn_bytes("dsn-two-recipients.eml")
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        for _ in range(20):
            c.sendmail("", [RCPT], raw)
    sink.wait_classified(20)
    first = sink.server.ingest._proc
    first.kill()  # SIGKILL, possibly mid-batch
    with smtplib.SMTP("127.0.0.1", sink.port) as c:
        for _ in range(30):
            c.sendmail("", [RCPT], raw)  # still 250: SMTP does not depend on the classifier
    sink.wait_classified(50)
    assert sink.server.ingest._proc is not first and sink.server.ingest._proc.is_alive()
    assert sink.count("SELECT COUNT(*) FROM results") == 100  # 2 per message, none twice


def test_sigterm_under_load_exits_0_with_every_acknowledged_message_stored(tmp_path):
    port = free_port()
    proc, _ = start_serve(tmp_path, port=port)
    acked, stop, clients = start_clients(port)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0
    stop.set()
    for t in clients:
        t.join(60)
    _, stored, pending, _, _ = read_back(tmp_path)
    assert len(acked) > 20
    assert acked <= stored
    assert pending == 0  # classified before exit (well within the shutdown's grace)


def test_kill_9_of_one_worker_under_load_loses_nothing(tmp_path):
    import json

    from test_server import output

    port = free_port()
    proc, _ = start_serve(tmp_path, "--workers", "2", port=port)
    started = [json.loads(line) for line in output(proc).splitlines()
               if b'"workers_started"' in line]
    victim = started[0]["pids"][0]
    acked, stop, clients = start_clients(port)
    time.sleep(0.8)
    os.kill(victim, signal.SIGKILL)
    time.sleep(1.5)  # the supervisor starts another worker in its place
    stop.set()
    for t in clients:
        t.join(60)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0
    assert b'"worker_died"' in output(proc)
    proc, _ = start_serve(tmp_path, port=port)  # a start-up classifies what the dead one left
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    _, stored, pending, _, twice = read_back(tmp_path)
    assert len(acked) > 20
    assert acked <= stored
    assert pending == 0
    assert twice == 0
