"""Reflections: members' private answers to prompts (encrypted), their journal and sharing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.db.models.prompts import PromptDelivery, Reflection
from bot.db.queries._rows import insert


async def get_reflection(session: AsyncSession, *, reflection_id: int) -> Reflection | None:
    """The reflection ``reflection_id`` (its author is checked by the caller), or ``None``."""
    return await session.get(Reflection, reflection_id)


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
    return await insert(session, row)


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
