"""Matching at the edges, through the real bot: many members at once (every event delivered
before the bot handles any), members who left, cards that cannot be delivered, rounds that
changed since their preview."""

from __future__ import annotations

from typing import Any

import discord
import pytest
import simcord
from sqlalchemy import select

from bot.db.models import (
    Introduction,
    IntroStatus,
    MatchRequest,
    MemberProfile,
    Pair,
    RequestStatus,
)
from bot.domain import introductions as say
from bot.domain.matching import RoundPhase
from bot.services.ports import ComputeFailed, PhaseHeard
from tests.e2e.conftest import close_dms
from tests.e2e.races import at_once
from tests.e2e.test_matching import (
    Matchable,
    _card,
    _count,
    _intro_cards,
    round_preview_of_a_former_moderator,
)
from tests.e2e.test_matching import world as world  # the shared fixture
from tests.factories import onboarded


async def _mentees(w: Matchable, n: int) -> list[simcord.MemberActor]:
    env, guild, bot = w.c.env, w.c.guild, w.c.env.bot
    people = [guild.add_member(env.create_user(f"crowd{i}")) for i in range(n)]
    await env.settle()
    for m in people:
        await onboarded(bot.database, bot.cipher, guild_id=guild.id, user_id=m.id, now=env.now())
    return people


async def _request_status(w: Matchable, user_id: int) -> str | None:
    async with w.c.env.bot.database.session() as session:
        row = await session.get(MatchRequest, (w.c.guild.id, user_id), populate_existing=True)
    return row.status if row else None


async def test_ten_members_asking_at_once_never_overfill_a_one_place_mentor(
    world: Matchable,
) -> None:
    env, general = world.c.env, world.c.general
    await world.mentor_a.slash(general, "mentor capacity", mentees=1)
    await world.mentor_b.slash(general, "mentor capacity", mentees=5)
    crowd = await _mentees(world, 10)
    results = await at_once(env, *(lambda m=m: m.slash(general, "match request") for m in crowd))
    assert len(_intro_cards(world.mentor_a)) == 1, "one place, one introduction"
    assert len(_intro_cards(world.mentor_b)) == 5, "the next mentor for the others"
    said = [r.response.content for r in results]
    assert sum("introduced to a mentor" in t for t in said) == 6
    assert sum("waiting list" in t for t in said) == 4
    assert env.errors == []


async def test_asking_twice_at_once_is_one_request_told_kindly(world: Matchable) -> None:
    env, general = world.c.env, world.c.general
    await world.mentor_a.slash(general, "mentor pause")
    await world.mentor_b.slash(general, "mentor pause")
    results = await at_once(
        env,
        lambda: world.mentee.slash(general, "match request"),
        lambda: world.mentee.slash(general, "match request"),
        lambda: world.mentee.user.send_dm("find me a mentor"),
    )
    assert env.errors == [], "no “something went wrong”"
    assert await _count(env, MatchRequest) == 1
    said = [r.response.content for r in results[:2]]
    said.append(_card(world.mentee).content)
    assert sum(t.startswith("Lantern already has your request") for t in said) == 2, said
    assert all("waiting list, number 1" in t for t in said), said


