"""Prometheus metrics of one app (its own registry), and the middleware that times requests."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0,
                   2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's metrics (names start with `spendplan_`; seconds and counts)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("spendplan_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("spendplan_http_request_seconds", "HTTP request latency",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.replan = Histogram("spendplan_replan_seconds",
                                "time from actuals to a new revision (re-plan or fallback)",
                                buckets=LATENCY_BUCKETS, registry=r)
        self.fallbacks = Counter("spendplan_replan_fallbacks",
                                 "re-plans answered with the last plan scaled", ["reason"],
                                 registry=r)
        self.minutes = Counter("spendplan_actual_minutes", "posted minutes of actuals",
                               ["kind"], registry=r)
        self.plans = Counter("spendplan_plans_created", "plans created", registry=r)
        self.retries = Counter("spendplan_post_retries",
                               "posts that lost a race on their plan and were read again",
                               registry=r)


class TimingMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
