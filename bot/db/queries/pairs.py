"""Pair spaces: claiming creation, check-ins, silence, endings, reports. Every state change is
a compare-and-set (``UPDATE ... WHERE <expected state>``, rowcount checked), never read-check-
write, so concurrent events and clicks give exactly one outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    GuildSettings,
    Introduction,
    LeftoverSpace,
    Pair,
    PairCategory,
    PairCheckin,
    PairCheckinAnswer,
    PairReport,
    PairSettings,
    PairSpace,
    PairStatus,
)
from bot.db.queries._rows import (
    CREATING,
    awaiting_space,
    changed,
    dialect_insert,
    insert,
    lock_or_add,
)
from bot.domain.pairs import Rhythm, rhythm_from
from bot.domain.text import fit

LIVE = (PairStatus.ACTIVE, PairStatus.PAUSED)
NOT_ENDED = (PairStatus.OPENING, PairStatus.ACTIVE, PairStatus.PAUSED)

P: Any = Pair  # column expressions on SQLModel classes confuse mypy; one alias keeps it quiet
S: Any = PairSpace
L: Any = LeftoverSpace

HAS_SPACE = or_(P.channel_id.is_not(None), P.thread_id.is_not(None))  # a channel or a thread
NO_SPACE = and_(P.channel_id.is_(None), P.thread_id.is_(None))


async def _update_pair(session: AsyncSession, pair_id: int, *where: Any, **values: Any) -> bool:
    """Set ``values`` on the pair if every condition in ``where`` holds (a compare-and-set);
    true for the one caller whose update changed it."""
    result = await session.execute(update(Pair).where(P.id == pair_id, *where).values(**values))
    return changed(result) == 1


async def _update_space(session: AsyncSession, pair_id: int, *where: Any, **values: Any) -> bool:
    """Set ``values`` on the pair's space row if every condition in ``where`` holds; true if it
    changed (false too when the space row does not exist)."""
    result = await session.execute(
        update(PairSpace).where(S.pair_id == pair_id, *where).values(**values)
    )
    return changed(result) == 1


async def _put_space(session: AsyncSession, pair_id: int, **values: Any) -> None:
    """Set ``values`` on the pair's space row, adding the row if nothing was recorded for the
    space yet (unlike ``_update_space``, unconditionally)."""
    space = await session.get(PairSpace, pair_id)
    if space is None:
        space = PairSpace(pair_id=pair_id)
        session.add(space)
    for name, value in values.items():
        setattr(space, name, value)
    await session.flush()


# ---------------------------------------------------------------- reading


async def get_pair(session: AsyncSession, *, pair_id: int) -> Pair | None:
    """The pair row, fresh from the database."""
    result = await session.execute(select(Pair).where(P.id == pair_id))
    return result.scalar_one_or_none()


async def get_space(session: AsyncSession, *, pair_id: int) -> PairSpace | None:
    """The pair space's bookkeeping row, if the space was ever claimed."""
    result = await session.execute(select(PairSpace).where(S.pair_id == pair_id))
    return result.scalar_one_or_none()


async def get_reasons_enc(session: AsyncSession, *, introduction_id: int | None) -> str | None:
    """The encrypted reasons of the introduction behind a pair."""
    if introduction_id is None:
        return None
    intro = await session.get(Introduction, introduction_id)
    return intro.reasons_enc if intro else None


async def pair_for_channel(session: AsyncSession, *, channel_id: int) -> Pair | None:
    """The pair whose space is ``channel_id`` (channel or thread)."""
    result = await session.execute(
        select(Pair).where(or_(P.channel_id == channel_id, P.thread_id == channel_id))
    )
    return result.scalars().first()


async def pairs_of_member(
    session: AsyncSession, *, guild_id: int, user_id: int, statuses: Sequence[str] = NOT_ENDED
) -> list[Pair]:
    """The member's pairs in ``guild_id`` in one of ``statuses``."""
    result = await session.execute(
        select(Pair)
        .where(P.guild_id == guild_id)
        .where(or_(P.mentee_id == user_id, P.mentor_id == user_id))
        .where(P.status.in_(statuses))
        .order_by(P.id)
    )
    return list(result.scalars())


