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

    @property
    def address(self) -> tuple[str, int] | None:
        return self._server.server_address[:2] if self._server is not None else None

    def render(self) -> bytes:
        """The exposition text, as /metrics serves it."""
        return self._prom.generate_latest(self.registry)


def create(config: MetricsConfig) -> Metrics:
    """PrometheusMetrics when `listen` is set, else the no-op Metrics."""
    return PrometheusMetrics(config.listen) if config.listen else Metrics()
