"""Reports and calls for help on a real database: stored before delivery, retried by the sweep
(once across processes) until they arrive, worked from the queue; per-member cooldowns that hold
across processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import HelpCall, PairReport, PromptSuggestion, ReportStatus
from bot.db.queries.cooldowns import claim_cooldown
from bot.errors import UserFacingError
from tests.services.conftest import World
from tests.services.fakes import FakeMessenger
from tests.services.test_pairs import ALERTS, GUILD, MENTEE, MENTOR, MODERATOR, _open, _world

OWNER = 4242


async def _reports(world: World) -> list[PairReport]:
    async with world.database.session() as session:
        return list((await session.execute(select(PairReport))).scalars())


async def test_an_undelivered_report_is_retried_by_one_process_until_it_arrives(
    world: World,
) -> None:
    w = await _world(world)
    w.messenger.owners[GUILD] = OWNER
    pair = await _open(w)
    w.messenger.missing_channels.add(ALERTS)
    thanks = await w.services.pairs.report(
        GUILD, pair.channel_id or 0, MENTEE, "he was unkind", pause_contact=False, block=False
    )
    assert "couldn't reach the moderators yet" in thanks and "Lantern keeps trying" in thanks
    (report,) = await _reports(w)
    assert report.alerted_at is None
    owner_dms = w.messenger.dms_to(OWNER)
    assert len(owner_dms) == 1 and "1 report or call for help is waiting" in owner_dms[0].text
    assert "unkind" not in owner_dms[0].text

    # too soon to retry: the sweep leaves it alone; still broken later: retried, not delivered
    assert await w.services.moderation.deliver_pending(w.clock.now) == 0
    w.clock.advance(minutes=3)
    assert await w.services.moderation.deliver_pending(w.clock.now) == 0
    assert len(w.messenger.dms_to(OWNER)) == 1  # the owner is told at most daily

    # fixed; two processes sweep at the same moment: exactly one delivers it
    w.messenger.missing_channels.clear()
    other = FakeMessenger()
    second = w.second_process(messenger=other)
    w.clock.advance(minutes=3)
    delivered = await asyncio.gather(
        w.services.moderation.deliver_pending(w.clock.now),
        second.moderation.deliver_pending(w.clock.now),
    )
    assert sum(delivered) == 1
    posts = w.messenger.posts_in(ALERTS) + other.posts_in(ALERTS)
    assert len(posts) == 1 and "he was unkind" in posts[0].text
    assert [b.label for b in posts[0].buttons] == ["Acknowledge", "Resolve"]
    (report,) = await _reports(w)
    assert report.alerted_at == w.clock.now
    w.clock.advance(minutes=3)
    assert await w.services.moderation.deliver_pending(w.clock.now) == 0


async def test_a_delivered_report_says_so_and_is_not_sent_again(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    thanks = await w.services.pairs.report(
        GUILD, pair.channel_id or 0, MENTEE, "please look", pause_contact=False, block=False
    )
    assert "went privately to the moderators" in thanks
    w.clock.advance(hours=1)
    assert await w.services.moderation.deliver_pending(w.clock.now) == 0
    assert len(w.messenger.posts_in(ALERTS)) == 1


async def test_the_queue_acknowledges_and_resolves_once_with_an_audit_entry(
    world: World,
) -> None:
    w = await _world(world)
    pair = await _open(w)
    moderation = w.services.moderation
    await w.services.pairs.report(
        GUILD, pair.channel_id or 0, MENTEE, "hurtful words", pause_contact=False, block=False
    )
    w.clock.advance(hours=3)
    await w.services.pairs.ask_help(pair.id or 0, MENTOR, "help")
    header, newest, oldest = await moderation.queue(GUILD)
    assert "2 open" in header.text
    assert "Call for help" in newest.text and "just now" in newest.text
    assert "hurtful words" in oldest.text and "3 h ago" in oldest.text
    with pytest.raises(UserFacingError):
        await moderation.work_case(GUILD + 1, MODERATOR, "ack", "report", 1)  # another server
    (report,) = await _reports(w)
    outcomes = await asyncio.gather(
        *(moderation.work_case(GUILD, MODERATOR, "ack", "report", report.id or 0) for _ in range(5))
    )
    assert len([o for o in outcomes if "is acknowledged" in o]) == 1
    told = [m for m in w.messenger.dms_to(MENTEE) if "A moderator has seen your report" in m.text]
    assert len(told) == 1 and "hurtful" not in told[0].text
    assert "is resolved" in await moderation.work_case(
        GUILD, MODERATOR, "resolve", "report", report.id or 0
    )
    (report,) = await _reports(w)
    assert report.status == ReportStatus.RESOLVED and report.acknowledged_at is not None
    header, only = await moderation.queue(GUILD)
    assert "1 open" in header.text and "Call for help" in only.text


async def test_a_burst_of_help_presses_makes_one_call_and_one_alert(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    answers = await asyncio.gather(
        *(w.services.pairs.ask_help(pair.id or 0, MENTEE, "help") for _ in range(12))
    )
    assert len([a for a in answers if "A moderator has your call" in a]) == 1
    assert all("ask again in 10 minutes" in a for a in answers if "A moderator has" not in a)
    assert len(w.messenger.posts_in(ALERTS)) == 1
    async with w.database.session() as session:
        assert len(list((await session.execute(select(HelpCall))).scalars())) == 1
    w.clock.advance(minutes=10)
    assert "A moderator has your call" in await w.services.pairs.ask_help(
        pair.id or 0, MENTEE, "help"
    )


async def test_cooldown_claims_are_atomic_across_sessions(world: World) -> None:
    now = world.clock.now

    async def claim() -> object:
        async with world.database.session() as session:
            return await claim_cooldown(
                session, subject_id=MENTEE, action="help", now=now, every=timedelta(minutes=1)
            )

    results = await asyncio.gather(*(claim() for _ in range(12)))
    assert results.count(None) == 1
    assert all(r == now + timedelta(minutes=1) for r in results if r is not None)


async def test_a_suggestion_cooldown_says_when_and_stores_nothing(world: World) -> None:
    prompts = world.services.prompts
    await prompts.suggest(GUILD, MENTEE, "culture", "Which recipe first?")
    with pytest.raises(UserFacingError, match="send this one in 5 minutes"):
        await prompts.suggest(GUILD, MENTEE, "culture", "And the second?")
    async with world.database.session() as session:
        assert len(list((await session.execute(select(PromptSuggestion))).scalars())) == 1
    world.clock.advance(minutes=5)
    assert "Thank you" in await prompts.suggest(GUILD, MENTEE, "culture", "And the second?")
