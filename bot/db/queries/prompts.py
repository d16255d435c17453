"""Prompts, schedules, occurrences, deliveries and reflections: every query the feature needs."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import Cipher
from bot.db.models.matching import Pair, PairStatus
from bot.db.models.members import PromptSubscription, SubscriptionStatus
from bot.db.models.prompts import (
    DeliveryStatus,
    OccurrenceStatus,
    PromptDelivery,
    PromptEntry,
    PromptOccurrence,
    PromptRevision,
    PromptSchedule,
    PromptSuggestion,
    Reflection,
    SuggestionStatus,
)
from bot.domain.prompts import Library, Prompt, merge_library

# ------------------------------------------------------------------------------ library


def _as_prompt(row: PromptEntry) -> Prompt:
    return Prompt(
        key=row.key,
        area=row.area,
        text=row.text,
        follow_ups=tuple(json.loads(row.follow_ups or "[]")),
        retired=row.retired,
        custom=row.custom,
        edited=not row.custom,
        suggested_by=row.suggested_by_id,
    )


async def load_guild_library(session: AsyncSession, *, guild_id: int, shipped: Library) -> Library:
    """The shipped library with this guild's edits and custom prompts laid over it."""
    rows = (
        await session.execute(select(PromptEntry).where(PromptEntry.guild_id == guild_id))  # type: ignore[arg-type]
    ).scalars()
    return merge_library(shipped, [_as_prompt(r) for r in rows])


async def save_prompt(
    session: AsyncSession,
    *,
    guild_id: int,
    prompt: Prompt,
    action: str,
    now: datetime,
) -> Prompt:
    """Store ``prompt`` as this guild's version of its key and keep the revision."""
    row = await session.get(PromptEntry, (guild_id, prompt.key), with_for_update=True)
    if row is None:
        row = PromptEntry(
            guild_id=guild_id, key=prompt.key, area=prompt.area, text=prompt.text, updated_at=now
        )
        session.add(row)
    row.area = prompt.area
    row.text = prompt.text
    row.follow_ups = json.dumps(list(prompt.follow_ups), ensure_ascii=False)
    row.retired = prompt.retired
    row.custom = prompt.custom
    row.suggested_by_id = prompt.suggested_by
    row.updated_at = now
    session.add(
        PromptRevision(
            guild_id=guild_id,
            key=prompt.key,
            area=prompt.area,
            text=prompt.text,
            follow_ups=row.follow_ups,
            retired=prompt.retired,
            action=action,
            created_at=now,
        )
    )
    await session.flush()
    return _as_prompt(row)


def new_custom_key() -> str:
    """A fresh key for a prompt a guild adds (never collides with shipped keys)."""
    return f"custom-{secrets.token_hex(4)}"


