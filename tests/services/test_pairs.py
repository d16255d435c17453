"""The pairs service on a real database with a recording ``Spaces``: one space per pair, failures
told once, endings once, check-ins and retention exactly once, reports that pause and block."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditEntry, Block, Pair, PairCategory, PairCheckin, PairStatus
from bot.domain.components import checkin_buttons, opening_buttons, pair_button
from bot.errors import ExpiredComponentError, UserFacingError
from bot.services.events import PairEnded
from bot.services.ports import Access, SendFailure, Target
from tests.factories import accepted_pair, onboarded
from tests.services.conftest import World

GUILD = 10
CATEGORY = 100
ALERTS = 77
THREADS = 300
ROLE = 55
MENTEE, MENTOR, OTHER_MENTEE, MODERATOR = 1, 2, 3, 9


async def _world(world: World, **settings: object) -> World:
    """A server that ran /setup, whose mentee and mentor are members with profiles."""
    await world.services.setup.save(
        GUILD,
        MODERATOR,
        {"pair_category_id": CATEGORY, "alerts_channel_id": ALERTS, **settings},
    )
    world.spaces.guild(GUILD, Mentorship=CATEGORY).roles[ROLE] = "Community Team"
    world.messenger.join(GUILD, MENTEE, MENTOR, OTHER_MENTEE)
    world.messenger.names.update({MENTEE: "Ana Reyes", MENTOR: "Kenji Sato", OTHER_MENTEE: "Lee"})
    cipher, now = world.services.ctx.cipher, world.clock.now
    for user_id in (MENTEE, OTHER_MENTEE):
        await onboarded(world.database, cipher, guild_id=GUILD, user_id=user_id, now=now)
    await onboarded(
        world.database, cipher, guild_id=GUILD, user_id=MENTOR, now=now, mentor=True, capacity=5
    )
    return world


async def _accepted(world: World, mentee: int = MENTEE, mentor: int = MENTOR) -> int:
    """What matching's accept leaves behind: one ``opening`` pair."""
    return await accepted_pair(
        world.database,
        world.services.ctx.cipher,
        guild_id=GUILD,
        mentee_id=mentee,
        mentor_id=mentor,
        now=world.clock.now,
        reasons=["You both chose identity exploration"],
    )


async def _pair(world: World, pair_id: int) -> Pair:
    async with world.database.session() as session:
        pair = await session.get(Pair, pair_id, populate_existing=True)
    assert pair is not None
    return pair


async def _open(world: World, mentee: int = MENTEE) -> Pair:
    pair_id = await _accepted(world, mentee)
    await world.services.pairs.open_space(pair_id)
    pair = await _pair(world, pair_id)
    assert pair.status == PairStatus.ACTIVE
    return pair


Opened = tuple[World, Pair]
"""A set-up server (``_world``) and its pair, whose space is open."""


@pytest.fixture
async def opened(world: World) -> Opened:
    w = await _world(world)
    return w, await _open(w)


def _ended(world: World) -> list[PairEnded]:
    seen: list[PairEnded] = []

    async def record(event: PairEnded) -> None:
        seen.append(event)

    world.services.ctx.events.on_pair_ended(record)
    return seen


def _alerts(world: World) -> list[str]:
    return [m.text for m in world.messenger.posts_in(ALERTS)]


async def test_open_space_makes_one_private_channel_and_a_warm_opening(opened: Opened) -> None:
    w, pair = opened
    [space] = w.spaces.made()
    assert pair.channel_id == space.id and pair.thread_id is None
    assert space.parent_id == CATEGORY and space.name == "ana-reyes-and-kenji-sato"
    targets = {o.target: o.grant for o in space.overwrites}
    assert set(targets) == {
        Target("everyone", GUILD),
        Target("bot"),
        Target("member", MENTEE),
        Target("member", MENTOR),
    }
    assert targets[Target("everyone", GUILD)].deny == ("view_channel",)
    assert not any(f.startswith("manage_") for g in targets.values() for f in g.allow)
    [(where, text, cards, buttons, ping)] = w.spaces.openings
    assert where == space.id and ping == (MENTEE, MENTOR)
    assert buttons == opening_buttons(pair.id or 0)
    assert "You both chose identity exploration" in text and "<@1>" in text
    assert [c.title for c in cards] == [
        "Mentee: Ana Reyes",
        "Mentor: Kenji Sato",
        "🗓️ When you could meet",  # both share a zone (and so default to 08:00-21:00)
    ]
    assert pair.next_checkin_at == w.clock.now + timedelta(days=14)


