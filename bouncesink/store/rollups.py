"""Rollups: counts per hour, day and all time, kept in the same transaction as the results.

`stats`, `report` and the dashboard read these instead of scanning `results`, so they cost
the same at ten thousand results as at ten million (bench/scale.py measures it).

One table, `rollups`, keyed by (dim, period, campaign, name, type):

    dim        reason          name = reason,  type = the result's type, campaign ''
               domain          name = receiving domain, type, campaign ''
               campaign        name '', type, campaign = the campaign ('' none)
               campaign_domain name = receiving domain, type, campaign (all time only)
               blocked_domain  name = receiving domain, type: the results among `domain`'s
                               whose reason is sender-side (a block of our mail, not a bad
                               address), for the dashboard's hard / soft / blocked mix
               messages        messages stored (name, type, campaign '')
               unrecognised    messages no parser recognised
               suppressed      addresses suppressed now (all time only: +1 when an address
                               becomes suppressed, -1 when it is lifted), so `stats` and
                               /metrics do not count the suppressions table
    period     'h2026-12-04T16' an hour, 'd2026-12-04' a day (UTC), 'all' all time;
               the letter keeps grains apart in one ordered key ('d...' < 'e' < 'h...').
               Hours only for reason, domain, messages and unrecognised (what the last
               24 h of `stats` shows), and only the last HOURS_KEPT of them.
    results    results (or messages) counted
    recipients distinct recipients: a result adds one when it is its recipient's first of
               that type (and campaign, for the campaign dims), in the period it arrived.
               Over all time that is the number of distinct recipients; over days since D, the
               recipients whose first such result came on or after D.

A result's count follows its current classification: `reparse` moves it from the old type
and reason to the new (the result row itself is never rewritten), and a result the parser no
longer finds leaves the counts. Counts change by adding deltas: the deltas of a transaction are
summed in memory and written just before its commit, in key order, so concurrent writers on
PostgreSQL take the rows' locks in one order (no deadlock) and hold them only for the commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from bouncesink.model import SENDER_SIDE_REASONS

HOUR, DAY, ALL = "h", "d", "all"
HOURS_KEPT = 48
HOURLY_DIMS = ("reason", "domain", "messages", "unrecognised")
MESSAGES, UNRECOGNISED_DIM, SUPPRESSED_DIM = "messages", "unrecognised", "suppressed"

# Recipient probes read results by recipient (index results_recipient): when did the
# recipient's other results of this type (in this campaign) begin? The type compared is each
# other result's type as first classified (reading every one's latest reclassification would
# cost a probe per result): result counts move exactly on reclassification, recipient counts
# as if the recipient's other results kept their first classification.
_PROBE = ("SELECT (SELECT MIN(received_at) FROM results WHERE recipient = ? AND type = ?"
          " AND id <> ?),"
          " (SELECT MIN(received_at) FROM results WHERE recipient = ? AND type = ?"
          " AND COALESCE(campaign, '') = ? AND id <> ?)")


def periods(at: str, hourly: bool = True) -> tuple[str, ...]:
    """The periods an ISO time (as stored) counts in."""
    day = DAY + at[:10]
    return ((HOUR + at[:13], day, ALL) if hourly else (day, ALL))


def hour_period(t: datetime) -> str:
    return HOUR + t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")


def day_period(t: datetime) -> str:
    return DAY + t.astimezone(timezone.utc).strftime("%Y-%m-%d")


class RollupMixin:
    """What SQLStore needs to keep and read the rollups (see the module docstring)."""

    _rollup_delta: dict

    def _deltas(self) -> dict:
        d = getattr(self, "_rollup_delta", None)
        if d is None:
            d = self._rollup_delta = defaultdict(lambda: [0, 0])
        return d

    def _bump(self, dim: str, period: str, campaign: str, name: str, type_: str,
              results: int, recipients: int = 0) -> None:
        cell = self._deltas()[(dim, period, campaign or "", name or "", type_ or "")]
        cell[0] += results
        cell[1] += recipients

    def _bump_result(self, at: str, domain: str, campaign: str | None, type_: str, reason: str,
                     sign: int = 1) -> None:
        """Count (sign=1) or uncount (-1) one result in every dim and period."""
        for p in periods(at):
            self._bump("reason", p, "", reason, type_, sign)
            self._bump("domain", p, "", domain, type_, sign)
        for p in periods(at, hourly=False):
            self._bump("campaign", p, campaign or "", "", type_, sign)
            if reason in SENDER_SIDE_REASONS:
                self._bump("blocked_domain", p, "", domain, type_, sign)
        self._bump("campaign_domain", ALL, campaign or "", domain, type_, sign)

    def _bump_recipient(self, at: str, domain: str, campaign: str | None, type_: str,
                        sign: int, campaign_dims: bool) -> None:
        if campaign_dims:
            for p in periods(at, hourly=False):
                self._bump("campaign", p, campaign or "", "", type_, 0, sign)
            self._bump("campaign_domain", ALL, campaign or "", domain, type_, 0, sign)
        else:
            for p in periods(at):
                self._bump("domain", p, "", domain, type_, 0, sign)

    def _bump_message(self, at: str, dim: str = MESSAGES, sign: int = 1) -> None:
        for p in periods(at):
            self._bump(dim, p, "", "", "", sign)

    def _bump_suppressed(self, sign: int) -> None:
        """An address became suppressed (1) or its suppression was lifted (-1)."""
        self._bump(SUPPRESSED_DIM, ALL, "", "", "", sign)

    def _recount_recipient(self, result_id: int, recipient: str | None, at: str, domain: str,
                           campaign: str | None, type_: str, sign: int) -> None:
        """A recipient counts once per type (and campaign), in the period of its first result
        of the type: adding (sign 1) or removing (-1) this result may move it."""
        if not recipient:
            return
        firsts = self._execute(_PROBE, (recipient, type_, result_id, recipient, type_,
                                        campaign or "", result_id)).fetchone()
        for first, campaign_dims in zip(firsts, (False, True)):
            if first is None:
                self._bump_recipient(at, domain, campaign, type_, sign, campaign_dims)
            elif at < first:  # this one is (or was) the first: the count moves
                self._bump_recipient(at, domain, campaign, type_, sign, campaign_dims)
                self._bump_recipient(first, domain, campaign, type_, -sign, campaign_dims)

    def _count_result(self, result_id: int, recipient: str | None, at: str, domain: str,
                      campaign: str | None, type_: str, reason: str) -> None:
        """A new result (its row just inserted)."""
        self._bump_result(at, domain, campaign, type_, reason, 1)
        self._recount_recipient(result_id, recipient, at, domain, campaign, type_, 1)

    def _move_result(self, result_id: int, old_type: str, old_reason: str,
                     new_type: str | None, new_reason: str | None) -> None:
        """A result reclassified (new_type None: the parser no longer finds it)."""
        row = self._execute("SELECT received_at, recipient, domain, campaign FROM results"
                            " WHERE id = ?", (result_id,)).fetchone()
        if row is None:
            return
        at, recipient, domain, campaign = row
        domain = domain or ""
        if old_type or old_reason:  # else it was not counted (the parser had lost it)
            self._bump_result(at, domain, campaign, old_type, old_reason, -1)
            self._recount_recipient(result_id, recipient, at, domain, campaign, old_type, -1)
        if new_type is not None:
            self._bump_result(at, domain, campaign, new_type, new_reason or "", 1)
            self._recount_recipient(result_id, recipient, at, domain, campaign, new_type, 1)

    def _flush_rollups(self) -> None:
        """Write this transaction's deltas (called just before its commit).

        Hour rows serve the last 24 h only: the first flush that reaches a new hour deletes
        those more than HOURS_KEPT older than it (a few hundred rows, by primary key)."""
        d = self._deltas()
        newest = max((k[1] for k in d if k[1].startswith(HOUR)), default="")
        if newest > getattr(self, "_pruned_for", ""):
            cutoff = hour_period(datetime.strptime(newest[1:], "%Y-%m-%dT%H").replace(
                tzinfo=timezone.utc) - timedelta(hours=HOURS_KEPT))
            for dim in HOURLY_DIMS:
                self._execute("DELETE FROM rollups WHERE dim = ? AND period >= ? AND period < ?",
                              (dim, HOUR, cutoff))
            self._pruned_for, self._hour_cutoff = newest, cutoff
        cutoff = getattr(self, "_hour_cutoff", "")
        rows = [(*k, v[0], v[1]) for k, v in sorted(d.items()) if (v[0] or v[1])
                and not (k[1].startswith(HOUR) and k[1] < cutoff)]
        d.clear()
        if rows:
            self._executemany(
                "INSERT INTO rollups (dim, period, campaign, name, type, results, recipients)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dim, period, campaign, name, type)"
                " DO UPDATE SET results = rollups.results + excluded.results,"
                " recipients = rollups.recipients + excluded.recipients", rows)

    def _drop_rollup_deltas(self) -> None:
        self._deltas().clear()

    def rebuild_rollups(self) -> None:
        """Count the rollups again from the results, in ONE transaction (what the migration
        does for a store that had none; bench/scale.py uses it after its bulk load)."""
        with self._lock:
            try:
                self._begin_write()
                self._execute("DELETE FROM rollups")
                for sql in REBUILD.split(";"):
                    if sql.strip():
                        self._execute(sql)
                self._commit()
            except BaseException:
                self._rollback()
                raise

    # -- reading --------------------------------------------------------------------------------
    def _sums(self, dim: str, by: str, where: str, params: tuple) -> list[tuple]:
        """(key, results, recipients) summed over the periods `where` selects, biggest first."""
        key = {"type": "type", "name": "name", "campaign": "campaign",
               "campaign_type": "campaign, type", "name_type": "name, type"}[by]
        return self._execute(
            f"SELECT {key}, CAST(SUM(results) AS BIGINT), CAST(SUM(recipients) AS BIGINT)"
            f" FROM rollups WHERE dim = ? AND {where} GROUP BY {key}"
            f" HAVING SUM(results) <> 0 OR SUM(recipients) <> 0"
            f" ORDER BY SUM(results) DESC, {key}", (dim, *params)).fetchall()

    def _total(self, dim: str, where: str, params: tuple) -> int:
        row = self._execute(f"SELECT CAST(SUM(results) AS BIGINT) FROM rollups WHERE dim = ?"
                            f" AND {where}", (dim, *params)).fetchone()
        return (row[0] if row else 0) or 0

    def _stats_part(self, where: str, params: tuple) -> dict:
        return {
            "by_type": {k: n for k, n, _ in self._sums("reason", "type", where, params)},
            "by_reason": {k: n for k, n, _ in self._sums("reason", "name", where, params)},
            "by_domain": {k: n for k, n, _ in self._sums("domain", "name", where, params)},
            "messages": self._total(MESSAGES, where, params),
            "unrecognised": self._total(UNRECOGNISED_DIM, where, params),
        }

    def rollup_stats(self, now: datetime) -> dict:
        """stats(): the last 24 h are the 25 hour buckets from the hour 24 h ago to now's."""
        last = ("period >= ? AND period <= ?", (hour_period(now - timedelta(hours=24)),
                                               hour_period(now)))
        return {"last_24h": self._stats_part(*last),
                "all_time": self._stats_part("period = ?", (ALL,))}

    def rollup_report(self, campaign: str | None, since: datetime | None,
                      domains: bool = True) -> dict:
        """report(): `since` counts whole UTC days, from the start of its day; `domains`
        False leaves the domains out (the dashboard reads them per day)."""
        if since is None:
            where, params = "period = ?", (ALL,)
        else:
            where, params = "period >= ? AND period < ?", (day_period(since), "e")
        out: dict = {"campaigns": {}, "domains": {}}
        cwhere, cparams = where, params
        if campaign is not None:
            cwhere, cparams = where + " AND campaign = ?", (*params, campaign)
        for name, type_, n, distinct in self._execute(
                "SELECT campaign, type, CAST(SUM(results) AS BIGINT),"
                " CAST(SUM(recipients) AS BIGINT) FROM rollups WHERE dim = 'campaign' AND "
                + cwhere + " GROUP BY campaign, type HAVING SUM(results) <> 0"
                " ORDER BY campaign, type", cparams).fetchall():
            part = out["campaigns"].setdefault(name, {"sent": None, "types": {}})
            part["types"][type_] = [n, distinct]
        if not domains:
            return out
        if campaign is not None and since is not None:
            # A campaign's domains per day are not rolled up (campaigns x domains x days
            # would outgrow the results): its own results are read, by the campaign index,
            # as first classified.
            rows = self._execute(
                "SELECT COALESCE(domain, ''), type, COUNT(*), COUNT(DISTINCT recipient)"
                " FROM results WHERE campaign = ? AND received_at >= ? GROUP BY domain, type"
                " ORDER BY 1, 2", (campaign, day_period(since)[1:])).fetchall()
        else:
            dim = "domain" if campaign is None else "campaign_domain"
            rows = self._execute(
                f"SELECT name, type, CAST(SUM(results) AS BIGINT),"
                f" CAST(SUM(recipients) AS BIGINT) FROM rollups WHERE dim = '{dim}' AND "
                + cwhere + " GROUP BY name, type HAVING SUM(results) <> 0"
                " ORDER BY name, type", cparams).fetchall()
        for name, type_, n, distinct in rows:
            out["domains"].setdefault(name, {})[type_ or ""] = [n, distinct]
        return out

    def metrics_snapshot(self) -> dict:
        """Backlogs and totals for /metrics: index counts and rollups, cheap at any size."""
        with self._lock:
            out = {
                "pending": self._execute("SELECT COUNT(*) FROM messages WHERE state = ?",
                                         ("pending",)).fetchone()[0],
                "failed": self._execute("SELECT COUNT(*) FROM messages WHERE state = ?",
                                        ("failed",)).fetchone()[0],
                "suppressed": self._total(SUPPRESSED_DIM, "period = ?", (ALL,)),
                "unrecognised": self._total(UNRECOGNISED_DIM, "period = ?", (ALL,)),
                "messages": self._total(MESSAGES, "period = ?", (ALL,)),
            }
            n, last = self._execute("SELECT COUNT(*), MAX(at) FROM alerts").fetchone()
            out["alerts"] = n
            out["last_alert"] = (datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=timezone.utc).timestamp() if last else 0)
            self._commit()
        out["webhooks"] = self.webhook_backlog()
        return out

    def webhook_backlog(self) -> dict[str, int]:
        """Webhook deliveries not delivered yet, by state (pending, dead; index counts)."""
        with self._lock:
            out = {state: self._execute("SELECT COUNT(*) FROM deliveries WHERE state = ?",
                                        (state,)).fetchone()[0] for state in ("pending", "dead")}
            self._commit()
        return out

    # -- the dashboard's reads (rollups, and small tables by index) ---------------------------
    def top_domains(self, since: datetime, limit: int = 15) -> list[tuple[str, dict]]:
        """[(domain, {type: results})] of the days since `since`, most results first; results
        with a sender-side reason count as "blocked" instead of their type. The ranking is
        summed in SQL, so only the top domains' rows come back to Python."""
        span = (day_period(since), "e")
        with self._lock:
            top = [name for name, _ in self._execute(
                "SELECT name, SUM(results) FROM rollups WHERE dim = 'domain' AND period >= ?"
                " AND period < ? GROUP BY name HAVING SUM(results) > 0"
                " ORDER BY SUM(results) DESC, name LIMIT ?", (*span, limit)).fetchall()]
            marks = ", ".join("?" * len(top))
            sql = ("SELECT name, type, CAST(SUM(results) AS BIGINT) FROM rollups WHERE dim = ?"
                   " AND period >= ? AND period < ? AND name IN (" + marks + ")"
                   " GROUP BY name, type HAVING SUM(results) > 0")
            rows = self._execute(sql, ("domain", *span, *top)).fetchall() if top else []
            blocked = self._execute(sql, ("blocked_domain", *span, *top)).fetchall() \
                if top else []
            self._commit()
        by: dict[str, dict] = {name: {} for name in top}
        for name, type_, n in rows:
            by[name][type_] = n
        for name, type_, n in blocked:
            types = by[name]
            types[type_] = types.get(type_, 0) - n
            types["blocked"] = types.get("blocked", 0) + n
        return [(name, {t: n for t, n in by[name].items() if n > 0}) for name in top]

    def top_reasons(self, since: datetime, limit: int = 20) -> list[dict]:
        with self._lock:
            rows = self._sums("reason", "name_type", "period >= ? AND period < ?",
                              (day_period(since), "e"))
            self._commit()
        return [{"reason": r, "type": t, "count": n} for r, t, n, _ in rows[:limit]]

    def alerts_since(self, since: datetime) -> list[dict]:
        """sender_blocked alerts raised since `since`, oldest first."""
        from bouncesink.store.base import from_iso, iso

        with self._lock:
            rows = self._execute("SELECT at, domain, count, reasons, sample FROM alerts"
                                 " WHERE at >= ? ORDER BY at, id LIMIT 1000",
                                 (iso(since),)).fetchall()
            self._commit()
        return [{"at": from_iso(at), "domain": d, "count": n, "reasons": r or "",
                 "sample": s or ""} for at, d, n, r, s in rows]

    def unrecognised_messages(self, limit: int = 20) -> list[dict]:
        """The latest messages no parser recognised (by the state index)."""
        with self._lock:
            rows = self._execute(
                "SELECT id, received_at, peer, size, errors FROM messages WHERE state = ?"
                " ORDER BY id DESC LIMIT ?", ("unrecognised", limit)).fetchall()
            self._commit()
        return [{"ref": i, "received_at": at, "peer": p or "", "size": sz, "errors": e or ""}
                for i, at, p, sz, e in rows]

    def per_day(self, dim: str, since: datetime, until: datetime | None = None) -> list[tuple]:
        """(day 'YYYY-MM-DD', name, type, results) of one dim, day by day, for charts."""
        hi = day_period(until) if until else "e"
        with self._lock:
            rows = self._execute(
                "SELECT period, name, type, CAST(SUM(results) AS BIGINT) FROM rollups"
                " WHERE dim = ? AND period >= ? AND period <= ? GROUP BY period, name, type"
                " HAVING SUM(results) <> 0 ORDER BY period, name, type",
                (dim, day_period(since), hi)).fetchall()
            self._commit()
        return [(p[1:], name, t, n) for p, name, t, n in rows]


