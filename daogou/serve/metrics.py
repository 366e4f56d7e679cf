"""Prometheus metrics of one app.

One process: the app's own registry (two apps in one process never mix their numbers). Several worker processes
(``daogou serve --workers N``): prometheus_client's multiprocess mode — the supervisor points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start, every worker writes its values there, and
whichever worker answers ``/metrics`` adds them all up (counters and histograms summed, gauges as their
``multiprocess_mode`` says, each worker's memory labelled by its pid).
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
MEMORY_EVERY_S = 10.0


def in_multiprocess_mode() -> bool:
    """Whether this process writes its metric values to the multiprocess folder: prometheus_client decided when it
    was first imported, from ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import values
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def resident_bytes() -> int:
    """This process's resident memory (RSS) now; the peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        import sys
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class Metrics:
    def __init__(self, multiprocess: bool | None = None):
        self.multiprocess = in_multiprocess_mode() if multiprocess is None else multiprocess
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("daogou_http_requests", "HTTP requests", ["route", "method", "status"], registry=r)
        self.latency = Histogram("daogou_http_request_seconds", "HTTP request time to the last byte", ["route"],
                                 buckets=BUCKETS, registry=r)
        self.in_flight = Gauge("daogou_http_requests_in_flight", "HTTP requests being served", registry=r,
                               multiprocess_mode="livesum")
        self.chat_turns = Counter("daogou_chat_turns", "Chat turns by kind", ["kind"], registry=r)
        self.events = Counter("daogou_events_recorded", "Shopper events recorded", ["type"], registry=r)
        self.reloads = Counter("daogou_model_reloads", "Model bundle reloads", ["result"], registry=r)
        self.rate_limited = Counter("daogou_rate_limited", "Requests refused by the rate limit", registry=r)
        self.conversations = Gauge("daogou_conversations", "Live conversations", registry=r,
                                   multiprocess_mode="livemostrecent")
        self.products = Gauge("daogou_products", "Products in the served catalog", registry=r,
                              multiprocess_mode="livemostrecent")
        help_ = "Resident memory (RSS) of each server process, by pid"
        if self.multiprocess:  # the collector labels each live worker's value with its pid
            self._memory = Gauge("daogou_worker_resident_memory_bytes", help_, registry=r, multiprocess_mode="liveall")
        else:
            self._memory = Gauge("daogou_worker_resident_memory_bytes", help_, ["pid"], registry=r
                                 ).labels(str(os.getpid()))
        self._memory_at = 0.0
        self.sample_memory()

    def sample_memory(self, every_s: float = 0.0) -> int | None:
        """Set this process's memory gauge (at most once per ``every_s``); returns the bytes when it sampled."""
        now = time.monotonic()
        if every_s and now - self._memory_at < every_s:
            return None
        self._memory_at = now
        rss = resident_bytes()
        self._memory.set(rss)
        return rss

    def render(self) -> bytes:
        self.sample_memory()
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


class MetricsMiddleware:
    """ASGI middleware timing every request to its last byte (streams included), labelled by route template."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            name = getattr(route, "path", None) or ("static" if scope["path"].startswith("/static") else "other")
            self.metrics.requests.labels(name, scope.get("method", ""), str(status[0])).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - t0)
            self.metrics.sample_memory(MEMORY_EVERY_S)
