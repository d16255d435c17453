"""The moderators' audit trail, and blocks between members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, Block

_block = Block.__table__  # type: ignore[attr-defined]


async def record_audit(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int,
    action: str,
    now: datetime,
    target_user_id: int | None = None,
    target_id: int | None = None,
) -> None:
    """Leave one audit entry for a moderator action: ids and the action name, never content."""
    session.add(
        AuditEntry(
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            target_user_id=target_user_id,
            target_id=target_id,
            created_at=now,
        )
    )


async def add_block(
    session: AsyncSession, *, guild_id: int, blocker_id: int, blocked_id: int, now: datetime
) -> bool:
    """Record that ``blocker_id`` never wants to be paired with ``blocked_id``.

    Idempotent and race-safe (a unique key): ``False`` when the block already existed.
    """
    exists = await session.execute(
        select(_block.c.id).where(
            _block.c.guild_id == guild_id,
            _block.c.blocker_id == blocker_id,
            _block.c.blocked_id == blocked_id,
        )
    )
    if exists.first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Block(
                    guild_id=guild_id, blocker_id=blocker_id, blocked_id=blocked_id, created_at=now
                )
            )
            await session.flush()
    except IntegrityError:
        return False
    return True