async def list_pairs(
    session: AsyncSession, *, guild_id: int, statuses: Sequence[str] = NOT_ENDED
) -> list[Pair]:
    """Pairs of a server, oldest first."""
    result = await session.execute(
        select(Pair).where(P.guild_id == guild_id).where(P.status.in_(statuses)).order_by(P.id)
    )
    return list(result.scalars())


async def live_spaces(session: AsyncSession) -> dict[int, int]:
    """channel or thread id -> pair id for every active or paused pair (the activity map)."""
    result = await session.execute(
        select(P.id, P.channel_id, P.thread_id).where(P.status.in_(LIVE))
    )
    spaces: dict[int, int] = {}
    for pair_id, channel_id, thread_id in result.all():
        for space in (channel_id, thread_id):
            if space is not None:
                spaces[int(space)] = int(pair_id)
    return spaces


async def spaces_of_guild(session: AsyncSession, *, guild_id: int) -> list[Pair]:
    """Every pair of a server whose space still exists (ended ones until deletion), oldest
    first."""
    result = await session.execute(
        select(Pair).where(P.guild_id == guild_id).where(HAS_SPACE).order_by(P.id)
    )
    return list(result.scalars())


async def known_space_ids(session: AsyncSession, *, guild_id: int) -> set[int]:
    """The channel and thread ids any pair of the server holds (whatever its status), and the
    leftover spaces already waiting for their own deletion date."""
    result = await session.execute(select(P.channel_id, P.thread_id).where(P.guild_id == guild_id))
    known = {int(space) for row in result.all() for space in row if space is not None}
    leftovers = await session.execute(select(L.space_id).where(L.guild_id == guild_id))
    return known | {int(space) for space in leftovers.scalars()}


async def guilds_with_pair_categories(session: AsyncSession) -> dict[int, list[int]]:
    """guild id -> its pair categories (the first, then the overflow ones), for every server
    that has one."""
    G: Any = GuildSettings
    found: dict[int, list[int]] = {}
    rows = await session.execute(
        select(G.guild_id, G.pair_category_id).where(G.pair_category_id.is_not(None))
    )
    for guild_id, category_id in rows.all():
        found.setdefault(int(guild_id), []).append(int(category_id))
    C: Any = PairCategory
    overflow = await session.execute(select(C.guild_id, C.category_id).order_by(C.number))
    for guild_id, category_id in overflow.all():
        found.setdefault(int(guild_id), []).append(int(category_id))
    return found


async def guilds_with_pair_threads(session: AsyncSession) -> dict[int, int]:
    """guild id -> the channel its pair threads go in, for every server in thread mode."""
    T: Any = PairSettings
    rows = await session.execute(
        select(T.guild_id, T.thread_channel_id)
        .where(T.use_threads.is_(True))
        .where(T.thread_channel_id.is_not(None))
    )
    return {int(guild_id): int(channel_id) for guild_id, channel_id in rows.all()}


# ---------------------------------------------------------------- settings and categories


async def get_pair_settings(session: AsyncSession, *, guild_id: int) -> PairSettings | None:
    """The server's pair-space settings, or ``None`` while the defaults apply."""
    return await session.get(PairSettings, guild_id)


async def get_rhythm(session: AsyncSession, *, guild_id: int) -> Rhythm:
    """The server's pair-space timings (the defaults where unset); circles keep the same."""
    pset = await get_pair_settings(session, guild_id=guild_id)
    return rhythm_from(pset.model_dump() if pset else None)


async def save_pair_settings(
    session: AsyncSession, *, guild_id: int, now: datetime, changes: dict[str, Any]
) -> PairSettings:
    """Apply ``changes`` to the server's pair-space settings."""
    settings = await lock_or_add(session, PairSettings, guild_id, guild_id=guild_id, updated_at=now)
    for key, value in changes.items():
        if not hasattr(settings, key) or key in ("guild_id", "updated_at"):
            raise ValueError(f"unknown pair setting {key!r}")
        setattr(settings, key, value)
    settings.updated_at = now
    await session.flush()
    return settings


