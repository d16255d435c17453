"""The scheduler lease: a compare-and-set row so exactly one process runs scheduled work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SchedulerLease
from bot.db.queries._rows import changed


async def database_now(session: AsyncSession) -> datetime:
    """The database server's clock (UTC): one clock for every process that shares the lease."""
    if session.get_bind().dialect.name == "postgresql":
        value: datetime = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
        return value.astimezone(UTC)
    raw = (await session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))).scalar_one()
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


async def claim_lease(
    session: AsyncSession, *, name: str, owner: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease ``name`` for ``owner``; ``False`` if another process holds it."""
    table = SchedulerLease.__table__  # type: ignore[attr-defined]
    result = await session.execute(
        update(table)
        .where(table.c.name == name)
        .where(or_(table.c.owner == owner, table.c.expires_at < now))
        .values(owner=owner, expires_at=now + ttl)
    )
    if changed(result) == 1:
        return True
    if await session.get(SchedulerLease, name) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(SchedulerLease(name=name, owner=owner, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


async def release_lease(session: AsyncSession, *, name: str, owner: str, now: datetime) -> None:
    """Give the lease up at shutdown so a successor can take it at once."""
    table = SchedulerLease.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table)
        .where(table.c.name == name, table.c.owner == owner)
        .values(expires_at=now - timedelta(seconds=1))
    )
