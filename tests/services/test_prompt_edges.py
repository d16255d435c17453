"""Prompts at the edges: what did not go out is reported with its reason, a community post
meeting a 5xx or a timeout lands exactly once, a retired prompt is never sent (retries too),
members who left are skipped and counted, schedules left without prompts are flagged, the
hourly minimum, a bounded catch-up, the portable library, and pair prompts in thread spaces."""

from __future__ import annotations

import tomllib

import pytest
from sqlmodel import select

from bot.db.models import AuditEntry, Pair, PairStatus, PromptDelivery, PromptOccurrence
from bot.errors import UserFacingError
from bot.services.ports import SendFailure
from tests.factories import add_row
from tests.services.conftest import World

GUILD = 10
MOD = 7
CHANNEL = 77
ALERTS = 78
MEMBERS = (101, 102, 103)


async def _community(world: World, *, members: tuple[int, ...] = MEMBERS) -> None:
    await world.services.setup.save(
        GUILD, MOD, {"reflections_channel_id": CHANNEL, "alerts_channel_id": ALERTS}
    )
    world.messenger.join(GUILD, *members)
    for user_id in members:
        await world.services.prompts.set_subscription(GUILD, user_id, "subscribed")


async def _schedule(world: World, when: str = "daily 13:00", **options: object) -> int:
    text = await world.services.prompts.create_schedule(GUILD, MOD, when, timezone="UTC", **options)
    return int(text.split("#")[1].split("*")[0])


def _alerts(world: World) -> list[str]:
    return [m.text for m in world.messenger.posts_in(ALERTS)]


# ----------------------------------------------------------------- the delivery report


async def test_the_report_shows_delivered_skipped_and_failed_with_reasons(world: World) -> None:
    await _community(world)
    world.messenger.leave(GUILD, MEMBERS[0])  # left while still subscribed (a missed event)
    world.dm_sender.closed.add(MEMBERS[1])
    schedule_id = await _schedule(world, dm=True)
    summary = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "1 left the server" in summary
    assert world.dm_sender.to(MEMBERS[0]) == [], "a member who left is never sent a DM"
    assert len(world.dm_sender.to(MEMBERS[2])) == 1
    world.messenger.missing_channels.add(CHANNEL)
    world.clock.advance(minutes=5)
    await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    listing = await world.services.prompts.schedules(GUILD)
    first, second = [line for line in listing.splitlines() if "(send-now)" in line]
    # Newest first: the channel had gone; DMs closed is not retried (marked at the first run).
    assert "failed 1 (channel missing 1)" in first and "skipped 1 (member left 1)" in first
    assert "delivered 2" in second  # the channel post and one DM
    assert "skipped 1 (member left 1)" in second
    assert "failed 1 (DMs closed 1)" in second
    statuses = sorted(d.status for d in await world.rows(PromptDelivery))
    assert statuses.count("member_left") == 2 and "dm_closed" in statuses


# ---------------------------------------------------------- community post: exactly once


async def test_a_channel_post_meeting_5xx_and_a_timeout_is_retried_and_lands_once(
    world: World,
) -> None:
    await _community(world, members=())
    # A 503, then a timeout after Discord had already created the message.
    world.messenger.post_failures[CHANNEL] = [SendFailure.SERVER_ERROR, "timeout-after-landing"]
    await _schedule(world)
    delivery = world.services.delivery
    now = world.clock.advance(hours=1, seconds=1)
    await delivery.run_due(now)
    (row,) = await world.rows(PromptDelivery)
    assert row.status == "retry" and row.next_attempt_at is not None
    await delivery.run_due(world.clock.advance(seconds=10))  # backing off: not yet
    assert (await world.rows(PromptDelivery))[0].attempts == 1
    await delivery.run_due(world.clock.advance(seconds=25))  # 2nd try: times out, but landed
    assert len(world.messenger.posts_in(CHANNEL)) == 1
    assert (await world.rows(PromptDelivery))[0].status == "retry"
    await delivery.run_due(world.clock.advance(seconds=30))  # 1 min backoff: not yet
    await delivery.run_due(world.clock.advance(seconds=40))  # 3rd try: the nonce dedupes
    await delivery.run_due(world.clock.advance(minutes=10))
    assert len(world.messenger.posts_in(CHANNEL)) == 1, "exactly one community post"
    (row,) = await world.rows(PromptDelivery)
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(world.messenger.post_threads) == 1
    assert (await world.rows(PromptOccurrence))[0].status == "done"


