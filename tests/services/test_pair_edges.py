"""The pairs service at its edges, on a real database with recording fakes: endings that tell
the other person once, moderator access applied to existing spaces, orphaned spaces deleted by
retention, and opening cards within Discord's limits."""

from __future__ import annotations

import asyncio

from bot.db.models import LeftoverSpace, Pair, PairStatus
from bot.domain.pairs import MODERATOR_ALLOW, Grant
from bot.services.ports import Overwrite, SendFailure, Target
from tests.factories import onboarded
from tests.services.conftest import World
from tests.services.fakes import FakeSpace
from tests.services.test_pairs import (
    CATEGORY,
    GUILD,
    MENTEE,
    MENTOR,
    OTHER_MENTEE,
    ROLE,
    THREADS,
    _accepted,
    _open,
    _world,
)

OLD_ROLE = 56


def _told(world: World, user_id: int) -> list[str]:
    dms = world.messenger.dms_to(user_id)
    return [m.text for m in dms if "has ended your mentorship" in m.text]


async def test_both_pressing_end_at_once_end_it_once_and_tell_one_person(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.id is not None
    answers = await asyncio.gather(
        w.services.pairs.member_end(pair.id, MENTEE, "note for moderators"),
        w.services.pairs.member_end(pair.id, MENTOR, None),
    )
    assert sorted(a.startswith("Your mentorship has ended") for a in answers) == [False, True]
    told = _told(w, MENTEE) + _told(w, MENTOR)
    assert len(told) == 1 and "note for moderators" not in told[0]


async def test_the_partner_is_told_kindly_and_never_the_note(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    assert pair.id is not None
    await w.services.pairs.member_end(pair.id, MENTEE, "he was rude")
    [news] = _told(w, MENTOR)
    assert news.startswith("**Ana Reyes** has ended your mentorship")
    assert "place as a mentor is open again" in news and "rude" not in news
    assert _told(w, MENTEE) == []


async def test_a_moderator_end_tells_both_and_skips_who_left(world: World) -> None:
    w = await _world(world)
    pair = await _open(w)
    w.messenger.leave(GUILD, MENTOR)
    await w.services.pairs.moderator_end(GUILD, 9, pair.id or 0, "reported")
    assert [t[:28] for t in _told(w, MENTEE)] == ["A moderator has ended your m"]
    assert _told(w, MENTOR) == []


async def test_moderator_access_follows_the_setting_and_the_role_on_every_space(
    world: World,
) -> None:
    w = await _world(world, moderator_role_id=OLD_ROLE, moderators_see_pairs=True)
    w.spaces.guild(GUILD).roles[OLD_ROLE] = "Old Team"
    first = await _open(w)
    await onboarded(w.database, w.services.ctx.cipher, guild_id=GUILD, user_id=3, now=w.clock.now)
    second = await _open(w, mentee=3)
    await w.services.pairs.member_end(second.id or 0, 3, None)  # ended, not yet deleted
    # the moderator role changes: the old one loses access, the new one gets it
    await w.services.setup.save(GUILD, 9, {"moderator_role_id": ROLE})
    text = await w.services.pairs.apply_moderator_access(GUILD, previous_role_id=OLD_ROLE)
    assert "**Community Team** role can now see 2 existing pair spaces" in text
    assert "previous moderator role's access was removed" in text
    for pair in (first, second):
        space = w.spaces.spaces[pair.channel_id or 0]
        targets = {o.target: o.grant for o in space.overwrites}
        assert targets[Target("role", ROLE)] == Grant(allow=MODERATOR_ALLOW)
        assert Target("role", OLD_ROLE) not in targets
    assert (CATEGORY, ROLE, Grant(allow=MODERATOR_ALLOW)) in w.spaces.role_access
    # only the live pair is told in its space
    live = [m for m in w.messenger.posts_in(first.channel_id or 0) if "has changed" in m.text]
    ended = [m for m in w.messenger.posts_in(second.channel_id or 0) if "has changed" in m.text]
    assert len(live) == 1 and ended == []
    # switched off through /pairs settings: removed everywhere, and said
    text = await w.services.pairs.save_settings(GUILD, 9, {"moderators_see_pairs": False})
    assert "can no longer see 2 existing pair spaces" in text
    for pair in (first, second):
        targets = {o.target for o in w.spaces.spaces[pair.channel_id or 0].overwrites}
        assert Target("role", ROLE) not in targets


async def test_refused_access_changes_are_counted_and_explained(world: World) -> None:
    w = await _world(world, moderator_role_id=ROLE)
    await _open(w)
    await w.services.setup.save(GUILD, 9, {"moderators_see_pairs": True})
    w.spaces.refuse = SendFailure.MISSING_PERMISSIONS
    text = await w.services.pairs.apply_moderator_access(GUILD)
    assert "can now see 0 existing pair spaces" in text and "1 could not be changed" in text
    assert "Manage Roles" in text


async def test_progress_is_reported_for_many_spaces(world: World) -> None:
    w = await _world(world, moderator_role_id=ROLE)
    cipher = w.services.ctx.cipher
    for n in range(25):
        mentee, mentor = 1000 + n, 2000 + n
        w.messenger.join(GUILD, mentee, mentor)
        await onboarded(w.database, cipher, guild_id=GUILD, user_id=mentee, now=w.clock.now)
        await onboarded(
            w.database, cipher, guild_id=GUILD, user_id=mentor, now=w.clock.now, mentor=True
        )
        await w.services.pairs.open_space(await _accepted(w, mentee, mentor))
    seen: list[str] = []

    async def progress(text: str) -> None:
        seen.append(text)

    text = await w.services.pairs.save_settings(
        GUILD, 9, {"moderators_see_pairs": True}, progress=progress
    )
    assert seen == [
        "Updating existing pair spaces… 10 of 25",
        "Updating existing pair spaces… 20 of 25",
    ]
    assert "can now see 25 existing pair spaces" in text


async def test_orphaned_pair_channels_are_deleted_after_retention_and_nothing_else(
    world: World,
) -> None:
    w = await _world(world)
    pair = await _open(w)
    lantern = (Overwrite(Target("bot"), Grant(allow=("view_channel",))),)
    orphan = FakeSpace(901, GUILD, "ana-and-kenji", "channel", CATEGORY, overwrites=lantern)
    theirs = FakeSpace(902, GUILD, "pair-guidelines", "channel", CATEGORY, overwrites=lantern)
    hand_made = FakeSpace(903, GUILD, "lee-and-sam", "channel", CATEGORY)
    for space in (orphan, theirs, hand_made):
        w.spaces.spaces[space.id] = space
    pairs = w.services.pairs
    assert await pairs.delete_due(w.clock.advance(days=29)) == 0
    w.clock.advance(days=1, minutes=1)
    counts = await asyncio.gather(pairs.delete_due(w.clock.now), pairs.delete_due(w.clock.now))
    assert sum(counts) >= 1 and w.spaces.deleted.count(901) >= 1
    assert set(w.spaces.deleted) == {901}
    async with w.database.session() as session:
        row = await session.get(Pair, pair.id)
    assert row is not None and row.status == PairStatus.ACTIVE


async def test_threads_left_by_an_erase_are_deleted_on_each_pairs_date_exactly_once(
    world: World,
) -> None:
    w = await _world(world)
    w.spaces.guilds[GUILD].thread_parents.add(THREADS)
    await w.services.pairs.save_settings(
        GUILD, MENTOR, {"use_threads": True, "thread_channel_id": THREADS}
    )
    first = await _open(w)
    second = await _open(w, OTHER_MENTEE)
    assert first.id is not None and first.thread_id and second.thread_id
    await w.services.pairs.member_end(first.id, MENTEE, None)  # ends on day 0: kept to day 30
    w.clock.advance(days=10)
    await w.services.member_data.erase(MENTOR)  # the other pair ends now: kept to day 40
    async with w.database.session() as session:
        assert await session.get(Pair, first.id) is None
    assert w.spaces.deleted == []  # the partners may read their threads a while
    pairs = w.services.pairs
    assert await pairs.delete_due(w.clock.advance(days=19, hours=23)) == 0
    w.clock.advance(hours=1, minutes=1)
    counts = await asyncio.gather(pairs.delete_due(w.clock.now), pairs.delete_due(w.clock.now))
    assert sorted(counts) == [0, 1] and w.spaces.deleted == [first.thread_id]
    # Discord is busy on the second's date: it is tried again on the next sweep
    delete = w.spaces.delete

    async def busy(space_id: int, *, reason: str) -> SendFailure | None:
        return SendFailure.RATE_LIMITED

    w.spaces.delete = busy  # type: ignore[method-assign]
    assert await pairs.delete_due(w.clock.advance(days=10)) == 0
    w.spaces.delete = delete  # type: ignore[method-assign]
    w.spaces.vanish(second.thread_id)  # and someone deleted it by hand meanwhile: gone counts
    assert await pairs.delete_due(w.clock.advance(minutes=5)) == 1
    assert await pairs.delete_due(w.clock.advance(days=1)) == 0
    assert w.spaces.deleted == [first.thread_id, second.thread_id]
    async with w.database.session() as session:
        assert await session.get(LeftoverSpace, second.thread_id) is None
