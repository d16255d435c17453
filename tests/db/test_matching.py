"""Matching queries on SQLite and PostgreSQL: every transition is a compare-and-set, so
concurrent clicks give exactly one outcome and capacity holds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import Block, Introduction, IntroStatus, MatchRequest, MemberProfile, Pair
from bot.db.models import RequestStatus as RS
from bot.db.queries.matching import (
    AcceptOutcome,
    accept_introduction,
    expired_introductions,
    free_places,
    offer_request,
    open_request,
    pair_checks,
    places_left,
    reminders_due,
)
from tests.factories import accepted_pair, count_rows, introduce, onboarded

GUILD = 10
MENTOR = 100
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _introduced(database: Database, cipher: Cipher, mentee_id: int) -> int:
    """A waiting mentee introduced to the mentor; the introduction's id."""
    await onboarded(database, cipher, guild_id=GUILD, user_id=mentee_id, now=NOW)
    async with database.session() as session:
        return await introduce(
            session,
            cipher,
            guild_id=GUILD,
            mentee_id=mentee_id,
            mentor_id=MENTOR,
            now=NOW,
            score=50,
            reasons=[],
        )


async def test_concurrent_accepts_give_exactly_one_pair_at_the_database(
    database: Database, cipher: Cipher
) -> None:
    await onboarded(database, cipher, guild_id=GUILD, user_id=MENTOR, now=NOW, mentor=True)
    intro_id = await _introduced(database, cipher, 1)

    async def click() -> str:
        async with database.session() as session:
            outcome, _, _ = await accept_introduction(
                session, intro_id=intro_id, now=NOW, cipher=cipher
            )
            return outcome

    outcomes = await asyncio.gather(*(click() for _ in range(10)))
    assert sorted(outcomes) == [AcceptOutcome.ACCEPTED] + [AcceptOutcome.DECIDED] * 9
    assert await count_rows(database, Pair) == 1
    async with database.session() as session:
        row = await session.get(MemberProfile, (GUILD, MENTOR))
    assert row is not None and row.active_mentees == 1


async def test_capacity_holds_when_two_introductions_are_accepted_at_once(
    database: Database, cipher: Cipher
) -> None:
    await onboarded(database, cipher, guild_id=GUILD, user_id=MENTOR, now=NOW, mentor=True)
    intro_ids = [await _introduced(database, cipher, mentee) for mentee in (1, 2, 3)]

    async def accept(intro_id: int) -> str:
        async with database.session() as session:
            outcome, _, _ = await accept_introduction(
                session, intro_id=intro_id, now=NOW, cipher=cipher
            )
            return outcome

    outcomes = await asyncio.gather(*(accept(i) for i in intro_ids))
    # The mentor's capacity is 2: two pairs, the third introduction stays pending.
    assert sorted(outcomes) == sorted([AcceptOutcome.ACCEPTED] * 2 + [AcceptOutcome.FULL])
    assert await count_rows(database, Pair) == 2
    assert await count_rows(database, Introduction, status=IntroStatus.PENDING) == 1


async def test_pending_introductions_hold_the_mentors_free_places(
    database: Database, cipher: Cipher
) -> None:
    await onboarded(database, cipher, guild_id=GUILD, user_id=MENTOR, now=NOW, mentor=True)
    async with database.session() as session:
        assert await free_places(session, guild_id=GUILD, mentor_id=MENTOR) == 2
    await _introduced(database, cipher, 1)
    await _introduced(database, cipher, 2)
    async with database.session() as session:
        assert await free_places(session, guild_id=GUILD, mentor_id=MENTOR) == 0
        assert await free_places(session, guild_id=GUILD, mentor_id=999) == 0


async def test_pair_checks_read_every_rule_of_an_introduction_at_once(
    database: Database, cipher: Cipher
) -> None:
    await onboarded(database, cipher, guild_id=GUILD, user_id=MENTOR, now=NOW, mentor=True)
    for mentee in (2, 3, 4):
        await onboarded(database, cipher, guild_id=GUILD, user_id=mentee, now=NOW)
    await _introduced(database, cipher, 1)  # pending: holds one of the mentor's two places
    await accepted_pair(
        database, cipher, guild_id=GUILD, mentee_id=3, mentor_id=MENTOR, now=NOW, reasons=[]
    )
    async with database.session() as session:
        session.add(Block(guild_id=GUILD, blocker_id=MENTOR, blocked_id=4, created_at=NOW))
    async with database.session() as session:

        async def checks(mentee_id: int) -> tuple[object, ...]:
            found = await pair_checks(
                session, guild_id=GUILD, mentee_id=mentee_id, mentor_id=MENTOR, cipher=cipher
            )
            return (
                found.mentee_paired,
                found.request_status,
                found.mentor_pending,
                found.blocked,
                found.introduced_before,
            )

        assert await checks(1) == (False, RS.INTRODUCED, 1, False, True)
        assert await checks(2) == (False, None, 1, False, False)
        assert await checks(3) == (True, RS.MATCHED, 1, False, True)
        assert await checks(4) == (False, None, 1, True, False)
        mentor = await session.get(MemberProfile, (GUILD, MENTOR))
        assert mentor is not None
        # capacity 2, one open pair, one pending introduction: the same as ``free_places``
        assert places_left(mentor, 1) == 0
        assert await free_places(session, guild_id=GUILD, mentor_id=MENTOR) == 0


async def test_an_offered_request_is_never_on_the_waiting_list(
    database: Database, cipher: Cipher
) -> None:
    async with database.session() as session:
        assert await offer_request(session, guild_id=GUILD, mentee_id=1, now=NOW)
        # Offered once: a second offer (or a waiting mentee) is refused.
        assert not await offer_request(session, guild_id=GUILD, mentee_id=1, now=NOW)
        await open_request(session, guild_id=GUILD, mentee_id=2, now=NOW)
        assert not await offer_request(session, guild_id=GUILD, mentee_id=2, now=NOW)
        offered = await session.get(MatchRequest, (GUILD, 1))
    assert offered is not None and offered.status == RS.OFFERED
    assert await count_rows(database, MatchRequest, status=RS.WAITING) == 1


async def test_expiry_and_reminders_are_found_at_the_right_time(
    database: Database, cipher: Cipher
) -> None:
    await onboarded(database, cipher, guild_id=GUILD, user_id=MENTOR, now=NOW, mentor=True)
    intro_id = await _introduced(database, cipher, 1)
    async with database.session() as session:
        assert await reminders_due(session, now=NOW + timedelta(hours=35)) == []
        assert [i.id for i in await reminders_due(session, now=NOW + timedelta(hours=36))] == [
            intro_id
        ]
        assert await expired_introductions(session, now=NOW + timedelta(hours=71)) == []
        late = NOW + timedelta(hours=72)
        assert [i.id for i in await expired_introductions(session, now=late)] == [intro_id]
        assert await reminders_due(session, now=late) == []
