"""Prometheus metrics (per-app registry) and the ASGI middleware that records them."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "recsys_http_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "recsys_http_request_duration_seconds",
            "Request latency by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model = Info("recsys_model", "Versions being served.", registry=self.registry)
        self.engine_loaded = Gauge(
            "recsys_engine_loaded", "1 once an engine snapshot is serving.", registry=self.registry
        )
        self.loaded_at = Gauge(
            "recsys_engine_loaded_timestamp_seconds",
            "When the serving snapshot was swapped in.",
            registry=self.registry,
        )
        self.reloads = Counter(
            "recsys_engine_reloads_total",
            "Engine (re)loads by result.",
            ["result"],
            registry=self.registry,
        )
        self.load_failing = Gauge(
            "recsys_engine_load_failing",
            "1 while the last load failed (the previous engine, if any, keeps serving).",
            registry=self.registry,
        )
        self.response_cache = Counter(
            "recsys_response_cache_lookups_total",
            "Recommendation answers looked up: kept by this worker (hit), ranked with the run "
            "before it was published (precomputed), or neither (miss).",
            ["outcome"],
            registry=self.registry,
        )
        self.response_cache_bytes = Gauge(
            "recsys_response_cache_bytes",
            "Bytes of recommendation answers this worker keeps.",
            registry=self.registry,
        )
        self.events = Counter(
            "recsys_events_total",
            "Interaction events accepted/rejected.",
            ["result"],
            registry=self.registry,
        )
        self.events_replayed = Counter(
            "recsys_events_replayed_total",
            "Logged events replayed into sessions at load (those the run was not trained on).",
            registry=self.registry,
        )
        self.event_lines_unreadable = Counter(
            "recsys_event_log_unreadable_lines_total",
            "Event log lines skipped at replay (a torn line from a crash, or not an event).",
            registry=self.registry,
        )

    def set_versions(self, model_version: str, index_version: str) -> None:
        self.model.info({"model_version": model_version, "index_version": index_version})
        self.engine_loaded.set(1)
        self.loaded_at.set(time.time())


class MetricsMiddleware:
    """Pure ASGI (no per-request task overhead); labels by route template, not raw path,
    so /users/1/... and /users/2/... share one series."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
