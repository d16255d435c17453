"""A quiet pair space closes: warned once in the space a week ahead, any message cancels it,
then the pair ends through the one ending (cause ``inactive``, ``PairEnded``, feedback asked,
a new mentor offered), exactly once across sweeps, processes and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import (
    FeedbackStatus,
    MentorshipFeedback,
    Pair,
    PairCheckin,
    PairSpace,
    PairStatus,
)
from bot.db.queries import pairs as pair_queries
from bot.domain import insights as insights_domain
from bot.errors import UserFacingError
from bot.services.events import PairEnded
from bot.services.ports import Access, SendFailure
from tests.services.conftest import World
from tests.services.test_pairs import (
    ALERTS,
    GUILD,
    MENTEE,
    MENTOR,
    MODERATOR,
    _ended,
    _open,
    _pair,
    _world,
)

WARNING = "unless one of you writes here"


async def _space(world: World, pair_id: int) -> PairSpace:
    async with world.database.session() as session:
        space = await session.get(PairSpace, pair_id, populate_existing=True)
    assert space is not None
    return space


def _warnings(world: World, channel_id: int | None) -> list[Any]:
    assert channel_id is not None
    return [m for m in world.messenger.posts_in(channel_id) if WARNING in m.text]


def _record(seen: list[PairEnded]) -> Callable[[PairEnded], Awaitable[None]]:
    async def record(event: PairEnded) -> None:
        seen.append(event)

    return record


async def _quiet_open(world: World) -> tuple[Pair, datetime]:
    w = await _world(world)
    pair = await _open(w)
    assert pair.id is not None and pair.last_activity_at is not None
    return pair, pair.last_activity_at


def _at(start: datetime, days: float) -> datetime:
    return start + timedelta(days=days)


async def _sweeps(world: World, pair: Pair, start: datetime, *days: float) -> PairStatus:
    """The closing sweep at each of ``days`` after ``start``; the pair's status then."""
    assert pair.id is not None
    for day in days:
        world.clock.now = _at(start, day)
        await world.services.pairs.close_quiet(world.clock.now)
    return (await _pair(world, pair.id)).status


async def test_warned_once_a_week_ahead_then_closed_once_through_the_one_ending(
    world: World,
) -> None:
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None
    ended = _ended(w)
    second = w.second_process()
    second.ctx.events.on_pair_ended(_record(ended))  # either process may win the ending
    other = second.pairs
    assert await _sweeps(w, pair, start, 82) == PairStatus.ACTIVE
    assert _warnings(w, pair.channel_id) == []
    w.clock.now = _at(start, 83)
    await asyncio.gather(pairs.close_quiet(w.clock.now), other.close_quiet(w.clock.now))
    [warning] = _warnings(w, pair.channel_id)
    assert warning.ping == (MENTEE, MENTOR) and "<@1> <@2>" in warning.text
    closes = _at(start, 90)
    assert f"<t:{int(closes.timestamp())}:D>" in warning.text
    space = await _space(w, pair.id)
    assert space.quiet_warned_for == start and space.quiet_closes_at == closes
    assert [m for m in w.messenger.sent if m.dm] == []  # the warning is in the space only
    assert await _sweeps(w, pair, start, 89.9) == PairStatus.ACTIVE
    w.clock.now = _at(start, 90)
    await asyncio.gather(pairs.close_quiet(w.clock.now), other.close_quiet(w.clock.now))

    assert [(e.pair_id, e.cause, e.ended_by) for e in ended] == [(pair.id, "inactive", None)]
    closed = await _pair(w, pair.id)
    assert closed.status == PairStatus.ENDED and closed.ended_by_id is None
    assert (await _space(w, pair.id)).end_cause == "inactive"
    assert len(_warnings(w, pair.channel_id)) == 1
    posts = [m.text for m in w.messenger.posts_in(pair.channel_id or 0)]
    assert sum("closed this mentorship" in t for t in posts) == 1
    for person in (MENTEE, MENTOR):
        assert (pair.channel_id, person, Access.READ_ONLY) in w.spaces.access
        told = [m.text for m in w.messenger.dms_to(person)]
        assert sum("had been quiet" in t for t in told) == 1
        assert "Nobody did anything wrong" in told[0] and "moderator" not in told[0].lower()
    feedback = await w.rows(MentorshipFeedback)
    assert sorted(f.user_id for f in feedback) == [MENTEE, MENTOR]
    assert {f.status for f in feedback} == {FeedbackStatus.ASKED}
    mentee_dms = " ".join(m.text for m in w.messenger.dms_to(MENTEE))
    assert "new mentor" in mentee_dms
    [alert] = [m.text for m in w.messenger.posts_in(ALERTS)]
    assert f"Pair **#{pair.id}** ended (its space was quiet too long" in alert
    insights = await w.services.insights.insights(GUILD, MODERATOR, "all")
    endings = next(p for p in insights.panels if p.title == "Pairs ended, by reason")
    shown = {c.label: c.shown for c in endings.cells}
    assert shown[insights_domain.ENDING_CATEGORIES["inactive"]] == "fewer than 5"
    # Later sweeps find nothing more to do.
    await _sweeps(w, pair, start, 200)
    assert len(ended) == 1 and len(_warnings(w, pair.channel_id)) == 1