async def test_moderators_get_an_overwrite_only_when_the_server_chose_so(world: World) -> None:
    w = await _world(world, moderator_role_id=ROLE, moderators_see_pairs=True)
    await _open(w)
    [space] = w.spaces.made()
    assert Target("role", ROLE) in {o.target for o in space.overwrites}
    assert "Community Team" in w.spaces.openings[0][1]


async def test_a_refused_create_leaves_the_pair_pending_with_one_alert(world: World) -> None:
    w = await _world(world)
    w.spaces.refuse = SendFailure.MISSING_PERMISSIONS
    pair_id = await _accepted(w)
    await w.services.pairs.open_space(pair_id)
    pair = await _pair(w, pair_id)
    assert pair.status == PairStatus.OPENING and pair.space_error == "missing_permissions"
    # retries (accepted again, the sweep) do not alert or tell the members again
    await w.services.pairs.open_space(pair_id)
    await w.services.pairs.open_pending(w.clock.advance(minutes=5))
    alerts = _alerts(w)
    assert len(alerts) == 1 and "Manage Channels" in alerts[0] and f"pair:{pair_id}" in alerts[0]
    for person in (MENTEE, MENTOR):
        assert [m.text for m in w.messenger.dms_to(person)] == [
            m.text for m in w.messenger.dms_to(person) if "taking a little longer" in m.text
        ]
        assert len(w.messenger.dms_to(person)) == 1
    assert w.spaces.made() == [] and w.spaces.creates == 3
    # fixed: the sweep opens it
    w.spaces.refuse = None
    await w.services.pairs.open_pending(w.clock.advance(minutes=5))
    assert (await _pair(w, pair_id)).status == PairStatus.ACTIVE
    assert len(w.spaces.made()) == 1


@pytest.mark.parametrize(
    ("failure", "error", "words"),
    [
        (SendFailure.CHANNEL_LIMIT, "guild_full", "500 channels"),
        (SendFailure.MISSING_ACCESS, "missing_permissions", "Manage Channels"),
        (SendFailure.SERVER_ERROR, "discord_server_error", "Discord refused"),
    ],
)
async def test_each_refusal_is_named_for_moderators(
    world: World, failure: SendFailure, error: str, words: str
) -> None:
    w = await _world(world)
    w.spaces.refuse = failure
    pair_id = await _accepted(w)
    await w.services.pairs.open_space(pair_id)
    assert (await _pair(w, pair_id)).space_error == error
    assert len(_alerts(w)) == 1 and words in _alerts(w)[0]


async def test_concurrent_opens_make_one_space(world: World) -> None:
    w = await _world(world)
    pair_id = await _accepted(w)
    await asyncio.gather(*(w.services.pairs.open_space(pair_id) for _ in range(5)))
    await w.services.pairs.open_pending(w.clock.advance(minutes=5))
    assert len(w.spaces.made()) == 1 and w.spaces.creates == 1
    assert len(w.spaces.openings) == 1


async def test_a_full_category_rolls_over_to_a_private_overflow_category(world: World) -> None:
    w = await _world(world)
    w.spaces.refuse, w.spaces.refuse_times = SendFailure.CATEGORY_LIMIT, 1
    pair = await _open(w)
    [(overflow, name)] = w.spaces.guilds[GUILD].categories.items() - {(CATEGORY, "Mentorship")}
    assert name == "Mentorship 2"
    [space] = w.spaces.made()
    assert pair.channel_id == space.id and space.parent_id == overflow
    async with w.database.session() as session:
        rows = (await session.execute(select(PairCategory))).scalars().all()
    assert [(r.category_id, r.number) for r in rows] == [(overflow, 2)]
    # the next pair goes into the same overflow category: Lantern remembers it is full
    second = await _open(w, OTHER_MENTEE)
    assert w.spaces.spaces[second.channel_id or 0].parent_id == overflow
    assert len(w.spaces.guilds[GUILD].categories) == 2


