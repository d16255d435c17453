"""queries/delivery.py on SQLite and PostgreSQL: unique claims, compare-and-set schedules,
concurrent batch claims that never overlap, outcomes, DM channels and DMs-closed marks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.engine import Database
from bot.db.models import PromptSchedule, PromptSubscription
from bot.db.models.prompts import DeliveryKind, DeliveryStatus
from bot.db.queries import delivery as q
from tests.factories import add_schedule, pending_dms

GUILD = 10
NOW = datetime(2026, 1, 5, 14, tzinfo=UTC)


async def _schedule(database: Database, **fields: Any) -> PromptSchedule:
    return await add_schedule(
        database, guild_id=GUILD, now=NOW, expression="daily 14:00", next_run_at=NOW, **fields
    )


async def _occurrence_with(database: Database, recipients: int) -> int:
    schedule = await _schedule(database)
    return await pending_dms(database, schedule, user_ids=range(1000, 1000 + recipients), now=NOW)


async def test_an_occurrence_is_claimed_once(database: Database) -> None:
    schedule = await _schedule(database)
    async with database.session() as session:
        first = await q.claim_occurrence(
            session, schedule=schedule, due_at=NOW, prompt_key="a-1", now=NOW
        )
        again = await q.claim_occurrence(
            session, schedule=schedule, due_at=NOW, prompt_key="a-2", now=NOW
        )
    assert first is not None and again is None
    async with database.session() as session:
        assert [o.id for o in await q.unfinished_occurrences(session)] == [first.id]
        assert await q.schedule_history(session, schedule_id=schedule.id or 0) == ["a-1"]


async def test_skipped_occurrences_are_finished_and_not_history(database: Database) -> None:
    schedule = await _schedule(database)
    async with database.session() as session:
        skipped = await q.claim_occurrence(
            session, schedule=schedule, due_at=NOW, prompt_key=None, now=NOW, status="skipped"
        )
    assert skipped is not None and skipped.finished_at is not None
    async with database.session() as session:
        assert await q.unfinished_occurrences(session) == []
        assert await q.last_occurrences(session, schedule_ids=[schedule.id or 0]) == {}


async def test_advancing_a_schedule_is_compare_and_set(database: Database) -> None:
    schedule = await _schedule(database)
    following = NOW + timedelta(days=1)

    async def advance() -> bool:
        async with database.session() as session:
            return await q.advance_schedule(
                session,
                schedule_id=schedule.id or 0,
                expected=NOW,
                next_run_at=following,
                now=NOW,
            )

    assert sorted(await asyncio.gather(*(advance() for _ in range(4)))) == [False] * 3 + [True]
    async with database.session() as session:
        assert await q.due_schedules(session, now=NOW) == []
        assert len(await q.due_schedules(session, now=following)) == 1


async def test_paused_and_deleted_schedules_are_never_due(database: Database) -> None:
    await _schedule(database, paused=True)
    await _schedule(database, deleted=True)
    live = await _schedule(database)
    async with database.session() as session:
        assert [s.id for s in await q.due_schedules(session, now=NOW)] == [live.id]


async def test_concurrent_batch_claims_never_share_a_recipient(database: Database) -> None:
    occurrence_id = await _occurrence_with(database, 30)

    async def claim() -> list[int]:
        async with database.session() as session:
            rows = await q.claim_deliveries(
                session, occurrence_id=occurrence_id, kind=DeliveryKind.DM, now=NOW, limit=10
            )
        return [r.id for r in rows]

    claimed: list[int] = []
    while True:
        batches = await asyncio.gather(*(claim() for _ in range(3)))
        if not any(batches):
            break
        claimed += [i for batch in batches for i in batch]
    assert len(claimed) == len(set(claimed)) == 30, "each recipient claimed exactly once"
    async with database.session() as session:
        assert await q.has_open_deliveries(session, occurrence_id=occurrence_id) is False
        counts = await q.delivery_counts(session, occurrence_id=occurrence_id)
    assert counts == {"dm:sending": 30}


async def test_a_retry_is_claimed_only_when_due_and_outcomes_are_recorded(
    database: Database,
) -> None:
    occurrence_id = await _occurrence_with(database, 3)
    async with database.session() as session:
        a, b, c = await q.claim_deliveries(
            session, occurrence_id=occurrence_id, kind=DeliveryKind.DM, now=NOW, limit=10
        )
        assert (a.attempts, a.recipient_id) == (1, 1000)
        later = NOW + timedelta(minutes=10)
        await q.record_outcomes(
            session,
            outcomes=[
                {"id": a.id, "status": DeliveryStatus.SENT, "channel_id": 5, "message_id": 6},
                {"id": b.id, "status": DeliveryStatus.RETRY, "next_attempt_at": later},
                {"id": c.id, "status": DeliveryStatus.DM_CLOSED},
            ],
        )
    async with database.session() as session:
        assert await q.has_open_deliveries(session, occurrence_id=occurrence_id)
        assert (
            await q.claim_deliveries(
                session, occurrence_id=occurrence_id, kind=DeliveryKind.DM, now=NOW, limit=10
            )
            == []
        )
        (retried,) = await q.claim_deliveries(
            session, occurrence_id=occurrence_id, kind=DeliveryKind.DM, now=later, limit=10
        )
    assert (retried.id, retried.attempts) == (b.id, 2)
    async with database.session() as session:
        counts = await q.delivery_counts(session, occurrence_id=occurrence_id)
        delivery = await q.get_delivery(session, delivery_id=a.id)
    assert counts == {"dm:sent": 1, "dm:sending": 1, "dm:dm_closed": 1}
    assert delivery is not None and (delivery.channel_id, delivery.message_id) == (5, 6)


async def test_dm_channels_are_remembered_forgotten_and_closed_marked(
    database: Database,
) -> None:
    async with database.session() as session:
        for user_id in (1, 2, 3):
            session.add(
                PromptSubscription(
                    guild_id=GUILD, user_id=user_id, status="subscribed", updated_at=NOW
                )
            )
    async with database.session() as session:
        await q.remember_dm_channels(session, guild_id=GUILD, channels={1: 11, 2: 22})
        await q.mark_dms_closed(session, guild_id=GUILD, user_ids=[3], now=NOW)
    async with database.session() as session:
        assert await q.known_dm_channels(session, guild_id=GUILD, user_ids=[1, 2, 3]) == {
            1: 11,
            2: 22,
        }
        assert await q.known_dm_channels(session, guild_id=GUILD + 1, user_ids=[1]) == {}
        await q.remember_dm_channels(session, guild_id=GUILD, channels={2: 0})
    async with database.session() as session:
        assert await q.known_dm_channels(session, guild_id=GUILD, user_ids=[1, 2]) == {1: 11}
        closed = await session.get(PromptSubscription, (GUILD, 3))
    assert closed is not None and closed.dm_closed_at is not None


async def test_the_post_and_thread_are_remembered_and_the_occurrence_finished(
    database: Database,
) -> None:
    occurrence_id = await _occurrence_with(database, 0)
    async with database.session() as session:
        await q.set_occurrence_post(
            session, occurrence_id=occurrence_id, message_id=2**62, thread_id=2**62 + 1
        )
        await q.finish_occurrence(session, occurrence_id=occurrence_id, now=NOW)
    async with database.session() as session:
        occurrence = await q.get_occurrence(session, occurrence_id=occurrence_id)
    assert occurrence is not None
    assert (occurrence.channel_message_id, occurrence.thread_id) == (2**62, 2**62 + 1)
    assert occurrence.status == "done"