# The migration that creates and fills the rollups for an existing store (schema.py appends
# it): every result under its current classification (its latest `reclassified` event, when
# it has one; one the parser no longer finds is not counted).
_PERIOD = {"h": "'h' || substr({t}, 1, 13)", "d": "'d' || substr({t}, 1, 10)", "a": "'all'"}


def _group(*exprs: str) -> str:
    """GROUP BY the expressions that are not constants (PostgreSQL refuses a literal there)."""
    cols = [e for e in exprs if not e.startswith("'all'") and not e.startswith("''")]
    return f" GROUP BY {', '.join(cols)}" if cols else ""


def _recent(grain: str, col: str, word: str = "WHERE") -> str:
    """Hour rows only for the latest two days that have results (see HOURS_KEPT)."""
    if grain != "h":
        return ""
    return (f"{word} substr({col}, 1, 10) IN (SELECT DISTINCT substr(received_at, 1, 10) FROM"
            f" results ORDER BY 1 DESC LIMIT 2)")


# The suppressed count, from the suppressions table (idempotent: a later migration runs it for
# stores whose rollups were built before the count existed).
SUPPRESSED_COUNT = """
    INSERT INTO rollups (dim, period, campaign, name, type, results, recipients)
        SELECT 'suppressed', 'all', '', '', '', n, 0
        FROM (SELECT COUNT(*) AS n FROM suppressions WHERE suppressed = 1) c WHERE n > 0
    ON CONFLICT (dim, period, campaign, name, type) DO UPDATE SET results = excluded.results;"""


