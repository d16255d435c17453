"""APScheduler wiring. Jobs are in memory and call plain coroutines that take ``now``.

The database is the truth for time: schedules live in Lantern's tables and are rebuilt into
in-memory jobs at start-up; a lease row makes sure exactly one process runs them. The lease is
judged by the database server's clock (never a process clock, which may be skewed), and a
process runs a job only while its own monotonic clock says the lease it last renewed cannot
have expired yet (so a process that stalled past its lease runs nothing until it renews). Features
register *sweeps* (``bot.register_sweep``): coroutines ``run(now)`` that do whatever work is due
at ``now`` and are safe to run twice. Tests call the same coroutines with simcord's ``env.now()``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.db.engine import Database
from bot.db.queries.lease import claim_lease, database_now, release_lease

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
        lease_seconds: float = 60,
        clock: Callable[[], datetime] = _utcnow,
        renew_every: float | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.renew_every = renew_every or max(5.0, lease_seconds / 3)
        # Monotonic deadline of the lease this process last renewed (0: none held).
        self._valid_until = 0.0
        self._sweeps: list[str] = []
        # Told (job id, seconds late) when this process starts a job it owns: metrics.
        self.on_lag: Callable[[str, float], None] = lambda job_id, late: None
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.aps = AsyncIOScheduler(timezone=UTC)
        self.owns_lease = False
        self._pending: list[
            tuple[str, Callable[[datetime], Awaitable[Any]], BaseTrigger, bool]
        ] = []

    def add_sweep(self, sweep: Sweep) -> None:
        """Run ``sweep`` at start-up (the outage catch-up), then every ``every_seconds``."""
        trigger = IntervalTrigger(seconds=sweep.every_seconds)
        self._sweeps.append(sweep.name)
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

    def holds_lease(self) -> bool:
        """Whether this process holds the lease now, by its own monotonic clock."""
        return self.owns_lease and time.monotonic() < self._valid_until

    async def _guarded(self, job_id: str, run: Callable[[datetime], Awaitable[Any]]) -> None:
        if self.owns_lease and not self.holds_lease():
            # Stalled past the lease (or renewal failing): renew before doing anything.
            await self._renew_job()
        if not self.holds_lease():
            return
        try:
            await run(self.clock())
        except Exception:
            log.exception("scheduled job failed job=%s", job_id)

    async def _renew(self) -> None:
        asked = time.monotonic()
        async with self.database.session() as session:
            now = await database_now(session)
            held = await claim_lease(
                session, name=LEASE_NAME, owner=self.owner, now=now, ttl=self.lease_ttl
            )
        taken = held and not self.owns_lease
        if held != self.owns_lease:
            log.info("scheduler lease %s owner=%s", "taken" if held else "lost", self.owner)
        self.owns_lease = held
        # The row says now + ttl by the database's clock; counting from before the request
        # was sent keeps this process's deadline at or before the row's.
        self._valid_until = asked + self.lease_ttl.total_seconds() if held else 0.0
        if taken and self.aps.running:
            self._catch_up()

    def _catch_up(self) -> None:
        """A process that takes the lease over runs every sweep at once (the outage catch-up),
        not a whole interval later."""
        for name in self._sweeps:
            job = self.aps.get_job(name)
            if job is not None:
                job.modify(next_run_time=self.clock())

    async def start(self) -> None:
        """Start the in-memory scheduler; jobs run only while the lease is held."""
        self.aps.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self.aps.start()
        await self._renew_job()
        self.aps.add_job(
            self._renew_job,
            IntervalTrigger(seconds=self.renew_every),
            id="lease",
            replace_existing=True,
            max_instances=1,
        )
        for job_id, run, trigger, first_run_now in self._pending:
            self.add_job(job_id, run, trigger, first_run_now=first_run_now)
        self._pending.clear()

    def _submitted(self, event: JobSubmissionEvent) -> None:
        if event.job_id == "lease" or not self.holds_lease() or not event.scheduled_run_times:
            return
        late = (datetime.now(UTC) - max(event.scheduled_run_times)).total_seconds()
        self.on_lag(event.job_id, max(late, 0.0))

    async def _renew_job(self) -> None:
        try:
            await self._renew()
        except Exception:
            self.owns_lease = False
            self._valid_until = 0.0
            log.warning("could not renew the scheduler lease; pausing scheduled work")

    async def stop(self) -> None:
        """Stop running jobs and hand the lease back."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self.owns_lease:
            try:
                async with self.database.session() as session:
                    await release_lease(
                        session, name=LEASE_NAME, owner=self.owner, now=await database_now(session)
                    )
            except Exception:
                log.warning("could not release the scheduler lease")
        self.owns_lease = False
        self._valid_until = 0.0
