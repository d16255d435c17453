"""Which mentors' pool entries a transaction changed, published with its commit.

A process caches each server's encoded mentor pool (``bot/services/mentor_pool.py``) and must
see every change made by any process sharing the database. Every transaction that changes
what a pool is built from — a mentor's profile, role, consent, completion, pause, capacity,
open pairs (``active_mentees``) or pending introductions — raises the server's row in
``mentor_pool_generation`` by one and logs the mentors it touched in ``mentor_pool_change``
under the new generation, just before it commits.

Nothing has to remember to do this by hand:

- ORM changes (``row.consent_status = ...``, ``session.add(Introduction(...))``, deletes) are
  found in ``before_flush`` from the objects' attribute history;
- Core ``UPDATE``/``DELETE`` statements on ``member_profile`` or ``introduction`` that set a
  column the pool depends on (or delete rows) are found in ``do_orm_execute``: a query that
  knows which mentor it writes says so with :func:`mark` and :data:`MARKED` (the hot paths:
  no extra read); any other such statement has the keys it touches read with its own
  ``WHERE`` just before and just after it runs; a ``DELETE`` logs :data:`EVERYONE` for the
  servers it touches; an unmarked ``INSERT`` raises :class:`UnmarkedPoolWrite` (its rows are
  only in its parameters). (A conditional write on mutable columns should
  mark itself: a row matching neither before nor after would be missed.)

Why the generation is taken at commit, last: the ``INSERT .. ON CONFLICT DO UPDATE`` on the
server's row locks it until commit, so generations are handed out in commit order (a reader
that sees generation *g* committed also sees every change at or below *g*), and a transaction
holding that lock waits for nothing else afterwards (only inserts into the log follow, and
servers are taken in id order): no deadlock with the row locks taken earlier by the writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from bot.db.models import Introduction, MemberProfile, MentorPoolChange, MentorPoolGeneration
from bot.db.queries._rows import dialect_insert

#: Execution option of a Core write whose rows were marked with :func:`mark` by its caller.
MARKED = {"pool_marked": True}
#: Logged instead of a mentor id when rows were deleted (a member's data erased): readers list
#: the server's mentors again (ids and places, no decryption) instead of re-reading named ones,
#: so the log never names an erased member.
EVERYONE = 0
#: Keep this many generations of the change log; a cache older than that is rebuilt.
LOG_KEPT = 2048
PRUNE_EVERY = 256

_KEY = "lantern_pool_changes"
_generation = MentorPoolGeneration.__table__  # type: ignore[attr-defined]
_change = MentorPoolChange.__table__  # type: ignore[attr-defined]
_profile = MemberProfile.__table__  # type: ignore[attr-defined]
_intro = Introduction.__table__  # type: ignore[attr-defined]

#: The ``member_profile`` columns a mentor pool is built from.
POOL_COLUMNS = frozenset(
    {
        "guild_id",
        "user_id",
        "role",
        "consent_status",
        "completed_at",
        "mentor_paused",
        "capacity",
        "active_mentees",
        "answers_enc",
    }
)
_INTRO_COLUMNS = frozenset({"guild_id", "mentor_id", "status"})
# table name -> (columns a pool depends on, the server column, the mentor column)
_WATCHED: dict[str, tuple[frozenset[str], Any, Any]] = {
    "member_profile": (POOL_COLUMNS, _profile.c.guild_id, _profile.c.user_id),
    "introduction": (_INTRO_COLUMNS, _intro.c.guild_id, _intro.c.mentor_id),
}


def _marks(session: Session) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = session.info.setdefault(_KEY, set())
    return found


def mark(session: Any, guild_id: int, mentor_ids: Iterable[int]) -> None:
    """Record that these mentors' pool entries change in this transaction (an ``AsyncSession``
    or a ``Session``); published at commit, forgotten at rollback."""
    sync: Session = getattr(session, "sync_session", session)
    _marks(sync).update((int(guild_id), int(m)) for m in mentor_ids)


def pending(session: Any) -> set[tuple[int, int]]:
    """(server, mentor) marked so far in this transaction (for tests)."""
    sync: Session = getattr(session, "sync_session", session)
    return set(sync.info.get(_KEY, ()))


# --- ORM unit of work ---------------------------------------------------------------------------


def _changed(obj: Any, columns: frozenset[str]) -> bool:
    state: Any = inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in columns)


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    found = _marks(session)
    for obj in session.new:
        if isinstance(obj, MemberProfile):
            found.add((obj.guild_id, obj.user_id))
        elif isinstance(obj, Introduction):
            found.add((obj.guild_id, obj.mentor_id))
    for obj in session.deleted:
        if isinstance(obj, MemberProfile | Introduction):
            found.add((obj.guild_id, EVERYONE))
    for obj in session.dirty:
        if isinstance(obj, MemberProfile) and _changed(obj, POOL_COLUMNS):
            found.add((obj.guild_id, obj.user_id))
        elif isinstance(obj, Introduction) and _changed(obj, _INTRO_COLUMNS):
            found.add((obj.guild_id, obj.mentor_id))
            state: Any = inspect(obj)
            history = state.attrs["mentor_id"].history
            found.update((obj.guild_id, old) for old in history.deleted or ())


# --- Core statements ----------------------------------------------------------------------------


def _set_columns(statement: Any) -> set[str]:
    values = getattr(statement, "_values", None) or {}
    ordered = getattr(statement, "_ordered_values", None) or ()
    keys = [*values, *(k for k, _ in ordered)]
    return {
        k if isinstance(k, str) else str(getattr(k, "key", getattr(k, "name", k))) for k in keys
    }


def _keys(session: Session, statement: Any) -> set[tuple[int, int]]:
    _, guild_col, mentor_col = _WATCHED[statement.table.name]
    query = select(guild_col, mentor_col)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    rows = session.execute(query).all()
    return {(int(g), EVERYONE if m is None else int(m)) for g, m in rows if g is not None}


class UnmarkedPoolWrite(RuntimeError):
    """A Core ``INSERT`` into a table mentor pools are built from, without :func:`mark`."""


def _do_orm_execute(state: ORMExecuteState) -> Any:
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    watched = _WATCHED.get(getattr(table, "name", ""))
    if watched is None or state.execution_options.get("pool_marked"):
        return None
    if state.is_insert:  # its rows are in the parameters: the caller must say which
        raise UnmarkedPoolWrite(
            f"a Core INSERT into {table.name} must mark its mentors: "  # type: ignore[union-attr]
            "pool_changes.mark(session, ...) and execution_options=MARKED (or add ORM rows)"
        )
    if state.is_update and not (_set_columns(statement) & watched[0]):
        return None
    session = state.session
    found = _keys(session, statement)
    if state.is_delete:  # an erase: name nobody in the log, have every server re-listed
        found = {(guild_id, EVERYONE) for guild_id, _ in found}
    result = state.invoke_statement()
    if state.is_update:
        found |= _keys(session, statement)
    _marks(session).update(found)
    return result


# --- publishing at commit -----------------------------------------------------------------------


def _bump(session: Session, guild_id: int) -> int:
    stmt = (
        dialect_insert(session, _generation)
        .values(guild_id=guild_id, generation=1, floor=0)
        .on_conflict_do_update(
            index_elements=[_generation.c.guild_id],
            set_={"generation": _generation.c.generation + 1},
        )
        .returning(_generation.c.generation)
    )
    return int(session.execute(stmt).scalar_one())


def _still_members(session: Session, guild_id: int, mentors: set[int]) -> set[int]:
    """``mentors`` with each one whose profile is gone (erased meanwhile) replaced by
    ``EVERYONE``: the log never names someone who erased their data, and every cache of the
    server still re-lists (and so drops them)."""
    named = sorted(m for m in mentors if m != EVERYONE)
    if not named:
        return mentors
    rows = session.execute(
        select(_profile.c.user_id).where(
            _profile.c.guild_id == guild_id, _profile.c.user_id.in_(named)
        )
    )
    present = {int(user_id) for user_id in rows.scalars()}
    return present | ({EVERYONE} if present != set(mentors) else set())


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:  # the last flush may mark more
        session.flush()
    found = session.info.pop(_KEY, None)
    if not found:
        return
    by_guild: dict[int, set[int]] = {}
    for guild_id, mentor_id in found:
        by_guild.setdefault(guild_id, set()).add(mentor_id)
    for guild_id, mentors in by_guild.items():
        by_guild[guild_id] = _still_members(session, guild_id, mentors)
    for guild_id in sorted(by_guild):  # one order everywhere: no deadlock between servers
        generation = _bump(session, guild_id)
        session.execute(
            _change.insert(),
            [
                {"guild_id": guild_id, "generation": generation, "mentor_id": m}
                for m in sorted(by_guild[guild_id])
            ],
        )
        if generation % PRUNE_EVERY == 0 and generation > LOG_KEPT:
            floor = generation - LOG_KEPT
            session.execute(
                delete(_change).where(
                    and_(_change.c.guild_id == guild_id, _change.c.generation <= floor)
                )
            )
            session.execute(
                update(_generation).where(_generation.c.guild_id == guild_id).values(floor=floor)
            )


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)


class TrackedSession(Session):
    """The ORM session every Lantern unit of work uses: it publishes mentor-pool changes."""


event.listen(TrackedSession, "before_flush", _before_flush)
event.listen(TrackedSession, "do_orm_execute", _do_orm_execute)
event.listen(TrackedSession, "before_commit", _before_commit)
event.listen(TrackedSession, "after_transaction_end", _after_transaction_end)
