"""Prometheus metrics of one worker, on a registry of its own (built with the App, never at import).

Counters and histograms are fed where things happen (intake, dispatcher, scheduler); gauges that
describe the database (outbox by status, token expiry, lease holder) are refreshed by the watchdog.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

UPDATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "tocns_updates",
            "Updates processed, by channel, route and outcome",
            ["channel", "route", "outcome"],
            registry=r,
        )
        self._update_counters: dict[tuple[str, str, str], Counter] = {}
        self._update_timers: dict[str, Histogram] = {}
        self.update_seconds = Histogram(
            "tocns_update_seconds",
            "Time to process one update",
            ["channel"],
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "tocns_deliveries", "Outbox sends, by channel and result", ["channel", "result"], registry=r
        )
        self.platform_errors = Counter(
            "tocns_platform_errors",
            "Errors answered by Telegram or Zalo, by channel and code",
            ["channel", "code"],
            registry=r,
        )
        self.outbox = Gauge(
            "tocns_outbox_messages", "Outbox rows by kind and status", ["kind", "status"], registry=r
        )
        self.job_runs = Counter(
            "tocns_job_runs", "Scheduled job attempts by job and status", ["job", "status"], registry=r
        )
        self.job_seconds = Histogram("tocns_job_seconds", "Duration of job attempts", ["job"], registry=r)
        self.zalo_token_expiry = Gauge(
            "tocns_zalo_oa_refresh_token_expiry_timestamp_seconds",
            "When the stored Zalo OA refresh token stops working (Unix time)",
            ["app_id"],
            registry=r,
        )
        self.lease_holder = Gauge(
            "tocns_scheduler_lease_holder",
            "1 for the worker that holds the scheduler lease",
            ["holder"],
            registry=r,
        )
        self.open_incidents = Gauge("tocns_open_incidents", "Incidents not resolved yet", registry=r)

    # --- hooks called where things happen ---------------------------------------------------------

    def observe_update(self, channel: str, route: str, outcome: str, seconds: float) -> None:
        # Only the kind of route ("command:ghi", "button:ghi", "text", "file"): bounded label values.
        # The labelled children are kept at hand: looking them up cost more than counting.
        key = (channel, route.split(":", 1)[0] + _route_name(route), outcome)
        counter = self._update_counters.get(key)
        if counter is None:
            counter = self._update_counters[key] = self.updates.labels(*key)
        counter.inc()
        timer = self._update_timers.get(channel)
        if timer is None:
            timer = self._update_timers[channel] = self.update_seconds.labels(channel)
        timer.observe(seconds)

    def observe_delivery(self, channel: str, result: str, code: str | None = None) -> None:
        self.deliveries.labels(channel, result).inc()
        if code:
            self.platform_errors.labels(channel, code).inc()

    def observe_job(self, job: str, status: str, seconds: float) -> None:
        self.job_runs.labels(job, status).inc()
        self.job_seconds.labels(job).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _route_name(route: str) -> str:
    kind, _, name = route.partition(":")
    if kind in ("command", "button") and name.isascii() and len(name) <= 20:
        return ":" + name
    return ""


def metrics_handler(
    metrics: Metrics, *, mode: str, token: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """GET /metrics — for a scraper on this host (`mode: localhost`) or one with the bearer token."""

    async def handle(request: web.Request) -> web.Response:
        if mode == "off":
            raise web.HTTPNotFound()
        if mode == "token":
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not token or not secrets.compare_digest(given.encode(), token.encode()):
                raise web.HTTPUnauthorized(text="metrics token required\n")
        elif not _is_loopback(request.remote):
            raise web.HTTPForbidden(text="metrics are served to this host only\n")
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