async def test_a_channel_post_that_keeps_failing_is_given_up(world: World) -> None:
    await _community(world, members=())
    world.messenger.post_failures[CHANNEL] = [SendFailure.SERVER_ERROR] * 10
    await _schedule(world)
    world.clock.advance(hours=1)
    for _ in range(12):
        await world.services.delivery.run_due(world.clock.advance(minutes=5))
    (row,) = await world.rows(PromptDelivery)
    assert (row.status, row.attempts) == ("failed", 5)
    assert world.messenger.posts_in(CHANNEL) == []


# --------------------------------------------------------------------- retired prompts


async def test_a_retired_prompt_is_not_sent_on_the_retry_of_an_earlier_delivery(
    world: World,
) -> None:
    await _community(world, members=(101,))
    world.dm_sender.failures[101] = [SendFailure.SERVER_ERROR]
    world.messenger.post_failures[CHANNEL] = [SendFailure.SERVER_ERROR]
    await _schedule(world, dm=True, prompt="identity-01")
    await world.services.delivery.run_due(world.clock.advance(hours=1, seconds=1))
    assert {d.status for d in await world.rows(PromptDelivery)} == {"retry"}
    await world.services.prompts.retire(GUILD, MOD, "identity-01")
    await world.services.delivery.run_due(world.clock.advance(minutes=15))
    assert world.dm_sender.to(101) == [] and world.messenger.posts_in(CHANNEL) == []
    assert {d.status for d in await world.rows(PromptDelivery)} == {"retired"}
    assert (await world.rows(PromptOccurrence))[0].status == "done"


async def test_retiring_the_last_prompt_flags_the_schedule_then_and_at_the_run(
    world: World,
) -> None:
    await _community(world, members=())
    schedule_id = await _schedule(world, prompt="identity-01")
    other = await _schedule(world, areas="identity")  # still has nine identity prompts
    answer = await world.services.prompts.retire(GUILD, MOD, "identity-01")
    assert f"#{schedule_id} now has no prompt left" in answer
    assert f"#{other}" not in answer
    (alert,) = _alerts(world)
    assert f"#{schedule_id}" in alert and "retired" in alert
    await world.services.delivery.run_due(world.clock.advance(hours=1, seconds=1))
    await world.services.delivery.run_due(world.clock.now)  # overlapping: one alert only
    alerts = _alerts(world)
    assert len(alerts) == 2 and "came due but sent nothing" in alerts[1]
    listing = await world.services.prompts.schedules(GUILD)
    assert "every prompt this schedule can use is retired" in listing
    assert "⚠️ nothing sent" in listing
    assert len(world.messenger.posts_in(CHANNEL)) == 1  # the other schedule's post


# ------------------------------------------------------------------- schedule limits


@pytest.mark.parametrize("when", ["* * * * *", "*/15 * * * *", "0,30 9 * * *"])
async def test_a_schedule_more_often_than_hourly_is_refused(world: World, when: str) -> None:
    with pytest.raises(UserFacingError, match="more than once an hour"):
        await world.services.prompts.create_schedule(GUILD, MOD, when, timezone="UTC")
    assert world.jobs.jobs == {}


async def test_an_hourly_schedule_is_accepted(world: World) -> None:
    assert "created" in await world.services.prompts.create_schedule(
        GUILD, MOD, "0 * * * *", timezone="UTC"
    )


async def test_a_long_outage_of_an_hourly_schedule_sends_the_latest_only_and_records_few(
    world: World,
) -> None:
    await _community(world, members=())
    await _schedule(world, "0 * * * *")
    # Down for ninety days (2,160 missed runs): minutes after the hour on return.
    now = world.clock.advance(days=90, minutes=20)
    await world.services.delivery.run_due(now)
    await world.services.delivery.run_due(now)
    occurrences = await world.rows(PromptOccurrence)
    assert len(occurrences) <= 6, "the missed runs are not worked out one by one"
    sent = [o for o in occurrences if o.status != "skipped"]
    assert [o.due_at for o in sent] == [now.replace(minute=0, second=0, microsecond=0)]
    assert len(world.messenger.posts_in(CHANNEL)) == 1


# ------------------------------------------------------------------ portable library


