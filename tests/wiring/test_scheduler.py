"""The scheduler: exactly one process runs scheduled work; sweeps run at start and on rhythm."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.db.engine import Database
from bot.scheduler import LanternScheduler, Sweep


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
