"""Delivery: each occurrence and recipient at most once, DMs closed marked and not retried,
5xx retried by a later sweep, the channel post with its thread, jobs armed from schedules."""

from __future__ import annotations

import asyncio

import pytest

from bot.db.models import (
    Circle,
    CircleStatus,
    Pair,
    PairStatus,
    PromptDelivery,
    PromptOccurrence,
    PromptSubscription,
)
from bot.errors import UserFacingError
from bot.services.delivery import job_id
from bot.services.fanout import MAX_ATTEMPTS
from bot.services.ports import SendFailure
from tests.services.conftest import World

GUILD = 10
MOD = 7
CHANNEL = 77
MEMBERS = (101, 102, 103)


async def _community(world: World, *, channel: bool = True, members: tuple[int, ...] = MEMBERS):
    """A server with a reflections channel and members subscribed to DM prompts."""
    if channel:
        await world.services.setup.save(GUILD, MOD, {"reflections_channel_id": CHANNEL})
    world.messenger.join(GUILD, *members)
    for user_id in members:
        await world.services.prompts.set_subscription(GUILD, user_id, "subscribed")


async def _schedule(world: World, **options: object) -> int:
    """A daily 13:00 UTC schedule (the clock starts at 12:00); its id."""
    text = await world.services.prompts.create_schedule(
        GUILD, MOD, "daily 13:00", timezone="UTC", **options
    )
    return int(text.split("#")[1].split("*")[0])


async def test_two_overlapping_sweeps_deliver_each_occurrence_once(world: World) -> None:
    await _community(world)
    await _schedule(world, dm=True)
    now = world.clock.advance(hours=1, seconds=30)
    await asyncio.gather(world.services.delivery.run_due(now), world.services.delivery.run_due(now))
    await world.services.delivery.run_due(now)  # and a late third one
    for user_id in MEMBERS:
        assert len(world.dm_sender.to(user_id)) == 1, user_id
    assert len(world.messenger.posts_in(CHANNEL)) == 1
    assert len(world.messenger.post_threads) == 1
    (occurrence,) = await world.rows(PromptOccurrence)
    assert occurrence.status == "done"
    assert {d.status for d in await world.rows(PromptDelivery)} == {"sent"}
    # The DM carries the prompt, the footer and a Reflect button for its own delivery row.
    dm = world.dm_sender.to(MEMBERS[0])[0]
    assert "A reflection prompt" in dm.text and "pause prompts" in dm.text
    assert [b.label for b in dm.buttons] == ["Reflect"]
    assert dm.buttons[0].custom_id.startswith("lantern:prompts:reflect:")


async def test_the_channel_post_gets_a_thread_that_is_remembered(world: World) -> None:
    await _community(world, members=())
    schedule_id = await _schedule(world)
    summary = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "posted in the reflections channel" in summary
    (post,) = world.messenger.posts_in(CHANNEL)
    assert "Answer in the thread below" in post.text
    ((channel_id, message_id, name, thread_id),) = world.messenger.post_threads
    assert (channel_id, message_id) == (CHANNEL, post.message_id)
    assert name.startswith("Reflections · ") and len(name) <= 100
    (occurrence,) = await world.rows(PromptOccurrence)
    assert (occurrence.channel_message_id, occurrence.thread_id) == (post.message_id, thread_id)


async def test_a_deleted_reflections_channel_is_a_failed_post_not_a_crash(world: World) -> None:
    await _community(world, members=())
    world.messenger.missing_channels.add(CHANNEL)
    schedule_id = await _schedule(world)
    summary = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "channel post failed" in summary
    assert [d.status for d in await world.rows(PromptDelivery)] == ["no_channel"]
    listing = await world.services.prompts.schedules(GUILD)
    assert "failed 1 (channel missing 1)" in listing
    assert world.messenger.post_threads == []


