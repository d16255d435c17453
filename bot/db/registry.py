"""The member-data registry: every table declares whether and how it holds member data.

A table class sets ``__member_data__`` to a ``MemberData`` (which columns hold the member's
Discord user id, which columns are encrypted) or to ``NO_MEMBER_DATA``. Export, delete and key
rotation walk this registry, so a new feature's table is covered the moment it declares itself,
and a test fails for any table that declares nothing.

A row that names more than one person (a pair, an introduction, a block, a report, an audit
entry) is a two-party row: its declaration says whose each column is (``shared`` facts of the
row, ``belongs_to`` one of the people named, ``withheld`` from both), who may see the row at all
(``exported_to``), and what erasing one of them does (``on_erase``). Export gives a member only
their own side; erase removes what the member said and chose and keeps what others recorded
about them, with the member's id replaced by nothing or by a keyed pseudonym.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.crypto import Cipher

DELETE_ROW = "delete"
FORGET = "forget"


@dataclass(frozen=True)
class MemberData:
    """How a table holds member data.

    ``user_columns`` name people. In a two-party table (more than one user column) every other
    column is ``shared`` (a fact of the row either person may see), ``belongs_to`` one person (a
    column -> the user column naming whose words or choice it is; exported only to them) or
    ``withheld`` (moderators' or nobody's to take home). A user column is exported only to the
    person it names. ``exported_to`` lists the user columns whose person may receive the row at
    all (default: everyone named). ``on_erase`` says, per user column, what erasing that person
    does: delete the row (the default) or ``FORGET`` them in it (the column set to null, and if
    ``pseudonym_columns`` names a column for it, a keyed hash of their id kept there so the row
    still applies to them). ``left_out`` says in a sentence what an export leaves out.
    """

    user_columns: tuple[str, ...]
    encrypted: tuple[str, ...] = ()
    label: str = ""
    json_columns: tuple[str, ...] = ()  # encrypted columns whose plain text is JSON
    shared: tuple[str, ...] = ()
    belongs_to: Mapping[str, str] = field(default_factory=dict)
    withheld: tuple[str, ...] = ()
    exported_to: tuple[str, ...] | None = None
    on_erase: Mapping[str, str] = field(default_factory=dict)
    pseudonym_columns: Mapping[str, str] = field(default_factory=dict)
    left_out: str = ""

    @property
    def two_party(self) -> bool:
        """Whether a row may name more than one person."""
        return len(self.user_columns) > 1


NO_MEMBER_DATA = MemberData(user_columns=())


def undeclared_columns(cls: type[SQLModel], spec: MemberData) -> list[str]:
    """What a two-party table fails to say: columns with no owner, names that are no column,
    a missing ``left_out`` sentence. Empty when the declaration is complete."""
    if not spec.two_party:
        return []
    columns = list(cls.__table__.c.keys())  # type: ignore[attr-defined]
    said = [*spec.user_columns, *spec.shared, *spec.belongs_to, *spec.withheld]
    problems = [c for c in columns if c not in said]
    problems += [f"{c} (no such column)" for c in said if c not in columns]
    problems += [f"{c} (declared twice)" for c in set(said) if said.count(c) > 1]
    problems += [
        f"{c} (belongs to {who}, not a user column)"
        for c, who in spec.belongs_to.items()
        if who not in spec.user_columns
    ]
    problems += [
        f"{c} (on_erase of no user column)"
        for c in [*spec.on_erase, *spec.pseudonym_columns, *(spec.exported_to or ())]
        if c not in spec.user_columns
    ]
    problems += [
        f"{c} (a pseudonym must be withheld)"
        for c in spec.pseudonym_columns.values()
        if c not in spec.withheld
    ]
    if not spec.left_out:
        problems.append("left_out (say what an export leaves out)")
    return problems


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


def _erase_order(cls: type[SQLModel]) -> int:
    name = cls.__table__.name  # type: ignore[attr-defined]
    return {"member_profile": 0, "mentor_pool_change": 2}.get(name, 1)


def _filter(cls: type[SQLModel], spec: MemberData, user_id: int) -> Any:
    table = cls.__table__  # type: ignore[attr-defined]
    return or_(*(table.c[col] == user_id for col in spec.user_columns))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


def _visible(spec: MemberData, mapping: Mapping[Any, Any], user_id: int) -> bool:
    return any(mapping[col] == user_id for col in spec.exported_to or spec.user_columns)


def _exported(spec: MemberData, column: str, mapping: Mapping[Any, Any], user_id: int) -> bool:
    """Whether ``column`` of this row is the member's to take home."""
    if not spec.two_party:
        return True
    if column in spec.user_columns:
        return bool(mapping[column] == user_id)
    if column in spec.belongs_to:
        return bool(mapping[spec.belongs_to[column]] == user_id)
    return column in spec.shared