async def claim_cap_warning(session: AsyncSession, *, guild_id: int, now: datetime) -> bool:
    """True for exactly one caller the first time the server nears the channel cap."""
    if await session.get(PairSettings, guild_id) is None:
        await save_pair_settings(session, guild_id=guild_id, now=now, changes={})
    result = await session.execute(
        update(PairSettings)
        .where(PairSettings.guild_id == guild_id)  # type: ignore[arg-type]
        .where(PairSettings.cap_warned_at.is_(None))  # type: ignore[union-attr]
        .values(cap_warned_at=now)
    )
    return changed(result) == 1


async def overflow_categories(session: AsyncSession, *, guild_id: int) -> list[PairCategory]:
    """Categories Lantern added after the first filled up, in roll-over order."""
    result = await session.execute(
        select(PairCategory)
        .where(PairCategory.guild_id == guild_id)  # type: ignore[arg-type]
        .order_by(PairCategory.number)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def add_overflow_category(
    session: AsyncSession, *, guild_id: int, category_id: int, number: int, now: datetime
) -> None:
    """Remember an overflow category."""
    await insert(
        session,
        PairCategory(category_id=category_id, guild_id=guild_id, number=number, created_at=now),
    )


async def forget_overflow_category(session: AsyncSession, *, category_id: int) -> None:
    """Drop an overflow category that no longer exists."""
    row = await session.get(PairCategory, category_id)
    if row is not None:
        await session.delete(row)


# ---------------------------------------------------------------- creating a space


async def claim_space(session: AsyncSession, *, pair_id: int, now: datetime) -> bool:
    """Claim the creation of a pair's space: true for exactly one concurrent caller."""
    claimed = await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.OPENING,
        NO_SPACE,
        or_(P.space_error.is_(None), P.space_error != CREATING),
        space_error=CREATING,
    )
    if claimed:
        await _put_space(session, pair_id, claimed_at=now)
    return claimed


async def complete_space(
    session: AsyncSession,
    *,
    pair_id: int,
    channel_id: int | None,
    thread_id: int | None,
    now: datetime,
    next_checkin_at: datetime,
) -> bool:
    """Record the created space and make the pair active (only from the claimed state)."""
    return await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.OPENING,
        P.space_error == CREATING,
        status=PairStatus.ACTIVE,
        channel_id=channel_id,
        thread_id=thread_id,
        space_error=None,
        last_activity_at=now,
        next_checkin_at=next_checkin_at,
    )


async def set_opening_message(session: AsyncSession, *, pair_id: int, message_id: int) -> None:
    """Remember the opening message (its buttons are persistent)."""
    await _update_space(session, pair_id, opening_message_id=message_id)


async def fail_space(session: AsyncSession, *, pair_id: int, error: str) -> bool:
    """Leave the pair ``opening`` with ``error`` so it can be retried."""
    return await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.OPENING,
        P.space_error == CREATING,
        space_error=fit(error, 64),
    )


async def claim_error_alert(session: AsyncSession, *, pair_id: int, error: str) -> bool:
    """True once per pair and kind of failure: moderators and members are told once."""
    return await _update_space(
        session,
        pair_id,
        or_(S.error_alerted.is_(None), S.error_alerted != error),
        error_alerted=fit(error, 64),
    )


async def pairs_to_open(
    session: AsyncSession, *, now: datetime, grace: timedelta, stale: timedelta
) -> list[int]:
    """Pairs still waiting for a space: never tried (past ``grace``), failed, or stuck claims.

    Stuck claims (older than ``stale``, e.g. a crash mid-creation) are released first.
    """
    stuck = await session.execute(
        select(P.id)
        .join(PairSpace, S.pair_id == P.id)
        .where(P.status == PairStatus.OPENING)
        .where(P.space_error == CREATING)
        .where(S.claimed_at < now - stale)
    )
    for (pair_id,) in stuck.all():
        await _update_pair(session, pair_id, P.space_error == CREATING, space_error="interrupted")
    return await awaiting_space(session, P, PairStatus.OPENING, now=now, grace=grace)


