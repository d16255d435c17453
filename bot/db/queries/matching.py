"""Match requests, introductions, pairs and mentor capacity: every transition is a
compare-and-set, so concurrent clicks and sweeps give exactly one outcome."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.db.models import (
    Block,
    ConsentStatus,
    Introduction,
    IntroStatus,
    MatchingSettings,
    MatchRequest,
    MemberProfile,
    Pair,
    PairStatus,
    RequestStatus,
)
from bot.db.pool_changes import MARKED, mark
from bot.db.queries._rows import changed, dialect_insert, insert, lock_or_add
from bot.db.queries.members import to_profile
from bot.db.registry import pseudonym_match
from bot.domain.introductions import reminder_due
from bot.domain.profile import Profile

OPEN_PAIR_STATUSES = (PairStatus.OPENING, PairStatus.ACTIVE, PairStatus.PAUSED)

_intro = Introduction.__table__  # type: ignore[attr-defined]
_request = MatchRequest.__table__  # type: ignore[attr-defined]
_profile = MemberProfile.__table__  # type: ignore[attr-defined]
_block = Block.__table__  # type: ignore[attr-defined]
_pair = Pair.__table__  # type: ignore[attr-defined]


# --- settings ---------------------------------------------------------------------------------


async def get_matching_settings(session: AsyncSession, *, guild_id: int) -> MatchingSettings | None:
    """The server's matching settings, if it changed any."""
    return await session.get(MatchingSettings, guild_id)


async def save_matching_settings(
    session: AsyncSession,
    *,
    guild_id: int,
    now: datetime,
    expiry_hours: int | None = None,
    weights: dict[str, float] | None = None,
    rounds_only: bool | None = None,
) -> MatchingSettings:
    """Change the server's introduction expiry, weights or introduction mode."""
    row = await lock_or_add(session, MatchingSettings, guild_id, guild_id=guild_id, updated_at=now)
    if expiry_hours is not None:
        row.expiry_hours = expiry_hours
    if weights is not None:
        row.weights_json = json.dumps(weights, sort_keys=True)
    if rounds_only is not None:
        row.rounds_only = rounds_only
    row.updated_at = now
    await session.flush()
    return row


# --- who can be matched -----------------------------------------------------------------------


def _eligible(row: MemberProfile) -> bool:
    return row.consent_status == ConsentStatus.ACCEPTED and row.completed_at is not None


async def load_matchable_profile(
    session: AsyncSession, *, guild_id: int, user_id: int, cipher: Cipher
) -> tuple[MemberProfile, Profile] | None:
    """The member's row and typed profile if they consented and finished onboarding."""
    row = await session.get(MemberProfile, (guild_id, user_id))
    if row is None or not _eligible(row):
        return None
    return row, to_profile(row, cipher)


async def _pending_per_mentor(session: AsyncSession, guild_id: int) -> dict[int, int]:
    """Introductions still waiting for each mentor's answer (each holds one of their places)."""
    counted = await session.execute(
        select(_intro.c.mentor_id, func.count())
        .where(_intro.c.guild_id == guild_id, _intro.c.status == IntroStatus.PENDING)
        .group_by(_intro.c.mentor_id)
    )
    return {mentor: count for mentor, count in counted.all()}


def _available(guild_id: int) -> tuple[ColumnElement[bool], ...]:
    """Consented, onboarded, unpaused mentors of the server with a place not taken by a pair."""
    return (
        _profile.c.guild_id == guild_id,
        _profile.c.role.in_(("mentor", "both")),
        _profile.c.consent_status == ConsentStatus.ACCEPTED,
        _profile.c.completed_at.is_not(None),
        _profile.c.mentor_paused.is_(False),
        _profile.c.active_mentees < _profile.c.capacity,
    )


async def list_available_mentors(
    session: AsyncSession, *, guild_id: int, cipher: Cipher
) -> list[tuple[Profile, int]]:
    """Consented, unpaused mentors with free capacity, with how many slots each has free.

    An introduction still waiting for the mentor's answer holds one of their slots, so a mentor
    with one free place is never sent several introductions at once.
    """
    pending = await _pending_per_mentor(session, guild_id)
    result = await session.execute(
        select(MemberProfile).where(*_available(guild_id)).order_by(_profile.c.user_id)
    )
    mentors = []
    for row in result.scalars():
        free = row.capacity - row.active_mentees - pending.get(row.user_id, 0)
        if free > 0:
            mentors.append((to_profile(row, cipher), free))
    return mentors