def _backfill(create: bool = True) -> str:
    out = ["""
    CREATE TABLE rollups (
        dim TEXT NOT NULL,
        period TEXT NOT NULL,
        campaign TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        results {bigint} NOT NULL,
        recipients {bigint} NOT NULL,
        PRIMARY KEY (dim, period, campaign, name, type)
    ) {clustered};""" if create else "", """
    CREATE TABLE rollup_backfill AS
        SELECT r.received_at AS at, r.recipient AS recipient,
               COALESCE(r.domain, '') AS domain, COALESCE(r.campaign, '') AS campaign,
               CASE WHEN e.id IS NULL THEN COALESCE(r.type, '') ELSE COALESCE(e.type, '') END
                   AS type,
               CASE WHEN e.id IS NULL THEN COALESCE(r.reason, '') ELSE COALESCE(e.reason, '') END
                   AS reason
        FROM results r
        LEFT JOIN (SELECT result_id, MAX(id) AS id FROM events WHERE action = 'reclassified'
                   GROUP BY result_id) last ON last.result_id = r.id
        LEFT JOIN events e ON e.id = last.id
        WHERE e.id IS NULL OR COALESCE(e.type, '') <> '' OR COALESCE(e.reason, '') <> '';"""]
    head = "INSERT INTO rollups (dim, period, campaign, name, type, results, recipients)"
    for dim, campaign, name, grains in (
            ("reason", "''", "reason", "hda"), ("domain", "''", "domain", "hda"),
            ("campaign", "campaign", "''", "da"), ("campaign_domain", "campaign", "domain", "a"),
            ("blocked_domain", "''", "domain", "da")):
        for g in grains:
            period = _PERIOD[g].format(t="at")
            where = _recent(g, "at")
            if dim == "blocked_domain":
                where = "WHERE reason IN (" + ", ".join(
                    f"'{r}'" for r in sorted(SENDER_SIDE_REASONS)) + ")"
            out.append(f"""
    {head}
        SELECT '{dim}', {period}, {campaign}, {name}, type, COUNT(*), 0
        FROM rollup_backfill {where}{_group(period, campaign, name, "type")};""")
    # Distinct recipients, counted in the period of each one's first result of the type.
    for dim, campaign, name, grains in (
            ("domain", "''", "domain", "hda"), ("campaign", "campaign", "''", "da"),
            ("campaign_domain", "campaign", "domain", "a")):
        # A recipient's domain is part of it: grouping by it splits nothing.
        by = "recipient, domain, type" if dim == "domain" else "recipient, campaign, domain, type"
        for g in grains:
            period = _PERIOD[g].format(t="at")
            out.append(f"""
    {head}
        SELECT '{dim}', {period}, {campaign}, {name}, type, 0, COUNT(*)
        FROM (SELECT {by}, MIN(at) AS at FROM rollup_backfill
              WHERE recipient IS NOT NULL GROUP BY {by}) f
        WHERE 1 = 1 {_recent(g, "at", "AND")}{_group(period, campaign, name, "type")}
        ON CONFLICT (dim, period, campaign, name, type)
        DO UPDATE SET recipients = rollups.recipients + excluded.recipients;""")
    for dim, cond in (("messages", "1 = 1"), ("unrecognised", "state = 'unrecognised'")):
        for g in "hda":
            period = _PERIOD[g].format(t="received_at")
            # an aggregate without GROUP BY yields a row (of 0) even for no messages
            out.append(f"""
    {head}
        SELECT '{dim}', {period}, '', '', '', COUNT(*), 0 FROM messages
        WHERE {cond} {_recent(g, "received_at", "AND")}{_group(period)};""" if g != "a" else f"""
    {head}
        SELECT '{dim}', 'all', '', '', '', n, 0
        FROM (SELECT COUNT(*) AS n FROM messages WHERE {cond}) c WHERE n > 0;""")
    out.append(SUPPRESSED_COUNT)
    out.append("""
    DROP TABLE rollup_backfill;
""")
    if create:  # /metrics counts undelivered webhook deliveries by state (webhook_backlog)
        out.append("""
    CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state);
""")
    return "".join(out)


MIGRATION = _backfill()
REBUILD = _backfill(create=False)
