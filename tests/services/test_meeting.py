"""/meet on a real database: times posted in the pair space from what both share, kind
refusals elsewhere, a partner who left, members without times, a refused post that loses
nothing, and the best overlap in a new space's opening message."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.db.models import PairStatus
from bot.errors import UserFacingError
from bot.services import meeting as sm
from bot.services.meeting import MeetingSpace
from bot.services.ports import SendFailure
from tests.factories import onboarded
from tests.services.conftest import World
from tests.services.test_pairs import (
    GUILD,
    MENTEE,
    MENTOR,
    OTHER_MENTEE,
    THREADS,
    _open,
    _open_thread,
    _pair,
    _world,
)

STAMP = re.compile(r"<t:(\d+):F>")


async def _profiles(world: World, mentee: dict[str, object], mentor: dict[str, object]) -> None:
    cipher, now = world.services.ctx.cipher, world.clock.now
    await onboarded(world.database, cipher, guild_id=GUILD, user_id=MENTEE, now=now, **mentee)
    await onboarded(
        world.database, cipher, guild_id=GUILD, user_id=MENTOR, now=now, mentor=True, **mentor
    )


async def test_suggest_posts_weekly_times_in_the_pair_space(world: World) -> None:
    w = await _world(world)
    await _profiles(
        w,
        {"timezone": "Asia/Manila", "meeting_times": ["weekday_morning"]},
        {"timezone": "America/Vancouver", "meeting_times": ["weekday_evening"]},
    )
    pair = await _open(w)
    assert pair.channel_id is not None
    answer = await w.services.meeting.suggest(GUILD, pair.channel_id, MENTOR)
    assert answer == sm.POSTED
    [post] = w.messenger.posts_in(pair.channel_id)
    assert post.ping == ()  # nobody is pinged by a suggestion
    assert post.text.startswith(f"<@{MENTOR}> asked Lantern for meeting times.")
    assert "Weekly times that fit you both" in post.text
    assert len(STAMP.findall(post.text)) == 3
    assert "Manila" not in post.text and "Weekday" not in post.text


async def test_the_opening_message_has_the_best_overlap(world: World) -> None:
    w = await _world(world)
    await _profiles(
        w,
        {"timezone": "Europe/London", "meeting_times": ["weekend_morning"]},
        {"timezone": "Europe/London", "meeting_times": ["weekend_morning", "weekday_evening"]},
    )
    await _open(w)
    [(_, _, cards, _, _)] = w.spaces.openings
    [meet] = [c for c in cards if c.title == "🗓️ When you could meet"]
    [(label, value)] = meet.fields
    assert label == "A weekly time that fits you both" and STAMP.search(value)


async def test_no_opening_card_when_nothing_overlaps_or_nothing_is_shared(world: World) -> None:
    w = await _world(world)
    await _profiles(w, {"share": ["about"]}, {"share": ["about"]})
    await _open(w)
    [(_, _, cards, _, _)] = w.spaces.openings
    assert [c.title for c in cards] == ["Mentee: Ana Reyes", "Mentor: Kenji Sato"]


async def test_members_without_times_are_said_plainly(world: World) -> None:
    w = await _world(world)  # the factory profiles share a zone but give no usual times
    pair = await _open(w)
    assert pair.channel_id is not None
    await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    [post] = w.messenger.posts_in(pair.channel_id)
    assert f"<@{MENTEE}> and <@{MENTOR}> haven't shared usual meeting times" in post.text
    assert "/profile" in post.text


async def test_nothing_shared_says_so_and_still_posts(world: World) -> None:
    w = await _world(world)
    await _profiles(
        w,
        {"timezone": "Asia/Manila", "meeting_times": ["weekday_morning"], "share": ["about"]},
        {"timezone": "Asia/Manila", "share": ["about"]},
    )
    pair = await _open(w)
    assert pair.channel_id is not None
    await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    [post] = w.messenger.posts_in(pair.channel_id)
    assert "doesn't know anyone's time zone" in post.text
    assert not STAMP.search(post.text) and "Manila" not in post.text


async def test_outside_a_space_or_not_a_member_is_refused_privately(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None
    with pytest.raises(UserFacingError) as outside:
        await w.services.meeting.suggest(GUILD, 999, MENTEE)
    assert "pair space" in outside.value.message
    with pytest.raises(UserFacingError) as stranger:
        await w.services.meeting.suggest(GUILD, pair.channel_id, OTHER_MENTEE)
    assert stranger.value.message == sm.NOT_YOURS
    with pytest.raises(UserFacingError):
        await w.services.meeting.suggest(GUILD + 1, pair.channel_id, MENTEE)  # another server
    assert w.messenger.posts_in(pair.channel_id) == []
    assert w.messenger.posts_in(999) == []


async def test_a_partner_who_left_is_named_plainly(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None and pair.id is not None
    w.messenger.leave(GUILD, MENTOR)
    with pytest.raises(UserFacingError) as left:
        await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    assert left.value.message == sm.PARTNER_LEFT
    await w.services.pairs.end_all_of(GUILD, MENTOR, cause="member_left", tell_other="bye")
    assert (await _pair(w, pair.id)).status == PairStatus.ENDED
    with pytest.raises(UserFacingError) as ended:
        await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    assert ended.value.message == sm.PARTNER_LEFT
    before = len(w.messenger.posts_in(pair.channel_id))
    w.messenger.join(GUILD, MENTOR)  # came back, but the mentorship is over
    w.clock.advance(minutes=5)
    with pytest.raises(UserFacingError) as over:
        await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    assert over.value.message == sm.ENDED
    assert len(w.messenger.posts_in(pair.channel_id)) == before


async def test_a_refused_post_gives_the_times_privately(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None
    w.messenger.post_failures[pair.channel_id] = [SendFailure.MISSING_PERMISSIONS]
    answer = await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE)
    assert answer.startswith("Lantern couldn't post in this space")
    assert len(STAMP.findall(answer)) == 3


async def test_a_second_resolver_serves_circles(world: World) -> None:
    w = await _world(world)
    cipher, now = w.services.ctx.cipher, w.clock.now
    await onboarded(w.database, cipher, guild_id=GUILD, user_id=OTHER_MENTEE, now=now)
    circle = MeetingSpace("circle", (MENTEE, MENTOR, OTHER_MENTEE), everyone="all of you")

    async def circles(session: object, *, guild_id: int, channel_id: int) -> MeetingSpace | None:
        return circle if channel_id == 555 else None

    w.services.meeting.add_resolver(circles)
    assert await w.services.meeting.suggest(GUILD, 555, OTHER_MENTEE) == sm.POSTED
    [post] = w.messenger.posts_in(555)
    assert "fit all of you" in post.text
    w.messenger.leave(GUILD, MENTOR)
    w.messenger.leave(GUILD, MENTEE)
    w.clock.advance(minutes=5)
    with pytest.raises(UserFacingError) as alone:
        await w.services.meeting.suggest(GUILD, 555, OTHER_MENTEE)
    assert alone.value.message == sm.EVERYONE_LEFT


@pytest.mark.parametrize(
    ("second", "posts"),
    [(MENTOR, 2), (MENTEE, 1)],  # both members at once: two posts; a double click: one
)
async def test_asking_at_once(world: World, second: int, posts: int) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None
    answers = await asyncio.gather(
        w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE),
        w.services.meeting.suggest(GUILD, pair.channel_id, second),
    )
    assert sum(a == sm.POSTED for a in answers) == posts
    assert sum(a.startswith("You asked a moment ago") for a in answers) == 2 - posts
    texts = [p.text for p in w.messenger.posts_in(pair.channel_id)]
    assert len(texts) == posts and len({t.split("\n", 1)[1] for t in texts}) == 1
    w.clock.advance(seconds=31)
    assert await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE) == sm.POSTED


async def test_a_refusal_uses_no_cooldown(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None
    with pytest.raises(UserFacingError):
        await w.services.meeting.suggest(GUILD, 999, MENTEE)
    assert await w.services.meeting.suggest(GUILD, pair.channel_id, MENTEE) == sm.POSTED


async def test_suggest_in_a_private_thread_space(world: World) -> None:
    w = world
    pair = await _open_thread(w)
    assert pair.thread_id is not None
    assert await w.services.meeting.suggest(GUILD, pair.thread_id, MENTOR) == sm.POSTED
    assert len(w.messenger.posts_in(pair.thread_id)) == 1
    with pytest.raises(UserFacingError):  # the parent channel is not the space
        await w.services.meeting.suggest(GUILD, THREADS, MENTEE)


async def test_no_scheduling_while_contact_is_paused_after_a_report(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.channel_id is not None and pair.id is not None
    await w.services.pairs.report(
        GUILD, pair.channel_id, MENTEE, "not ok", pause_contact=True, block=False
    )
    assert (await _pair(w, pair.id)).status == PairStatus.PAUSED
    for user_id in (MENTEE, MENTOR):
        with pytest.raises(UserFacingError) as paused:
            await w.services.meeting.suggest(GUILD, pair.channel_id, user_id)
        assert paused.value.message == sm.PAUSED
    assert not any("meeting times" in m.text for m in w.messenger.posts_in(pair.channel_id))
