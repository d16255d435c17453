"""Prompts service: the library and its edits, schedules, suggestions decided once,
subscriptions; every moderator action audited with ids only."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.db.models import AuditEntry, PromptSchedule, PromptSubscription, PromptSuggestion
from bot.domain.prompts import prompt_message, thread_name
from bot.errors import UserFacingError
from bot.services.delivery import job_id
from bot.services.prompts import UnknownPromptError, UnknownScheduleError
from tests.services.conftest import World

GUILD = 10
OTHER = 11
MOD = 7
MEMBER = 101


async def _actions(world: World) -> list[str]:
    return [e.action for e in await world.rows(AuditEntry)]


async def test_a_moderator_adds_a_prompt_that_pings_no_one(world: World) -> None:
    prompts = world.services.prompts
    answer = await prompts.add(GUILD, MOD, "identity", "@everyone what is home? <@&5>", "Why?")
    key = answer.split("`")[1]
    assert "@\u200beveryone" in answer and "<@&\u200b5>" in answer
    prompt = await prompts.find(GUILD, key)
    assert (prompt.area, prompt.custom, prompt.follow_ups) == ("identity", True, ("Why?",))
    with pytest.raises(UnknownPromptError):
        await prompts.find(OTHER, key)  # another server's library does not have it
    assert await _actions(world) == ["prompts.add"]
    preview = await prompts.preview(GUILD, key)
    assert "@everyone" not in preview and "pause prompts" in preview


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
async def test_a_prompt_that_cannot_be_sent_is_refused(world: World, text: str) -> None:
    with pytest.raises(UserFacingError, match="can't be saved yet"):
        await world.services.prompts.add(GUILD, MOD, "identity", text)
    assert await _actions(world) == []


async def test_edits_keep_versions_and_never_touch_the_shipped_text(world: World) -> None:
    prompts = world.services.prompts
    shipped = await prompts.find(GUILD, "identity-01")
    first = await prompts.edit(GUILD, MOD, "identity-01", text="New words", follow_up="More?")
    assert "version 1" in first
    second = await prompts.edit(GUILD, MOD, " identity-01 ", follow_up="-")
    assert "version 2" in second
    edited = await prompts.find(GUILD, "identity-01")
    assert (edited.text, edited.follow_ups, edited.edited) == ("New words", (), True)
    assert (await prompts.find(OTHER, "identity-01")).text == shipped.text
    with pytest.raises(UnknownPromptError, match="`/prompts list`"):
        await prompts.edit(GUILD, MOD, "nope-99", text="x")
    assert await _actions(world) == ["prompts.edit", "prompts.edit"]


async def test_retired_prompts_leave_rotation_and_can_come_back(world: World) -> None:
    prompts = world.services.prompts
    assert "retired" in await prompts.retire(GUILD, MOD, "growth-01")
    library = await prompts.library(GUILD)
    assert "growth-01" not in {p.key for p in library.active()}
    listing = "\n".join(await prompts.list(GUILD, "growth"))
    assert "`growth-01` (retired)" in listing
    assert "back in rotation" in await prompts.retire(GUILD, MOD, "growth-01", restore=True)
    assert "growth-01" in {p.key for p in (await prompts.library(GUILD)).active()}
    assert await _actions(world) == ["prompts.retire", "prompts.restore"]


async def test_list_filters_by_area_and_fits_messages(world: World) -> None:
    chunks = await world.services.prompts.list(GUILD)
    assert len(chunks) > 1 and all(len(c) <= 1900 for c in chunks)
    culture = "\n".join(await world.services.prompts.list(GUILD, "culture"))
    assert "`culture-01`" in culture and "`identity-01`" not in culture


async def test_search_matches_ids_and_text(world: World) -> None:
    by_key = await world.services.prompts.search(GUILD, "identity-0")
    assert by_key and all(p.key.startswith("identity-0") for p in by_key)
    assert len(await world.services.prompts.search(GUILD, "")) == 25
    await world.services.prompts.add(GUILD, MOD, "culture", "Which Lola recipe matters most?")
    (found,) = await world.services.prompts.search(GUILD, "lola recipe")
    assert found.custom


async def test_a_schedule_is_created_in_the_default_zone_and_armed(world: World) -> None:
    answer = await world.services.prompts.create_schedule(GUILD, MOD, "daily 18:00", dm=True)
    assert "Schedule **#1** created" in answer and "(UTC)" in answer
    assert "No reflections channel is set yet" in answer
    async with world.database.session() as session:
        (row,) = (await session.execute(select(PromptSchedule))).scalars().all()
    assert (row.timezone, row.to_channel, row.to_dm, row.to_pairs) == ("UTC", True, True, False)
    assert row.next_run_at is not None and row.next_run_at.hour == 18
    assert job_id(row.id) in world.jobs.jobs
    assert await _actions(world) == ["prompts.schedule"]


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"when": "sometimes"}, "couldn.t read"),
        ({"when": "daily 09:00", "timezone": "Mars/Olympus"}, "time zone"),
        ({"when": "daily 09:00", "areas": "identity, astrology"}, "don't know the area"),
        ({"when": "daily 09:00", "prompt": "nope-1"}, "can't find a prompt"),
        ({"when": "daily 09:00", "channel": False}, "at least one place"),
    ],
)
async def test_a_schedule_that_would_never_work_is_refused(
    world: World, options: dict[str, object], refusal: str
) -> None:
    when = str(options.pop("when"))
    with pytest.raises(UserFacingError, match=refusal):
        await world.services.prompts.create_schedule(GUILD, MOD, when, **options)  # type: ignore[arg-type]
    assert world.jobs.jobs == {}
    assert await _actions(world) == []


async def test_schedules_are_paused_resumed_and_deleted_in_their_server_only(
    world: World,
) -> None:
    prompts = world.services.prompts
    await prompts.create_schedule(
        GUILD, MOD, "every Monday 09:00", timezone="Europe/London", areas="identity"
    )
    assert "Schedule #1 paused." == await prompts.set_schedule_state(GUILD, MOD, 1, "pause")
    assert world.jobs.jobs == {}
    listing = await prompts.schedules(GUILD)
    assert "**#1** every Monday 09:00 (Europe/London) → channel; areas: identity; paused" in listing
    with pytest.raises(UnknownScheduleError):
        await prompts.set_schedule_state(OTHER, MOD, 1, "resume")
    with pytest.raises(UserFacingError, match="schedule number"):
        await prompts.set_schedule_state(GUILD, MOD, None, "resume")
    assert "resumed" in await prompts.set_schedule_state(GUILD, MOD, 1, "resume")
    assert job_id(1) in world.jobs.jobs
    assert "next: Mon 05 Jan 2026 09:00 Europe/London" in await prompts.schedules(GUILD)
    assert "deleted" in await prompts.set_schedule_state(GUILD, MOD, 1, "delete")
    assert world.jobs.jobs == {}
    assert (
        await prompts.schedules(GUILD) == "No schedules yet. Create one with `/prompts schedule`."
    )
    with pytest.raises(UnknownScheduleError):
        await prompts.set_schedule_state(GUILD, MOD, 1, "resume")
    assert await _actions(world) == [
        "prompts.schedule",
        "prompts.schedule.pause",
        "prompts.schedule.resume",
        "prompts.schedule.delete",
    ]


async def test_the_schedule_list_shows_the_last_deliverys_numbers(world: World) -> None:
    await world.services.setup.save(GUILD, MOD, {"reflections_channel_id": 77})
    await world.services.prompts.create_schedule(GUILD, MOD, "daily 09:00", timezone="UTC")
    await world.services.delivery.send_now(GUILD, MOD, 1)
    listing = await world.services.prompts.schedules(GUILD)
    assert "last runs:\n  • Thu 01 Jan 12:00 (send-now): delivered 1" in listing


async def test_a_suggestion_is_queued_encrypted_and_decided_once(world: World) -> None:
    prompts = world.services.prompts
    thanks = await prompts.suggest(GUILD, MEMBER, "culture", "Which recipe first?", anonymous=True)
    assert "without your name" in thanks
    async with world.database.session() as session:
        (row,) = (await session.execute(select(PromptSuggestion))).scalars().all()
    assert "recipe" not in row.text_enc
    (card,) = await prompts.pending_suggestions(GUILD)
    assert "Which recipe first?" in card.text and "anonymous to members" in card.text
    assert [b.label for b in card.buttons] == ["Approve", "Decline"]
    assert await prompts.pending_suggestions(OTHER) == []
    with pytest.raises(UserFacingError, match="another server"):
        await prompts.decide_suggestion(OTHER, MOD, row.id or 0, approve=True)
    outcomes = await asyncio.gather(
        *(prompts.decide_suggestion(GUILD, MOD, row.id or 0, approve=a) for a in (True, False) * 3)
    )
    decided = [o for o in outcomes if "already decided" not in o]
    assert len(decided) == 1
    assert await prompts.pending_suggestions(GUILD) == []
    actions = await _actions(world)
    assert len([a for a in actions if a.startswith("prompts.suggestion.")]) == 1
    if decided[0].startswith("Approved"):
        key = decided[0].split("`")[1]
        prompt = await prompts.find(GUILD, key)
        assert prompt.text == "Which recipe first?" and prompt.suggested_by is None


async def test_an_empty_suggestion_is_refused(world: World) -> None:
    with pytest.raises(UserFacingError, match="can't be sent yet"):
        await world.services.prompts.suggest(GUILD, MEMBER, "culture", "  ")
    assert await world.services.prompts.pending_suggestions(GUILD) == []


async def test_pause_everywhere_pauses_only_where_prompts_were_received(world: World) -> None:
    prompts = world.services.prompts
    await prompts.set_subscription(GUILD, MEMBER, "subscribed")
    await prompts.set_subscription(OTHER, MEMBER, "subscribed")
    await prompts.set_subscription(12, MEMBER, "paused")
    await prompts.set_subscription(GUILD, MEMBER + 1, "subscribed")
    assert await prompts.pause_everywhere(MEMBER) == [GUILD, OTHER]
    assert await prompts.pause_everywhere(MEMBER) == []
    async with world.database.session() as session:
        rows = (await session.execute(select(PromptSubscription))).scalars().all()
    status = {(r.guild_id, r.user_id): r.status for r in rows}
    assert status[(GUILD, MEMBER + 1)] == "subscribed"
    assert {status[(g, MEMBER)] for g in (GUILD, OTHER, 12)} == {"paused"}


async def test_an_approved_suggestion_reaches_members_escaped(world: World) -> None:
    """A member's words become a prompt everyone receives: no masked link, bold or ping."""
    prompts = world.services.prompts
    hostile = "[click here](https://example.com) **now** @everyone <@123456789012345678>"
    await prompts.suggest(GUILD, MEMBER, "culture", hostile)
    (card,) = await prompts.pending_suggestions(GUILD)
    assert "[click here](" not in card.text and "@everyone" not in card.text
    async with world.database.session() as session:
        (row,) = (await session.execute(select(PromptSuggestion))).scalars().all()
    approved = await prompts.decide_suggestion(GUILD, MOD, row.id or 0, approve=True)
    prompt = await prompts.find(GUILD, approved.split("`")[1])
    sent = prompt_message(prompt)
    assert "[click here](" not in sent and "**now**" not in sent
    assert "@everyone" not in sent and "<@123456789012345678>" not in sent
    assert "\\[click here\\]" in sent
    assert "[click here]" in thread_name(prompt)  # thread names show text literally


async def test_a_suggestion_longer_than_its_bound_is_refused(world: World) -> None:
    with pytest.raises(UserFacingError, match="at most 500"):
        await world.services.prompts.suggest(GUILD, MEMBER, "culture", "x" * 501)