ROWS_AT_ONCE = 500  # rows a round reads at a time (then lets the event loop run)


async def round_mentor_rows(
    session: AsyncSession, *, guild_id: int
) -> AsyncIterator[list[tuple[int, str | None, int]]]:
    """(user id, encrypted answers, free places) of every mentor ``list_available_mentors``
    would list, streamed ``ROWS_AT_ONCE`` rows at a time and still encrypted: a round of
    thousands decrypts them a piece at a time, never holding the event loop for all of them."""
    pending = await _pending_per_mentor(session, guild_id)
    result = await session.stream(
        select(
            _profile.c.user_id,
            _profile.c.answers_enc,
            _profile.c.capacity - _profile.c.active_mentees,
        )
        .where(*_available(guild_id))
        .order_by(_profile.c.user_id)
    )
    async for part in result.partitions(ROWS_AT_ONCE):
        rows = [(user, answers, free - pending.get(user, 0)) for user, answers, free in part]
        yield [row for row in rows if row[2] > 0]


async def round_mentee_rows(
    session: AsyncSession, *, guild_id: int
) -> AsyncIterator[list[tuple[int, str | None]]]:
    """(user id, encrypted answers) of every waiting member who consented and finished their
    profile, streamed ``ROWS_AT_ONCE`` rows at a time (see ``round_mentor_rows``)."""
    result = await session.stream(
        select(_profile.c.user_id, _profile.c.answers_enc)
        .join(
            _request,
            and_(
                _request.c.guild_id == _profile.c.guild_id,
                _request.c.mentee_id == _profile.c.user_id,
            ),
        )
        .where(
            _request.c.guild_id == guild_id,
            _request.c.status == RequestStatus.WAITING,
            _profile.c.consent_status == ConsentStatus.ACCEPTED,
            _profile.c.completed_at.is_not(None),
        )
        .order_by(_profile.c.user_id)
    )
    async for part in result.partitions(ROWS_AT_ONCE):
        yield [(user, answers) for user, answers in part]


async def hold_mentor(session: AsyncSession, *, guild_id: int, mentor_id: int) -> bool:
    """Hold the mentor's profile row for the rest of this transaction; ``False`` if they have
    none.

    A write, checked by row count: PostgreSQL locks the row and SQLite takes its write lock, so
    introductions to one mentor run one after another and the free places counted after this
    are current (two requests can never both take a mentor's last place).
    """
    result = await session.execute(
        update(_profile)
        .where(_profile.c.guild_id == guild_id, _profile.c.user_id == mentor_id)
        .values(updated_at=_profile.c.updated_at)
    )
    return changed(result) == 1


async def free_places(session: AsyncSession, *, guild_id: int, mentor_id: int) -> int:
    """How many more introductions the mentor can take: capacity minus open pairs minus
    introductions still waiting for their answer (never below zero)."""
    row = await session.get(MemberProfile, (guild_id, mentor_id), populate_existing=True)
    if row is None:
        return 0
    pending = await session.execute(_pending_for(guild_id, mentor_id))
    return places_left(row, int(pending.scalar_one()))


def _pending_for(guild_id: int, mentor_id: int) -> Any:
    """How many introductions are waiting for the mentor's answer."""
    return (
        select(func.count())
        .select_from(_intro)
        .where(
            _intro.c.guild_id == guild_id,
            _intro.c.mentor_id == mentor_id,
            _intro.c.status == IntroStatus.PENDING,
        )
    )


def places_left(mentor: MemberProfile, pending: int) -> int:
    """The mentor's free places, given the introductions waiting for their answer."""
    return max(0, mentor.capacity - mentor.active_mentees - pending)


def _blocked_is(user_id: int, cipher: Cipher) -> Any:
    """The block's blocked member is ``user_id``, even if they erased their data since."""
    return pseudonym_match(_block.c.blocked_id, _block.c.blocked_key, user_id, cipher)


