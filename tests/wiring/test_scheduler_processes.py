"""Several processes on one database: each sweep tick runs in exactly one of them.

Each scheduler here has its own engine and connection pool on the same database (SQLite file
or PostgreSQL schema), as separate processes would; only the lease row is shared.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.db.engine import Database
from bot.db.queries.lease import claim_lease, database_now
from bot.scheduler import LEASE_NAME, LanternScheduler, Sweep
from tests.conftest import make_database


@pytest_asyncio.fixture
async def pools(database: Database, database_url: str) -> AsyncIterator[Callable[[], Database]]:
    """A new engine (one 'process') on this test's database per call."""
    made: list[Database] = []

    def new() -> Database:
        made.append(make_database(database_url))
        return made[-1]

    yield new
    for db in made:
        await db.dispose()


def counting(ticks: list[tuple[str, float]], who: str) -> Sweep:
    async def run(now: datetime) -> None:
        ticks.append((who, time.monotonic()))

    return Sweep(name="tick", run=run, every_seconds=1)


async def test_three_processes_one_owner_every_tick_runs_once(
    pools: Callable[[], Database],
) -> None:
    ticks: list[tuple[str, float]] = []
    schedulers = [LanternScheduler(pools(), lease_seconds=10) for _ in range(3)]
    lags: list[tuple[int, str, float]] = []
    for number, scheduler in enumerate(schedulers):
        scheduler.add_sweep(counting(ticks, f"p{number}"))
        scheduler.on_lag = lambda job, late, n=number: lags.append((n, job, late))
    await asyncio.gather(*(s.start() for s in schedulers))
    try:
        await asyncio.sleep(3.4)
        owners = [s for s in schedulers if s.owns_lease]
        assert len(owners) == 1, "exactly one process holds the lease"
        assert {who for who, _ in ticks} == {f"p{schedulers.index(owners[0])}"}
        assert 3 <= len(ticks) <= 5, ticks  # at start, then once a second: never doubled
        owner = schedulers.index(owners[0])
        assert lags and {n for n, _, _ in lags} == {owner}, "lag is the owner's to report"
        assert all(job == "tick" and 0 <= late < 1.0 for _, job, late in lags), lags
    finally:
        await asyncio.gather(*(s.stop() for s in schedulers))


async def test_a_crashed_owner_is_replaced_after_its_lease_and_not_before(
    pools: Callable[[], Database],
) -> None:
    ticks: list[tuple[str, float]] = []
    first = LanternScheduler(pools(), lease_seconds=2, renew_every=0.5)
    second = LanternScheduler(pools(), lease_seconds=2, renew_every=0.5)
    first.add_sweep(counting(ticks, "first"))
    second.add_sweep(counting(ticks, "second"))
    await first.start()
    await second.start()
    try:
        assert first.owns_lease and not second.owns_lease
        first.aps.shutdown(wait=False)  # killed: no more renewals, the lease is not released
        crashed = time.monotonic()
        for _ in range(80):
            if second.owns_lease:
                break
            await asyncio.sleep(0.1)
        took_over = time.monotonic() - crashed
        assert second.owns_lease
        assert 1.0 <= took_over <= 3.5, took_over
        await asyncio.sleep(0.3)
        assert [who for who, _ in ticks if who == "second"], "the successor runs the sweeps"
    finally:
        first.owns_lease = False
        await second.stop()


async def test_a_process_clock_hours_ahead_cannot_steal_a_live_lease(
    pools: Callable[[], Database],
) -> None:
    owner = LanternScheduler(pools(), lease_seconds=60)
    ahead = LanternScheduler(
        pools(), lease_seconds=60, clock=lambda: datetime.now(UTC) + timedelta(hours=3)
    )
    await owner.start()
    await ahead.start()
    try:
        assert owner.owns_lease and not ahead.owns_lease
    finally:
        await owner.stop()
        await ahead.stop()


async def test_an_owner_that_stalled_past_its_lease_runs_nothing(
    pools: Callable[[], Database],
) -> None:
    """A process frozen longer than its lease (a long GC, a blocked loop) may find another
    process owns the lease when it wakes: it must not run the job it had queued."""
    ran: list[str] = []

    async def job(now: datetime) -> None:
        ran.append("stale owner")

    stalled = LanternScheduler(pools(), lease_seconds=1)
    await stalled.start()
    try:
        assert stalled.owns_lease
        await asyncio.sleep(1.2)  # frozen: no renewal while another process takes over
        other = pools()
        async with other.session() as session:
            now = await database_now(session)
            assert await claim_lease(
                session, name=LEASE_NAME, owner="other", now=now, ttl=timedelta(seconds=60)
            )
        await stalled._guarded("tick", job)
        assert ran == [] and not stalled.owns_lease
    finally:
        await stalled.stop()
