"""The prompt library (shipped prompts with each server's edits), suggestions and schedules."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import Cipher
from bot.db.models.prompts import (
    PromptEntry,
    PromptRevision,
    PromptSchedule,
    PromptSuggestion,
    SuggestionStatus,
)
from bot.db.queries._rows import changed, insert, lock_or_add
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
    key = (guild_id, prompt.key)
    row = await lock_or_add(session, PromptEntry, key, guild_id=guild_id, key=prompt.key)
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
    return await insert(session, row)


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
    if changed(result) != 1:
        return None
    return await session.get(PromptSuggestion, suggestion_id, populate_existing=True)


# ----------------------------------------------------------------------------- schedules


async def create_schedule(session: AsyncSession, **fields: Any) -> PromptSchedule:
    """Store a new schedule."""
    return await insert(session, PromptSchedule(**fields))


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


async def get_schedule(session: AsyncSession, *, schedule_id: int) -> PromptSchedule | None:
    """The schedule ``schedule_id`` (deleted ones included), or ``None``."""
    return await session.get(PromptSchedule, schedule_id)
