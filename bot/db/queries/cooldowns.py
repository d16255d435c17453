"""Per-member cooldowns, shared by every process: one atomic upsert claims the next use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Cooldown
from bot.db.queries._rows import dialect_insert

_cooldown = Cooldown.__table__  # type: ignore[attr-defined]


async def claim_cooldown(
    session: AsyncSession, *, subject_id: int, action: str, now: datetime, every: timedelta
) -> datetime | None:
    """Take ``action`` for ``subject_id`` now, unless it was taken less than ``every`` ago.

    ``None`` when claimed; otherwise when it may be taken again. Atomic on both databases
    (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), so of many simultaneous claims exactly one
    wins. Rolled back with the caller's transaction, so work that fails uses no cooldown.
    """
    row = {"subject_id": subject_id, "action": action, "last_at": now}
    upsert = dialect_insert(session, _cooldown).values(**row)
    stmt = upsert.on_conflict_do_update(
        index_elements=[_cooldown.c.subject_id, _cooldown.c.action],
        set_={"last_at": now},
        where=_cooldown.c.last_at <= now - every,
    ).returning(_cooldown.c.last_at)
    if (await session.execute(stmt)).first() is not None:
        return None
    last = await session.execute(
        select(_cooldown.c.last_at).where(
            _cooldown.c.subject_id == subject_id, _cooldown.c.action == action
        )
    )
    last_at = last.scalar_one_or_none()
    return (last_at if last_at is not None else now) + every


async def release_cooldown(
    session: AsyncSession, *, subject_id: int, action: str, claimed_at: datetime
) -> None:
    """Give back the claim taken at ``claimed_at`` (the work behind it could not be done and
    will be tried again); a newer claim, by this process or another, is left alone."""
    await session.execute(
        delete(_cooldown).where(
            _cooldown.c.subject_id == subject_id,
            _cooldown.c.action == action,
            _cooldown.c.last_at == claimed_at,
        )
    )