async def blocked_between(
    session: AsyncSession, *, guild_id: int, a: int, b: int, cipher: Cipher
) -> bool:
    """Whether either member blocked the other (a block outlives the blocked member erasing
    their data and coming back)."""
    found = select(_block.c.id).where(*_block_between(guild_id, a, b, cipher))
    result = await session.execute(found)
    return result.first() is not None


def _block_between(guild_id: int, a: int, b: int, cipher: Cipher) -> tuple[Any, ...]:
    return (
        _block.c.guild_id == guild_id,
        or_(
            and_(_block.c.blocker_id == a, _blocked_is(b, cipher)),
            and_(_block.c.blocker_id == b, _blocked_is(a, cipher)),
        ),
    )


def _met(guild_id: int, mentee_id: int, mentor_id: int) -> tuple[Any, ...]:
    return (
        _intro.c.guild_id == guild_id,
        _intro.c.mentee_id == mentee_id,
        _intro.c.mentor_id == mentor_id,
    )


@dataclass(frozen=True)
class PairChecks:
    """What an introduction re-checks besides the two profiles, read in one statement."""

    mentee_paired: bool
    request_status: str | None
    mentor_pending: int  # introductions waiting for the mentor's answer (``places_left``)
    blocked: bool
    introduced_before: bool


async def pair_checks(
    session: AsyncSession,
    *,
    guild_id: int,
    mentee_id: int,
    mentor_id: int,
    cipher: Cipher,
) -> PairChecks:
    """``active_pair_for_mentee``, the request's status, the mentor's pending introductions
    (as in ``free_places``), ``blocked_between`` and whether the mentee was ever introduced
    to the mentor, in one round trip instead of five."""
    row = (
        await session.execute(
            select(
                exists().where(*_open_pair_of(guild_id, mentee_id)),
                select(_request.c.status)
                .where(_request.c.guild_id == guild_id, _request.c.mentee_id == mentee_id)
                .scalar_subquery(),
                _pending_for(guild_id, mentor_id).scalar_subquery(),
                exists().where(*_block_between(guild_id, mentee_id, mentor_id, cipher)),
                exists().where(*_met(guild_id, mentee_id, mentor_id)),
            )
        )
    ).one()
    paired, status, pending, blocked, met = row
    return PairChecks(bool(paired), status, int(pending), bool(blocked), bool(met))


async def _blocks(
    session: AsyncSession, guild_id: int, cipher: Cipher, *where: Any
) -> list[tuple[int, int]]:
    """(blocker, blocked) of the server's blocks matching ``where``. A blocked member who
    erased their data is known only by their pseudonym: they are found again among the
    server's members if they came back, and left out otherwise."""
    rows = (
        await session.execute(
            select(_block.c.blocker_id, _block.c.blocked_id, _block.c.blocked_key).where(
                _block.c.guild_id == guild_id, *where
            )
        )
    ).all()
    by_key: dict[str, int] = {}
    if any(blocked is None for _, blocked, _ in rows):
        members = await session.execute(
            select(_profile.c.user_id).where(_profile.c.guild_id == guild_id)
        )
        by_key = {k: m for m in members.scalars() for k in cipher.pseudonyms(m)}
    out = []
    for blocker, blocked, key in rows:
        found = blocked if blocked is not None else by_key.get(key)
        if found is not None:
            out.append((int(blocker), int(found)))
    return out


async def server_blocks(
    session: AsyncSession, *, guild_id: int, cipher: Cipher
) -> list[tuple[int, int]]:
    """(blocker, blocked) of every block in the server, a blocked member who erased their data
    and came back found again by their pseudonym."""
    return await _blocks(session, guild_id, cipher)


async def forbidden_mentors(
    session: AsyncSession, *, guild_id: int, mentee_id: int, cipher: Cipher
) -> set[int]:
    """Mentors never to propose to ``mentee_id``: blocks either way, earlier declines/expiries,
    anyone already introduced or paired with them."""
    blocks = await _blocks(
        session,
        guild_id,
        cipher,
        or_(_block.c.blocker_id == mentee_id, _blocked_is(mentee_id, cipher)),
    )
    out = {blocker if blocker != mentee_id else blocked for blocker, blocked in blocks}
    intros = await session.execute(
        select(_intro.c.mentor_id).where(
            _intro.c.guild_id == guild_id, _intro.c.mentee_id == mentee_id
        )
    )
    out.update(intros.scalars())
    out.add(mentee_id)
    return out