async def _open_thread(world: World) -> Pair:
    """A server that chose private threads under ``THREADS``, and a pair opened there."""
    w = await _world(world)
    w.spaces.guilds[GUILD].thread_parents.add(THREADS)
    await w.services.pairs.save_settings(
        GUILD, MODERATOR, {"use_threads": True, "thread_channel_id": THREADS}
    )
    return await _open(w)


async def test_private_threads_when_the_server_chose_them(world: World) -> None:
    w = world
    pair = await _open_thread(w)
    [thread] = w.spaces.made("thread")
    assert pair.thread_id == thread.id and pair.channel_id is None
    assert thread.parent_id == THREADS and thread.members == (MENTEE, MENTOR)
    assert "Who can see this thread" in w.spaces.openings[0][1]


async def test_thread_mode_without_manage_threads_is_said_when_saved(world: World) -> None:
    w = await _world(world)
    w.spaces.guilds[GUILD].thread_parents.add(THREADS)
    w.spaces.no_manage_threads.add(THREADS)
    threads = {"use_threads": True, "thread_channel_id": THREADS}
    said = await w.services.pairs.save_settings(GUILD, MODERATOR, threads)
    assert "**Manage Threads**" in said and f"<#{THREADS}>" in said
    w.spaces.no_manage_threads.clear()  # granted
    assert "Manage Threads" not in await w.services.pairs.save_settings(GUILD, MODERATOR, threads)
    w.spaces.no_manage_threads.add(THREADS)  # channels again: nothing to warn about
    channels = {"use_threads": False}
    assert "Manage Threads" not in await w.services.pairs.save_settings(GUILD, MODERATOR, channels)


async def test_a_missing_member_or_server_leaves_the_pair_pending(world: World) -> None:
    w = await _world(world)
    w.messenger.leave(GUILD, MENTOR)
    pair_id = await _accepted(w)
    await w.services.pairs.open_space(pair_id)
    assert (await _pair(w, pair_id)).space_error == "member_missing"
    del w.spaces.guilds[GUILD]
    await w.services.pairs.open_pending(w.clock.advance(minutes=5))
    assert (await _pair(w, pair_id)).space_error == "guild_unavailable"
    assert w.spaces.creates == 0


async def test_end_is_idempotent_under_concurrent_calls_and_published_once(opened: Opened) -> None:
    w, pair = opened
    ended = _ended(w)  # opening published nothing: only the ending is seen
    assert pair.id is not None and pair.channel_id is not None
    results = await asyncio.gather(
        *(
            w.services.pairs.end(pair.id, actor_id=MENTEE, reason=None, cause="ended")
            for _ in range(5)
        )
    )
    assert results.count(True) == 1
    assert ended == [PairEnded(pair.id, GUILD, MENTEE, MENTOR, "ended", MENTEE)]
    after = await _pair(w, pair.id)
    assert after.status == PairStatus.ENDED and after.ended_by_id == MENTEE
    assert after.delete_channel_at == w.clock.now + timedelta(days=30)
    assert sorted(w.spaces.access) == [
        (pair.channel_id, MENTEE, Access.READ_ONLY),
        (pair.channel_id, MENTOR, Access.READ_ONLY),
    ]
    [closing] = [m for m in w.messenger.posts_in(pair.channel_id) if "read-only" in m.text]
    assert closing.buttons == (pair_button("delete", pair.id),)
    assert _alerts(w) == []  # no note, ended by a member: moderators are not told


async def test_end_with_a_note_tells_moderators_and_someone_who_left_loses_access(
    opened: Opened,
) -> None:
    w, pair = opened
    assert pair.id is not None
    w.messenger.leave(GUILD, MENTOR)
    assert await w.services.pairs.end(
        pair.id, actor_id=MENTEE, reason="We drifted apart", cause="ended"
    )
    assert (pair.channel_id, MENTOR, Access.REMOVED) in w.spaces.access
    [alert] = _alerts(w)
    assert "drifted" in alert and "<@1>" in alert
    stored = (await _pair(w, pair.id)).end_reason_enc
    assert stored and "drifted" not in stored


