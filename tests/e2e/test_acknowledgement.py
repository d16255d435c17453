"""Interactions are acknowledged before anything waits on the database (issue #14).

Discord waits 3 seconds for an answer; when a hundred members press at once, an interaction
whose first answer comes after a database read waits for a pooled connection and for the
transactions ahead of it, and can miss that window. So every command and button defers (or
answers) first and only then reads or writes. ``bench/ack.py`` measures the effect; this pins
the rule: for each member command, button and moderator command below, the interaction's
first database connection is taken only after simcord has its acknowledgement.

What opens a form (``/onboard``, Continue on a page card, "End mentorship", Reflect, Share,
the profile's page menu, feedback words) cannot defer: a form must be the first answer, and
building it needs the member's saved answers. Those get ``first_answer``'s time budget
instead: with a database slower than Discord's 3 s, the member gets a private Open button in
time, and pressing it opens the form (the tests at the end).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
import pytest_asyncio
import simcord
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.client import LanternBot
from bot.domain.components import FORM_LATE, FORM_STILL_LATE
from tests.e2e.conftest import Community, set_up_with, troubled_database
from tests.e2e.pairs_helpers import PairWorld, in_bot, load_pair, make_pair, pair_world
from tests.e2e.races import delivered
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
        ("/circles list", lambda: moderator.slash(general, "circles list")),
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


# --- Forms: the first answer cannot be deferred, so a slow database must not cost it ---------

SLOW = 4.0  # seconds each database session waits: past Discord's 3 s on its own


def slow_database(
    bot: LanternBot, monkeypatch: pytest.MonkeyPatch, *, seconds: float = SLOW, fail: bool = False
) -> None:
    """From now on every session waits ``seconds`` first (and then fails, with ``fail``)."""
    troubled_database(bot, monkeypatch, delay=seconds, failures=10**6 if fail else 0)


async def slowly(
    env: simcord.Env, operation: Callable[[], Awaitable[simcord.InteractionResult]]
) -> simcord.InteractionResult:
    """Deliver one interaction, then let virtual time run while the bot waits on the slow
    database (a plain operation would wait for the bot to settle first, in real time)."""
    (result,) = await delivered(env, operation)
    await env.advance_time(SLOW + 1)
    return result


async def _open_late(member: Any, result: simcord.InteractionResult) -> Any:
    """``result`` answered in time, privately, with the Open button; what pressing it shows."""
    assert result.acknowledged and result.modal is None
    assert result.response.content == FORM_LATE and result.ephemeral
    return await member.click(result.response, label="Open")


def _form(result: Any) -> bool:
    return result.modal is not None


async def test_every_form_opens_in_time_when_the_database_is_slow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    general, space, ana, env = world.c.general, world.space, world.ana, world.env
    profile = await ana.slash(general, "profile")
    menu = await ana.click(profile.response, label="Change an answer")
    bot: LanternBot = env.bot  # type: ignore[assignment]
    slow_database(bot, monkeypatch)
    opening = _with_button(space, "End mentorship")
    cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[Any], bool]]] = [
        ("End mentorship", lambda: ana.click(opening, label="End mentorship"), _form),
        ("profile page menu", lambda: ana.select(menu.response, ["rhythm"]), _form),
        (
            "/onboard, already done: the card",
            lambda: ana.slash(general, "onboard"),
            lambda shown: "/profile" in shown.response.content,
        ),
    ]
    for name, operation, expected in cases:
        result = await slowly(env, operation)
        assert result.acknowledged, f"{name}: the first answer came too late"
        assert expected(await _open_late(ana, result)), name


async def test_a_page_form_opens_late_and_saves_when_the_database_is_slow(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = community.env
    mei = community.guild.add_member(env.create_user("mei"))
    await env.settle()
    consent = await mei.user.click(mei.user.dm_channel.last_message, label="Start")
    card = (await mei.user.click(consent.response, label="I agree")).response
    bot: LanternBot = env.bot  # type: ignore[assignment]
    slow_database(bot, monkeypatch)
    late = await slowly(env, lambda: mei.user.click(card, label="Continue"))
    assert late.acknowledged and late.response.content == FORM_LATE
    opened = await mei.user.click(late.response, label="Open")
    assert opened.modal is not None
    monkeypatch.undo()
    saved = await mei.user.submit_modal(opened, {"role": ["mentee"], "languages": ["english"]})
    assert saved.acknowledged and "areas" in saved.response.content.lower()


async def _pair_opening(community: Community) -> tuple[PairWorld, discord.Message]:
    """A pair with its space open, and the opening message with "End mentorship" on it."""
    w = await pair_world(community)
    _, space = await w.opened_space()
    return w, _with_button(space, "End mentorship")


async def test_open_says_so_when_the_database_failed_behind_it_then_reads_again(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, opening = await _pair_opening(community)
    slow_database(w.bot, monkeypatch, fail=True)
    late = await slowly(w.env, lambda: w.mentee.click(opening, label="End mentorship"))
    assert late.acknowledged and late.response.content == FORM_LATE
    monkeypatch.undo()  # the database is back
    failed = await w.mentee.click(late.response, label="Open")
    assert failed.modal is None and "temporarily" in failed.response.content
    simcord.assert_error(w.env, OperationalError, contains="database is locked")
    opened = await w.mentee.click(late.response, label="Open")
    assert opened.modal is not None


async def test_open_pressed_before_the_form_is_ready_says_to_wait(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, opening = await _pair_opening(community)
    slow_database(w.bot, monkeypatch, seconds=3 * SLOW)
    (late,) = await delivered(w.env, lambda: w.mentee.click(opening, label="End mentorship"))
    await w.env.advance_time(SLOW)
    assert late.acknowledged and late.response.content == FORM_LATE
    (early,) = await delivered(w.env, lambda: w.mentee.click(late.response, label="Open"))
    await w.env.advance_time(SLOW)
    assert early.acknowledged and early.modal is None
    assert early.response.content == FORM_STILL_LATE  # the same message, edited
    await w.env.advance_time(2 * SLOW)  # the reading is done
    opened = await w.mentee.click(early.response, label="Open")
    assert opened.modal is not None
