"""Prometheus metrics of one app (its own registry: two apps in one process never mix their numbers)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("daogou_http_requests", "HTTP requests", ["route", "method", "status"], registry=r)
        self.latency = Histogram("daogou_http_request_seconds", "HTTP request time to the last byte", ["route"],
                                 buckets=BUCKETS, registry=r)
        self.in_flight = Gauge("daogou_http_requests_in_flight", "HTTP requests being served", registry=r)
        self.chat_turns = Counter("daogou_chat_turns", "Chat turns by kind", ["kind"], registry=r)
        self.events = Counter("daogou_events_recorded", "Shopper events recorded", ["type"], registry=r)
        self.reloads = Counter("daogou_model_reloads", "Model bundle reloads", ["result"], registry=r)
        self.rate_limited = Counter("daogou_rate_limited", "Requests refused by the rate limit", registry=r)
        self.conversations = Gauge("daogou_conversations", "Live conversations", registry=r)
        self.products = Gauge("daogou_products", "Products in the served catalog", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
