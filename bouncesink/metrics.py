"""Prometheus metrics, optional: off unless `metrics.listen` is set.

The server calls the methods of a `Metrics` object at the points that matter; `create()`
returns a no-op one when the endpoint is off, so the server never asks whether metrics are
on, and prometheus-client is imported only when they are. Each `PrometheusMetrics` has its
own registry (no module-level state), so tests and several servers in one process do not
collide.

    bouncesink_messages_received_total            messages committed (answered 250)
    bouncesink_results_total{type,reason}         recipient results recorded
    bouncesink_replies_total{code}                SMTP replies sent, by code
    bouncesink_store_commit_seconds               group-commit latency (histogram)
    bouncesink_store_commit_messages              messages per group commit (histogram)
    bouncesink_connections_open                   SMTP sessions open now

Read from the store at each scrape (one connection of the metrics thread's own, so what
every worker and every road stored counts; index counts and rollups, cheap at any size):

    bouncesink_classification_backlog             messages stored, not yet classified
    bouncesink_failed_messages                    classification kept failing: set aside
    bouncesink_suppressed_addresses               addresses suppressed now
    bouncesink_unrecognised_messages              messages no parser recognised (kept raw)
    bouncesink_messages_stored                    messages in the store
    bouncesink_sender_blocked_alerts              sender_blocked alerts raised
    bouncesink_last_sender_blocked_alert_timestamp_seconds
    bouncesink_webhook_backlog{state}             webhook deliveries pending / dead
    bouncesink_store_up                           1 when the last scrape could read the store

and prometheus-client's process collector: process_resident_memory_bytes,
process_cpu_seconds_total, process_open_fds, process_max_fds, process_start_time_seconds.
Alert examples: `bouncesink_classification_backlog > 1000 for 10m`,
`increase(bouncesink_sender_blocked_alerts[1h]) > 0`, `bouncesink_store_up == 0`.
"""

from __future__ import annotations

from bouncesink.config import ConfigError, MetricsConfig, parse_hostport


