"""The scheduler lease: exactly one process holds it, even under concurrent claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.engine import Database
from bot.db.queries.lease import claim_lease


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