async def prompt_revisions(
    session: AsyncSession, *, guild_id: int, key: str
) -> list[PromptRevision]:
    """Every saved version of ``key`` in this guild, oldest first."""
    result = await session.execute(
        select(PromptRevision)
        .where(PromptRevision.guild_id == guild_id, PromptRevision.key == key)  # type: ignore[arg-type]
        .order_by(PromptRevision.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


# --------------------------------------------------------------------------- suggestions


async def add_suggestion(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    area: str,
    text: str,
    anonymous: bool,
    cipher: Cipher,
    now: datetime,
) -> PromptSuggestion:
    """Queue a member's suggestion for the moderators (text encrypted)."""
    row = PromptSuggestion(
        guild_id=guild_id,
        user_id=user_id,
        area=area,
        text_enc=cipher.encrypt(text) or "",
        anonymous=anonymous,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def pending_suggestions(session: AsyncSession, *, guild_id: int) -> list[PromptSuggestion]:
    """The moderators' queue, oldest first."""
    result = await session.execute(
        select(PromptSuggestion)
        .where(PromptSuggestion.guild_id == guild_id)  # type: ignore[arg-type]
        .where(PromptSuggestion.status == SuggestionStatus.PENDING)  # type: ignore[arg-type]
        .order_by(PromptSuggestion.id)  # type: ignore[arg-type]
        .limit(20)
    )
    return list(result.scalars())


async def decide_suggestion(
    session: AsyncSession, *, suggestion_id: int, status: str, now: datetime
) -> PromptSuggestion | None:
    """Move a pending suggestion to ``status``; ``None`` if someone else decided first."""
    result = await session.execute(
        update(PromptSuggestion)
        .where(PromptSuggestion.id == suggestion_id)  # type: ignore[arg-type]
        .where(PromptSuggestion.status == SuggestionStatus.PENDING)  # type: ignore[arg-type]
        .values(status=status, decided_at=now)
    )
    if (getattr(result, "rowcount", 0) or 0) != 1:
        return None
    return await session.get(PromptSuggestion, suggestion_id, populate_existing=True)


# ----------------------------------------------------------------------------- schedules


async def create_schedule(session: AsyncSession, **fields: Any) -> PromptSchedule:
    """Store a new schedule."""
    row = PromptSchedule(**fields)
    session.add(row)
    await session.flush()
    return row


async def list_schedules(session: AsyncSession, *, guild_id: int) -> list[PromptSchedule]:
    """A guild's schedules (deleted ones left out)."""
    result = await session.execute(
        select(PromptSchedule)
        .where(PromptSchedule.guild_id == guild_id, PromptSchedule.deleted.is_(False))  # type: ignore[arg-type,attr-defined]
        .order_by(PromptSchedule.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def all_live_schedules(session: AsyncSession) -> list[PromptSchedule]:
    """Every schedule that is neither paused nor deleted (to rebuild in-memory jobs)."""
    result = await session.execute(
        select(PromptSchedule).where(
            col(PromptSchedule.deleted).is_(False),
            col(PromptSchedule.paused).is_(False),
        )
    )
    return list(result.scalars())


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
    return (getattr(result, "rowcount", 0) or 0) == 1


async def update_schedule_state(
    session: AsyncSession,
    *,
    guild_id: int,
    schedule_id: int,
    now: datetime,
    paused: bool | None = None,
    deleted: bool | None = None,
    next_run_at: datetime | None = None,
) -> PromptSchedule | None:
    """Pause, resume or delete a schedule of ``guild_id``; ``None`` if it is not theirs."""
    row = await session.get(PromptSchedule, schedule_id, with_for_update=True)
    if row is None or row.guild_id != guild_id or row.deleted:
        return None
    if paused is not None:
        row.paused = paused
    if deleted is not None:
        row.deleted = deleted
    if next_run_at is not None or paused is False:
        row.next_run_at = next_run_at
    row.updated_at = now
    await session.flush()
    return row


# --------------------------------------------------------------------------- occurrences


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
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None
    return row


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
    result = await session.execute(
        select(col(PromptDelivery.prompt_key))
        .where(col(PromptDelivery.kind) == "pair", col(PromptDelivery.recipient_id) == pair_id)
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


async def find_dm_delivery(
    session: AsyncSession, *, user_id: int, message_id: int
) -> PromptDelivery | None:
    """The DM delivery whose message ``message_id`` went to ``user_id``."""
    result = await session.execute(
        select(PromptDelivery)
        .where(PromptDelivery.message_id == message_id, PromptDelivery.user_id == user_id)  # type: ignore[arg-type]
        .where(PromptDelivery.kind == "dm")  # type: ignore[arg-type]
    )
    return result.scalars().first()


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


async def pause_all_subscriptions(
    session: AsyncSession, *, user_id: int, now: datetime
) -> list[int]:
    """Pause DM prompts in every server (the DM words "pause prompts"); the servers paused."""
    result = await session.execute(
        update(PromptSubscription)
        .where(PromptSubscription.user_id == user_id)  # type: ignore[arg-type]
        .where(PromptSubscription.status == SubscriptionStatus.SUBSCRIBED)  # type: ignore[arg-type]
        .values(status=SubscriptionStatus.PAUSED, updated_at=now)
        .returning(col(PromptSubscription.guild_id))
    )
    return sorted(int(g) for g in result.scalars())


async def active_pairs(session: AsyncSession, *, guild_id: int) -> list[Pair]:
    """Pairs with a pair space in ``guild_id``."""
    result = await session.execute(
        select(Pair)
        .where(Pair.guild_id == guild_id, Pair.status == PairStatus.ACTIVE)  # type: ignore[arg-type]
        .where(Pair.channel_id.is_not(None))  # type: ignore[union-attr]
        .order_by(Pair.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def pair_of_member(session: AsyncSession, *, guild_id: int, user_id: int) -> Pair | None:
    """The member's most recent active pair in ``guild_id``."""
    result = await session.execute(
        select(Pair)
        .where(Pair.guild_id == guild_id, Pair.status == PairStatus.ACTIVE)  # type: ignore[arg-type]
        .where(or_(Pair.mentee_id == user_id, Pair.mentor_id == user_id))  # type: ignore[arg-type]
        .order_by(Pair.id.desc())  # type: ignore[union-attr]
    )
    return result.scalars().first()


# ---------------------------------------------------------------------------- reflections


async def save_reflection(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    text: str,
    cipher: Cipher,
    now: datetime,
    prompt_key: str | None,
    area: str | None,
    occurrence_id: int | None,
    delivery_id: int | None,
) -> Reflection:
    """Store a member's reflection, encrypted."""
    row = Reflection(
        guild_id=guild_id,
        user_id=user_id,
        text_enc=cipher.encrypt(text) or "",
        created_at=now,
        prompt_key=prompt_key,
        area=area,
        occurrence_id=occurrence_id,
        delivery_id=delivery_id,
    )
    session.add(row)
    await session.flush()
    return row


async def list_reflections(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    area: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Reflection], int]:
    """A page of the member's own reflections, newest first, and how many there are."""
    where = [Reflection.guild_id == guild_id, Reflection.user_id == user_id]
    if area:
        where.append(Reflection.area == area)
    total = (
        await session.execute(select(func.count()).select_from(Reflection).where(*where))  # type: ignore[arg-type]
    ).scalar_one()
    rows = await session.execute(
        select(Reflection)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())  # type: ignore[attr-defined,union-attr]
        .offset(offset)
        .limit(limit)
    )
    return list(rows.scalars()), int(total)


async def mark_reflection_shared(
    session: AsyncSession, *, reflection_id: int, where: str, now: datetime
) -> None:
    """Record that the author shared an excerpt (``pair`` or ``thread``)."""
    column = "shared_pair_at" if where == "pair" else "shared_thread_at"
    await session.execute(
        update(Reflection).where(Reflection.id == reflection_id).values({column: now})  # type: ignore[arg-type]
    )
