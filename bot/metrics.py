"""Prometheus metrics and health endpoints (``[metrics] port``; 0 turns them off).

    GET /metrics   Prometheus text format
    GET /healthz   200 while the process serves HTTP (liveness)
    GET /readyz    200 only when every shard this process owns is connected and the database
                   answers within 2 s; 503 with the reasons otherwise (readiness)

Each bot has its own registry (tests build many bots in one process). The metrics name no
member: labels are interaction kinds, command names, sweep names and delivery outcomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger("lantern.metrics")

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    """Every metric Lantern exports, on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.interactions = Counter(
            "lantern_interactions_total", "Interactions received, by kind", ["kind"], registry=r
        )
        self.command_seconds = Histogram(
            "lantern_command_seconds",
            "From Discord creating a slash command's interaction to Lantern finishing it",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "lantern_dm_deliveries_total",
            "Prompt DMs the fan-out sent or was refused, by outcome",
            ["outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "lantern_rest_429_total",
            "429 answers from Discord's REST API, by scope (route or global)",
            ["scope"],
            registry=r,
        )
        self.sweep_lag = Histogram(
            "lantern_sweep_lag_seconds",
            "How late a scheduled sweep or job started after its due time",
            ["sweep"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.sweep_runs = Counter(
            "lantern_sweep_runs_total", "Sweeps run by this process", ["sweep"], registry=r
        )
        self.scheduler_owner = Gauge(
            "lantern_scheduler_owner", "1 while this process holds the scheduler lease", registry=r
        )
        self.shards_connected = Gauge(
            "lantern_shards_connected", "Shards of this process that are connected", registry=r
        )

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


class RateLimitCounter(logging.Handler):
    """Counts discord.py's 429 warnings (its HTTP client retries them itself)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(level=logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith("We are being rate limited."):
            self.metrics.rate_limited.labels(scope="route").inc()
        elif message.startswith("Global rate limit has been hit"):
            self.metrics.rate_limited.labels(scope="global").inc()


Check = Callable[[], Awaitable[list[str]]]


class HealthServer:
    """The metrics and health endpoints on aiohttp (already installed with discord.py)."""

    def __init__(self, metrics: Metrics, not_ready: Check, *, host: str, port: int) -> None:
        self.metrics = metrics
        self.not_ready = not_ready
        self.host = host
        self.port = port
        self._runner: Any = None

    async def start(self) -> int:
        """Listen; returns the port (useful when 0 asked for any free one)."""
        from aiohttp import web

        async def metrics(request: web.Request) -> web.Response:
            return web.Response(
                body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )

        async def alive(request: web.Request) -> web.Response:
            return web.Response(text="alive\n")

        async def ready(request: web.Request) -> web.Response:
            try:
                problems = await asyncio.wait_for(self.not_ready(), timeout=3)
            except TimeoutError:
                problems = ["readiness check timed out"]
            if problems:
                return web.json_response({"ready": False, "problems": problems}, status=503)
            return web.json_response({"ready": True})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", alive)
        app.router.add_get("/readyz", ready)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("metrics and health listening host=%s port=%s", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
