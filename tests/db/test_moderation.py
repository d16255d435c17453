"""Moderation queries on SQLite and PostgreSQL: one ``add_block``, idempotent under races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import Block
from bot.db.queries.moderation import add_block

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _blocks(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Block))).scalar_one())


async def test_add_block_is_idempotent(database: Database) -> None:
    async with database.session() as session:
        assert await add_block(session, guild_id=1, blocker_id=2, blocked_id=3, now=NOW)
        assert not await add_block(session, guild_id=1, blocker_id=2, blocked_id=3, now=NOW)
        # The other direction is a block of its own.
        assert await add_block(session, guild_id=1, blocker_id=3, blocked_id=2, now=NOW)
    assert await _blocks(database) == 2


async def test_concurrent_blocks_record_exactly_one(database: Database) -> None:
    async def block() -> bool:
        async with database.session() as session:
            return await add_block(session, guild_id=1, blocker_id=2, blocked_id=3, now=NOW)

    results = await asyncio.gather(*(block() for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await _blocks(database) == 1
