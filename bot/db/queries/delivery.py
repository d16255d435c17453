"""Delivering prompts: due schedules, claimed occurrences and each recipient's delivery row.

Every occurrence and every recipient is a unique row written before anything is sent, so a
restart or an overlapping sweep never sends twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.db.models.members import PromptSubscription
from bot.db.models.prompts import (
    DeliveryStatus,
    OccurrenceStatus,
    PromptDelivery,
    PromptOccurrence,
    PromptSchedule,
)
from bot.db.queries._rows import changed, insert

# ----------------------------------------------------------------------------- schedules


async def due_schedules(session: AsyncSession, *, now: datetime) -> list[PromptSchedule]:
    """Live schedules whose next run is at or before ``now``."""
    result = await session.execute(
        select(PromptSchedule)
        .where(PromptSchedule.deleted.is_(False), PromptSchedule.paused.is_(False))  # type: ignore[attr-defined]
        .where(PromptSchedule.next_run_at <= now)  # type: ignore[operator, arg-type]
        .order_by(PromptSchedule.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def advance_schedule(
    session: AsyncSession,
    *,
    schedule_id: int,
    expected: datetime | None,
    next_run_at: datetime | None,
    now: datetime,
) -> bool:
    """Compare-and-set the schedule's next run; ``False`` if another run moved it first."""
    result = await session.execute(
        update(PromptSchedule)
        .where(PromptSchedule.id == schedule_id)  # type: ignore[arg-type]
        .where(PromptSchedule.next_run_at == expected)  # type: ignore[arg-type]
        .values(next_run_at=next_run_at, updated_at=now)
    )
    return changed(result) == 1


# --------------------------------------------------------------------------- occurrences


async def get_occurrence(session: AsyncSession, *, occurrence_id: int) -> PromptOccurrence | None:
    """The occurrence ``occurrence_id``, or ``None``."""
    return await session.get(PromptOccurrence, occurrence_id)


async def claim_occurrence(
    session: AsyncSession,
    *,
    schedule: PromptSchedule,
    due_at: datetime,
    prompt_key: str | None,
    now: datetime,
    status: str = OccurrenceStatus.SENDING,
    manual: bool = False,
) -> PromptOccurrence | None:
    """Insert the occurrence's unique row; ``None`` if it was already claimed."""
    row = PromptOccurrence(
        guild_id=schedule.guild_id,
        schedule_id=schedule.id,  # type: ignore[arg-type]
        due_at=due_at,
        prompt_key=prompt_key,
        status=status,
        manual=manual,
        created_at=now,
        finished_at=now if status == OccurrenceStatus.SKIPPED else None,
    )
    try:
        async with session.begin_nested():
            await insert(session, row)
    except IntegrityError:
        return None
    return row


async def claim_unsent_occurrence(
    session: AsyncSession,
    *,
    schedule: PromptSchedule,
    due_at: datetime,
    status: str,
    now: datetime,
) -> PromptOccurrence | None:
    """Record a firing that sends nothing (``skipped``, ``no_prompt``) so it is never sent;
    ``None`` if it was already claimed."""
    return await claim_occurrence(
        session, schedule=schedule, due_at=due_at, prompt_key=None, now=now, status=status
    )


async def schedule_history(session: AsyncSession, *, schedule_id: int) -> list[str]:
    """Prompt keys this schedule sent, oldest first (for rotation)."""
    result = await session.execute(
        select(col(PromptOccurrence.prompt_key))
        .where(col(PromptOccurrence.schedule_id) == schedule_id)
        .where(col(PromptOccurrence.status) != OccurrenceStatus.SKIPPED)
        .order_by(col(PromptOccurrence.due_at))
        .limit(2000)
    )
    return [k for k in result.scalars() if k]


async def pair_history(session: AsyncSession, *, pair_id: int) -> list[str]:
    """Prompt keys sent to a pair space, oldest first."""
    return await space_history(session, kind="pair", recipient_id=pair_id)


