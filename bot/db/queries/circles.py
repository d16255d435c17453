"""Peer circles: the waiting list, circles and their members, claiming a circle's space.

State changes are compare-and-set (rowcount checked): a waiting entry is taken by exactly one
round, a circle's space is claimed by exactly one opener."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Circle, CircleMember, CircleStatus, CircleWaiting
from bot.db.queries._rows import CREATING, awaiting_space, changed, insert
from bot.domain.text import fit

C: Any = Circle
M: Any = CircleMember
W: Any = CircleWaiting
LIVE = (CircleStatus.OPENING, CircleStatus.OPEN)


# --- the waiting list ---------------------------------------------------------------------


async def get_waiting(
    session: AsyncSession, *, guild_id: int, user_id: int
) -> CircleWaiting | None:
    """The member's waiting entry in this server, if any."""
    return await session.get(CircleWaiting, (guild_id, user_id), populate_existing=True)


async def set_waiting(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    area: str,
    facilitate: bool,
    now: datetime,
) -> str | None:
    """Wait for a circle in ``area`` (replacing another area's entry); the area waited for
    before, if any. Changing only ``facilitate`` keeps the place in the queue."""
    row = await session.get(CircleWaiting, (guild_id, user_id), with_for_update=True)
    if row is None:
        await insert(
            session,
            CircleWaiting(
                guild_id=guild_id, user_id=user_id, area=area, facilitate=facilitate, since=now
            ),
        )
        return None
    before = row.area
    if row.area != area:
        row.since = now
    row.area, row.facilitate = area, facilitate
    await session.flush()
    return before


async def remove_waiting(session: AsyncSession, *, guild_id: int, user_id: int) -> bool:
    """Take the member off the waiting list; whether they were on it."""
    result = await session.execute(delete(W).where(W.guild_id == guild_id, W.user_id == user_id))
    return changed(result) == 1


async def take_waiting(session: AsyncSession, *, guild_id: int, user_id: int, area: str) -> bool:
    """A round places the member: true for exactly one caller, and only if they still wait for
    ``area``."""
    result = await session.execute(
        delete(W).where(W.guild_id == guild_id, W.user_id == user_id, W.area == area)
    )
    return changed(result) == 1


async def waiting_list(session: AsyncSession, *, guild_id: int) -> list[CircleWaiting]:
    """Everyone waiting in the server, longest wait first."""
    result = await session.execute(
        select(CircleWaiting).where(W.guild_id == guild_id).order_by(W.since, W.user_id)
    )
    return list(result.scalars())


# --- circles and members ----------------------------------------------------------------------


async def create_circle(
    session: AsyncSession,
    *,
    guild_id: int,
    area: str,
    reasons_enc: str | None,
    people: Sequence[tuple[int, str]],
    now: datetime,
) -> Circle:
    """A new ``opening`` circle with its people (user id, role)."""
    circle = await insert(
        session, Circle(guild_id=guild_id, area=area, reasons_enc=reasons_enc, created_at=now)
    )
    assert circle.id is not None
    for user_id, role in people:
        session.add(
            CircleMember(
                circle_id=circle.id, user_id=user_id, guild_id=guild_id, role=role, joined_at=now
            )
        )
    await session.flush()
    return circle


async def get_circle(session: AsyncSession, *, circle_id: int) -> Circle | None:
    """One circle (fresh from the database)."""
    return await session.get(Circle, circle_id, populate_existing=True)


async def circle_for_space(session: AsyncSession, *, space_id: int) -> Circle | None:
    """The circle whose channel or thread ``space_id`` is."""
    result = await session.execute(
        select(Circle).where(or_(C.channel_id == space_id, C.thread_id == space_id)).limit(1)
    )
    return result.scalars().first()


async def lock_circle(session: AsyncSession, *, circle_id: int) -> Circle | None:
    """The circle, locked for this transaction: who is left in it is decided one at a time."""
    return await session.get(Circle, circle_id, with_for_update=True, populate_existing=True)


async def members_of(session: AsyncSession, *, circle_id: int) -> list[CircleMember]:
    """A circle's people, members first, then by when they joined."""
    result = await session.execute(
        select(CircleMember).where(M.circle_id == circle_id).order_by(M.role.desc(), M.user_id)
    )
    return list(result.scalars())


