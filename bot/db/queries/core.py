"""Guild settings and the moderators' audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, GuildSettings

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
    settings = await session.get(GuildSettings, guild_id, with_for_update=True)
    if settings is None:
        settings = GuildSettings(guild_id=guild_id, updated_at=now)
        session.add(settings)
    for key, value in changes.items():
        setattr(settings, key, value)
    settings.updated_at = now
    await session.flush()
    return settings


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