async def export_member(session: AsyncSession, *, user_id: int, cipher: Cipher) -> dict[str, Any]:
    """Everything Lantern holds about ``user_id`` that is theirs, decrypted, grouped by table.

    From a two-party row only the member's own side: never the other person's id, words or
    choices, nor notes written for moderators (see ``left_out``)."""
    result: dict[str, Any] = {}
    for cls, spec in _member_tables():
        table = cls.__table__  # type: ignore[attr-defined]
        rows = (await session.execute(select(table).where(_filter(cls, spec, user_id)))).all()
        items = []
        for row in rows:
            mapping = row._mapping
            if not _visible(spec, mapping, user_id):
                continue
            item = {}
            for column, value in mapping.items():
                if not _exported(spec, column, mapping, user_id):
                    continue
                if column in spec.encrypted:
                    value = cipher.decrypt(value)
                    if column in spec.json_columns and value is not None:
                        value = json.loads(value)
                    column = column.removesuffix("_enc")
                item[column] = _jsonable(value)
            items.append(item)
        if items:
            result[spec.label or table.name] = items
    return result


def left_out() -> dict[str, str]:
    """What an export leaves out of each two-party table, by the export's table label."""
    return {
        spec.label or cls.__table__.name: spec.left_out  # type: ignore[attr-defined]
        for cls, spec in _member_tables()
        if spec.two_party
    }


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


async def delete_member(session: AsyncSession, *, user_id: int, cipher: Cipher) -> dict[str, int]:
    """Erase what ``user_id`` said and chose; returns how many rows each table lost or changed.

    Rows the member owns are deleted. In rows others recorded about them (``on_erase`` is
    ``FORGET``: a block or report by someone else, a moderator's audit entry) the member's id is
    set to null, and where the table keeps a pseudonym column, replaced by a keyed hash so the
    record still applies if they come back."""
    counts: dict[str, int] = {}
    # The profiles first: work that writes about a member locks their profile row (a feedback
    # card, a mentor's slot), so what it committed while this erase waited for that row is
    # there by the time the other tables are cleared; the mentor-pool change log last, for
    # the same reason.
    tables = sorted(reversed(_member_tables()), key=lambda item: _erase_order(item[0]))
    for cls, spec in tables:
        table = cls.__table__  # type: ignore[attr-defined]
        owned = [c for c in spec.user_columns if spec.on_erase.get(c, DELETE_ROW) == DELETE_ROW]
        changed = 0
        if owned:
            outcome = await session.execute(
                delete(table).where(or_(*(table.c[c] == user_id for c in owned)))
            )
            changed += getattr(outcome, "rowcount", 0) or 0
        for column in spec.user_columns:
            if column in owned:
                continue
            values: dict[str, Any] = {column: None}
            if column in spec.pseudonym_columns:
                values[spec.pseudonym_columns[column]] = cipher.pseudonym(user_id)
            outcome = await session.execute(
                update(table).where(table.c[column] == user_id).values(**values)
            )
            changed += getattr(outcome, "rowcount", 0) or 0
        if changed:
            counts[table.name] = changed
    return counts


def pseudonym_match(column: Any, pseudonym_column: Any, user_id: int, cipher: Cipher) -> Any:
    """A filter: ``column`` names ``user_id``, or it was forgotten and ``pseudonym_column``
    holds their keyed hash (under any configured key)."""
    return or_(
        column == user_id,
        and_(column.is_(None), pseudonym_column.in_(cipher.pseudonyms(user_id))),
    )


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