async def forbidden_pairs(
    session: AsyncSession, *, guild_id: int, cipher: Cipher
) -> set[tuple[int, int]]:
    """(mentee, mentor) pairs never to propose in a batch round, both block directions (a
    blocked member who erased their data and came back is found by their pseudonym)."""
    pairs: set[tuple[int, int]] = set()
    for a, b in await server_blocks(session, guild_id=guild_id, cipher=cipher):
        pairs.update({(a, b), (b, a)})
    intros = await session.execute(
        select(_intro.c.mentee_id, _intro.c.mentor_id).where(_intro.c.guild_id == guild_id)
    )
    for mentee, mentor in intros.all():
        pairs.add((mentee, mentor))
    return pairs


# --- introductions withdrawn ---------------------------------------------------------------


async def cancel_pending_introductions(
    session: AsyncSession, *, guild_id: int, member: int, now: datetime, other: int | None = None
) -> list[Introduction]:
    """Cancel pending introductions naming ``member`` (only those with ``other``, if given);
    returns the ones this call cancelled."""
    names = or_(_intro.c.mentee_id == member, _intro.c.mentor_id == member)
    if other is not None:
        names = or_(
            and_(_intro.c.mentee_id == member, _intro.c.mentor_id == other),
            and_(_intro.c.mentee_id == other, _intro.c.mentor_id == member),
        )
    result = await session.execute(
        select(Introduction).where(
            _intro.c.guild_id == guild_id, _intro.c.status == IntroStatus.PENDING, names
        )
    )
    cancelled = []
    for intro in result.scalars():
        assert intro.id is not None
        if await decide_introduction(
            session, intro_id=intro.id, status=IntroStatus.CANCELLED, now=now
        ):
            cancelled.append(intro)
    return cancelled


# --- requests ---------------------------------------------------------------------------------


async def get_request(
    session: AsyncSession, *, guild_id: int, mentee_id: int
) -> MatchRequest | None:
    """The mentee's request, whatever its state."""
    return await session.get(MatchRequest, (guild_id, mentee_id))


async def open_request(
    session: AsyncSession, *, guild_id: int, mentee_id: int, now: datetime
) -> tuple[MatchRequest, bool]:
    """Put the mentee on the waiting list; returns the request and whether it is new."""
    row = await session.get(MatchRequest, (guild_id, mentee_id), with_for_update=True)
    if row is None:
        # One statement, no savepoint: a conflict is the same request a moment earlier (a
        # double click, which waited for it to commit): it is that one.
        key = {"guild_id": guild_id, "mentee_id": mentee_id}
        added = await session.scalar(
            dialect_insert(session, MatchRequest)
            .values(**key, status=RequestStatus.WAITING, requested_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[_request.c.guild_id, _request.c.mentee_id])
            .returning(MatchRequest)
        )
        if added is not None:
            return added, True
        found = await session.get(
            MatchRequest, (guild_id, mentee_id), with_for_update=True, populate_existing=True
        )
        assert found is not None
        return found, False
    if row.status in (RequestStatus.CANCELLED, RequestStatus.MATCHED):
        if row.status == RequestStatus.MATCHED and await active_pair_for_mentee(
            session, guild_id=guild_id, mentee_id=mentee_id
        ):
            return row, False
        row.status = RequestStatus.WAITING
        row.requested_at = now
        row.updated_at = now
        row.matched_at = None
        await session.flush()
        return row, True
    return row, False


async def offer_request(
    session: AsyncSession, *, guild_id: int, mentee_id: int, now: datetime
) -> bool:
    """A moderator introduces a mentee who was not waiting: the request is marked offered (not
    put on the waiting list); ``False`` if the mentee already waits or is being introduced."""
    row = await session.get(MatchRequest, (guild_id, mentee_id), with_for_update=True)
    if row is None:
        row = MatchRequest(guild_id=guild_id, mentee_id=mentee_id, requested_at=now, updated_at=now)
        session.add(row)
    elif row.status not in (RequestStatus.CANCELLED, RequestStatus.MATCHED):
        return False
    row.status = RequestStatus.OFFERED
    row.requested_at = now
    row.updated_at = now
    row.matched_at = None
    await session.flush()
    return True


