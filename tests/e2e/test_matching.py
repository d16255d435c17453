"""Matching end to end: request → introduction → accept/decline/expiry, who may click,
constraints, capacity, and the moderators' batch round."""

from __future__ import annotations

from dataclasses import dataclass

import discord
import pytest
import pytest_asyncio
import simcord
from discord import app_commands
from sqlalchemy import func, select

from bot.db.models import Block, Introduction, IntroStatus, MemberProfile, Pair
from tests.e2e.conftest import Community, close_dms
from tests.factories import count_rows, onboarded, tables_naming


@dataclass
class Matchable:
    c: Community
    mentee: simcord.MemberActor
    mentor_a: simcord.MemberActor
    mentor_b: simcord.MemberActor


@pytest_asyncio.fixture
async def world(community: Community) -> Matchable:
    env, guild = community.env, community.guild
    await community.moderator.slash(
        community.general, "setup", moderator_role=community.moderator_role
    )
    mentee = guild.add_member(env.create_user("hana"))
    mentor_a = guild.add_member(env.create_user("marco"))
    mentor_b = guild.add_member(env.create_user("noor"))
    await env.settle()
    bot = env.bot
    now = env.now()
    await onboarded(bot.database, bot.cipher, guild_id=guild.id, user_id=mentee.id, now=now)
    # marco fits better (shares both areas, language, near time zone) than noor.
    await onboarded(
        bot.database, bot.cipher, guild_id=guild.id, user_id=mentor_a.id, now=now, mentor=True
    )
    await onboarded(
        bot.database,
        bot.cipher,
        guild_id=guild.id,
        user_id=mentor_b.id,
        now=now,
        mentor=True,
        areas_offered=["identity"],
        languages=["English"],
        timezone="Europe/London",
    )
    return Matchable(community, mentee, mentor_a, mentor_b)


def _card(actor: simcord.MemberActor) -> discord.Message:
    """The newest Lantern DM to ``actor`` (the welcome DM comes first, on joining)."""
    message = actor.user.dm_channel.last_message
    assert message is not None, "no DM"
    return message


def _intro_cards(actor: simcord.MemberActor) -> list[discord.Message]:
    return [m for m in actor.user.dm_channel.history() if "would like a mentor" in m.content]


async def _count(env: simcord.Env, model: type, **where: object) -> int:
    return await count_rows(env.bot.database, model, **where)


async def round_preview_of_a_former_moderator(
    world: Matchable,
) -> tuple[simcord.MemberActor, simcord.InteractionResult]:
    """A moderator by role only (no Manage Server) opens a round preview with one introduction
    in it; then the server chooses another moderator role. The helper and their preview."""
    env, general, guild = world.c.env, world.c.general, world.c.guild
    await world.c.moderator.slash(general, "matching mode", introductions="rounds")
    await world.mentee.slash(general, "match request")
    team = guild.create_role("Mentor Team")
    helper = guild.add_member(env.create_user("helper"), roles=[team])
    await env.settle()
    await world.c.moderator.slash(general, "setup", moderator_role=team)
    env.bot.tree.get_command("matching").default_permissions = None
    await env.bot.tree.sync()
    preview = await helper.slash(general, "matching round")
    assert "1 introduction" in preview.response.content
    await world.c.moderator.slash(general, "setup", moderator_role=world.c.moderator_role)
    return helper, preview


async def test_request_intro_accept(world: Matchable) -> None:
    env = world.c.env
    pairs = env.bot.services.pairs
    accepted: list[int] = []
    open_space = pairs.open_space

    async def recording_open_space(pair_id: int) -> None:
        accepted.append(pair_id)
        await open_space(pair_id)

    pairs.open_space = recording_open_space  # type: ignore[method-assign]
    result = await world.mentee.slash(world.c.general, "match request")
    assert result.ephemeral
    assert "introduced" in result.response.content
    card = _card(world.mentor_a)
    assert "hana" in card.content
    assert "Tagalog" in card.content  # a reason from a field both shared
    assert "Why you two" in card.content
    assert _intro_cards(world.mentor_b) == []
    mentee_dm = _card(world.mentee)
    assert "introduced you to a mentor" in mentee_dm.content

    await world.mentor_a.user.click(card, label="Accept")
    await env.settle()
    assert await _count(env, Pair) == 1
    assert len(accepted) == 1
    dms = [m.content for m in world.mentee.user.dm_channel.history()]
    assert any("marco accepted" in text for text in dms)
    # The pair space opened for the two of them.
    async with env.bot.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
    assert pair.channel_id is not None
    updated = _card(world.mentor_a)
    assert "You accepted" in updated.content and not updated.components
    status = await world.mentee.slash(world.c.general, "match status")
    assert "matched with marco" in status.response.content
    async with env.bot.database.session() as session:
        row = await session.get(MemberProfile, (world.c.guild.id, world.mentor_a.id))
    assert row is not None and row.active_mentees == 1