# ---------------------------------------------------------------- check-ins and silence


async def due_checkins(session: AsyncSession, *, now: datetime) -> list[Pair]:
    """Active pairs whose check-in is due and whose reminders are not paused."""
    result = await session.execute(
        select(Pair)
        .outerjoin(PairSpace, S.pair_id == P.id)
        .where(P.status == PairStatus.ACTIVE)
        .where(P.next_checkin_at <= now)
        .where(or_(S.reminders_paused.is_(None), S.reminders_paused.is_(False)))
        .order_by(P.next_checkin_at)
    )
    return list(result.scalars())


async def claim_checkin(
    session: AsyncSession, *, pair_id: int, due_at: datetime, next_at: datetime, now: datetime
) -> PairCheckin | None:
    """Move the pair's check-in from ``due_at`` to ``next_at`` and write the occurrence.

    Only one caller wins the move; the unique (pair, due) row is the delivery record.
    """
    moved = await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.ACTIVE,
        P.next_checkin_at == due_at,
        next_checkin_at=next_at,
    )
    if not moved:
        return None
    return await insert(session, PairCheckin(pair_id=pair_id, due_at=due_at, claimed_at=now))


async def mark_checkin_sent(
    session: AsyncSession, *, checkin_id: int, message_id: int, now: datetime
) -> None:
    """Record that the check-in message went out."""
    await session.execute(
        update(PairCheckin)
        .where(PairCheckin.id == checkin_id)  # type: ignore[arg-type]
        .values(sent_at=now, message_id=message_id)
    )


async def get_checkin(session: AsyncSession, *, checkin_id: int) -> PairCheckin | None:
    """One check-in occurrence."""
    return await session.get(PairCheckin, checkin_id)


async def record_checkin_answer(
    session: AsyncSession, *, checkin_id: int, user_id: int, answer: str, now: datetime
) -> tuple[bool, str | None]:
    """Save a person's answer; returns (first time this person answered, previous answer)."""
    existing = (
        await session.execute(
            select(PairCheckinAnswer)
            .where(PairCheckinAnswer.checkin_id == checkin_id)  # type: ignore[arg-type]
            .where(PairCheckinAnswer.user_id == user_id)  # type: ignore[arg-type]
            .with_for_update()
        )
    ).scalar_one_or_none()
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    PairCheckinAnswer(
                        checkin_id=checkin_id, user_id=user_id, answer=answer, answered_at=now
                    )
                )
            return True, None
        except IntegrityError:
            return await record_checkin_answer(
                session, checkin_id=checkin_id, user_id=user_id, answer=answer, now=now
            )
    previous = existing.answer
    result = await session.execute(
        update(PairCheckinAnswer)
        .where(PairCheckinAnswer.id == existing.id)  # type: ignore[arg-type]
        .where(PairCheckinAnswer.answer == previous)  # type: ignore[arg-type]
        .values(answer=answer, answered_at=now)
    )
    return False, previous if changed(result) == 1 else answer


async def touch_activity(session: AsyncSession, *, pair_id: int, now: datetime) -> None:
    """A message was posted in the pair's space: silence counting starts over."""
    await _update_pair(session, pair_id, P.status.in_(LIVE), last_activity_at=now)
    await _update_space(
        session,
        pair_id,
        or_(
            S.nudges_sent != 0,
            S.silence_alerted_at.is_not(None),
            S.quiet_closes_at.is_not(None),
        ),
        nudges_sent=0,
        silence_alerted_at=None,
        quiet_warned_for=None,
        quiet_closes_at=None,
    )


