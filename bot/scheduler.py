"""APScheduler wiring. Jobs are in memory and call plain coroutines that take ``now``.

The database is the truth for time: schedules live in Lantern's tables and are rebuilt into
in-memory jobs at start-up; a lease row makes sure exactly one process runs them. Features
register *sweeps* (``bot.register_sweep``): coroutines ``run(now)`` that do whatever work is due
at ``now`` and are safe to run twice. Tests call the same coroutines with simcord's ``env.now()``.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.db.engine import Database
from bot.db.queries.lease import claim_lease, release_lease

log = logging.getLogger("lantern.scheduler")

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class Sweep:
    """Work that is checked for at a fixed rhythm: ``run(now)`` must be idempotent."""

    name: str
    run: Callable[[datetime], Awaitable[Any]]
    every_seconds: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LanternScheduler:
    """Owns the in-memory APScheduler and the lease that makes this process its only runner."""

    def __init__(
        self,
        database: Database,
        *,
        lease_seconds: int = 60,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.database = database
        self.clock = clock
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.aps = AsyncIOScheduler(timezone=UTC)
        self.owns_lease = False
        self._pending: list[
            tuple[str, Callable[[datetime], Awaitable[Any]], BaseTrigger, bool]
        ] = []

    def add_sweep(self, sweep: Sweep) -> None:
        """Run ``sweep`` at start-up (the outage catch-up), then every ``every_seconds``."""
        trigger = IntervalTrigger(seconds=sweep.every_seconds)
        self.add_job(sweep.name, sweep.run, trigger, first_run_now=True)

    @property
    def started(self) -> bool:
        """Whether ``start`` has run."""
        return bool(self.aps.running)

    def add_job(
        self,
        job_id: str,
        run: Callable[[datetime], Awaitable[Any]],
        trigger: BaseTrigger,
        *,
        first_run_now: bool = False,
    ) -> None:
        """Add or replace an in-memory job that calls ``run(now)``."""
        if not self.aps.running:
            self._pending = [p for p in self._pending if p[0] != job_id]
            self._pending.append((job_id, run, trigger, first_run_now))
            return
        extra: dict[str, Any] = {"next_run_time": self.clock()} if first_run_now else {}
        self.aps.add_job(
            self._guarded,
            trigger,
            args=(job_id, run),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            **extra,
        )

    def run_at(
        self, job_id: str, run: Callable[[datetime], Awaitable[Any]], when: datetime
    ) -> None:
        """One-off ``run(now)`` at ``when`` (the services' ``Jobs`` port)."""
        self.add_job(job_id, run, DateTrigger(run_date=when))

    def cancel(self, job_id: str) -> None:
        """Drop a one-off job (the services' ``Jobs`` port)."""
        self.remove_job(job_id)

    def remove_job(self, job_id: str) -> None:
        """Drop a job if it exists."""
        self._pending = [p for p in self._pending if p[0] != job_id]
        if self.aps.running and self.aps.get_job(job_id):
            self.aps.remove_job(job_id)

    async def _guarded(self, job_id: str, run: Callable[[datetime], Awaitable[Any]]) -> None:
        if not self.owns_lease:
            return
        try:
            await run(self.clock())
        except Exception:
            log.exception("scheduled job failed job=%s", job_id)

    async def _renew(self, now: datetime) -> None:
        async with self.database.session() as session:
            held = await claim_lease(
                session, name=LEASE_NAME, owner=self.owner, now=now, ttl=self.lease_ttl
            )
        if held != self.owns_lease:
            log.info("scheduler lease %s owner=%s", "taken" if held else "lost", self.owner)
        self.owns_lease = held

    async def start(self) -> None:
        """Start the in-memory scheduler; jobs run only while the lease is held."""
        self.aps.start()
        await self._renew(self.clock())
        renew_every = max(5, int(self.lease_ttl.total_seconds() / 3))
        self.aps.add_job(
            self._renew_job,
            IntervalTrigger(seconds=renew_every),
            id="lease",
            replace_existing=True,
            max_instances=1,
        )
        for job_id, run, trigger, first_run_now in self._pending:
            self.add_job(job_id, run, trigger, first_run_now=first_run_now)
        self._pending.clear()

    async def _renew_job(self) -> None:
        try:
            await self._renew(self.clock())
        except Exception:
            self.owns_lease = False
            log.warning("could not renew the scheduler lease; pausing scheduled work")

    async def stop(self) -> None:
        """Stop running jobs and hand the lease back."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self.owns_lease:
            try:
                async with self.database.session() as session:
                    await release_lease(
                        session, name=LEASE_NAME, owner=self.owner, now=self.clock()
                    )
            except Exception:
                log.warning("could not release the scheduler lease")
        self.owns_lease = False
