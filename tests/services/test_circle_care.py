"""Looking after open circles: a message in a circle's space marks it active (throttled, through
the one message listener's pairs call); a circle quiet for the server's
``close_after_quiet_days`` is warned once in its space a week ahead, any message keeps it open,
then it closes (``inactive``) once across sweeps and processes, its members told kindly and its
space left read-only until retention ends; moderators list open circles and end one, once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry, Circle, CircleStatus, LeftoverSpace
from bot.domain import circles as d
from bot.errors import UserFacingError
from bot.services.ports import Access, SendFailure
from tests.factories import count_rows
from tests.services.conftest import World
from tests.services.test_circles import ALERTS, GUILD, MODERATOR, PEOPLE, _formed, _world

WARNING = "unless someone writes here"
QUIET_CLOSED = "had been quiet since"
EVIL = "[x](http://e) @everyone"


async def _circle(world: World, circle_id: int | None) -> Circle:
    async with world.database.session() as session:
        circle = await session.get(Circle, circle_id, populate_existing=True)
    assert circle is not None
    return circle


async def _open(world: World) -> tuple[Circle, int, datetime]:
    """A formed, open circle: the circle, its space and when it opened."""
    w = await _world(world)
    circle = await _formed(w)
    assert circle.channel_id is not None and circle.last_activity_at is not None
    assert circle.last_activity_at == circle.opened_at
    return circle, circle.channel_id, circle.last_activity_at


def _warnings(world: World, space_id: int) -> list[str]:
    return [m.text for m in world.messenger.posts_in(space_id) if WARNING in m.text]


def _quiet_dms(world: World, user_id: int) -> list[str]:
    return [m.text for m in world.messenger.dms_to(user_id) if QUIET_CLOSED in m.text]


async def test_a_message_in_the_space_marks_the_circle_active_throttled(world: World) -> None:
    circle, space, opened = await _open(world)
    w, pairs = world, world.services.pairs
    w.clock.advance(days=3)
    await pairs.touch(space)  # the one listener's call: not a pair's space, so a circle's
    first = w.clock.now
    assert (await _circle(w, circle.id)).last_activity_at == first
    w.clock.advance(seconds=30)
    await pairs.touch(space)  # within the throttle: not written again
    assert (await _circle(w, circle.id)).last_activity_at == first
    later = w.clock.advance(minutes=2)
    await pairs.touch(space)
    assert (await _circle(w, circle.id)).last_activity_at == later
    w.clock.advance(minutes=2)
    await pairs.touch(424242)  # some other channel: no circle changes
    assert (await _circle(w, circle.id)).last_activity_at == later
    assert opened < first


async def test_a_circle_opened_by_another_process_counts_its_first_message(world: World) -> None:
    w = await _world(world)
    other = w.second_process()
    await other.pairs.touch(1)  # this process has read its (empty) map before the circle opened
    circle = await _formed(w)
    assert circle.channel_id is not None
    w.clock.advance(seconds=90)  # past the map's refresh
    await other.pairs.touch(circle.channel_id)
    assert (await _circle(w, circle.id)).last_activity_at == w.clock.now


async def test_warned_once_a_week_ahead_then_closed_once_in_two_processes(world: World) -> None:
    circle, space, start = await _open(world)
    w, circles = world, world.services.circles
    other = w.second_process().circles
    w.clock.now = start + timedelta(days=82)
    await circles.close_quiet(w.clock.now)
    assert _warnings(w, space) == []
    w.clock.now = start + timedelta(days=83)
    await asyncio.gather(circles.close_quiet(w.clock.now), other.close_quiet(w.clock.now))
    await circles.close_quiet(w.clock.now)
    [warning] = [m for m in w.messenger.posts_in(space) if WARNING in m.text]
    closes = start + timedelta(days=90)
    assert f"<t:{int(closes.timestamp())}:D>" in warning.text
    assert f"<t:{int(start.timestamp())}:D>" in warning.text
    assert warning.ping == PEOPLE and all(f"<@{u}>" in warning.text for u in PEOPLE)
    assert [m for m in w.messenger.sent if m.dm and QUIET_CLOSED in m.text] == []
    w.clock.now = start + timedelta(days=89.9)
    await circles.close_quiet(w.clock.now)
    assert (await _circle(w, circle.id)).status == CircleStatus.OPEN

    w.clock.now = start + timedelta(days=90)
    await asyncio.gather(circles.close_quiet(w.clock.now), other.close_quiet(w.clock.now))
    await circles.close_quiet(w.clock.now)
    closed = await _circle(w, circle.id)
    assert closed.status == CircleStatus.CLOSED and closed.close_reason == d.INACTIVE
    assert closed.channel_id == space  # kept, read-only, for retention
    assert len(_warnings(w, space)) == 1
    for person in PEOPLE:
        assert (space, person, Access.READ_ONLY) in w.spaces.access
        [told] = _quiet_dms(w, person)
        assert "Nobody did anything wrong" in told and "/circle join" in told
        assert "moderator" not in told.lower()
    [leftover] = [r for r in await _leftovers(w) if r.space_id == space]
    assert leftover.delete_at == w.clock.now + timedelta(days=30)
    alerts = [m.text for m in w.messenger.posts_in(ALERTS) if f"Circle **#{circle.id}**" in m.text]
    assert alerts == [d.closed_alert(circle.id or 0, "identity", actor_id=None, note=None)]
    assert "quiet for a long while" in await w.services.circles.status(GUILD, PEOPLE[0])
    # Retention deletes the space on its date; later sweeps change nothing.
    await w.services.pairs.delete_due(w.clock.advance(days=31))
    assert space in w.spaces.deleted
    await circles.close_quiet(w.clock.now)
    assert sum(len(_quiet_dms(w, p)) for p in PEOPLE) == len(PEOPLE)


async def _leftovers(world: World) -> list[LeftoverSpace]:
    async with world.database.session() as session:
        return list((await session.execute(select(LeftoverSpace))).scalars())  # type: ignore[call-overload]


async def test_any_message_keeps_the_circle_open_and_a_new_silence_is_warned_anew(
    world: World,
) -> None:
    circle, space, start = await _open(world)
    w, circles = world, world.services.circles
    w.clock.now = start + timedelta(days=83)
    await circles.close_quiet(w.clock.now)
    assert len(_warnings(w, space)) == 1
    w.clock.now = start + timedelta(days=85)
    await w.services.pairs.touch(space)
    w.clock.now = start + timedelta(days=91)
    await circles.close_quiet(w.clock.now)
    kept = await _circle(w, circle.id)
    assert kept.status == CircleStatus.OPEN and kept.quiet_closes_at is None
    assert len(_warnings(w, space)) == 1
    w.clock.now = start + timedelta(days=85 + 83)
    await circles.close_quiet(w.clock.now)
    assert len(_warnings(w, space)) == 2
    # A message that lands after the sweep read the quiet circle, before it closes it.
    w.clock.now = start + timedelta(days=85 + 90)
    read_by_the_sweep = await _circle(w, circle.id)
    await w.services.pairs.touch(space)
    await circles._close_quiet(read_by_the_sweep)
    assert (await _circle(w, circle.id)).status == CircleStatus.OPEN
    assert [m for m in w.messenger.sent if QUIET_CLOSED in m.text] == []


async def test_a_failed_warning_is_tried_again_and_zero_days_never_closes(world: World) -> None:
    circle, space, start = await _open(world)
    w, circles = world, world.services.circles
    w.messenger.post_failures[space] = [SendFailure.SERVER_ERROR]
    w.clock.now = start + timedelta(days=83)
    await circles.close_quiet(w.clock.now)
    assert (await _circle(w, circle.id)).quiet_closes_at is None  # given back
    await circles.close_quiet(w.clock.now)  # the next sweep warns
    assert len(_warnings(w, space)) == 1
    w.clock.now = start + timedelta(days=85)
    await w.services.pairs.touch(space)
    await w.services.pairs.save_settings(GUILD, MODERATOR, {"close_after_quiet_days": 0})
    w.clock.now = start + timedelta(days=400)
    await circles.close_quiet(w.clock.now)
    assert len(_warnings(w, space)) == 1
    assert (await _circle(w, circle.id)).status == CircleStatus.OPEN


async def test_moderators_list_and_end_a_circle_once(world: World) -> None:
    circle, space, _start = await _open(world)
    w, circles = world, world.services.circles
    assert circle.id is not None
    listed = await circles.list_open(GUILD)
    assert f"**#{circle.id}** Identity exploration · 4 people" in listed
    assert "Ana" not in listed and "@everyone" not in listed
    assert await circles.list_open(GUILD + 1) == d.NO_CIRCLES
    with pytest.raises(UserFacingError) as elsewhere:
        await circles.moderator_end(GUILD + 1, MODERATOR, circle.id, None)
    assert elsewhere.value.message == d.NO_SUCH_CIRCLE

    other = w.second_process().circles
    answers = await asyncio.gather(
        circles.moderator_end(GUILD, MODERATOR, circle.id, EVIL),
        other.moderator_end(GUILD, MODERATOR, circle.id, EVIL),
    )
    assert sorted(answers) == sorted([d.circle_ended(circle.id), d.circle_had_ended(circle.id)])
    again = await circles.moderator_end(GUILD, MODERATOR, circle.id, None)
    assert again == d.circle_had_ended(circle.id)
    closed = await _circle(w, circle.id)
    assert closed.status == CircleStatus.CLOSED and closed.close_reason == d.MODERATOR
    for person in PEOPLE:
        [told] = [m.text for m in w.messenger.dms_to(person) if "closed your circle" in m.text]
        assert "isn't a judgement" in told and "http://e" not in told
        assert (space, person, Access.READ_ONLY) in w.spaces.access
    async with w.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [e.target_id for e in entries if e.action == "circle_end"] == [circle.id]
    [alert] = [m.text for m in w.messenger.posts_in(ALERTS) if f"Circle **#{circle.id}**" in m.text]
    assert f"<@{MODERATOR}>" in alert and "](http" not in alert and "@everyone" not in alert
    assert await count_rows(w.database, LeftoverSpace, space_id=space) == 1
    assert await circles.list_open(GUILD) == d.NO_CIRCLES
    assert "when a moderator closed it" in await circles.status(GUILD, PEOPLE[0])
