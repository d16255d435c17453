"""Interactions are acknowledged before anything waits on the database (issue #14).

Discord waits 3 seconds for an answer; when a hundred members press at once, an interaction
whose first answer comes after a database read waits for a pooled connection and for the
transactions ahead of it, and can miss that window. So every command and button defers (or
answers) first and only then reads or writes. ``bench/ack.py`` measures the effect; this pins
the rule: for each member command, button and moderator command below, the interaction's
first database connection is taken only after simcord has its acknowledgement.

Not covered, on purpose: what opens a form (``/onboard``, Continue on a page card, "End
mentorship", Reflect, Share, the profile's page menu). A form must be the first answer and
cannot be deferred, and building it needs the member's saved answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest_asyncio
import simcord
from sqlalchemy import event

from bot.client import LanternBot
from tests.e2e.conftest import Community, set_up_with
from tests.e2e.pairs_helpers import in_bot, load_pair, make_pair, pair_world
from tests.factories import onboarded

DAY = 24 * 3600


@dataclass
class FirstAnswers:
    """For each interaction, whether it was acknowledged when it first took a database
    connection from the pool (``acknowledged[id]``; absent: it never touched the database)."""

    current: Any = None
    acknowledged: dict[int, bool] = field(default_factory=dict)

    def dispatched(self, interaction: Any) -> None:
        self.current = interaction

    def checkout(self, *_args: Any) -> None:
        interaction = self.current
        if interaction is not None and interaction.id not in self.acknowledged:
            self.acknowledged[interaction.id] = interaction.responded

    async def run(self, operation: Awaitable[simcord.InteractionResult]) -> bool | None:
        """Deliver one interaction; whether it was acknowledged before its first database
        connection (None if it never took one)."""
        result = await operation
        assert result.acknowledged
        return self.acknowledged.get(self.current.id)


def watching(env: simcord.Env) -> FirstAnswers:
    """From now on, note whether each interaction was acknowledged at its first connection."""
    watch = FirstAnswers()
    env._register_dispatch_observer(watch.dispatched)
    event.listen(env.bot.database.engine.sync_engine, "checkout", watch.checkout)
    return watch


@dataclass
class World:
    c: Community
    ana: simcord.MemberActor  # a mentee in a pair with kenji
    kenji: simcord.MemberActor  # her mentor, with room for more
    zed: simcord.MemberActor  # a mentee still looking
    space: simcord.ChannelHandle
    watch: FirstAnswers

    @property
    def env(self) -> simcord.Env:
        return self.c.env


@pytest_asyncio.fixture
async def world(community: Community) -> World:
    env, guild = community.env, community.guild
    ana, kenji, zed = await set_up_with(community, "ana", "kenji", "zed")
    bot: LanternBot = env.bot  # type: ignore[assignment]
    now = env.now()
    for member, mentor in ((ana, False), (kenji, True), (zed, False)):
        await onboarded(
            bot.database, bot.cipher, guild_id=guild.id, user_id=member.id, now=now, mentor=mentor
        )
    pair_id = await make_pair(bot, guild.id, ana.id, kenji.id)
    await in_bot(env, bot.services.pairs.open_space(pair_id))
    channel_id = (await load_pair(bot, pair_id)).channel_id
    space = next(h for h in guild.channels.values() if h.id == channel_id)
    await env.advance_time(15 * DAY)
    await in_bot(env, bot.services.pairs.checkins_due(env.now()))
    return World(community, ana, kenji, zed, space, watching(env))


def _card(channel: Any, words: str) -> discord.Message:
    return next(m for m in reversed(channel.history()) if words in (m.content or ""))


def _with_button(channel: Any, label: str) -> discord.Message:
    return next(
        m
        for m in reversed(channel.history())
        if any(getattr(c, "label", None) == label for row in m.components for c in row.children)
    )


async def _late(world: World, cases: list[tuple[str, Callable[[], Any]]]) -> list[str]:
    """The cases whose first database connection came before their acknowledgement."""
    late: list[str] = []
    for name, operation in cases:
        acknowledged = await world.watch.run(operation())
        assert acknowledged is not None, f"{name} never read the database: not a useful case"
        if not acknowledged:
            late.append(name)
    return late


async def test_member_commands_are_acknowledged_before_the_database(world: World) -> None:
    general, space = world.c.general, world.space
    ana, kenji, zed = world.ana, world.kenji, world.zed
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("/match request", lambda: zed.slash(general, "match request")),
        ("/match status", lambda: zed.slash(general, "match status")),
        ("/profile", lambda: ana.slash(general, "profile")),
        ("/journal", lambda: ana.slash(general, "journal")),
        ("/mydata export", lambda: ana.slash(general, "mydata export")),
        ("/reflections subscribe", lambda: ana.slash(general, "reflections subscribe")),
        ("/reflections pause", lambda: ana.slash(general, "reflections pause")),
        (
            "/reflections suggest",
            lambda: ana.slash(general, "reflections suggest", area="culture", text="Home?"),
        ),
        ("/pair report", lambda: ana.slash(space, "pair report", reason="just testing")),
        ("/pair end", lambda: ana.slash(space, "pair end")),
        ("/mentor capacity", lambda: kenji.slash(general, "mentor capacity", mentees=3)),
        ("/mentor pause", lambda: kenji.slash(general, "mentor pause")),
        ("/mentor resume", lambda: kenji.slash(general, "mentor resume")),
        ("/match block", lambda: zed.slash(general, "match block", member=ana)),
        ("/match cancel", lambda: zed.slash(general, "match cancel")),
        ("/mydata withdraw", lambda: zed.slash(general, "mydata withdraw")),
    ]
    assert await _late(world, cases) == []


async def test_buttons_are_acknowledged_before_the_database(world: World) -> None:
    general, space = world.c.general, world.space
    ana, kenji, zed = world.ana, world.kenji, world.zed
    await zed.slash(general, "match request")  # an introduction card in kenji's DMs
    await ana.slash(space, "pair report", reason="just testing")  # a card for moderators
    alerts = world.c.guild.channels["lantern-alerts"]
    going, pause = "How it's going", "Pause reminders"
    cases: list[tuple[str, Callable[[], Any]]] = [
        (
            "check-in answer",
            lambda: ana.click(_with_button(space, "Going well"), label="Going well"),
        ),
        ("How it's going", lambda: ana.click(_with_button(space, going), label=going)),
        ("Pause reminders", lambda: ana.click(_with_button(space, pause), label=pause)),
        (
            "introduction Accept",
            lambda: kenji.user.click(_card(kenji.user.dm_channel, "would like"), label="Accept"),
        ),
        (
            "report Acknowledge",
            lambda: world.c.moderator.click(_card(alerts, "just testing"), label="Acknowledge"),
        ),
    ]
    assert await _late(world, cases) == []


async def test_moderator_commands_are_acknowledged_before_the_database(world: World) -> None:
    general, moderator = world.c.general, world.c.moderator
    added = await moderator.slash(general, "prompts add", area="identity", text="Where is home?")
    key = added.response.content.split("`")[1]
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("/matching queue", lambda: moderator.slash(general, "matching queue")),
        ("/pairs list", lambda: moderator.slash(general, "pairs list")),
        ("/reports", lambda: moderator.slash(general, "reports")),
        ("/prompts list", lambda: moderator.slash(general, "prompts list")),
        ("/prompts preview", lambda: moderator.slash(general, "prompts preview", prompt=key)),
        ("/onboarding status", lambda: moderator.slash(general, "onboarding status")),
    ]
    assert await _late(world, cases) == []


async def test_a_feedback_answer_is_acknowledged_before_the_database(community: Community) -> None:
    w = await pair_world(community)
    await w.end_as(w.mentee, await w.opened())
    card = _card(w.mentor.user.dm_channel, "How helpful")
    watch = watching(w.env)
    assert await watch.run(w.mentor.user.click(card, label="4")) is True
    assert _card(w.mentor.user.dm_channel, "recommend").id == card.id  # edited in place