async def set_request_status(
    session: AsyncSession,
    *,
    guild_id: int,
    mentee_id: int,
    status: str,
    now: datetime,
    expect: Sequence[str] | None = None,
) -> bool:
    """Move the request to ``status`` (only from ``expect`` states when given)."""
    stmt = update(_request).where(
        _request.c.guild_id == guild_id, _request.c.mentee_id == mentee_id
    )
    if expect is not None:
        stmt = stmt.where(_request.c.status.in_(tuple(expect)))
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == RequestStatus.MATCHED:
        values["matched_at"] = now
    return changed(await session.execute(stmt.values(**values))) == 1


async def waiting_requests(session: AsyncSession, *, guild_id: int) -> list[MatchRequest]:
    """Mentees waiting for an introduction, longest wait first."""
    result = await session.execute(
        select(MatchRequest)
        .where(_request.c.guild_id == guild_id, _request.c.status == RequestStatus.WAITING)
        .order_by(_request.c.requested_at, _request.c.mentee_id)
    )
    return list(result.scalars())


async def recent_wait_times(
    session: AsyncSession, *, guild_id: int, limit: int = 20
) -> list[timedelta]:
    """How long the most recently matched mentees waited."""
    result = await session.execute(
        select(_request.c.requested_at, _request.c.matched_at)
        .where(_request.c.guild_id == guild_id, _request.c.matched_at.is_not(None))
        .order_by(_request.c.matched_at.desc())
        .limit(limit)
    )
    return [matched - requested for requested, matched in result.all()]


# --- introductions ----------------------------------------------------------------------------


async def create_introduction(
    session: AsyncSession,
    *,
    guild_id: int,
    mentee_id: int,
    mentor_id: int,
    score: float,
    reasons: Sequence[str],
    cipher: Cipher,
    now: datetime,
    expires_at: datetime,
    offered: bool = False,
) -> Introduction | None:
    """Introduce the mentee to the mentor if the mentee is still waiting (or, ``offered``, was
    just offered this introduction by a moderator); else ``None``."""
    status = RequestStatus.OFFERED if offered else RequestStatus.INTRODUCED
    moved = await set_request_status(
        session,
        guild_id=guild_id,
        mentee_id=mentee_id,
        status=status,
        now=now,
        expect=(status if offered else RequestStatus.WAITING,),
    )
    if not moved:
        return None
    intro = Introduction(
        guild_id=guild_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        score=round(float(score), 2),
        reasons_enc=cipher.encrypt(json.dumps(list(reasons), ensure_ascii=False)),
        status=IntroStatus.PENDING,
        created_at=now,
        expires_at=expires_at,
    )
    return await insert(session, intro)


def read_reasons(intro: Introduction, cipher: Cipher) -> list[str]:
    """The decrypted reasons of an introduction."""
    text = cipher.decrypt(intro.reasons_enc)
    return list(json.loads(text)) if text else []


async def get_introduction(session: AsyncSession, *, intro_id: int) -> Introduction | None:
    """One introduction by id."""
    return await session.get(Introduction, intro_id)


async def pending_introduction_for(
    session: AsyncSession, *, guild_id: int, mentee_id: int
) -> Introduction | None:
    """The mentee's pending introduction, if any."""
    result = await session.execute(
        select(Introduction).where(
            _intro.c.guild_id == guild_id,
            _intro.c.mentee_id == mentee_id,
            _intro.c.status == IntroStatus.PENDING,
        )
    )
    return result.scalars().first()


async def remember_intro_message(
    session: AsyncSession, *, intro_id: int, channel_id: int, message_id: int
) -> None:
    """Where the introduction card was posted, so it can be updated later."""
    await session.execute(
        update(_intro)
        .where(_intro.c.id == intro_id)
        .values(message_channel_id=channel_id, message_id=message_id)
    )