async def space_history(session: AsyncSession, *, kind: str, recipient_id: int) -> list[str]:
    """Prompt keys sent to one space (``kind``: pair or circle), oldest first."""
    result = await session.execute(
        select(col(PromptDelivery.prompt_key))
        .where(col(PromptDelivery.kind) == kind, col(PromptDelivery.recipient_id) == recipient_id)
        .order_by(col(PromptDelivery.id))
        .limit(2000)
    )
    return [k for k in result.scalars() if k]


async def unfinished_occurrences(session: AsyncSession) -> list[PromptOccurrence]:
    """Occurrences claimed but not finished (a crash, or recipients waiting for a retry)."""
    result = await session.execute(
        select(PromptOccurrence)
        .where(PromptOccurrence.status == OccurrenceStatus.SENDING)  # type: ignore[arg-type]
        .order_by(PromptOccurrence.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def finish_occurrence(session: AsyncSession, *, occurrence_id: int, now: datetime) -> None:
    """Mark an occurrence done."""
    await session.execute(
        update(PromptOccurrence)
        .where(PromptOccurrence.id == occurrence_id)  # type: ignore[arg-type]
        .values(status=OccurrenceStatus.DONE, finished_at=now)
    )


async def set_occurrence_post(
    session: AsyncSession, *, occurrence_id: int, message_id: int, thread_id: int | None
) -> None:
    """Remember the community post and its thread."""
    await session.execute(
        update(PromptOccurrence)
        .where(PromptOccurrence.id == occurrence_id)  # type: ignore[arg-type]
        .values(channel_message_id=message_id, thread_id=thread_id)
    )


async def last_occurrences(
    session: AsyncSession, *, schedule_ids: Sequence[int]
) -> dict[int, PromptOccurrence]:
    """The most recent non-skipped occurrence of each schedule."""
    found: dict[int, PromptOccurrence] = {}
    if not schedule_ids:
        return found
    result = await session.execute(
        select(PromptOccurrence)
        .where(PromptOccurrence.schedule_id.in_(schedule_ids))  # type: ignore[attr-defined]
        .where(PromptOccurrence.status != OccurrenceStatus.SKIPPED)  # type: ignore[arg-type]
        .order_by(PromptOccurrence.due_at)  # type: ignore[arg-type]
    )
    for row in result.scalars():
        found[row.schedule_id] = row
    return found


# ---------------------------------------------------------------------------- deliveries


async def get_delivery(session: AsyncSession, *, delivery_id: int) -> PromptDelivery | None:
    """The delivery ``delivery_id``, or ``None``."""
    return await session.get(PromptDelivery, delivery_id)


async def add_deliveries(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the recipients of an occurrence (pending), in one statement."""
    if rows:
        await session.execute(PromptDelivery.__table__.insert(), list(rows))  # type: ignore[attr-defined]


async def claim_deliveries(
    session: AsyncSession, *, occurrence_id: int, kind: str, now: datetime, limit: int
) -> list[Any]:
    """Move up to ``limit`` pending (or due retry) deliveries to ``sending`` and return them.

    Rows come back as light records (id, recipient_id, user_id, prompt_key, attempts,
    updated_at): the fan-out handles thousands and needs no ORM objects.
    """
    table = PromptDelivery.__table__  # type: ignore[attr-defined]
    waiting = or_(
        table.c.status == DeliveryStatus.PENDING,
        (table.c.status == DeliveryStatus.RETRY) & (table.c.next_attempt_at <= now),
    )
    ids = list(
        (
            await session.execute(
                select(table.c.id)
                .where(table.c.occurrence_id == occurrence_id, table.c.kind == kind)
                .where(waiting)
                .order_by(table.c.id)
                .limit(limit)
            )
        ).scalars()
    )
    if not ids:
        return []
    result = await session.execute(
        update(table)
        .where(table.c.id.in_(ids))
        .where(waiting)
        .values(status=DeliveryStatus.SENDING, updated_at=now, attempts=table.c.attempts + 1)
        .returning(
            table.c.id,
            table.c.recipient_id,
            table.c.user_id,
            table.c.prompt_key,
            table.c.attempts,
            table.c.updated_at,
        )
    )
    return sorted(result.all(), key=lambda d: d.id)


async def record_outcomes(session: AsyncSession, *, outcomes: Sequence[dict[str, Any]]) -> None:
    """Write each recipient's outcome (dicts with ``id`` and the changed columns).

    Outcomes with the same set of columns go in one executemany statement.
    """
    table = PromptDelivery.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        columns = tuple(sorted(k for k in outcome if k != "id"))
        groups.setdefault(columns, []).append(
            {"b_id": outcome["id"], **{f"b_{c}": outcome[c] for c in columns}}
        )
    for columns, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        await session.execute(statement, params)


async def delivery_counts(session: AsyncSession, *, occurrence_id: int) -> dict[str, int]:
    """How many deliveries of an occurrence ended in each status, by kind:status."""
    result = await session.execute(
        select(col(PromptDelivery.kind), col(PromptDelivery.status), func.count())
        .where(col(PromptDelivery.occurrence_id) == occurrence_id)
        .group_by(col(PromptDelivery.kind), col(PromptDelivery.status))
    )
    return {f"{kind}:{status}": int(n) for kind, status, n in result.all()}


async def skip_retired(
    session: AsyncSession, *, occurrence_id: int, retired_keys: Sequence[str], now: datetime
) -> int:
    """Waiting deliveries (pending or retry) of a retired prompt are skipped; how many."""
    if not retired_keys:
        return 0
    result = await session.execute(
        update(PromptDelivery)
        .where(col(PromptDelivery.occurrence_id) == occurrence_id)
        .where(col(PromptDelivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]))
        .where(col(PromptDelivery.prompt_key).in_(list(retired_keys)))
        .values(status=DeliveryStatus.RETIRED, updated_at=now)
    )
    return changed(result)


async def recent_occurrences(
    session: AsyncSession, *, schedule_id: int, limit: int
) -> list[PromptOccurrence]:
    """A schedule's last ``limit`` runs (skipped ones included), newest first."""
    result = await session.execute(
        select(PromptOccurrence)
        .where(col(PromptOccurrence.schedule_id) == schedule_id)
        .order_by(col(PromptOccurrence.due_at).desc(), col(PromptOccurrence.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def has_open_deliveries(session: AsyncSession, *, occurrence_id: int) -> bool:
    """Whether some recipient still waits (pending or retry)."""
    result = await session.execute(
        select(func.count())
        .select_from(PromptDelivery)
        .where(PromptDelivery.occurrence_id == occurrence_id)  # type: ignore[arg-type]
        .where(
            PromptDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY])  # type: ignore[attr-defined]
        )
    )
    return int(result.scalar_one()) > 0


async def known_dm_channels(
    session: AsyncSession, *, guild_id: int, user_ids: Sequence[int]
) -> dict[int, int]:
    """The DM channel ids Lantern already knows for ``user_ids``."""
    if not user_ids:
        return {}
    table = PromptSubscription.__table__  # type: ignore[attr-defined]
    result = await session.execute(
        select(table.c.user_id, table.c.dm_channel_id)
        .where(table.c.guild_id == guild_id)
        .where(table.c.user_id.in_(list(user_ids)))
        .where(table.c.dm_channel_id.is_not(None))
    )
    return {int(u): int(c) for u, c in result.all()}


async def remember_dm_channels(
    session: AsyncSession, *, guild_id: int, channels: dict[int, int]
) -> None:
    """Keep each member's DM channel id once known (opening a DM costs a request)."""
    for user_id, channel_id in channels.items():
        await session.execute(
            update(PromptSubscription)
            .where(PromptSubscription.guild_id == guild_id, PromptSubscription.user_id == user_id)  # type: ignore[arg-type]
            .values(dm_channel_id=channel_id or None)
        )


async def mark_dms_closed(
    session: AsyncSession, *, guild_id: int, user_ids: Sequence[int], now: datetime
) -> None:
    """Members whose DMs are closed are not retried until they act again."""
    if user_ids:
        await session.execute(
            update(PromptSubscription)
            .where(PromptSubscription.guild_id == guild_id)  # type: ignore[arg-type]
            .where(PromptSubscription.user_id.in_(list(user_ids)))  # type: ignore[attr-defined]
            .values(dm_closed_at=now)
        )