async def test_any_message_cancels_the_warning_and_starts_a_new_silence(world: World) -> None:
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None and pair.channel_id is not None
    await _sweeps(w, pair, start, 83)
    w.clock.now = _at(start, 85)
    await pairs.touch(pair.channel_id)  # anyone wrote anything
    space = await _space(w, pair.id)
    assert space.quiet_warned_for is None and space.quiet_closes_at is None
    assert await _sweeps(w, pair, start, 90, 100, 167.9) == PairStatus.ACTIVE
    assert len(_warnings(w, pair.channel_id)) == 1
    await _sweeps(w, pair, start, 85 + 83)  # the new silence's own warning
    assert len(_warnings(w, pair.channel_id)) == 2
    assert await _sweeps(w, pair, start, 85 + 90) == PairStatus.ENDED


async def test_answering_a_check_in_is_a_sign_of_life(world: World) -> None:
    """A pair that meets elsewhere and only answers check-ins is not closed as silent."""
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None
    await _sweeps(w, pair, start, 83)
    assert len(_warnings(w, pair.channel_id)) == 1
    w.clock.now = _at(start, 84)
    await pairs.checkins_due(w.clock.now)
    async with w.database.session() as session:
        checkin = (await session.execute(select(PairCheckin))).scalars().first()
    assert checkin is not None and checkin.id is not None
    await pairs.answer_checkin(checkin.id, MENTEE, "well")
    space = await _space(w, pair.id)
    assert space.quiet_warned_for is None and space.quiet_closes_at is None
    assert (await _pair(w, pair.id)).last_activity_at == _at(start, 84)
    assert await _sweeps(w, pair, start, 90, 100) == PairStatus.ACTIVE


