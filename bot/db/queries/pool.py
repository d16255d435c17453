"""What a cached mentor pool reads: the server's pool generation, the mentors changed since a
generation, and the mentors themselves (raw, still encrypted: decrypting is the caller's CPU
work, done off the event loop)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    ConsentStatus,
    Introduction,
    IntroStatus,
    MemberProfile,
    MentorPoolChange,
    MentorPoolGeneration,
)

_profile = MemberProfile.__table__  # type: ignore[attr-defined]
_intro = Introduction.__table__  # type: ignore[attr-defined]
_generation = MentorPoolGeneration.__table__  # type: ignore[attr-defined]
_change = MentorPoolChange.__table__  # type: ignore[attr-defined]

STREAM_ROWS = 500


@dataclass(frozen=True)
class PoolMentor:
    """A mentor who could be proposed (consented, finished, mentor role), how many more
    introductions they can take now (0 while paused or full) and their encrypted answers
    (``None`` when not asked for)."""

    user_id: int
    free: int
    answers_enc: str | None


async def pool_generation(session: AsyncSession, *, guild_id: int) -> tuple[int, int]:
    """(generation, floor) of the server's mentor pool: one primary-key read."""
    row = (
        await session.execute(
            select(_generation.c.generation, _generation.c.floor).where(
                _generation.c.guild_id == guild_id
            )
        )
    ).first()
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


async def changed_since(session: AsyncSession, *, guild_id: int, generation: int) -> set[int]:
    """Mentors logged as changed after ``generation`` (``pool_changes.EVERYONE`` among them
    when rows were erased)."""
    result = await session.execute(
        select(_change.c.mentor_id)
        .where(_change.c.guild_id == guild_id, _change.c.generation > generation)
        .distinct()
    )
    return {int(m) for m in result.scalars()}


async def pool_mentors(
    session: AsyncSession,
    *,
    guild_id: int,
    mentor_ids: Collection[int] | None = None,
    answers: bool = True,
) -> list[PoolMentor]:
    """The server's proposable mentors (only ``mentor_ids`` when given), in user id order."""
    pending_query = (
        select(_intro.c.mentor_id, func.count())
        .where(_intro.c.guild_id == guild_id, _intro.c.status == IntroStatus.PENDING)
        .group_by(_intro.c.mentor_id)
    )
    columns = [
        _profile.c.user_id,
        _profile.c.capacity,
        _profile.c.active_mentees,
        _profile.c.mentor_paused,
    ]
    query = (
        select(*columns, _profile.c.answers_enc if answers else null())
        .where(
            _profile.c.guild_id == guild_id,
            _profile.c.role.in_(("mentor", "both")),
            _profile.c.consent_status == ConsentStatus.ACCEPTED,
            _profile.c.completed_at.is_not(None),
        )
        .order_by(_profile.c.user_id)
    )
    if mentor_ids is not None:
        ids = sorted(set(mentor_ids))
        pending_query = pending_query.where(_intro.c.mentor_id.in_(ids))
        query = query.where(_profile.c.user_id.in_(ids))
    pending = {int(m): int(n) for m, n in (await session.execute(pending_query)).all()}
    out = []
    # Streamed in partitions: a large server's rows are turned into Python objects a slice at
    # a time, so the event loop runs in between.
    result = await session.stream(query)
    async for rows in result.partitions(STREAM_ROWS):
        for user_id, capacity, active, paused, encrypted in rows:
            free = 0 if paused else max(0, capacity - active - pending.get(user_id, 0))
            out.append(PoolMentor(int(user_id), free, encrypted))
    return out