async def live_circle_of(
    session: AsyncSession, *, guild_id: int, user_id: int
) -> tuple[Circle, CircleMember] | None:
    """The member's circle that is opening or open in this server, with their membership."""
    result = await session.execute(
        select(Circle, CircleMember)
        .join(CircleMember, M.circle_id == C.id)
        .where(M.guild_id == guild_id, M.user_id == user_id, C.status.in_(LIVE))
        .order_by(C.id)
        .limit(1)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def live_members(session: AsyncSession, *, guild_id: int) -> set[int]:
    """Everyone in an opening or open circle of the server."""
    result = await session.execute(
        select(M.user_id)
        .join(Circle, M.circle_id == C.id)
        .where(M.guild_id == guild_id, C.status.in_(LIVE))
    )
    return {int(u) for u in result.scalars()}


async def remove_member(session: AsyncSession, *, circle_id: int, user_id: int) -> bool:
    """Take someone out of a circle; true for the one caller who did."""
    result = await session.execute(delete(M).where(M.circle_id == circle_id, M.user_id == user_id))
    return changed(result) == 1


async def count_members(session: AsyncSession, *, circle_id: int) -> int:
    """How many people are in the circle now."""
    result = await session.execute(select(func.count()).where(M.circle_id == circle_id))
    return int(result.scalar_one())


async def close_circle(
    session: AsyncSession,
    *,
    circle_id: int,
    now: datetime,
    reason: str,
    quiet_since: datetime | None = None,
) -> bool:
    """Close the circle for ``reason``; true for the one caller who did. With ``quiet_since``
    (a quiet circle closing) only while it is open, nobody has written since then, and its
    space was warned about that same silence."""
    where = [C.id == circle_id, C.status != CircleStatus.CLOSED]
    if quiet_since is not None:
        where += [
            C.status == CircleStatus.OPEN,
            C.last_activity_at == quiet_since,
            C.quiet_warned_for == quiet_since,
        ]
    result = await session.execute(
        update(C)
        .where(*where)
        .values(status=CircleStatus.CLOSED, closed_at=now, close_reason=reason)
    )
    return changed(result) == 1


async def forget_circle_space(session: AsyncSession, *, circle_id: int) -> None:
    """The circle's space is gone: nothing may post to it, find it or delete it any more."""
    await session.execute(
        update(C).where(C.id == circle_id).values(channel_id=None, thread_id=None)
    )


async def last_closed_circle_of(
    session: AsyncSession, *, guild_id: int, user_id: int
) -> Circle | None:
    """The member's most recently closed circle in this server that they were still in."""
    result = await session.execute(
        select(Circle)
        .join(CircleMember, M.circle_id == C.id)
        .where(M.guild_id == guild_id, M.user_id == user_id, C.status == CircleStatus.CLOSED)
        .order_by(C.closed_at.desc(), C.id.desc())
        .limit(1)
    )
    return result.scalars().first()


async def open_circle_spaces(session: AsyncSession) -> list[tuple[int, int]]:
    """Every open circle's (id, space id), in every server."""
    result = await session.execute(
        select(C.id, func.coalesce(C.channel_id, C.thread_id))
        .where(C.status == CircleStatus.OPEN)
        .where(or_(C.channel_id.is_not(None), C.thread_id.is_not(None)))
        .order_by(C.id)
    )
    return [(int(row[0]), int(row[1])) for row in result]


async def open_circles(session: AsyncSession, *, guild_id: int) -> list[Circle]:
    """The server's open circles that have a space, oldest first."""
    result = await session.execute(
        select(Circle)
        .where(C.guild_id == guild_id, C.status == CircleStatus.OPEN)
        .where(or_(C.channel_id.is_not(None), C.thread_id.is_not(None)))
        .order_by(C.id)
    )
    return list(result.scalars())


# --- activity ---------------------------------------------------------------------------------


async def touch_circle(session: AsyncSession, *, circle_id: int, now: datetime) -> None:
    """A member wrote in the open circle's space: its quiet starts over (a warning is void)."""
    await session.execute(
        update(C)
        .where(C.id == circle_id, C.status == CircleStatus.OPEN)
        .values(last_activity_at=now, quiet_warned_for=None, quiet_closes_at=None)
    )


async def quiet_circles(session: AsyncSession, *, before: datetime) -> list[Circle]:
    """Open circles, in every server, with a space and nobody writing in it since ``before``."""
    result = await session.execute(
        select(Circle)
        .where(C.status == CircleStatus.OPEN, C.last_activity_at < before)
        .where(or_(C.channel_id.is_not(None), C.thread_id.is_not(None)))
        .order_by(C.id)
    )
    return list(result.scalars())


async def claim_quiet_warning(
    session: AsyncSession,
    *,
    circle_id: int,
    quiet_since: datetime,
    seen: datetime | None,
    closes_at: datetime,
) -> bool:
    """Record the closing warning of a circle quiet since ``quiet_since``, for exactly one
    caller who saw the announced date ``seen``, and only while nobody has written since."""
    result = await session.execute(
        update(C)
        .where(C.id == circle_id, C.status == CircleStatus.OPEN)
        .where(C.last_activity_at == quiet_since)
        .where(C.quiet_closes_at.is_(None) if seen is None else C.quiet_closes_at == seen)
        .values(quiet_warned_for=quiet_since, quiet_closes_at=closes_at)
    )
    return changed(result) == 1


async def release_quiet_warning(
    session: AsyncSession, *, circle_id: int, closes_at: datetime
) -> None:
    """The warning announcing ``closes_at`` could not be posted: forget it (a later sweep
    warns again), unless something else changed it meanwhile."""
    await session.execute(
        update(C)
        .where(C.id == circle_id, C.quiet_closes_at == closes_at)
        .values(quiet_warned_for=None, quiet_closes_at=None)
    )


# --- the space ------------------------------------------------------------------------------


async def claim_circle_space(session: AsyncSession, *, circle_id: int, now: datetime) -> bool:
    """Claim the creation of a circle's space: true for exactly one concurrent caller."""
    result = await session.execute(
        update(C)
        .where(
            C.id == circle_id,
            C.status == CircleStatus.OPENING,
            or_(C.space_error.is_(None), C.space_error != CREATING),
        )
        .values(space_error=CREATING, claimed_at=now)
    )
    return changed(result) == 1


async def complete_circle_space(
    session: AsyncSession,
    *,
    circle_id: int,
    channel_id: int | None,
    thread_id: int | None,
    now: datetime,
) -> bool:
    """Record the space and open the circle (only from the claimed state)."""
    result = await session.execute(
        update(C)
        .where(C.id == circle_id, C.status == CircleStatus.OPENING, C.space_error == CREATING)
        .values(
            status=CircleStatus.OPEN,
            channel_id=channel_id,
            thread_id=thread_id,
            space_error=None,
            opened_at=now,
            last_activity_at=now,
        )
    )
    return changed(result) == 1


async def fail_circle_space(session: AsyncSession, *, circle_id: int, error: str) -> bool:
    """Leave the circle ``opening`` with ``error`` for a retry; true the first time this kind
    of failure is recorded (moderators are told once per kind)."""
    error = fit(error, 64)
    await session.execute(
        update(C)
        .where(C.id == circle_id, C.status == CircleStatus.OPENING, C.space_error == CREATING)
        .values(space_error=error)
    )
    result = await session.execute(
        update(C)
        .where(C.id == circle_id, or_(C.error_alerted.is_(None), C.error_alerted != error))
        .values(error_alerted=error)
    )
    return changed(result) == 1


async def set_circle_opening(session: AsyncSession, *, circle_id: int, message_id: int) -> None:
    """Remember the opening message."""
    await session.execute(update(C).where(C.id == circle_id).values(opening_message_id=message_id))


async def circles_to_open(
    session: AsyncSession, *, now: datetime, grace: timedelta, stale: timedelta
) -> list[int]:
    """Circles still waiting for a space: never tried (past ``grace``), failed, or a claim
    stuck longer than ``stale`` (released first)."""
    await session.execute(
        update(C)
        .where(C.status == CircleStatus.OPENING, C.space_error == CREATING)
        .where(C.claimed_at < now - stale)
        .values(space_error="interrupted")
    )
    return await awaiting_space(session, C, CircleStatus.OPENING, now=now, grace=grace)
