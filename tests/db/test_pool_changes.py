"""Mentor-pool changes are published with the transaction that makes them (SQLite and
PostgreSQL): ORM changes and Core writes alike, never on rollback, in commit order, and an
erase never names the erased member."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.crypto import Cipher
from bot.db.engine import Database
from bot.db.models import MemberProfile, MentorPoolChange
from bot.db.pool_changes import EVERYONE, MARKED, UnmarkedPoolWrite, mark, pending
from bot.db.queries.matching import set_mentor_paused, take_mentor_slot
from bot.db.queries.onboarding import set_step
from bot.db.queries.pool import changed_since, pool_generation
from bot.db.registry import delete_member
from tests.factories import erase_while_writing, onboarded

GUILD, OTHER_GUILD = 10, 11
MENTOR, MENTOR_2 = 100, 101
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_profile = MemberProfile.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def mentors(database: Database, cipher: Cipher) -> Database:
    for guild in (GUILD, OTHER_GUILD):
        for user in (MENTOR, MENTOR_2):
            await onboarded(database, cipher, guild_id=guild, user_id=user, now=NOW, mentor=True)
    return database


async def _log(database: Database, guild_id: int = GUILD) -> list[tuple[int, int]]:
    async with database.session() as session:
        rows = await session.execute(
            select(MentorPoolChange.generation, MentorPoolChange.mentor_id)  # type: ignore[call-overload]
            .where(MentorPoolChange.guild_id == guild_id)
            .order_by(MentorPoolChange.generation, MentorPoolChange.mentor_id)
        )
        return [(int(g), int(m)) for g, m in rows.all()]


async def test_seeding_published_one_generation_per_transaction(mentors: Database) -> None:
    assert await _log(mentors) == [(1, MENTOR), (2, MENTOR_2)]
    async with mentors.session() as session:
        assert await pool_generation(session, guild_id=GUILD) == (2, 0)
        assert await changed_since(session, guild_id=GUILD, generation=1) == {MENTOR_2}


async def test_an_orm_change_of_a_pool_column_is_published_and_others_are_not(
    mentors: Database,
) -> None:
    async with mentors.session() as session:
        row = await session.get(MemberProfile, (GUILD, MENTOR))
        assert row is not None
        row.capacity = 5
    async with mentors.session() as session:
        await set_step(session, guild_id=GUILD, user_id=MENTOR_2, step="areas", now=NOW)
        row = await session.get(MemberProfile, (GUILD, MENTOR_2))
        assert row is not None
        row.consent_version = "v9"  # not something a pool is built from
    assert (await _log(mentors))[2:] == [(3, MENTOR)]


async def test_a_core_write_its_caller_did_not_mark_is_still_published(
    mentors: Database,
) -> None:
    async with mentors.session() as session:
        await session.execute(
            update(_profile)
            .where(_profile.c.guild_id == GUILD, _profile.c.user_id == MENTOR_2)
            .values(capacity=4)
        )
        assert pending(session) == {(GUILD, MENTOR_2)}
    assert (await _log(mentors))[2:] == [(3, MENTOR_2)]


async def test_a_rolled_back_change_publishes_nothing(mentors: Database) -> None:
    with pytest.raises(RuntimeError):
        async with mentors.session() as session:
            await set_mentor_paused(session, guild_id=GUILD, mentor_id=MENTOR, paused=True, now=NOW)
            raise RuntimeError("the database failed mid-action")
    async with mentors.session() as session:
        assert pending(session) == set()
        assert await pool_generation(session, guild_id=GUILD) == (2, 0)
    assert len(await _log(mentors)) == 2


async def test_an_erase_names_nobody_and_reaches_every_server(
    mentors: Database, cipher: Cipher
) -> None:
    async with mentors.session() as session:
        await delete_member(session, user_id=MENTOR, cipher=cipher)
    for guild in (GUILD, OTHER_GUILD):
        log = await _log(mentors, guild)
        assert MENTOR not in {m for _, m in log}
        assert log[-1] == (3, EVERYONE)


async def test_a_mentor_change_after_their_erase_names_nobody(
    mentors: Database, cipher: Cipher
) -> None:
    """An accept just after the mentor erased their data tries a slot on a profile that is
    gone: the log must not name them again (it reaches the server as everyone)."""
    async with mentors.session() as session:
        await delete_member(session, user_id=MENTOR, cipher=cipher)
    async with mentors.session() as session:
        assert not await take_mentor_slot(session, guild_id=GUILD, mentor_id=MENTOR)
    log = await _log(mentors)
    assert MENTOR not in {m for _, m in log} and log[-1][1] == EVERYONE


async def test_an_erase_waiting_on_a_mentor_change_still_removes_its_log_entry(
    mentors: Database, cipher: Cipher
) -> None:
    """The other order: the change holds the profile row when the erase starts; the erase
    waits for it and then removes what it logged (tests/services/test_member_data.py races
    the two through the services)."""
    await erase_while_writing(
        mentors,
        cipher,
        MENTOR,
        lambda session: set_mentor_paused(
            session, guild_id=GUILD, mentor_id=MENTOR, paused=True, now=NOW
        ),
    )
    for guild in (GUILD, OTHER_GUILD):
        assert MENTOR not in {m for _, m in await _log(mentors, guild)}


async def test_concurrent_writers_get_generations_in_commit_order(mentors: Database) -> None:
    """Two transactions touching different mentors at once both publish, one generation each,
    without waiting on each other's row (the server's row is taken last, at commit)."""
    first_wrote, second_done = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with mentors.session() as session:
            await set_mentor_paused(session, guild_id=GUILD, mentor_id=MENTOR, paused=True, now=NOW)
            first_wrote.set()
            if mentors.dialect == "postgresql":  # SQLite: one writer at a time anyway
                await asyncio.wait_for(second_done.wait(), 10)

    async def second() -> None:
        await first_wrote.wait()
        async with mentors.session() as session:
            await set_mentor_paused(
                session, guild_id=GUILD, mentor_id=MENTOR_2, paused=True, now=NOW
            )
        second_done.set()

    await asyncio.gather(first(), second())
    log = (await _log(mentors))[2:]
    assert sorted(m for _, m in log) == [MENTOR, MENTOR_2]
    assert [g for g, _ in log] == [3, 4]
    if mentors.dialect == "postgresql":
        assert log == [(3, MENTOR_2), (4, MENTOR)], "the one that committed first is first"


async def test_a_core_insert_that_names_no_mentor_is_refused(database: Database) -> None:
    with pytest.raises(UnmarkedPoolWrite):
        async with database.session() as session:
            await session.execute(
                _profile.insert().values(
                    guild_id=GUILD, user_id=MENTOR, started_at=NOW, updated_at=NOW
                )
            )
    async with database.session() as session:
        mark(session, GUILD, [MENTOR])
        await session.execute(
            _profile.insert().values(
                guild_id=GUILD, user_id=MENTOR, started_at=NOW, updated_at=NOW
            ),
            execution_options=MARKED,
        )
    assert await _log(database) == [(1, MENTOR)]