async def test_export_then_import_previews_and_applies_only_on_confirm(world: World) -> None:
    prompts = world.services.prompts
    await prompts.retire(GUILD, MOD, "culture-02")
    exported = await prompts.export_library(GUILD, MOD)
    text = exported.data.decode()
    data = tomllib.loads(text)
    assert len(data["prompt"]) == 72
    assert next(p for p in data["prompt"] if p["id"] == "culture-02")["retired"] is True
    same = await prompts.preview_import(GUILD, exported.filename, exported.data)
    assert not same.ready and "nothing would change" in same.text
    # Edit one, drop one, add one, restore one.
    edited = text.replace(
        'id = "identity-01"\narea = "identity"\ntext = "',
        'id = "identity-01"\narea = "identity"\ntext = "Edited: ',
    )
    start = edited.index('[[prompt]]\nid = "growth-03"')
    end = edited.index("[[prompt]]", start + 5)
    edited = edited[:start] + edited[end:]
    edited = edited.replace("retired = true\n", "")
    edited += (
        '\n[[prompt]]\nid = "custom-abc1"\narea = "growth"\ntext = "@everyone [x](http://e.vil)"\n'
    )
    preview = await prompts.preview_import(GUILD, "lib.toml", edited.encode())
    assert preview.ready
    for part in ("Added (1)", "Changed (1)", "Retired (1)", "Restored (1)", "growth-03"):
        assert part in preview.text, part
    assert "@everyone" not in preview.text and "](http" not in preview.text
    assert (await prompts.find(GUILD, "growth-03")).retired is False, "nothing applied yet"
    answer = await prompts.apply_import(GUILD, MOD, "lib.toml", edited.encode())
    assert "1 added, 1 changed, 1 retired, 1 restored" in answer
    assert (await prompts.find(GUILD, "growth-03")).retired is True
    assert (await prompts.find(GUILD, "culture-02")).retired is False
    assert (await prompts.find(GUILD, "identity-01")).text.startswith("Edited: ")
    assert (await prompts.find(GUILD, "custom-abc1")).custom
    async with world.database.session() as session:
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert {"prompts.export", "prompts.import"} <= actions


async def test_an_import_file_with_a_typo_is_refused_with_its_line(world: World) -> None:
    bad = (
        'version = 1\n\n[[prompt]]\nid = "identity-01"\narea = "identity"\n'
        'txet = "typo"\ntext = "ok"\n\n[[prompt]]\nid = "culture-01"\narea = "moon"\ntext = "x"\n'
    )
    with pytest.raises(UserFacingError) as caught:
        await world.services.prompts.preview_import(GUILD, "lib.toml", bad.encode())
    assert "lib.toml:6: prompt\\[1\\].txet: unknown key" in caught.value.message
    fixed = bad.replace('txet = "typo"\n', "")
    with pytest.raises(UserFacingError, match="lib.toml:10: area must be one of"):
        await world.services.prompts.preview_import(GUILD, "lib.toml", fixed.encode())
    with pytest.raises(UserFacingError, match="too large"):
        await world.services.prompts.preview_import(GUILD, "lib.toml", None)
    assert (await world.services.prompts.find(GUILD, "identity-01")).text != "ok"


# --------------------------------------------------------------------- thread spaces


async def test_pair_prompts_and_shared_excerpts_reach_a_thread_space(world: World) -> None:
    thread = 880
    await world.services.setup.save(GUILD, MOD, {"reflections_channel_id": CHANNEL})
    pair = await add_row(
        world.database,
        Pair(
            guild_id=GUILD,
            mentee_id=101,
            mentor_id=300,
            status=PairStatus.ACTIVE,
            channel_id=None,
            thread_id=thread,
            created_at=world.clock.now,
        ),
    )
    schedule_id = await _schedule(world, channel=False, pairs=True, prompt="identity-01")
    summary = await world.services.delivery.send_now(GUILD, MOD, schedule_id)
    assert "pair spaces: 1 sent" in summary
    (post,) = world.messenger.posts_in(thread)
    (reflect,) = post.buttons
    delivery_id = int(reflect.custom_id.rsplit(":", 1)[1])
    saved = await world.services.reflections.save(101, delivery_id, "Something I'd share")
    assert "Share with my pair" in [b.label for b in saved.buttons] or saved.buttons
    await world.services.reflections.share(101, saved.reflection_id, "pair", "an excerpt")
    assert "an excerpt" in world.messenger.posts_in(thread)[-1].text
    assert pair.id is not None