async def test_decline_rolls_to_the_next_mentor(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    await world.mentor_a.user.click(_card(world.mentor_a), label="Decline")
    await env.settle()
    assert "introduced you to another mentor" in _card(world.mentee).content
    card_b = _card(world.mentor_b)
    assert "would like a mentor" in card_b.content
    # the declined pair is never proposed again
    await world.mentor_b.user.click(card_b, label="Decline and pause me")
    await env.settle()
    assert "waiting list" in _card(world.mentee).content
    assert await _count(env, Introduction) == 2
    async with env.bot.database.session() as session:
        row = await session.get(MemberProfile, (world.c.guild.id, world.mentor_b.id))
    assert row is not None and row.mentor_paused


async def test_unanswered_introduction_reminds_then_expires_and_rolls_on(world: Matchable) -> None:
    env = world.c.env
    bot = env.bot
    await world.mentee.slash(world.c.general, "match request")
    await env.advance_time(37 * 3600)
    await bot.run_sweeps(env.now())
    assert "gentle reminder" in _card(world.mentor_a).content
    await bot.run_sweeps(env.now())  # the reminder is sent once
    reminders = [m for m in world.mentor_a.user.dm_channel.history() if "reminder" in m.content]
    assert len(reminders) == 1
    await env.advance_time(36 * 3600)
    await bot.run_sweeps(env.now())
    await env.settle()
    assert await _count(env, Introduction, status=IntroStatus.EXPIRED) == 1
    assert "would like a mentor" in _card(world.mentor_b).content
    assert "wasn't answered in time" in _card(world.mentee).content


async def test_only_the_introduced_mentor_may_click(world: Matchable) -> None:
    env = world.c.env
    # A moderator who can see private threads (Manage Threads) sees the fallback card.
    thread_role = world.c.guild.create_role(
        "Thread Keeper", permissions=discord.Permissions(manage_threads=True)
    )
    keeper = world.c.guild.add_member(
        env.create_user("keeper"), roles=[world.c.moderator_role, thread_role]
    )
    await env.settle()
    close_dms(env, world.mentor_a.user)
    await world.mentee.slash(world.c.general, "match request")
    intro_channel = world.c.guild.channels["mentor-introductions"]
    threads = intro_channel.threads
    assert len(threads) == 1
    card = threads[0].last_message
    assert card is not None and f"<@{world.mentor_a.id}>" in card.content
    result = await keeper.click(card, label="Accept")
    assert result.ephemeral
    assert "belongs to someone else" in result.response.content
    assert await _count(env, Pair) == 0
    await world.mentor_a.click(card, label="Accept")
    assert await _count(env, Pair) == 1


async def test_blocked_pair_is_never_proposed(world: Matchable) -> None:
    env = world.c.env
    async with env.bot.database.session() as session:
        session.add(
            Block(
                guild_id=world.c.guild.id,
                blocker_id=world.mentor_a.id,
                blocked_id=world.mentee.id,
                created_at=env.now(),
            )
        )
    await world.mentee.slash(world.c.general, "match request")
    assert _intro_cards(world.mentor_a) == []
    assert "would like a mentor" in _card(world.mentor_b).content


async def test_not_onboarded_member_is_told_kindly(world: Matchable) -> None:
    result = await world.c.member.slash(world.c.general, "match request")
    assert result.ephemeral
    assert "/onboard" in result.response.content


async def test_batch_round_respects_capacity_and_needs_confirmation(world: Matchable) -> None:
    env = world.c.env
    bot = env.bot
    guild = world.c.guild
    # Five more mentees wait; mentors have 2 + 2 slots.
    extra = []
    for i in range(5):
        m = guild.add_member(env.create_user(f"mentee{i}"))
        extra.append(m)
    await env.settle()
    for m in [world.mentee, *extra]:
        await onboarded(bot.database, bot.cipher, guild_id=guild.id, user_id=m.id, now=env.now())
    from bot.db.queries.matching import open_request

    async with bot.database.session() as session:
        for m in [world.mentee, *extra]:
            await open_request(session, guild_id=guild.id, mentee_id=m.id, now=env.now())
    preview = await world.c.moderator.slash(world.c.general, "matching round")
    text = preview.response.content
    assert "4 introductions" in text
    assert "Staying on the waiting list (2)" in text
    assert await _count(env, Introduction) == 0  # nothing sent before confirming
    await world.c.moderator.click(preview.response.message, label="Send introductions")
    await env.settle()
    assert await _count(env, Introduction) == 4
    async with bot.database.session() as session:
        per_mentor = (
            await session.execute(
                select(Introduction.mentor_id, func.count()).group_by(Introduction.mentor_id)
            )
        ).all()
    assert sorted(n for _, n in per_mentor) == [2, 2]


async def test_matching_commands_are_for_moderators(world: Matchable) -> None:
    assert "matching round" not in world.mentee.available_commands(world.c.general)
    env = world.c.env
    env.bot.tree.get_command("matching").default_permissions = None
    await env.bot.tree.sync()
    result = await world.mentee.slash(world.c.general, "matching queue")
    simcord.assert_error(env, app_commands.CheckFailure)
    assert "moderators" in result.response.content


@pytest.mark.parametrize("label", ["Accept", "Decline"])
async def test_buttons_work_after_a_restart(world: Matchable, bot_factory, label: str) -> None:  # type: ignore[no-untyped-def]
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    card = _card(world.mentor_a)
    await env.restart_bot(bot_factory())
    await world.mentor_a.user.click(card, label=label)
    await env.settle()
    status = IntroStatus.ACCEPTED if label == "Accept" else IntroStatus.DECLINED
    assert await _count(env, Introduction, status=status) == 1
    # The restarted bot's caches are cold; the mentee is still told.
    expected = "accepted" if label == "Accept" else "introduced you to another mentor"
    assert any(expected in m.content for m in world.mentee.user.dm_channel.history())


async def test_weights_can_be_tuned_and_bad_ones_are_refused_kindly(world: Matchable) -> None:
    env = world.c.env
    shown = await world.c.moderator.slash(world.c.general, "matching weights", languages=9.0)
    assert shown.ephemeral and "languages: 9" in shown.response.content
    bad = await world.c.moderator.slash(
        world.c.general, "matching weights", areas=0.0, heritage=10.0
    )
    simcord.assert_error(env, Exception, contains="nothing changed")
    assert "nothing changed" in bad.response.content
    again = await world.c.moderator.slash(world.c.general, "matching weights")
    assert "languages: 9" in again.response.content and "areas: 40" in again.response.content


async def test_block_is_private_idempotent_and_withdraws_a_pending_introduction(
    world: Matchable,
) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    assert len(_intro_cards(world.mentor_a)) == 1
    first = await world.mentee.slash(world.c.general, "match block", member=world.mentor_a)
    assert first.ephemeral and "never match you with marco" in first.response.content
    again = await world.mentee.slash(world.c.general, "match block", member=world.mentor_a)
    assert "already blocked" in again.response.content
    assert await _count(env, Block) == 1
    assert await _count(env, Introduction, status=IntroStatus.CANCELLED) == 1
    assert "withdrawn" in _intro_cards(world.mentor_a)[0].content
    assert not _intro_cards(world.mentor_a)[0].components
    # The mentee rolled on to the other mentor; marco is never told about the block.
    assert len(_intro_cards(world.mentor_b)) == 1
    assert all("block" not in m.content.lower() for m in world.mentor_a.user.dm_channel.history())


async def test_rounds_mode_waits_for_the_moderators_round(world: Matchable) -> None:
    env = world.c.env
    mode = await world.c.moderator.slash(world.c.general, "matching mode", introductions="rounds")
    assert "batch rounds" in mode.response.content
    asked = await world.mentee.slash(world.c.general, "match request")
    assert "introduce people in rounds" in asked.response.content
    assert await _count(env, Introduction) == 0
    preview = await world.c.moderator.slash(world.c.general, "matching round")
    assert "1 introduction" in preview.response.content
    await world.c.moderator.click(preview.response.message, label="Send introductions")
    await env.settle()
    assert len(_intro_cards(world.mentor_a)) == 1


async def test_a_paired_mentee_deleting_their_data_closes_the_pair_kindly(
    world: Matchable,
) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    await world.mentor_a.user.click(_intro_cards(world.mentor_a)[0], label="Accept")
    await env.settle()
    asked = await world.mentee.slash(world.c.general, "mydata delete")
    await world.mentee.click(asked.response, label="Yes, delete everything")
    await env.settle()
    assert await tables_naming(env.bot.database, world.mentee.id) == []
    told = [m.content for m in world.mentor_a.user.dm_channel.history()]
    assert any("stepped away" in t and "isn't about you" in t for t in told)
    async with env.bot.database.session() as session:
        row = await session.get(
            MemberProfile, (world.c.guild.id, world.mentor_a.id), populate_existing=True
        )
    assert row is not None and row.active_mentees == 0, "the mentor's slot came back"


async def test_a_mentor_deleting_their_data_passes_the_mentee_on(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    asked = await world.mentor_a.slash(world.c.general, "mydata delete")
    await world.mentor_a.click(asked.response, label="Yes, delete everything")
    await env.settle()
    assert await tables_naming(env.bot.database, world.mentor_a.id) == []
    assert len(_intro_cards(world.mentor_b)) == 1
    assert any(
        "introduced you to another mentor" in m.content
        for m in world.mentee.user.dm_channel.history()
    )


async def test_withdrawing_consent_withdraws_a_pending_introduction(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    result = await world.mentee.slash(world.c.general, "mydata withdraw")
    assert result.ephemeral
    await env.settle()
    assert await _count(env, Introduction, status=IntroStatus.CANCELLED) == 1
    assert "withdrawn" in _intro_cards(world.mentor_a)[0].content
    status = await world.mentee.slash(world.c.general, "match status")
    assert "haven't asked for a mentor" in status.response.content


async def test_a_pending_introduction_holds_the_mentors_slot(world: Matchable) -> None:
    env = world.c.env
    bot = env.bot
    guild = world.c.guild
    await world.mentor_a.slash(world.c.general, "mentor capacity", mentees=1)
    await world.mentor_b.slash(world.c.general, "mentor pause")
    second = guild.add_member(env.create_user("sami"))
    await env.settle()
    await onboarded(bot.database, bot.cipher, guild_id=guild.id, user_id=second.id, now=env.now())
    await world.mentee.slash(world.c.general, "match request")
    waiting = await second.slash(world.c.general, "match request")
    assert "waiting list, number 1" in waiting.response.content
    assert len(_intro_cards(world.mentor_a)) == 1, "one free place, one introduction"
    await world.mentor_b.slash(world.c.general, "mentor resume")
    await env.settle()
    cards = _intro_cards(world.mentor_b)
    assert len(cards) == 1 and "sami" in cards[0].content


async def test_a_mentee_leaving_the_server_withdraws_their_introduction(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    world.c.guild.remove_member(world.mentee)
    await env.settle()
    assert await _count(env, Introduction, status=IntroStatus.CANCELLED) == 1
    assert "withdrawn" in _intro_cards(world.mentor_a)[0].content
    assert not _intro_cards(world.mentor_a)[0].components


async def test_a_manual_introduction_asks_the_mentee_before_looking_further(
    world: Matchable, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = world.c.env
    result = await world.c.moderator.slash(
        world.c.general, "matching manual", mentee=world.mentee, mentor=world.mentor_b
    )
    assert result.ephemeral and "Introduced hana to noor" in result.response.content
    (card,) = _intro_cards(world.mentor_b)
    await world.mentor_b.user.click(card, label="Decline")
    await env.settle()
    assert _intro_cards(world.mentor_a) == [], "not quietly put on the waiting list"
    asked = _card(world.mentee)
    assert "keep looking" in asked.content
    await env.restart_bot(bot_factory())
    pressed = await world.mentee.user.click(asked, label="Keep looking")
    await env.settle()
    assert "introduced to a mentor" in pressed.response.content
    assert len(_intro_cards(world.mentor_a)) == 1


async def test_a_manual_introduction_to_a_paused_mentor_is_refused(world: Matchable) -> None:
    env = world.c.env
    await world.mentor_b.slash(world.c.general, "mentor pause")
    result = await world.c.moderator.slash(
        world.c.general, "matching manual", mentee=world.mentee, mentor=world.mentor_b
    )
    simcord.assert_error(env, Exception, contains="isn't available")
    assert "noor isn't available" in result.response.content
    assert await _count(env, Introduction) == 0