async def decide_introduction(
    session: AsyncSession, *, intro_id: int, status: str, now: datetime
) -> bool:
    """Move a pending introduction to ``status``; ``False`` if someone else already decided.
    The mentor's pending place is freed: their pool entry is marked changed."""
    result = await session.execute(
        update(_intro)
        .where(_intro.c.id == intro_id, _intro.c.status == IntroStatus.PENDING)
        .values(status=status, decided_at=now)
        .returning(_intro.c.guild_id, _intro.c.mentor_id),
        execution_options=MARKED,
    )
    decided = result.all()
    for guild_id, mentor_id in decided:
        mark(session, guild_id, (mentor_id,))
    return len(decided) == 1


class AcceptOutcome:
    """What happened when a mentor pressed Accept."""

    ACCEPTED = "accepted"
    MISSING = "missing"
    EXPIRED = "expired"
    DECIDED = "decided"
    FULL = "full"
    BLOCKED = "blocked"


async def accept_introduction(
    session: AsyncSession, *, intro_id: int, now: datetime, cipher: Cipher
) -> tuple[str, Introduction | None, Pair | None]:
    """Accept a pending introduction: claim a mentor slot, mark it accepted, create the pair.

    All or nothing, and race-safe: of any number of concurrent calls exactly one returns
    ``accepted``; a mentor at capacity leaves the introduction pending; a block between the two
    cancels it (``blocked``).
    """
    # Write first (the compare-and-set), read after: no stale snapshot to upgrade from.
    savepoint = await session.begin_nested()
    claimed = await session.execute(
        update(_intro)
        .where(
            _intro.c.id == intro_id,
            _intro.c.status == IntroStatus.PENDING,
            _intro.c.expires_at > now,
        )
        .values(status=IntroStatus.ACCEPTED, decided_at=now),
        execution_options=MARKED,
    )
    intro = await session.get(Introduction, intro_id, populate_existing=True)
    if intro is not None:
        mark(session, intro.guild_id, (intro.mentor_id,))
    if changed(claimed) != 1:
        await savepoint.rollback()
        if intro is None:
            return AcceptOutcome.MISSING, None, None
        if intro.status == IntroStatus.PENDING:
            return AcceptOutcome.EXPIRED, intro, None
        return AcceptOutcome.DECIDED, intro, None
    assert intro is not None
    if await blocked_between(
        session, guild_id=intro.guild_id, a=intro.mentee_id, b=intro.mentor_id, cipher=cipher
    ):
        # A block made before this accept: never a pair; the introduction is withdrawn.
        await savepoint.rollback()
        await decide_introduction(session, intro_id=intro_id, status=IntroStatus.CANCELLED, now=now)
        await session.refresh(intro)
        return AcceptOutcome.BLOCKED, intro, None
    if not await take_mentor_slot(session, guild_id=intro.guild_id, mentor_id=intro.mentor_id):
        await savepoint.rollback()
        await session.refresh(intro)
        return AcceptOutcome.FULL, intro, None
    await set_request_status(
        session,
        guild_id=intro.guild_id,
        mentee_id=intro.mentee_id,
        status=RequestStatus.MATCHED,
        now=now,
    )
    pair = await create_pair(session, intro=intro, now=now)
    await savepoint.commit()
    return AcceptOutcome.ACCEPTED, intro, pair


async def take_mentor_slot(session: AsyncSession, *, guild_id: int, mentor_id: int) -> bool:
    """Claim one of the mentor's free slots; ``False`` when they are at capacity."""
    result = await session.execute(
        update(_profile)
        .where(
            _profile.c.guild_id == guild_id,
            _profile.c.user_id == mentor_id,
            _profile.c.active_mentees < _profile.c.capacity,
        )
        .values(active_mentees=_profile.c.active_mentees + 1),
        execution_options=MARKED,
    )
    mark(session, guild_id, (mentor_id,))
    return changed(result) == 1


async def recount_mentor_slots(session: AsyncSession, *, guild_id: int, mentor_id: int) -> None:
    """Set the mentor's used slots to their open pairs (after a pair ends; safe to repeat).

    The profile row is locked first, so a concurrent accept either finishes before the count
    (and is counted) or waits for it.
    """
    row = await session.get(
        MemberProfile, (guild_id, mentor_id), with_for_update=True, populate_existing=True
    )
    if row is None:
        return
    count = await session.execute(
        select(func.count())
        .select_from(_pair)
        .where(
            _pair.c.guild_id == guild_id,
            _pair.c.mentor_id == mentor_id,
            _pair.c.status.in_(OPEN_PAIR_STATUSES),
        )
    )
    row.active_mentees = int(count.scalar_one())
    await session.flush()