async def test_dms_closed_are_marked_and_not_retried_while_others_receive(world: World) -> None:
    await _community(world, channel=False)
    closed = MEMBERS[1]
    world.dm_sender.closed.add(closed)
    schedule_id = await _schedule(world, dm=True, channel=False)
    first = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "2 sent, 1 DMs closed, 0 failed" in first
    async with world.database.session() as session:
        row = await session.get(PromptSubscription, (GUILD, closed))
    assert row is not None and row.dm_closed_at is not None
    world.clock.advance(minutes=1)
    second = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "2 sent, 0 DMs closed" in second
    recipients = [d.recipient_id for d in await world.rows(PromptDelivery)]
    assert recipients.count(closed) == 1, "not even claimed the second time"
    # Subscribing again clears the mark.
    await world.services.prompts.set_subscription(GUILD, closed, "subscribed")
    world.dm_sender.closed.clear()
    world.clock.advance(minutes=1)
    third = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "3 sent" in third


async def test_a_server_error_is_retried_by_a_later_sweep_and_sent_once(world: World) -> None:
    await _community(world, channel=False)
    flaky = MEMBERS[0]
    world.dm_sender.failures[flaky] = [SendFailure.SERVER_ERROR]
    await _schedule(world, dm=True, channel=False)
    now = world.clock.advance(hours=1, seconds=30)
    await world.services.delivery.run_due(now)
    assert world.dm_sender.to(flaky) == []
    statuses = {d.recipient_id: d.status for d in await world.rows(PromptDelivery)}
    assert statuses[flaky] == "retry"
    assert (await world.rows(PromptOccurrence))[0].status == "sending"
    await world.services.delivery.run_due(world.clock.advance(minutes=5))
    assert world.dm_sender.to(flaky) == [], "not before the retry is due"
    await world.services.delivery.run_due(world.clock.advance(minutes=6))
    assert len(world.dm_sender.to(flaky)) == 1
    for user_id in MEMBERS[1:]:
        assert len(world.dm_sender.to(user_id)) == 1
    assert (await world.rows(PromptOccurrence))[0].status == "done"


async def test_a_recipient_that_keeps_failing_is_given_up_after_its_attempts(world: World) -> None:
    await _community(world, channel=False, members=(MEMBERS[0],))
    world.dm_sender.failures[MEMBERS[0]] = [SendFailure.SERVER_ERROR] * MAX_ATTEMPTS
    await _schedule(world, dm=True, channel=False)
    world.clock.advance(hours=1, seconds=30)
    for _ in range(MAX_ATTEMPTS + 1):
        await world.services.delivery.run_due(world.clock.now)
        world.clock.advance(minutes=11)
    (delivery,) = await world.rows(PromptDelivery)
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert (await world.rows(PromptOccurrence))[0].status == "done"


async def test_a_vanished_dm_channel_is_reopened_on_the_retry(world: World) -> None:
    await _community(world, channel=False, members=(MEMBERS[0],))
    world.dm_sender.failures[MEMBERS[0]] = [SendFailure.UNKNOWN_CHANNEL]
    schedule_id = await _schedule(world, dm=True, channel=False)
    await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert world.dm_sender.opened == [MEMBERS[0]]
    async with world.database.session() as session:
        row = await session.get(PromptSubscription, (GUILD, MEMBERS[0]))
    assert row is not None and row.dm_channel_id is None, "the stale channel is forgotten"
    await world.services.delivery.run_due(world.clock.advance(minutes=11))
    assert world.dm_sender.opened == [MEMBERS[0], MEMBERS[0]]
    assert len(world.dm_sender.to(MEMBERS[0])) == 1


async def test_a_known_dm_channel_is_not_opened_again(world: World) -> None:
    await _community(world, channel=False, members=(MEMBERS[0],))
    schedule_id = await _schedule(world, dm=True, channel=False)
    await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    world.clock.advance(minutes=1)
    await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert world.dm_sender.opened == [MEMBERS[0]]
    assert len(world.dm_sender.to(MEMBERS[0])) == 2


async def test_nothing_is_sent_for_a_server_lantern_left(world: World) -> None:
    await _community(world)
    await _schedule(world, dm=True)
    world.messenger.left_guilds.add(GUILD)
    await world.services.delivery.run_due(world.clock.advance(hours=1, seconds=30))
    assert world.dm_sender.sent == [] and world.messenger.sent == []
    assert (await world.rows(PromptOccurrence))[0].status == "sending"


