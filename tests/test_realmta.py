"""Ground truth from real MTAs (bench/realmta): Postfix, Exim, OpenSMTPD and Sendmail relay
one message per case to a scripted remote that fails in a known way; each MTA's genuine DSN
goes to the real bouncesink server (`bouncesink serve`, a SQLite file of its own), and the stored result is
judged against the truth known by construction.

The matrix runs once for the module (all MTAs at once, seconds: queue lifetimes are a few
seconds); each case is then its own test. OpenSMTPD and Sendmail run where
.ci/system-packages unpacked them. An MTA that cannot run here (not installed, not root, no
private namespaces) skips with the reason; so does the dead-domain case where the resolver
does not answer NXDOMAIN (or, this run, timed out). `python bench/realmta/run.py -v` prints the same matrix as a table.

Some of those genuine DSNs are kept as tests/data/realmta-<mta>-<case>.eml (saved with
`run.py --save-dsn`); the last test parses them without any MTA, so CI checks them
everywhere. Their expected results come from the cases (the truth by construction), not
from what bouncesink said when they were saved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realmta import harness  # noqa: E402
from bench.realmta.cases import CASES, by_name  # noqa: E402
from bouncesink.parse import parse  # noqa: E402

MTAS = ("postfix", "exim", "opensmtpd", "sendmail")
REASON_TARGET = 90.0        # issue 11: reason >= 90 % per MTA on real MTAs
DATA = Path(__file__).parent / "data"
SAVED = sorted(DATA.glob("realmta-*.eml"))

# The tests that run the MTAs (the saved DSNs' table needs none).
realmta = pytest.mark.realmta
slow = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def matrix() -> dict:
    """{(mta, case name): Outcome} for every MTA that can run here."""
    runnable = [m for m in MTAS if harness.unavailable(m) is None]
    if not runnable:
        pytest.skip("; ".join(f"{m}: {harness.unavailable(m)}" for m in MTAS))
    cases = CASES
    if harness.dead_domain_unavailable():
        cases = tuple(c for c in CASES if c.route != "dead")
    outcomes = harness.run(runnable, cases)
    return {(o.mta, o.case.name): o for o in outcomes}


def outcome(matrix: dict, mta: str, name: str) -> harness.Outcome:
    why = harness.unavailable(mta)
    if why:
        pytest.skip(f"{mta}: {why}")
    if (mta, name) not in matrix:
        pytest.skip(f"{name}: {harness.dead_domain_unavailable()}")
    o = matrix[(mta, name)]
    if o.void:
        pytest.skip(f"{mta} {name}: {o.void}")
    return o


def describe(o: harness.Outcome) -> str:
    r = o.result
    rule = r.rule if r else ""
    return (f"{o.mta} {o.case.name}: expected {'|'.join(o.reasons)}/{o.case.type},"
            f" got {o.got()} for {r.recipient if r else None} ({rule}); DSNs {o.dsns},"
            f" remote answered {o.attempts} time(s)")


@realmta
@slow
@pytest.mark.parametrize("mta", MTAS)
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_dsn_result_has_the_recipient_and_the_right_type(matrix, mta, name):
    o = outcome(matrix, mta, name)
    assert o.dsns >= 1, describe(o)
    assert o.recipient_ok, describe(o)
    assert o.type_ok, describe(o)


@realmta
@slow
@pytest.mark.parametrize("mta", ("postfix", "exim", "sendmail"))
def test_temporary_failures_were_retried_until_the_queue_lifetime_ended(matrix, mta):
    """The 4xx cases are genuine expiries: the remote saw more than one attempt, so each
    DSN is the MTA giving up, not a first-attempt bounce. (Not OpenSMTPD: its retry delay
    is compiled in and longer than the run's queue ttl, so its envelopes expire after one
    attempt, as its DSNs say: "Envelope expired".)"""
    why = harness.unavailable(mta)
    if why:
        pytest.skip(f"{mta}: {why}")
    retried = [o for (m, _), o in matrix.items()
               if m == mta and o.case.temporary and o.case.route == "remote"]
    assert retried
    assert all(o.attempts >= 2 for o in retried), [describe(o) for o in retried]


@realmta
@slow
@pytest.mark.parametrize("mta", MTAS)
def test_each_dsn_is_stored_once(matrix, mta):
    """Exim pipelines QUIT after the final dot and half-closes: the sink must still send its
    250 (and 221), or Exim retries and the DSN is stored, and counted, twice."""
    why = harness.unavailable(mta)
    if why:
        pytest.skip(f"{mta}: {why}")
    mine = [o for (m, _), o in matrix.items() if m == mta]
    assert [describe(o) for o in mine if o.dsns != 1] == []


@realmta
@slow
@pytest.mark.parametrize("mta", MTAS)
def test_reason_is_right_for_at_least_90_percent_of_the_cases(matrix, mta):
    why = harness.unavailable(mta)
    if why:
        pytest.skip(f"{mta}: {why}")
    mine = [o for (m, _), o in matrix.items() if m == mta and not o.void]
    right = sum(o.reason_ok for o in mine)
    assert 100.0 * right / len(mine) >= REASON_TARGET, \
        [describe(o) for o in mine if not o.reason_ok]


def saved_case(path: Path) -> tuple[str, harness.Outcome]:
    """realmta-<mta>-<case>.eml -> (mta, an Outcome holding the DSN, for its truth)."""
    mta, _, name = path.stem.removeprefix("realmta-").partition("-")
    case = by_name([name])[0]
    return mta, harness.Outcome(mta, case, harness.recipient(case), [], 0, path.read_bytes())


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_saved_dsn_gives_the_truth_of_its_case(path):
    mta, o = saved_case(path)
    assert mta in harness.DRIVERS
    parsed = parse(o.dsn)
    mine = [r for r in parsed.results if r.recipient == o.recipient]
    assert len(mine) == 1, [(r.recipient, r.reason, r.type) for r in parsed.results]
    r = mine[0]
    assert (r.type, r.reason in o.reasons) == (o.case.type, True), \
        f"expected {'|'.join(o.reasons)}/{o.case.type}, got {r.reason}/{r.type} ({r.rule})"


@pytest.mark.parametrize("name", ["postfix-rate-gmail", "exim-rate-gmail",
                                  "postfix-unknown-gmail", "exim-unknown-gmail"])
def test_a_multiline_reply_is_one_text_in_the_diagnostic(name):
    """Postfix folds a multi-line reply into one Diagnostic-Code, Exim keeps its lines: the
    code prefix of the 2nd and later lines is framing and must not split the sentences."""
    r = parse((DATA / f"realmta-{name}.eml").read_bytes()).results[0]
    prefixes = [w for w in r.diagnostic.split() if w[:3] == r.reply_code and len(w) > 3]
    assert len(prefixes) == 1, r.diagnostic
    assert "double-checking" in r.diagnostic or "at a rate that prevents" in r.diagnostic


def test_joining_reply_lines_keeps_other_codes_in_the_text():
    from bouncesink.parse.dsn import join_reply_lines

    assert join_reply_lines("550-5.1.1 no such 550-5.1.1 user 550 5.1.1 here") == \
        "550-5.1.1 no such user here"
    # near misses: another code quoted in the text, and a one-line reply, stay as they are
    assert join_reply_lines("550-5.7.1 was 421 4.7.0 before 550 5.7.1 now") == \
        "550-5.7.1 was 421 4.7.0 before now"
    assert join_reply_lines("550 5.1.1 user 550 5.1.1 quoted") == "550 5.1.1 user 550 5.1.1 quoted"
