"""The scheduler: exactly one process holds the lease; sweeps run at start and on rhythm."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.engine import Database
from bot.db.queries.lease import claim_lease
from bot.scheduler import LanternScheduler, Sweep


async def test_only_one_process_owns_the_lease(database: Database) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ttl = timedelta(seconds=60)
    async with database.session() as session:
        assert await claim_lease(session, name="s", owner="a", now=now, ttl=ttl)
    async with database.session() as session:
        assert not await claim_lease(session, name="s", owner="b", now=now, ttl=ttl)
    async with database.session() as session:
        assert await claim_lease(session, name="s", owner="a", now=now + ttl / 2, ttl=ttl)
    later = now + timedelta(minutes=5)
    async with database.session() as session:
        assert await claim_lease(session, name="s", owner="b", now=later, ttl=ttl)
    async with database.session() as session:
        assert not await claim_lease(session, name="s", owner="a", now=later, ttl=ttl)


async def test_concurrent_claims_give_one_owner(database: Database) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def claim(owner: str) -> bool:
        async with database.session() as session:
            return await claim_lease(
                session, name="race", owner=owner, now=now, ttl=timedelta(seconds=60)
            )

    results = await asyncio.gather(*(claim(f"p{i}") for i in range(8)), return_exceptions=True)
    assert [r for r in results if r is True] == [True]


async def test_second_scheduler_runs_nothing_while_the_first_holds_the_lease(
    database: Database,
) -> None:
    calls: list[str] = []

    def sweep(name: str) -> Sweep:
        async def run(now: datetime) -> None:
            calls.append(name)

        return Sweep(name=name, run=run, every_seconds=3600)

    first = LanternScheduler(database, lease_seconds=60)
    second = LanternScheduler(database, lease_seconds=60)
    first.add_sweep(sweep("first"))
    second.add_sweep(sweep("second"))
    await first.start()
    await second.start()
    try:
        for _ in range(50):
            if calls:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        assert first.owns_lease and not second.owns_lease
        assert calls == ["first"]
    finally:
        await first.stop()
        await second.stop()
    third = LanternScheduler(database, lease_seconds=60)
    await third.start()
    try:
        assert third.owns_lease, "a released lease is free for the next process at once"
    finally:
        await third.stop()