async def test_a_fixed_prompt_goes_to_each_active_pair_space(world: World) -> None:
    async with world.database.session() as session:
        for n, status in enumerate((PairStatus.ACTIVE, PairStatus.ENDED)):
            session.add(
                Pair(
                    guild_id=GUILD,
                    mentee_id=200 + n,
                    mentor_id=300 + n,
                    status=status,
                    channel_id=500 + n,
                    created_at=world.clock.now,
                )
            )
    schedule_id = await _schedule(world, channel=False, pairs=True, prompt="identity-01")
    summary = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "pair spaces: 1 sent, 0 failed" in summary
    (post,) = world.messenger.posts_in(500)
    assert "A prompt for the two of you" in post.text
    assert [b.label for b in post.buttons] == ["Reflect"]
    assert world.messenger.posts_in(501) == []


async def test_send_now_refuses_another_servers_schedule_and_a_retired_prompt(
    world: World,
) -> None:
    await _community(world)
    schedule_id = await _schedule(world, prompt="identity-01")
    with pytest.raises(UserFacingError, match="no schedule #"):
        await world.services.delivery.send_now(GUILD + 1, MOD, schedule_id)
    await world.services.prompts.retire(GUILD, MOD, "identity-01")
    with pytest.raises(UserFacingError, match="no prompt to send"):
        await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert world.messenger.sent == []


async def test_jobs_follow_schedules_and_are_rebuilt_at_start(world: World) -> None:
    first = await _schedule(world)
    second = await _schedule(world)
    assert set(world.jobs.jobs) == {job_id(first), job_id(second)}
    _, when = world.jobs.jobs[job_id(first)]
    assert (when.hour, when.minute) == (13, 0)
    await world.services.prompts.set_schedule_state(GUILD, MOD, second, "pause")
    assert set(world.jobs.jobs) == {job_id(first)}
    world.jobs.jobs.clear()
    assert await world.services.delivery.arm_all() == 1
    assert set(world.jobs.jobs) == {job_id(first)}
    # The job runs the sweep, which sends and re-arms for the next day.
    await _community(world)
    ran = await world.jobs.due(world.clock.advance(hours=1))
    assert ran == 1 and len(world.messenger.posts_in(CHANNEL)) == 1
    _, again = world.jobs.jobs[job_id(first)]
    assert again.day == 2


async def test_a_long_outage_sends_the_recent_miss_once_and_skips_older_ones(
    world: World,
) -> None:
    await _community(world, members=())
    await _schedule(world)
    # Down from before 13:00 on the 1st until 13:10 on the 4th.
    now = world.clock.advance(days=3, hours=1, minutes=10)
    await world.services.delivery.run_due(now)
    await world.services.delivery.run_due(now)
    assert len(world.messenger.posts_in(CHANNEL)) == 1
    statuses = {o.due_at.day: o.status for o in await world.rows(PromptOccurrence)}
    assert statuses == {1: "skipped", 2: "skipped", 3: "skipped", 4: "done"}


async def test_a_schedule_to_circles_posts_once_per_open_circle_from_its_area(
    world: World,
) -> None:
    async with world.database.session() as session:
        for n, (area, status) in enumerate(
            (("culture", CircleStatus.OPEN), ("growth", CircleStatus.OPEN), ("identity", "closed"))
        ):
            session.add(
                Circle(
                    guild_id=GUILD,
                    area=area,
                    status=status,
                    channel_id=600 + n,
                    created_at=world.clock.now,
                )
            )
    await _schedule(world, channel=False, circles=True)
    now = world.clock.advance(hours=1)
    await asyncio.gather(world.services.delivery.run_due(now), world.services.delivery.run_due(now))
    await world.services.delivery.run_due(world.clock.advance(minutes=1))
    for channel_id in (600, 601):
        (post,) = world.messenger.posts_in(channel_id)
        assert "A prompt for your circle" in post.text
    assert world.messenger.posts_in(602) == []
    rows = await world.rows(PromptDelivery)
    assert sorted((r.kind, r.recipient_id) for r in rows) == [("circle", 1), ("circle", 2)]
    areas = {r.recipient_id: (r.prompt_key or "").split("-")[0] for r in rows}
    assert areas == {1: "culture", 2: "growth"}