async def test_accept_and_decline_pressed_at_once_give_one_outcome(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    card = _card(world.mentor_a)
    await at_once(
        env,
        lambda: world.mentor_a.user.click(card, label="Accept"),
        lambda: world.mentor_a.user.click(card, label="Decline"),
        lambda: world.mentor_a.user.click(card, label="Accept"),
    )
    pairs = await _count(env, Pair)
    accepted = await _count(env, Introduction, status=IntroStatus.ACCEPTED)
    declined = await _count(env, Introduction, status=IntroStatus.DECLINED)
    assert (pairs, accepted, declined) in ((1, 1, 0), (0, 0, 1))
    spaces = [c for c in world.c.guild.channels if c.startswith("mentorship")]
    assert len(spaces) <= pairs


async def test_accept_racing_a_block_never_leaves_a_pair_behind_the_blocker(
    world: Matchable,
) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    card = _card(world.mentor_a)
    blocked, _accepted = await at_once(
        env,
        lambda: world.mentee.slash(world.c.general, "match block", member=world.mentor_a),
        lambda: world.mentor_a.user.click(card, label="Accept"),
    )
    pairs = await _count(env, Pair)
    if pairs:  # the accept came first: the blocker knows, and how to end it
        assert "/pair end" in blocked.response.content
    else:
        assert len(_intro_cards(world.mentor_b)) == 1, "the mentee moved on"
    texts = [m.content.lower() for m in world.mentor_a.user.dm_channel.history()]
    assert all("block" not in t for t in texts), "the mentor is never told"


async def test_accept_after_the_mentee_left_says_so_and_withdraws(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    card = _card(world.mentor_a)
    # Leaves without the bot noticing yet (the member-remove event is delivered with the click).
    (pressed,) = await at_once(
        env,
        lambda: _leave_then(world, lambda: world.mentor_a.user.click(card, label="Accept")),
    )
    assert await _count(env, Pair) == 0
    (answer,) = pressed.followups
    assert answer.ephemeral and "no longer in the server" in answer.content
    assert await _count(env, Introduction, status=IntroStatus.CANCELLED) == 1
    assert "withdrawn" in _intro_cards(world.mentor_a)[0].content
    assert await _request_status(world, world.mentee.id) == RequestStatus.CANCELLED


async def _leave_then(world: Matchable, click):  # type: ignore[no-untyped-def]
    world.c.guild.remove_member(world.mentee)
    return await click()


async def test_an_uncached_member_leaving_is_withdrawn_and_their_pair_ended(
    world: Matchable,
) -> None:
    env, guild = world.c.env, world.c.guild
    await world.mentee.slash(world.c.general, "match request")
    await world.mentor_a.user.click(_card(world.mentor_a), label="Accept")
    await env.settle()
    assert await _count(env, Pair) == 1
    # The bot's cache no longer holds the mentee (as after a restart without chunking).
    cached = env.bot.get_guild(guild.id)
    cached._remove_member(cached.get_member(world.mentee.id))
    assert cached.get_member(world.mentee.id) is None
    guild.remove_member(world.mentee)
    await env.settle()
    async with env.bot.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
    assert pair.status != "active" and pair.ended_at is not None
    assert await _request_status(world, world.mentee.id) != RequestStatus.WAITING
    told = [m.content for m in world.mentor_a.user.dm_channel.history()]
    assert any("left the server" in t for t in told)


async def test_a_card_nobody_can_receive_moves_the_mentee_on_and_alerts(world: Matchable) -> None:
    env = world.c.env
    close_dms(env, world.mentor_a.user)
    intro_channel = world.c.guild.channels["mentor-introductions"]
    env.inject_error(
        "POST", f"/channels/{intro_channel.id}/threads", status=403, code=50013,
        message="Missing Permissions",
    )  # fmt: skip
    asked = await world.mentee.slash(world.c.general, "match request")
    assert "introduced to a mentor" in asked.response.content
    assert _intro_cards(world.mentor_a) == []
    assert len(_intro_cards(world.mentor_b)) == 1, "the next mentor at once"
    alert = world.c.guild.channels["lantern-alerts"].last_message
    assert alert is not None and "couldn't deliver an introduction" in alert.content
    assert "marco" in alert.content
    async with env.bot.database.session() as session:
        row = await session.get(MemberProfile, (world.c.guild.id, world.mentor_a.id))
    assert row is not None and row.mentor_paused
    good_news = [m for m in world.mentee.user.dm_channel.history() if "Good news" in m.content]
    assert len(good_news) == 1


async def test_a_round_skips_what_changed_since_the_preview_and_says_why(
    world: Matchable,
) -> None:
    env, general = world.c.env, world.c.general
    await _waiting_for_a_round(world)
    preview = await world.c.moderator.slash(general, "matching round")
    assert "1 introduction" in preview.response.content
    assert "Tagalog" not in preview.response.content and "identity" not in preview.response.content
    await world.mentor_a.slash(general, "mentor pause")
    await world.c.moderator.click(preview.response.message, label="Send introductions")
    await env.settle()
    done = preview.response.content
    assert "Done: 0 introductions sent" in done
    assert "hana: the mentor paused since the preview" in done
    assert _intro_cards(world.mentor_a) == []


async def test_the_round_confirm_rechecks_the_moderator(world: Matchable) -> None:
    env = world.c.env
    helper, preview = await round_preview_of_a_former_moderator(world)
    pressed = await helper.click(preview.response.message, label="Send introductions")
    simcord.assert_error(env, Exception, contains="Lantern moderators")
    assert "for this server's Lantern moderators" in pressed.response.content
    assert await _count(env, Introduction) == 0
    assert _intro_cards(world.mentor_a) == []


async def test_the_accepted_dm_promises_only_what_arrives(world: Matchable) -> None:
    env = world.c.env
    await world.mentee.slash(world.c.general, "match request")
    await world.mentor_a.user.click(_card(world.mentor_a), label="Accept")
    await env.settle()
    told = _dm_with(world.mentee, "accepted")
    assert "link in a moment" not in told
    assert "mention you both there" in told
    async with env.bot.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
    space = env.bot.get_channel(pair.channel_id)
    assert isinstance(space, discord.TextChannel)
    opening = [m for m in world.c.guild.channels[space.name].history() if m.author.bot]
    assert any(f"<@{world.mentee.id}>" in m.content for m in opening), "the promised mention"


def _dm_with(actor: simcord.MemberActor, words: str) -> str:
    return next(m.content for m in actor.user.dm_channel.history() if words in m.content)


async def _waiting_for_a_round(world: Matchable) -> None:
    """Requests wait for moderators' rounds, and the mentee asked."""
    await world.c.moderator.slash(world.c.general, "matching mode", introductions="rounds")
    await world.mentee.slash(world.c.general, "match request")


def _original_edits(env: simcord.Env) -> list[str]:
    """Every edit of an interaction's first answer, in order (the in-place progress)."""
    return [
        (r.json or {}).get("content", "")
        for r in env.http_requests
        if r.method == "PATCH" and r.path.endswith("/messages/@original")
    ]


@pytest.mark.simcord(settle_timeout=120)  # the worker process starts on the first round
async def test_a_round_shows_its_progress_in_place_then_the_preview(world: Matchable) -> None:
    env, general = world.c.env, world.c.general
    env.bot.services.ctx.compute = env.bot.compute  # the bot's real worker process
    await _waiting_for_a_round(world)
    before = len(_original_edits(env))
    preview = await world.c.moderator.slash(general, "matching round")
    await env.settle()
    edits = _original_edits(env)[before:]
    assert edits[0].startswith("**Working out a matching round…**")
    assert "reading the profiles" in edits[0]
    assert "1 introduction" in edits[-1]  # the preview replaced the progress...
    assert not preview.followups  # ...in the same message
    assert "1 introduction" in preview.response.content
    await world.c.moderator.click(preview.response.message, label="Send introductions")
    await env.settle()
    assert len(_intro_cards(world.mentor_a)) == 1


class _DeadWorker:
    """A worker that stops mid-round."""

    async def run(self, fn: Any, *args: Any, on_phase: PhaseHeard | None = None) -> Any:
        if on_phase is not None:
            await on_phase(RoundPhase.SOLVING)
        raise ComputeFailed("the worker process stopped")


async def test_a_round_whose_worker_dies_says_so_in_place_and_sends_nothing(
    world: Matchable,
) -> None:
    env, general = world.c.env, world.c.general
    await _waiting_for_a_round(world)
    env.bot.services.ctx.compute = _DeadWorker()
    before = len(_original_edits(env))
    failed = await world.c.moderator.slash(general, "matching round")
    await env.settle()
    edits = _original_edits(env)[before:]
    assert edits[0].startswith("**Working out a matching round…**")
    assert edits[-1] == say.ROUND_FAILED == failed.response.content
    assert not failed.followups
    assert await _count(env, Introduction) == 0
    assert await _request_status(world, world.mentee.id) == RequestStatus.WAITING
