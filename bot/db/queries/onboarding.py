"""Onboarding state: finishing once, moving between pages, moderators' totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.db.models.members import ConsentStatus, MemberProfile
from bot.db.pool_changes import MARKED, POOL_COLUMNS, mark
from bot.db.queries._rows import changed
from bot.domain.onboarding import DONE, OnboardingCounts


async def _update_unfinished(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    where: Sequence[Any] = (),
    **values: Any,
) -> bool:
    """Set ``values`` on the member's profile if onboarding is not finished; ``True`` if set."""
    outcome = await session.execute(
        update(MemberProfile)
        .where(MemberProfile.guild_id == guild_id)  # type: ignore[arg-type]
        .where(MemberProfile.user_id == user_id)  # type: ignore[arg-type]
        .where(MemberProfile.completed_at.is_(None))  # type: ignore[union-attr]
        .where(*where)
        .values(**values),
        execution_options=MARKED,
    )
    if POOL_COLUMNS & values.keys():  # e.g. a finished mentor joins the mentor pool
        mark(session, guild_id, (user_id,))
    return bool(changed(outcome))


async def mark_completed(
    session: AsyncSession, *, guild_id: int, user_id: int, now: datetime
) -> bool:
    """Mark onboarding finished; ``True`` only for the one call that finished it."""
    return await _update_unfinished(
        session, guild_id=guild_id, user_id=user_id, completed_at=now, step=DONE, updated_at=now
    )


async def set_step(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    step: str,
    now: datetime,
    order: Sequence[str] | None = None,
) -> bool:
    """Move an unfinished onboarding to ``step`` (Skip); finished profiles stay put. Given the
    pages' ``order``, only forward: a member further along than ``step`` stays where they are."""
    where: list[Any] = []
    if order is not None:
        if step not in order:
            return False
        earlier = list(order[: order.index(step)])
        current = col(MemberProfile.step)
        where.append(or_(current.is_(None), current.in_(earlier), current.not_in(list(order))))
    return await _update_unfinished(
        session, guild_id=guild_id, user_id=user_id, where=where, step=step, updated_at=now
    )


async def onboarding_counts(session: AsyncSession, *, guild_id: int) -> OnboardingCounts:
    """How many members of ``guild_id`` started, completed, agreed, declined and withdrew."""
    consent = col(MemberProfile.consent_status)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(col(MemberProfile.completed_at)),
                func.count().filter(consent == ConsentStatus.ACCEPTED),
                func.count().filter(consent == ConsentStatus.DECLINED),
                func.count().filter(consent == ConsentStatus.WITHDRAWN),
            ).where(MemberProfile.guild_id == guild_id)  # type: ignore[arg-type]
        )
    ).one()
    return OnboardingCounts(
        started=row[0], completed=row[1], consented=row[2], declined=row[3], withdrawn=row[4]
    )
