"""The member-data registry: every table declares whether and how it holds member data.

A table class sets ``__member_data__`` to a ``MemberData`` (which columns hold the member's
Discord user id, which columns are encrypted) or to ``NO_MEMBER_DATA``. Export, delete and key
rotation walk this registry, so a new feature's table is covered the moment it declares itself,
and a test fails for any table that declares nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.crypto import Cipher


@dataclass(frozen=True)
class MemberData:
    """How a table holds member data."""

    user_columns: tuple[str, ...]
    encrypted: tuple[str, ...] = ()
    label: str = ""
    json_columns: tuple[str, ...] = ()  # encrypted columns whose plain text is JSON


NO_MEMBER_DATA = MemberData(user_columns=())


def declared_tables() -> Iterator[tuple[type[SQLModel], MemberData | None]]:
    """Every SQLModel table class with its declaration (``None`` when it declared nothing)."""
    import bot.db.models  # noqa: F401  (registers every table)

    for mapper in SQLModel._sa_registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__table__", None) is None:
            continue
        yield cls, cls.__dict__.get("__member_data__")


def _member_tables() -> list[tuple[type[SQLModel], MemberData]]:
    order = {t.name: i for i, t in enumerate(SQLModel.metadata.sorted_tables)}
    found = [(cls, spec) for cls, spec in declared_tables() if spec and spec.user_columns]
    return sorted(found, key=lambda item: order[item[0].__table__.name])  # type: ignore[attr-defined]


def _filter(cls: type[SQLModel], spec: MemberData, user_id: int) -> Any:
    table = cls.__table__  # type: ignore[attr-defined]
    return or_(*(table.c[col] == user_id for col in spec.user_columns))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


async def export_member(session: AsyncSession, *, user_id: int, cipher: Cipher) -> dict[str, Any]:
    """Everything Lantern holds about ``user_id``, decrypted, grouped by table."""
    result: dict[str, Any] = {}
    for cls, spec in _member_tables():
        table = cls.__table__  # type: ignore[attr-defined]
        rows = (await session.execute(select(table).where(_filter(cls, spec, user_id)))).all()
        if not rows:
            continue
        items = []
        for row in rows:
            item = {}
            for column, value in row._mapping.items():
                if column in spec.encrypted:
                    value = cipher.decrypt(value)
                    if column in spec.json_columns and value is not None:
                        value = json.loads(value)
                    column = column.removesuffix("_enc")
                item[column] = _jsonable(value)
            items.append(item)
        result[spec.label or table.name] = items
    return result


async def guilds_of_member(session: AsyncSession, *, user_id: int) -> set[int]:
    """Every server in which some row names ``user_id`` (what an erase must close first)."""
    found: set[int] = set()
    for cls, spec in _member_tables():
        table = cls.__table__  # type: ignore[attr-defined]
        if "guild_id" not in table.c:
            continue
        query = select(table.c.guild_id).where(_filter(cls, spec, user_id)).distinct()
        found.update(int(g) for g in (await session.execute(query)).scalars() if g is not None)
    return found


async def delete_member(session: AsyncSession, *, user_id: int) -> dict[str, int]:
    """Erase every row that names ``user_id``; returns how many rows each table lost."""
    counts: dict[str, int] = {}
    for cls, spec in reversed(_member_tables()):
        table = cls.__table__  # type: ignore[attr-defined]
        outcome = await session.execute(delete(table).where(_filter(cls, spec, user_id)))
        rowcount = getattr(outcome, "rowcount", 0) or 0
        if rowcount:
            counts[table.name] = rowcount
    return counts


async def reencrypt_all(session: AsyncSession, *, cipher: Cipher) -> int:
    """Re-encrypt every encrypted column with the primary key; returns values rewritten."""
    rewritten = 0
    for cls, spec in declared_tables():
        if not spec or not spec.encrypted:
            continue
        table = cls.__table__  # type: ignore[attr-defined]
        pk = list(table.primary_key.columns)
        rows = (await session.execute(select(*pk, *(table.c[c] for c in spec.encrypted)))).all()
        for row in rows:
            values = {
                col: cipher.rotate(row._mapping[col])
                for col in spec.encrypted
                if row._mapping[col] is not None
            }
            if values:
                where = [col == row._mapping[col.name] for col in pk]
                await session.execute(update(table).where(*where).values(**values))
                rewritten += len(values)
    return rewritten