async def set_mentor_paused(
    session: AsyncSession, *, guild_id: int, mentor_id: int, paused: bool, now: datetime
) -> bool:
    """Pause or resume a mentor's availability; ``False`` if they have no profile."""
    result = await session.execute(
        update(_profile)
        .where(_profile.c.guild_id == guild_id, _profile.c.user_id == mentor_id)
        .values(mentor_paused=paused, updated_at=now),
        execution_options=MARKED,
    )
    mark(session, guild_id, (mentor_id,))
    return changed(result) == 1


async def create_pair(session: AsyncSession, *, intro: Introduction, now: datetime) -> Pair:
    """The pair for an accepted introduction (one per introduction, enforced by a unique key)."""
    pair = Pair(
        guild_id=intro.guild_id,
        introduction_id=intro.id,
        mentee_id=intro.mentee_id,
        mentor_id=intro.mentor_id,
        status=PairStatus.OPENING,
        created_at=now,
        last_activity_at=now,
    )
    return await insert(session, pair)


async def active_pair_for_mentee(
    session: AsyncSession, *, guild_id: int, mentee_id: int
) -> Pair | None:
    """The mentee's open pair, if they have one."""
    result = await session.execute(select(Pair).where(*_open_pair_of(guild_id, mentee_id)))
    return result.scalars().first()


def _open_pair_of(guild_id: int, mentee_id: int) -> tuple[Any, ...]:
    return (
        _pair.c.guild_id == guild_id,
        _pair.c.mentee_id == mentee_id,
        _pair.c.status.in_(OPEN_PAIR_STATUSES),
    )


async def open_pair_between(session: AsyncSession, *, guild_id: int, a: int, b: int) -> bool:
    """Whether the two members are in an open pair together (either role)."""
    result = await session.execute(
        select(_pair.c.id).where(
            _pair.c.guild_id == guild_id,
            _pair.c.status.in_(OPEN_PAIR_STATUSES),
            or_(
                and_(_pair.c.mentee_id == a, _pair.c.mentor_id == b),
                and_(_pair.c.mentee_id == b, _pair.c.mentor_id == a),
            ),
        )
    )
    return result.first() is not None


async def expired_introductions(session: AsyncSession, *, now: datetime) -> list[Introduction]:
    """Pending introductions whose time to answer is over."""
    result = await session.execute(
        select(Introduction)
        .where(_intro.c.status == IntroStatus.PENDING, _intro.c.expires_at <= now)
        .order_by(_intro.c.id)
    )
    return list(result.scalars())


async def reminders_due(session: AsyncSession, *, now: datetime) -> list[Introduction]:
    """Pending introductions past the halfway point of their time, not yet reminded."""
    result = await session.execute(
        select(Introduction)
        .where(
            _intro.c.status == IntroStatus.PENDING,
            _intro.c.reminded_at.is_(None),
            _intro.c.expires_at > now,
        )
        .order_by(_intro.c.id)
    )
    return [i for i in result.scalars() if reminder_due(i.created_at, i.expires_at, now)]


async def mark_reminded(session: AsyncSession, *, intro_id: int, now: datetime) -> bool:
    """Claim the halfway reminder for an introduction (exactly once)."""
    result = await session.execute(
        update(_intro)
        .where(
            _intro.c.id == intro_id,
            _intro.c.status == IntroStatus.PENDING,
            _intro.c.reminded_at.is_(None),
        )
        .values(reminded_at=now)
    )
    return changed(result) == 1


async def count_waiting_ahead(
    session: AsyncSession, *, guild_id: int, requested_at: datetime
) -> int:
    """How many mentees in this server have waited longer."""
    result = await session.execute(
        select(func.count())
        .select_from(_request)
        .where(
            and_(
                _request.c.guild_id == guild_id,
                _request.c.status == RequestStatus.WAITING,
                _request.c.requested_at < requested_at,
            )
        )
    )
    return int(result.scalar_one())
