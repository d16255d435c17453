"""The moderators' audit trail, blocks between members, and the queue of reports and calls for
help (stored first, delivered to the alerts channel after, retried until they arrive)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, Block, HelpCall, Pair, PairReport, ReportStatus
from bot.db.queries._rows import changed, insert

_block = Block.__table__  # type: ignore[attr-defined]


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


async def add_block(
    session: AsyncSession, *, guild_id: int, blocker_id: int, blocked_id: int, now: datetime
) -> bool:
    """Record that ``blocker_id`` never wants to be paired with ``blocked_id``.

    Idempotent and race-safe (a unique key): ``False`` when the block already existed.
    """
    exists = await session.execute(
        select(_block.c.id).where(
            _block.c.guild_id == guild_id,
            _block.c.blocker_id == blocker_id,
            _block.c.blocked_id == blocked_id,
        )
    )
    if exists.first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Block(
                    guild_id=guild_id, blocker_id=blocker_id, blocked_id=blocked_id, created_at=now
                )
            )
            await session.flush()
    except IntegrityError:
        return False
    return True


# ---------------------------------------------------------------- reports and calls for help

CASE_TABLES: dict[str, Any] = {
    "report": PairReport.__table__,  # type: ignore[attr-defined]
    "help": HelpCall.__table__,  # type: ignore[attr-defined]
}
CASE_MODELS: dict[str, Any] = {"report": PairReport, "help": HelpCall}
_OPEN = (ReportStatus.OPEN, ReportStatus.ACKNOWLEDGED)


async def add_help_call(
    session: AsyncSession,
    *,
    guild_id: int,
    pair_id: int,
    user_id: int,
    at_checkin: bool,
    now: datetime,
) -> HelpCall:
    """Store a call for help, claimed for delivery by its caller (the sweep waits its turn)."""
    return await insert(
        session,
        HelpCall(
            guild_id=guild_id,
            pair_id=pair_id,
            user_id=user_id,
            at_checkin=at_checkin,
            created_at=now,
            alert_claimed_at=now,
        ),
    )


async def get_case(session: AsyncSession, *, kind: str, case_id: int) -> tuple[Any, Pair] | None:
    """A report or call for help and its pair."""
    row = await session.get(CASE_MODELS[kind], case_id)
    if row is None:
        return None
    pair = await session.get(Pair, row.pair_id)
    return None if pair is None else (row, pair)


async def undelivered_cases(
    session: AsyncSession, *, now: datetime, retry: timedelta
) -> list[tuple[str, int]]:
    """Cases that never reached the moderators and whose last attempt is ``retry`` old."""
    found: list[tuple[str, int, datetime]] = []
    for kind, table in CASE_TABLES.items():
        rows = await session.execute(
            select(table.c.id, table.c.created_at).where(
                table.c.alerted_at.is_(None),
                or_(table.c.alert_claimed_at.is_(None), table.c.alert_claimed_at <= now - retry),
            )
        )
        found.extend((kind, case_id, created) for case_id, created in rows.all())
    return [(kind, case_id) for kind, case_id, _ in sorted(found, key=lambda f: f[2])]


async def claim_case_delivery(
    session: AsyncSession, *, kind: str, case_id: int, now: datetime, retry: timedelta
) -> bool:
    """Claim one delivery attempt (compare-and-set): one process at a time tries each case."""
    table = CASE_TABLES[kind]
    result = await session.execute(
        update(table)
        .where(
            table.c.id == case_id,
            table.c.alerted_at.is_(None),
            or_(table.c.alert_claimed_at.is_(None), table.c.alert_claimed_at <= now - retry),
        )
        .values(alert_claimed_at=now)
    )
    return changed(result) == 1


async def mark_case_delivered(
    session: AsyncSession, *, kind: str, case_id: int, now: datetime
) -> None:
    """The alert reached the moderators at ``now``."""
    table = CASE_TABLES[kind]
    await session.execute(
        update(table)
        .where(table.c.id == case_id, table.c.alerted_at.is_(None))
        .values(alerted_at=now)
    )


async def count_undelivered(session: AsyncSession, *, guild_id: int) -> int:
    """How many of the server's cases are waiting for a working alerts channel."""
    total = 0
    for table in CASE_TABLES.values():
        rows = await session.execute(
            select(table.c.id).where(table.c.guild_id == guild_id, table.c.alerted_at.is_(None))
        )
        total += len(rows.all())
    return total


async def undelivered_in(session: AsyncSession, *, guild_id: int) -> list[tuple[str, int]]:
    """The server's undelivered cases, oldest first (for /setup to deliver at once)."""
    found: list[tuple[str, int, datetime]] = []
    for kind, table in CASE_TABLES.items():
        rows = await session.execute(
            select(table.c.id, table.c.created_at).where(
                table.c.guild_id == guild_id, table.c.alerted_at.is_(None)
            )
        )
        found.extend((kind, case_id, created) for case_id, created in rows.all())
    return [(kind, case_id) for kind, case_id, _ in sorted(found, key=lambda f: f[2])]


async def open_cases(session: AsyncSession, *, guild_id: int) -> list[tuple[str, Any]]:
    """The server's open and acknowledged cases, newest first."""
    found: list[tuple[str, Any]] = []
    for kind, model in CASE_MODELS.items():
        rows = await session.execute(
            select(model).where(model.guild_id == guild_id, model.status.in_(_OPEN))
        )
        found.extend((kind, row) for row in rows.scalars())
    return sorted(found, key=lambda f: (f[1].created_at, f[0], f[1].id), reverse=True)


async def move_case(
    session: AsyncSession,
    *,
    kind: str,
    case_id: int,
    guild_id: int,
    to: str,
    now: datetime,
) -> bool:
    """Acknowledge (from open) or resolve (from open or acknowledged); once (compare-and-set)."""
    table = CASE_TABLES[kind]
    before = (ReportStatus.OPEN,) if to == ReportStatus.ACKNOWLEDGED else _OPEN
    values: dict[str, Any] = {"status": to}
    if to == ReportStatus.ACKNOWLEDGED:
        values["acknowledged_at"] = now
    result = await session.execute(
        update(table)
        .where(
            table.c.id == case_id,
            table.c.guild_id == guild_id,
            table.c.status.in_(before),
        )
        .values(**values)
    )
    return changed(result) == 1