async def test_end_all_of_ends_every_pair_of_a_member_and_tells_the_others(world: World) -> None:
    w = await _world(world)
    ended = _ended(w)
    first = await _open(w)
    second = await _open(w, OTHER_MENTEE)
    gone = await w.services.pairs.end_all_of(
        GUILD, MENTOR, cause="member_left", tell_other="Your partner left."
    )
    assert sorted(p.id or 0 for p in gone) == sorted([first.id or 0, second.id or 0])
    assert sorted(e.pair_id for e in ended) == sorted(p.id or 0 for p in gone)
    for mentee in (MENTEE, OTHER_MENTEE):
        told = [m.text for m in w.messenger.dms_to(mentee)]
        # First the kind word about the partner, then matching (subscribed to PairEnded)
        # offers a new mentor.
        assert told[0] == "Your partner left." and "new mentor" in " ".join(told[1:])
    assert len(_alerts(w)) == 2  # member_left is always told to moderators
    assert (
        await w.services.pairs.end_all_of(GUILD, MENTOR, cause="member_left", tell_other="x") == []
    )


async def test_checkins_are_posted_when_due_exactly_once(opened: Opened) -> None:
    w, pair = opened
    assert pair.channel_id is not None
    pairs = w.services.pairs
    await pairs.checkins_due(w.clock.advance(days=13))
    assert not [m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]
    now = w.clock.advance(days=1, seconds=1)
    await asyncio.gather(pairs.checkins_due(now), pairs.checkins_due(now))
    [checkin] = [m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]
    assert checkin.ping == (MENTEE, MENTOR)
    async with w.database.session() as session:
        row = (await session.execute(select(PairCheckin))).scalar_one()
    assert checkin.buttons == checkin_buttons(row.id or 0)
    assert row.message_id == checkin.message_id
    # "need help" tells moderators once, however often it is pressed; never a third person
    assert await pairs.may_answer_checkin(row.id or 0, MENTEE)
    assert not await pairs.may_answer_checkin(row.id or 0, OTHER_MENTEE)
    for _ in range(2):
        assert "moderator" in await pairs.answer_checkin(row.id or 0, MENTEE, "help")
    assert len(_alerts(w)) == 1 and f"#{pair.id}" in _alerts(w)[0]
    await pairs.checkins_due(w.clock.advance(days=30))
    assert len([m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]) == 2