async def quiet_pairs(
    session: AsyncSession, *, before: datetime, paused_reminders_too: bool = False
) -> list[tuple[Pair, PairSpace]]:
    """Active pairs with no activity since ``before``: those with reminders on, or (with
    ``paused_reminders_too``) every one."""
    query = (
        select(Pair, PairSpace)
        .join(PairSpace, S.pair_id == P.id)
        .where(P.status == PairStatus.ACTIVE)
        .where(P.last_activity_at < before)
        .order_by(P.id)
    )
    if not paused_reminders_too:
        query = query.where(S.reminders_paused.is_(False))
    result = await session.execute(query)
    return [(row[0], row[1]) for row in result.all()]


def _still_quiet(pair_id: int, quiet_since: datetime) -> Any:
    """The pair is active and nobody wrote since ``quiet_since`` (a condition on its space)."""
    return S.pair_id.in_(
        select(P.id).where(
            P.id == pair_id, P.status == PairStatus.ACTIVE, P.last_activity_at == quiet_since
        )
    )


async def claim_quiet_warning(
    session: AsyncSession,
    *,
    pair_id: int,
    quiet_since: datetime,
    seen: datetime | None,
    closes_at: datetime,
) -> bool:
    """Record the closing warning of a pair quiet since ``quiet_since``, for exactly one caller
    who saw the space's announced date ``seen``, and only while nobody has written since."""
    return await _update_space(
        session,
        pair_id,
        S.quiet_closes_at.is_(None) if seen is None else S.quiet_closes_at == seen,
        _still_quiet(pair_id, quiet_since),
        quiet_warned_for=quiet_since,
        quiet_closes_at=closes_at,
    )


async def release_quiet_warning(
    session: AsyncSession, *, pair_id: int, closes_at: datetime
) -> bool:
    """The warning announcing ``closes_at`` could not be posted: forget it (a later sweep
    warns again); false if something else changed it meanwhile."""
    return await _update_space(
        session,
        pair_id,
        S.quiet_closes_at == closes_at,
        quiet_warned_for=None,
        quiet_closes_at=None,
    )


async def claim_nudge(
    session: AsyncSession, *, pair_id: int, nudges_seen: int, now: datetime
) -> bool:
    """Count one more nudge, for exactly one caller who saw ``nudges_seen``."""
    return await _update_space(
        session,
        pair_id,
        S.nudges_sent == nudges_seen,
        nudges_sent=nudges_seen + 1,
        last_nudge_at=now,
    )


async def claim_silence_alert(session: AsyncSession, *, pair_id: int, now: datetime) -> bool:
    """True once per silent stretch: moderators are told once."""
    return await _update_space(
        session, pair_id, S.silence_alerted_at.is_(None), silence_alerted_at=now
    )


async def set_reminders_paused(session: AsyncSession, *, pair_id: int, paused: bool) -> bool:
    """Pause or resume check-ins and nudges; true if this changed anything."""
    return await _update_space(
        session, pair_id, S.reminders_paused.is_(not paused), reminders_paused=paused
    )


# ---------------------------------------------------------------- endings


async def end_pair(
    session: AsyncSession,
    *,
    pair_id: int,
    ended_by_id: int | None,
    reason_enc: str | None,
    now: datetime,
    delete_at: datetime,
    cause: str,
    quiet_since: datetime | None = None,
) -> Pair | None:
    """End a pair (once): returns the ended pair for the one caller who ended it.

    With ``quiet_since`` (a quiet space closing) only while the pair is active, nobody has
    written since then, and its space was warned about that same silence."""
    where = [P.status.in_(NOT_ENDED)]
    if quiet_since is not None:
        where += [
            P.status == PairStatus.ACTIVE,
            P.last_activity_at == quiet_since,
            P.id.in_(select(S.pair_id).where(S.quiet_warned_for == quiet_since)),
        ]
    ended = await _update_pair(
        session,
        pair_id,
        *where,
        status=PairStatus.ENDED,
        ended_at=now,
        ended_by_id=ended_by_id,
        end_reason_enc=reason_enc,
        delete_channel_at=delete_at,
        next_checkin_at=None,
    )
    if not ended:
        return None
    await _put_space(session, pair_id, end_cause=cause)
    return await get_pair(session, pair_id=pair_id)


