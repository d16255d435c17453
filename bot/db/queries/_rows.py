"""Steps every query module takes: counting what a compare-and-set changed, inserting a row so
that its id and defaults are known, and locking a row that is created on first use."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)


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