async def test_paused_reminders_hold_checkins(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    assert "paused" in await w.services.pairs.toggle_reminders(pair.id)
    await w.services.pairs.checkins_due(w.clock.advance(days=15))
    assert not [m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]
    assert "back on" in await w.services.pairs.toggle_reminders(pair.id)
    await w.services.pairs.checkins_due(w.clock.now)
    assert [m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]


async def test_a_space_gone_at_checkin_time_ends_the_match(opened: Opened) -> None:
    w, pair = opened
    ended = _ended(w)  # opening published nothing: only the ending is seen
    assert pair.id is not None and pair.channel_id is not None
    w.spaces.vanish(pair.channel_id)
    await w.services.pairs.checkins_due(w.clock.advance(days=15))
    after = await _pair(w, pair.id)
    assert after.status == PairStatus.ENDED and after.channel_id is None
    assert [e.cause for e in ended] == ["channel_deleted"]
    assert any("removed" in m.text for m in w.messenger.dms_to(MENTEE))


async def test_a_space_discord_cannot_confirm_is_skipped_not_ended(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    w.spaces.flaky.add(pair.channel_id)
    await w.services.pairs.checkins_due(w.clock.advance(days=15))
    assert (await _pair(w, pair.id)).status == PairStatus.ACTIVE
    assert not [m for m in w.messenger.posts_in(pair.channel_id) if "Check-in" in m.text]


async def test_retention_deletes_each_due_space_once(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    await w.services.pairs.end(pair.id, actor_id=MENTOR, reason=None, cause="ended")
    assert await w.services.pairs.delete_due(w.clock.advance(days=29)) == 0
    now = w.clock.advance(days=1, seconds=1)
    counts = await asyncio.gather(*(w.services.pairs.delete_due(now) for _ in range(3)))
    assert sum(counts) == 1 and w.spaces.deleted == [pair.channel_id]
    after = await _pair(w, pair.id)
    assert after.status == PairStatus.ENDED and after.channel_id is None
    assert await w.services.pairs.delete_due(w.clock.advance(days=1)) == 0


async def test_delete_now_answers_before_the_space_goes_and_only_after_an_ending(
    opened: Opened,
) -> None:
    w, pair = opened
    assert pair.id is not None
    told: list[tuple[str, list[int]]] = []

    async def notify(text: str) -> None:
        told.append((text, list(w.spaces.deleted)))

    with pytest.raises(UserFacingError, match="after the mentorship has ended"):
        await w.services.pairs.delete_now(pair.id, notify=notify)
    await w.services.pairs.end(pair.id, actor_id=MENTOR, reason=None, cause="ended")
    await w.services.pairs.delete_now(pair.id, notify=notify)
    assert told == [("Deleting this space now. Take care! 🌱", [])]
    assert w.spaces.deleted == [pair.channel_id]


async def test_report_pauses_contact_blocks_and_is_told_once(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    pairs = w.services.pairs
    thanks = await pairs.report(
        GUILD, pair.channel_id, MENTEE, "He keeps @everyone-ing me", pause_contact=True, block=True
    )
    assert "privately to the moderators" in thanks and "never pair you" in thanks
    again = await pairs.report(
        GUILD, pair.channel_id, MENTEE, "again", pause_contact=True, block=False
    )
    assert "already reported" in again
    assert (await _pair(w, pair.id)).status == PairStatus.PAUSED
    assert w.spaces.access == [(pair.channel_id, MENTOR, Access.HIDDEN)]
    [alert] = _alerts(w)
    assert "@everyone" not in alert.replace("@\u200beveryone", "")
    async with w.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Block)) == 1
    with pytest.raises(UserFacingError, match="inside your pair space"):
        await pairs.report(GUILD, 12345, OTHER_MENTEE, "not mine", pause_contact=False, block=False)
    assert (
        await pairs.resume_contact(GUILD, MODERATOR, pair.id) == f"Pair #{pair.id} can talk again."
    )
    assert w.spaces.access[-1] == (pair.channel_id, MENTOR, Access.MEMBER)
    with pytest.raises(UserFacingError, match="isn't paused"):
        await pairs.resume_contact(GUILD, MODERATOR, pair.id)


async def test_reports_are_limited_per_person_per_day(world: World) -> None:
    w = await _world(world)
    pairs = w.services.pairs
    spaces = []
    for mentee in (4, 5):
        w.messenger.join(GUILD, mentee)
        cipher = w.services.ctx.cipher
        await onboarded(w.database, cipher, guild_id=GUILD, user_id=mentee, now=w.clock.now)
    for mentee in (MENTEE, OTHER_MENTEE, 4, 5):
        spaces.append((await _open(w, mentee)).channel_id or 0)
    for space in spaces[:3]:
        await pairs.report(GUILD, space, MENTOR, "not ok", pause_contact=False, block=False)
        if space == spaces[0]:
            with pytest.raises(UserFacingError, match="try again in 1 minute"):  # the cooldown
                await pairs.report(GUILD, spaces[3], MENTOR, "x", pause_contact=False, block=False)
        w.clock.advance(minutes=1)
    with pytest.raises(UserFacingError, match="several reports today.*another in about 24 h"):
        await pairs.report(GUILD, spaces[3], MENTOR, "not ok", pause_contact=False, block=False)
    w.clock.advance(days=1, seconds=1)
    await pairs.report(GUILD, spaces[3], MENTOR, "not ok", pause_contact=False, block=False)


async def test_a_vanished_space_ends_the_match_and_can_be_recreated(opened: Opened) -> None:
    w, pair = opened
    ended = _ended(w)  # opening published nothing: only the ending is seen
    assert pair.id is not None and pair.channel_id is not None
    w.spaces.vanish(pair.channel_id)
    await w.services.pairs.space_vanished(pair.channel_id)
    await w.services.pairs.space_vanished(pair.channel_id)  # the event twice: told once
    assert [e.cause for e in ended] == ["channel_deleted"]
    for person in (MENTEE, MENTOR):
        assert len([m for m in w.messenger.dms_to(person) if "removed" in m.text]) == 1
    text = await w.services.pairs.recreate(GUILD, MODERATOR, pair.id)
    assert "open again" in text
    restored = await _pair(w, pair.id)
    assert restored.status == PairStatus.ACTIVE and restored.channel_id not in (
        None,
        pair.channel_id,
    )
    assert "already has a space" in await w.services.pairs.recreate(GUILD, MODERATOR, pair.id)
    with pytest.raises(UserFacingError, match="no pair"):
        await w.services.pairs.recreate(GUILD + 1, MODERATOR, pair.id)


async def test_a_pair_ended_by_its_members_cannot_be_recreated(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None
    await w.services.pairs.end(pair.id, actor_id=MENTEE, reason=None, cause="ended")
    with pytest.raises(UserFacingError, match="can't be reopened"):
        await w.services.pairs.recreate(GUILD, MODERATOR, pair.id)


async def test_touch_resets_the_silence_count_and_nudges_then_alerts_once(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    pairs = w.services.pairs
    for _ in range(3):
        now = w.clock.advance(days=21, seconds=1)
        await asyncio.gather(pairs.nudge_quiet(now), pairs.nudge_quiet(now))
    nudges = [m for m in w.messenger.posts_in(pair.channel_id) if "quiet here" in m.text]
    assert len(nudges) == 2
    [alert] = _alerts(w)
    assert "2 gentle nudges" in alert
    await pairs.touch(pair.channel_id)
    await pairs.touch(9999)  # not a pair space: nothing happens
    await pairs.nudge_quiet(w.clock.advance(days=21, seconds=1))
    assert len([m for m in w.messenger.posts_in(pair.channel_id) if "quiet here" in m.text]) == 3


async def test_moderator_list_end_and_settings(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None
    w.messenger.leave(GUILD, MENTOR)
    del w.messenger.names[MENTOR]
    listed = await w.services.pairs.list(GUILD)
    assert f"**#{pair.id}** Ana Reyes & (left) · started 2026-01-01" in listed
    assert await w.services.pairs.list(GUILD + 1) == "No active pairs yet."
    text = await w.services.pairs.moderator_end(GUILD, MODERATOR, pair.id, None)
    assert text == f"Pair #{pair.id} has ended."
    again = await w.services.pairs.moderator_end(GUILD, MODERATOR, pair.id, None)
    assert again == f"Pair #{pair.id} had already ended."
    saved = await w.services.pairs.save_settings(GUILD, MODERATOR, {"retention_days": 7})
    assert "ended spaces kept 7 days" in saved
    async with w.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert sorted(e.action for e in entries) == ["pair_end", "pair_settings", "setup"]


async def test_who_may_press_the_pair_buttons(opened: Opened) -> None:
    w, pair = opened
    assert pair.id is not None and pair.channel_id is not None
    pairs = w.services.pairs
    assert await pairs.is_member(pair.id, MENTOR)
    assert not await pairs.is_member(pair.id, OTHER_MENTEE)
    with pytest.raises(ExpiredComponentError):
        await pairs.is_member(pair.id + 100, MENTEE)
    assert await pairs.pair_here(GUILD, pair.channel_id, MENTEE) == pair.id
    assert await pairs.pair_here(GUILD, 12345, MENTEE) == pair.id  # their only live pair
    assert "How is it going" in await pairs.offer_checkin(pair.id)
    assert "A moderator has your call for help" in await pairs.ask_help(pair.id, MENTEE, "help")
    assert len(_alerts(w)) == 1
    await pairs.end(pair.id, actor_id=MENTEE, reason=None, cause="ended")
    with pytest.raises(UserFacingError, match="already ended"):
        await pairs.pair_here(GUILD, pair.channel_id, MENTEE, refuse_ended=True)
    with pytest.raises(UserFacingError, match="isn't active"):
        await pairs.offer_checkin(pair.id)