async def forget_space(session: AsyncSession, *, pair_id: int, space_id: int) -> bool:
    """Unlink a deleted channel or thread from the pair; true for the one caller who did."""
    return await _update_pair(
        session,
        pair_id,
        or_(P.channel_id == space_id, P.thread_id == space_id),
        channel_id=None,
        thread_id=None,
        delete_channel_at=None,
    )


async def due_deletions(session: AsyncSession, *, now: datetime) -> list[Pair]:
    """Ended pairs whose retention period is over and whose space still exists."""
    result = await session.execute(
        select(Pair)
        .where(P.status == PairStatus.ENDED)
        .where(P.delete_channel_at <= now)
        .where(HAS_SPACE)
        .order_by(P.id)
    )
    return list(result.scalars())


async def record_leftover_spaces(session: AsyncSession, *, user_id: int, now: datetime) -> int:
    """Before a member's pairs are erased: every channel or thread one of them still holds is
    recorded to be deleted when its retention ends (the pair's ``delete_channel_at``, or the
    server's retention period from now). A space recorded already keeps its first date."""
    result = await session.execute(
        select(Pair, PairSettings)
        .outerjoin(PairSettings, PairSettings.guild_id == P.guild_id)
        .where(or_(P.mentee_id == user_id, P.mentor_id == user_id))
        .where(HAS_SPACE)
    )
    rows = []
    for pair, pset in result.all():
        keep = timedelta(days=rhythm_from(pset.model_dump() if pset else None).retention_days)
        delete_at = pair.delete_channel_at or now + keep
        for space_id in (pair.channel_id, pair.thread_id):
            if space_id is not None:
                rows.append(
                    {
                        "space_id": space_id,
                        "guild_id": pair.guild_id,
                        "delete_at": delete_at,
                        "recorded_at": now,
                    }
                )
    await add_leftover_spaces(session, rows=rows)
    return len(rows)


async def add_leftover_spaces(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Record spaces (``space_id``, ``guild_id``, ``delete_at``, ``recorded_at``) for
    retention to delete; a space recorded already keeps its first date."""
    if rows:
        table = LeftoverSpace.__table__  # type: ignore[attr-defined]
        statement = dialect_insert(session, table).values(list(rows))
        await session.execute(statement.on_conflict_do_nothing(index_elements=["space_id"]))


async def due_leftover_spaces(session: AsyncSession, *, now: datetime) -> list[LeftoverSpace]:
    """Leftover spaces whose retention period is over, oldest date first."""
    result = await session.execute(
        select(LeftoverSpace).where(L.delete_at <= now).order_by(L.delete_at, L.space_id)
    )
    return list(result.scalars())


async def claim_leftover_space(session: AsyncSession, *, space_id: int) -> bool:
    """Take a leftover space off the list; true for the one caller who did (it deletes it)."""
    result = await session.execute(delete(LeftoverSpace).where(L.space_id == space_id))
    return changed(result) == 1


async def put_back_leftover_space(session: AsyncSession, *, space: LeftoverSpace) -> None:
    """Discord could not delete a leftover space for now: the next sweep tries again."""
    session.add(
        LeftoverSpace(
            space_id=space.space_id,
            guild_id=space.guild_id,
            delete_at=space.delete_at,
            recorded_at=space.recorded_at,
        )
    )
    await session.flush()


async def delete_sooner(session: AsyncSession, *, pair_id: int, now: datetime) -> bool:
    """An ended pair's member asked for deletion now."""
    return await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.ENDED,
        HAS_SPACE,
        delete_channel_at=now,
    )


async def reopen_pair(session: AsyncSession, *, pair_id: int) -> bool:
    """A moderator restores a pair whose space was deleted by hand: back to ``opening``."""
    reopened = await _update_pair(
        session,
        pair_id,
        P.status == PairStatus.ENDED,
        NO_SPACE,
        P.id.in_(select(S.pair_id).where(S.end_cause == "channel_deleted")),
        status=PairStatus.OPENING,
        ended_at=None,
        ended_by_id=None,
        delete_channel_at=None,
        space_error="deleted",
    )
    if reopened:
        await _update_space(session, pair_id, end_cause=None, error_alerted=None)
    return reopened


