"""The pairs service at its edges, on a real database with recording fakes: endings that tell
the other person once, moderator access applied to existing spaces, orphaned spaces deleted by
retention, and opening cards within Discord's limits."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest

from bot.db.models import LeftoverSpace, Pair, PairStatus
from bot.domain.pairs import MODERATOR_ALLOW, Grant
from bot.services import pairs as pairs_service
from bot.services.ports import Overwrite, SendFailure, Target
from tests.factories import onboarded
from tests.services.conftest import Clock, World
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
CLOCK_START = Clock().now


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


async def _thread_mode(world: World) -> World:
    w = await _world(world)
    w.spaces.guilds[GUILD].thread_parents.add(THREADS)
    await w.services.pairs.save_settings(
        GUILD, MENTOR, {"use_threads": True, "thread_channel_id": THREADS}
    )
    return w


def _stray(
    space_id: int,
    name: str = "ana-and-kenji",
    *,
    last_active: datetime = CLOCK_START,
    by_lantern: bool = True,
    archived: bool = False,
) -> FakeSpace:
    """A private thread in the pair-thread channel that no pair row knows."""
    return FakeSpace(
        space_id,
        GUILD,
        name,
        "thread",
        THREADS,
        last_active=last_active,
        by_lantern=by_lantern,
        archived=archived,
    )


async def test_unrecorded_pair_threads_are_deleted_once_after_retention_and_nothing_else(
    world: World,
) -> None:
    w = await _thread_mode(world)
    pair = await _open(w)
    assert pair.thread_id is not None
    start = w.clock.now
    for space in (
        _stray(911),  # a creation that reached Discord but never the database
        _stray(912, "lee-and-kenji", archived=True),  # quiet long enough to be archived
        _stray(913, "lee-and-kenji-2", last_active=start + timedelta(days=20)),  # written since
        _stray(914, "lee-and-sam", by_lantern=False),  # a member's own private thread
        _stray(915, "notes"),  # Lantern's, but not a pair space
    ):
        w.spaces.spaces[space.id] = space
    pairs = w.services.pairs
    assert await pairs.delete_due(w.clock.advance(days=29)) == 0
    assert await pairs.delete_due(w.clock.advance(days=1, minutes=1)) == 2
    assert await pairs.delete_due(w.clock.advance(hours=1)) == 0
    assert sorted(w.spaces.deleted) == [911, 912]  # each once
    assert await pairs.delete_due(w.clock.advance(days=20)) == 1
    assert sorted(w.spaces.deleted) == [911, 912, 913]
    assert {914, 915, pair.thread_id} <= set(w.spaces.spaces)
    async with w.database.session() as session:
        row = await session.get(Pair, pair.id)
    assert row is not None and row.status == PairStatus.ACTIVE


async def test_archived_threads_are_listed_a_bounded_page_per_sweep_in_thread_mode_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pairs_service, "ARCHIVED_THREADS_PER_SWEEP", 2)
    w = await _thread_mode(world)
    for number in range(5):
        w.spaces.spaces[921 + number] = _stray(921 + number, f"a-and-b-{number}", archived=True)
    other = w.spaces.guild(GUILD + 1)  # a server whose thread mode is off is never listed
    other.thread_parents.add(THREADS + 1)
    await w.services.pairs.save_settings(GUILD + 1, MENTOR, {"thread_channel_id": THREADS + 1})
    pairs = w.services.pairs
    w.clock.advance(days=31)
    assert [await pairs.delete_due(w.clock.advance(hours=1)) for _ in range(4)] == [2, 2, 1, 0]
    assert w.spaces.deleted == [925, 924, 923, 922, 921]
    assert w.spaces.listings == [(THREADS, None), (THREADS, 924), (THREADS, 922), (THREADS, None)]


async def test_a_refused_thread_sweep_is_logged_once_and_skipped(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    w = await _thread_mode(world)
    w.spaces.spaces[931] = _stray(931)
    w.spaces.spaces[932] = _stray(932, "lee-and-kenji")
    pairs = w.services.pairs
    caplog.set_level(logging.WARNING, "lantern.pairs")
    w.spaces.refuse_listing = SendFailure.MISSING_ACCESS  # Read Message History denied there
    w.clock.advance(days=31)
    assert [await pairs.delete_due(w.clock.advance(hours=1)) for _ in range(2)] == [0, 0]
    w.spaces.refuse_listing = None
    tried: list[int] = []

    async def not_allowed(space_id: int, *, reason: str) -> SendFailure | None:
        tried.append(space_id)  # deleting a thread needs Manage Threads
        return SendFailure.MISSING_PERMISSIONS

    w.spaces.delete = not_allowed  # type: ignore[method-assign]
    assert [await pairs.delete_due(w.clock.advance(hours=1)) for _ in range(2)] == [0, 0]
    assert len(tried) == 2  # one try per sweep, not one per thread
    refusals = [r.getMessage() for r in caplog.records]
    assert refusals == [
        f"orphan thread listing refused guild={GUILD} reason=missing_access",
        f"orphan thread deletion refused guild={GUILD} reason=missing_permissions",
    ]
    assert set(w.spaces.spaces) >= {931, 932}
