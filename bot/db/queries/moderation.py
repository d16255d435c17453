"""The moderators' audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry


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
