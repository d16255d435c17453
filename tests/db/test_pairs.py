"""Pair-space queries on SQLite and PostgreSQL: every state change is a compare-and-set that
exactly one of many concurrent callers wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.engine import Database
from bot.db.models import Pair, PairStatus
from bot.db.queries import pairs as q
from tests.factories import add_row

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GUILD = 10


async def _pair(database: Database, *, status: str = PairStatus.OPENING) -> int:
    pair = Pair(guild_id=GUILD, mentee_id=1, mentor_id=2, status=status, created_at=NOW)
    await add_row(database, pair)
    assert pair.id is not None
    return pair.id


async def _race(database: Database, n: int, work):  # type: ignore[no-untyped-def]
    async def one():  # type: ignore[no-untyped-def]
        async with database.session() as session:
            return await work(session)

    return await asyncio.gather(*(one() for _ in range(n)))


async def _activate(database: Database, pair_id: int, channel_id: int = 500) -> None:
    async with database.session() as session:
        assert await q.claim_space(session, pair_id=pair_id, now=NOW)
        assert await q.complete_space(
            session,
            pair_id=pair_id,
            channel_id=channel_id,
            thread_id=None,
            now=NOW,
            next_checkin_at=NOW + timedelta(days=14),
        )


async def test_one_caller_claims_a_space_and_a_failed_claim_can_be_retried(
    database: Database,
) -> None:
    pair_id = await _pair(database)
    won = await _race(database, 5, lambda s: q.claim_space(s, pair_id=pair_id, now=NOW))
    assert won.count(True) == 1
    async with database.session() as session:
        assert await q.fail_space(session, pair_id=pair_id, error="missing_permissions")
        assert await q.claim_error_alert(session, pair_id=pair_id, error="missing_permissions")
        assert not await q.claim_error_alert(session, pair_id=pair_id, error="missing_permissions")
        waiting = await q.pairs_to_open(
            session, now=NOW, grace=timedelta(minutes=2), stale=timedelta(minutes=10)
        )
    assert waiting == [pair_id]
    again = await _race(database, 3, lambda s: q.claim_space(s, pair_id=pair_id, now=NOW))
    assert again.count(True) == 1


async def test_a_stuck_claim_is_released_as_interrupted(database: Database) -> None:
    pair_id = await _pair(database)
    async with database.session() as session:
        assert await q.claim_space(session, pair_id=pair_id, now=NOW)
    async with database.session() as session:
        soon = await q.pairs_to_open(
            session,
            now=NOW + timedelta(minutes=5),
            grace=timedelta(minutes=2),
            stale=timedelta(minutes=10),
        )
        late = await q.pairs_to_open(
            session,
            now=NOW + timedelta(minutes=11),
            grace=timedelta(minutes=2),
            stale=timedelta(minutes=10),
        )
        pair = await q.get_pair(session, pair_id=pair_id)
    assert soon == [] and late == [pair_id]
    assert pair is not None and pair.space_error == "interrupted"


async def test_a_pair_ends_once_and_its_space_is_forgotten_once(database: Database) -> None:
    pair_id = await _pair(database)
    await _activate(database, pair_id)
    ended = await _race(
        database,
        5,
        lambda s: q.end_pair(
            s,
            pair_id=pair_id,
            ended_by_id=1,
            reason_enc=None,
            now=NOW,
            delete_at=NOW + timedelta(days=30),
            cause="ended",
        ),
    )
    assert len([p for p in ended if p is not None]) == 1
    async with database.session() as session:
        assert await q.due_deletions(session, now=NOW + timedelta(days=29)) == []
        [due] = await q.due_deletions(session, now=NOW + timedelta(days=30))
    assert due.id == pair_id
    forgot = await _race(database, 3, lambda s: q.forget_space(s, pair_id=pair_id, space_id=500))
    assert forgot.count(True) == 1


async def test_a_checkin_is_claimed_once_and_answers_replace(database: Database) -> None:
    pair_id = await _pair(database)
    await _activate(database, pair_id)
    due = NOW + timedelta(days=14)
    async with database.session() as session:
        assert [p.id for p in await q.due_checkins(session, now=due)] == [pair_id]
    claimed = await _race(
        database,
        4,
        lambda s: q.claim_checkin(
            s, pair_id=pair_id, due_at=due, next_at=due + timedelta(days=30), now=due
        ),
    )
    [checkin] = [c for c in claimed if c is not None]
    assert checkin.id is not None
    async with database.session() as session:
        first = await q.record_checkin_answer(
            session, checkin_id=checkin.id, user_id=1, answer="notmet", now=due
        )
        second = await q.record_checkin_answer(
            session, checkin_id=checkin.id, user_id=1, answer="help", now=due
        )
        assert await q.due_checkins(session, now=due) == []
    assert first == (True, None) and second == (False, "notmet")


async def test_reminders_pause_and_activity_resets_the_silence_count(database: Database) -> None:
    pair_id = await _pair(database)
    await _activate(database, pair_id)
    later = NOW + timedelta(days=22)
    async with database.session() as session:
        [(pair, space)] = await q.quiet_pairs(session, before=later - timedelta(days=1))
        assert pair.id == pair_id and space.nudges_sent == 0
    nudged = await _race(
        database, 3, lambda s: q.claim_nudge(s, pair_id=pair_id, nudges_seen=0, now=later)
    )
    assert nudged.count(True) == 1
    async with database.session() as session:
        await q.touch_activity(session, pair_id=pair_id, now=later)
        space = await q.get_space(session, pair_id=pair_id)
        assert space is not None and space.nudges_sent == 0
        assert await q.set_reminders_paused(session, pair_id=pair_id, paused=True)
        assert not await q.set_reminders_paused(session, pair_id=pair_id, paused=True)
        assert await q.quiet_pairs(session, before=later + timedelta(days=30)) == []


async def test_live_spaces_maps_channels_of_live_pairs_only(database: Database) -> None:
    live = await _pair(database)
    await _activate(database, live, channel_id=501)
    ended = await _pair(database)
    await _activate(database, ended, channel_id=502)
    async with database.session() as session:
        await q.end_pair(
            session,
            pair_id=ended,
            ended_by_id=None,
            reason_enc=None,
            now=NOW,
            delete_at=NOW,
            cause="ended",
        )
        assert await q.live_spaces(session) == {501: live}
        found = await q.pair_for_channel(session, channel_id=502)
    assert found is not None and found.id == ended
