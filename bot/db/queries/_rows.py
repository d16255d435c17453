"""Steps every query module takes: counting what a compare-and-set changed, inserting a row so
that its id and defaults are known, and locking a row that is created on first use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)
CREATING = "creating"  # a space's error column while someone is making it


async def awaiting_space(
    session: AsyncSession, model: Any, opening: str, *, now: datetime, grace: timedelta
) -> list[int]:
    """Ids of ``model`` rows (a pair, a circle: ``id``, ``status``, ``space_error``,
    ``created_at``) still ``opening`` and waiting for their space: never tried once ``grace``
    has passed, or failed (and nobody is making it right now)."""
    error = model.space_error
    result = await session.execute(
        select(model.id)
        .where(model.status == opening)
        .where(
            or_(
                and_(error.is_(None), model.created_at < now - grace),
                and_(error.is_not(None), error != CREATING),
            )
        )
        .order_by(model.id)
    )
    return [int(row[0]) for row in result.all()]


def dialect_insert(session: AsyncSession | Session, target: Any) -> Any:
    """An ``INSERT`` into ``target`` with the session's dialect's ``ON CONFLICT`` clauses."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def changed(result: Any) -> int:
    """How many rows an ``UPDATE`` changed (the compare-and-set is won when this is 1)."""
    return int(getattr(result, "rowcount", 0) or 0)


async def insert(session: AsyncSession, row: Row) -> Row:
    """Add ``row`` and flush it, so its id and defaults are set (and a unique key is checked)."""
    session.add(row)
    await session.flush()
    return row


async def lock_or_add(session: AsyncSession, model: type[Row], pk: Any, /, **new: Any) -> Row:
    """The ``model`` row with primary key ``pk``, locked for this transaction; when there is
    none, a new row made from ``new`` (added to the session, not flushed yet)."""
    row = await session.get(model, pk, with_for_update=True)
    if row is None:
        row = model(**new)
        session.add(row)
    return row