async def test_a_message_after_the_sweep_looked_still_keeps_the_space_open(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads the quiet pairs, then someone writes, then it acts on what it read:
    neither the ending nor a second warning may happen."""
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None and pair.channel_id is not None
    await _sweeps(w, pair, start, 83)
    w.clock.now = _at(start, 90)
    async with w.database.session() as session:
        seen = await pair_queries.quiet_pairs(
            session, before=w.clock.now, paused_reminders_too=True
        )

    async def stale(*_args: Any, **_kwargs: Any) -> Any:
        return seen

    await pairs.touch(pair.channel_id)
    monkeypatch.setattr(pair_queries, "quiet_pairs", stale)
    await pairs.close_quiet(w.clock.now)
    assert (await _pair(w, pair.id)).status == PairStatus.ACTIVE
    # The same with a warning due: the stale read warns nobody.
    monkeypatch.undo()
    w.clock.now = _at(w.clock.now, 83)
    async with w.database.session() as session:
        seen = await pair_queries.quiet_pairs(
            session, before=w.clock.now, paused_reminders_too=True
        )
    await pairs.touch(pair.channel_id)
    monkeypatch.setattr(pair_queries, "quiet_pairs", stale)
    await pairs.close_quiet(w.clock.now)
    assert len(_warnings(w, pair.channel_id)) == 1


async def test_a_restart_between_the_warning_and_the_close(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None
    await _sweeps(w, pair, start, 83)
    restarted = w.second_process()  # nothing kept in memory: the state is in the database
    w.clock.now = _at(start, 90)
    await restarted.pairs.close_quiet(w.clock.now)
    assert (await _pair(w, pair.id)).status == PairStatus.ENDED
    assert len(_warnings(w, pair.channel_id)) == 1


async def test_lantern_away_past_the_date_warns_first_and_gives_a_full_week(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None
    # never warned: Lantern was offline
    assert await _sweeps(w, pair, start, 120) == PairStatus.ACTIVE
    [warning] = _warnings(w, pair.channel_id)
    assert f"<t:{int(_at(start, 127).timestamp())}:D>" in warning.text
    assert await _sweeps(w, pair, start, 126.9) == PairStatus.ACTIVE
    assert await _sweeps(w, pair, start, 127) == PairStatus.ENDED


async def test_a_warning_that_could_not_be_posted_is_tried_again(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None and pair.channel_id is not None
    w.messenger.post_failures[pair.channel_id] = [SendFailure.SERVER_ERROR]
    await _sweeps(w, pair, start, 83)
    assert _warnings(w, pair.channel_id) == []
    assert (await _space(w, pair.id)).quiet_closes_at is None
    assert await _sweeps(w, pair, start, 90) == PairStatus.ACTIVE  # never closed unwarned
    [warning] = _warnings(w, pair.channel_id)
    assert f"<t:{int(_at(start, 97).timestamp())}:D>" in warning.text


async def test_a_space_deleted_before_its_warning_ends_the_match_as_deleted(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None and pair.channel_id is not None
    ended = _ended(w)
    w.spaces.vanish(pair.channel_id)
    w.messenger.missing_channels.add(pair.channel_id)
    await _sweeps(w, pair, start, 83)
    assert [e.cause for e in ended] == ["channel_deleted"]


async def test_a_report_paused_pair_is_left_to_the_moderators(world: World) -> None:
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None and pair.channel_id is not None
    await pairs.report(GUILD, pair.channel_id, MENTEE, "not okay", pause_contact=True, block=False)
    assert (await _pair(w, pair.id)).status == PairStatus.PAUSED
    assert await _sweeps(w, pair, start, 83, 90, 400) == PairStatus.PAUSED
    assert _warnings(w, pair.channel_id) == []


async def test_paused_reminders_still_close_the_warning_says_so(world: World) -> None:
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None
    await pairs.toggle_reminders(pair.id)
    w.clock.now = _at(start, 83)
    await pairs.nudge_quiet(w.clock.now)  # reminders are paused: no nudge
    assert not any("quiet here" in m.text for m in w.messenger.posts_in(pair.channel_id or 0))
    await pairs.close_quiet(w.clock.now)
    [warning] = _warnings(w, pair.channel_id)
    assert "paused reminders" in warning.text
    assert await _sweeps(w, pair, start, 90) == PairStatus.ENDED


async def test_a_member_who_left_unnoticed_is_neither_told_nor_asked(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None
    w.messenger.leave(GUILD, MENTOR)  # Lantern was offline when they left
    assert await _sweeps(w, pair, start, 83, 90) == PairStatus.ENDED
    assert (pair.channel_id, MENTOR, Access.REMOVED) in w.spaces.access
    assert w.messenger.dms_to(MENTOR) == []
    assert [f.user_id for f in await w.rows(MentorshipFeedback)] == [MENTEE]
    assert any("had been quiet" in m.text for m in w.messenger.dms_to(MENTEE))


async def test_closed_dms_lose_nothing_the_space_says_what_happened(world: World) -> None:
    pair, start = await _quiet_open(world)
    w = world
    assert pair.id is not None
    w.messenger.closed.update({MENTEE, MENTOR})
    assert await _sweeps(w, pair, start, 83, 90) == PairStatus.ENDED
    closing = [m.text for m in w.messenger.posts_in(pair.channel_id or 0)]
    assert any("quiet here for a long while" in t for t in closing)
    rows = await w.rows(MentorshipFeedback)
    assert {r.status for r in rows} == {FeedbackStatus.UNDELIVERED} and len(rows) == 2
    assert len(w.messenger.posts_in(ALERTS)) == 1


async def test_the_setting_turns_closing_off_and_refuses_odd_values(world: World) -> None:
    pair, start = await _quiet_open(world)
    w, pairs = world, world.services.pairs
    assert pair.id is not None
    for bad in (1, 13, 731):
        with pytest.raises(UserFacingError, match="Nothing was saved"):
            await pairs.save_settings(GUILD, MODERATOR, {"close_after_quiet_days": bad})
    said = await pairs.save_settings(GUILD, MODERATOR, {"close_after_quiet_days": 0})
    assert "quiet spaces never close" in said
    assert await _sweeps(w, pair, start, 83, 90, 400) == PairStatus.ACTIVE
    assert _warnings(w, pair.channel_id) == []
    said = await pairs.save_settings(GUILD, MODERATOR, {"close_after_quiet_days": 30})
    assert "close after 30 days" in said
    await pairs.close_quiet(w.clock.now)  # long past: a warning first, a week ahead
    assert len(_warnings(w, pair.channel_id)) == 1
    assert (await _pair(w, pair.id)).status == PairStatus.ACTIVE