async def release_active_space(session: AsyncSession, *, pair_id: int) -> bool:
    """An active pair whose space vanished goes back to ``opening`` so it can be recreated."""
    return await _update_pair(
        session,
        pair_id,
        P.status.in_(LIVE),
        status=PairStatus.OPENING,
        channel_id=None,
        thread_id=None,
        space_error="deleted",
    )


# ---------------------------------------------------------------- care and safety


async def recent_reports(
    session: AsyncSession, *, reporter_id: int, since: datetime
) -> list[datetime]:
    """When ``reporter_id`` filed each report since ``since``, oldest first (the daily limit)."""
    table = PairReport.__table__  # type: ignore[attr-defined]
    result = await session.execute(
        select(table.c.created_at)
        .where(table.c.reporter_id == reporter_id, table.c.created_at >= since)
        .order_by(table.c.created_at)
    )
    return list(result.scalars())


async def has_reported(session: AsyncSession, *, pair_id: int, reporter_id: int) -> bool:
    """Whether ``reporter_id`` already reported this pair (one report per person and pair)."""
    table = PairReport.__table__  # type: ignore[attr-defined]
    found = await session.execute(
        select(table.c.id).where(table.c.pair_id == pair_id, table.c.reporter_id == reporter_id)
    )
    return found.first() is not None


async def file_report(
    session: AsyncSession,
    *,
    guild_id: int,
    pair_id: int,
    reporter_id: int,
    reported_id: int,
    reason_enc: str | None,
    pause_contact: bool,
    block: bool,
    now: datetime,
) -> PairReport | None:
    """File the report; ``None`` if this person already reported this pair."""
    try:
        async with session.begin_nested():
            report = await insert(
                session,
                PairReport(
                    guild_id=guild_id,
                    pair_id=pair_id,
                    reporter_id=reporter_id,
                    reported_id=reported_id,
                    reason_enc=reason_enc,
                    pause_contact=pause_contact,
                    block=block,
                    created_at=now,
                    alert_claimed_at=now,  # its filer delivers it first; the sweep retries
                ),
            )
    except IntegrityError:
        return None
    return report


async def pause_contact(session: AsyncSession, *, pair_id: int, paused_member: str) -> bool:
    """Pause contact after a report (one caller wins); ``paused_member`` loses access."""
    paused = await _update_pair(
        session, pair_id, P.status == PairStatus.ACTIVE, status=PairStatus.PAUSED
    )
    if paused:
        await _update_space(session, pair_id, paused_member=paused_member)
    return paused


async def resume_contact(session: AsyncSession, *, pair_id: int) -> str | None:
    """A moderator lifts a pause; returns who had lost access, or ``None`` if not paused."""
    space = await get_space(session, pair_id=pair_id)
    if not await _update_pair(
        session, pair_id, P.status == PairStatus.PAUSED, status=PairStatus.ACTIVE
    ):
        return None
    paused = space.paused_member if space else None
    await _update_space(session, pair_id, paused_member=None)
    return paused or ""


async def active_pairs(session: AsyncSession, *, guild_id: int) -> list[Pair]:
    """Pairs with a pair space (a channel or a private thread) in ``guild_id``."""
    result = await session.execute(
        select(Pair)
        .where(Pair.guild_id == guild_id, Pair.status == PairStatus.ACTIVE)  # type: ignore[arg-type]
        .where(HAS_SPACE)
        .order_by(Pair.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def pair_of_member(session: AsyncSession, *, guild_id: int, user_id: int) -> Pair | None:
    """The member's most recent active pair in ``guild_id``."""
    result = await session.execute(
        select(Pair)
        .where(Pair.guild_id == guild_id, Pair.status == PairStatus.ACTIVE)  # type: ignore[arg-type]
        .where(or_(Pair.mentee_id == user_id, Pair.mentor_id == user_id))  # type: ignore[arg-type]
        .order_by(Pair.id.desc())  # type: ignore[union-attr]
    )
    return result.scalars().first()