class Metrics:
    """The no-op metrics: what the server calls when the endpoint is off."""

    enabled = False

    def message_received(self) -> None: ...

    def result_recorded(self, type_: str, reason: str) -> None: ...

    def reply_sent(self, code: str) -> None: ...

    def commit_observed(self, seconds: float, messages: int) -> None: ...

    def watch_connections(self, count) -> None:
        """`count()` returns the SMTP sessions open now; read at each scrape."""

    def watch_store(self, url: str) -> None:
        """Report the store's backlogs and totals (see the module docstring) at each scrape."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def address(self) -> tuple[str, int] | None:
        return None


class PrometheusMetrics(Metrics):
    enabled = True

    def __init__(self, listen: str) -> None:
        try:
            import prometheus_client as prom
        except ImportError:  # the metrics extra is not installed
            raise ConfigError(["metrics.listen: is set but prometheus-client is not installed"
                               " (pip install 'bouncesink[metrics]')"]) from None
        self._prom = prom
        self.listen = listen
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.messages = prom.Counter("bouncesink_messages_received", "Messages committed to"
                                     " the store and answered 250", registry=r)
        self.results = prom.Counter("bouncesink_results", "Recipient results recorded",
                                    ["type", "reason"], registry=r)
        self.replies = prom.Counter("bouncesink_replies", "SMTP replies sent", ["code"],
                                    registry=r)
        self.commit_seconds = prom.Histogram(
            "bouncesink_store_commit_seconds", "Latency of one group commit of raw messages",
            buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10),
            registry=r)
        self.commit_messages = prom.Histogram(
            "bouncesink_store_commit_messages", "Messages per group commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), registry=r)
        self.connections = prom.Gauge("bouncesink_connections_open", "SMTP sessions open",
                                      registry=r)
        # memory, CPU, open files of this process (read from /proc at each scrape)
        prom.ProcessCollector(registry=r)
        self._store_collector = None
        self._server = None
        self._thread = None

    def message_received(self) -> None:
        self.messages.inc()

    def result_recorded(self, type_: str, reason: str) -> None:
        self.results.labels(type_ or "", reason or "").inc()

    def reply_sent(self, code: str) -> None:
        # Only the 3-digit code: the label set stays bounded whatever a reply says.
        code = code[:3] if code[:3].isdigit() else "other"
        self.replies.labels(code).inc()

    def commit_observed(self, seconds: float, messages: int) -> None:
        self.commit_seconds.observe(seconds)
        self.commit_messages.observe(messages)

    def watch_connections(self, count) -> None:
        self.connections.set_function(lambda: float(count()))

    def watch_store(self, url: str) -> None:
        if self._store_collector is None:
            self._store_collector = StoreCollector(url, self._prom)
            self.registry.register(self._store_collector)

    def start(self) -> None:
        """Serve /metrics on `listen` from a daemon thread (prometheus-client's server)."""
        host, port = parse_hostport(self.listen)
        try:
            self._server, self._thread = self._prom.start_http_server(
                port, addr=host, registry=self.registry)
        except OSError as exc:  # one line from `serve`, naming the setting
            raise OSError(exc.errno, f"metrics.listen {self.listen}: {exc.strerror or exc}") from None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._store_collector is not None:
            self._store_collector.close()

    @property
    def address(self) -> tuple[str, int] | None:
        return self._server.server_address[:2] if self._server is not None else None

    def render(self) -> bytes:
        """The exposition text, as /metrics serves it."""
        return self._prom.generate_latest(self.registry)


class StoreCollector:
    """Gauges read from the store when scraped, through a connection of its own (opened at
    the first scrape, never creating a store; reopened after a failure)."""

    def __init__(self, url: str, prom) -> None:
        import threading

        self.url = url
        self._prom = prom
        self._store = None
        self._lock = threading.Lock()

    def describe(self):
        return []  # values come from the store at scrape time only

    def _read(self) -> dict:
        from bouncesink.store import open_store

        if self._store is None:
            self._store = open_store(self.url, create=False, readonly=True)
        return self._store.metrics_snapshot()

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        with self._lock:
            try:
                snap, up = self._read(), 1.0
            except Exception:  # the store is away: say so, and retry at the next scrape
                self.close()
                snap, up = {}, 0.0
        yield GaugeMetricFamily("bouncesink_store_up",
                                "1 when the last scrape could read the store", value=up)
        for key, name, text in (
                ("pending", "bouncesink_classification_backlog",
                 "Messages stored but not yet classified"),
                ("failed", "bouncesink_failed_messages",
                 "Messages whose classification kept failing, set aside for a person"),
                ("suppressed", "bouncesink_suppressed_addresses", "Addresses suppressed now"),
                ("unrecognised", "bouncesink_unrecognised_messages",
                 "Stored messages no parser recognised (kept raw for a person)"),
                ("messages", "bouncesink_messages_stored", "Messages in the store"),
                ("alerts", "bouncesink_sender_blocked_alerts",
                 "sender_blocked alerts raised (a receiving domain refusing our mail)"),
                ("last_alert", "bouncesink_last_sender_blocked_alert_timestamp_seconds",
                 "When the last sender_blocked alert was raised (0: never)")):
            if key in snap:
                yield GaugeMetricFamily(name, text, value=float(snap[key]))
        if snap.get("webhooks") is not None:
            g = GaugeMetricFamily("bouncesink_webhook_backlog",
                                  "Webhook deliveries not yet delivered, by state",
                                  labels=["state"])
            for state, n in sorted(snap["webhooks"].items()):
                g.add_metric([state], float(n))
            yield g

    def close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                pass
            self._store = None


def create(config: MetricsConfig) -> Metrics:
    """PrometheusMetrics when `listen` is set, else the no-op Metrics."""
    return PrometheusMetrics(config.listen) if config.listen else Metrics()
