"""Guild settings: the choices a server made in /setup."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildSettings
from bot.db.queries._rows import lock_or_add

SETTING_FIELDS = (
    "moderator_role_id",
    "intro_channel_id",
    "pair_category_id",
    "reflections_channel_id",
    "welcome_channel_id",
    "alerts_channel_id",
    "moderators_see_pairs",
)


async def get_guild_settings(session: AsyncSession, *, guild_id: int) -> GuildSettings | None:
    """The server's saved choices, or ``None`` before its first /setup."""
    return await session.get(GuildSettings, guild_id)


async def save_guild_settings(
    session: AsyncSession, *, guild_id: int, now: datetime, changes: dict[str, Any]
) -> GuildSettings:
    """Apply ``changes`` to the server's settings, creating the row on first use."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"unknown guild settings: {sorted(unknown)}")
    settings = await lock_or_add(
        session, GuildSettings, guild_id, guild_id=guild_id, updated_at=now
    )
    for key, value in changes.items():
        setattr(settings, key, value)
    settings.updated_at = now
    await session.flush()
    return settings
