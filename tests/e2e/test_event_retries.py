"""Events nobody waits on are not lost to passing trouble (RELIABILITY promise 11).

A join, a departure or a deleted space arrives once, as an event; no one clicked anything, so
no one sees "temporarily unavailable" and presses again. When the database is briefly busy or
Discord answers 5xx, the listener runs the whole use case again a little later
(``bot.gateway.boundary.retrying``); every such use case is safe to run twice.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.client import LanternBot
from bot.db.models import JoinTally, PairStatus
from tests.e2e.conftest import Community, troubled_database
from tests.e2e.pairs_helpers import load_pair, pair_world

AFTER_ALL_TRIES = 600  # seconds: past the last of RETRY_AFTER, with its jitter


def flaky_database(bot: LanternBot, monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
    """The next ``failures`` sessions fail as a locked or unreachable database does."""
    troubled_database(bot, monkeypatch, failures=failures)


def _welcomes(member: Any) -> list[Any]:
    return [m for m in member.user.dm_channel.history() if "Welcome to" in (m.content or "")]


async def _joined(bot: LanternBot) -> int:
    async with bot.database.session() as session:
        total = await session.execute(select(func.sum(JoinTally.joined)))  # type: ignore[arg-type]
        return int(total.scalar() or 0)


async def test_a_join_during_database_trouble_is_welcomed_once_it_passes(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = community.env
    bot: LanternBot = env.bot  # type: ignore[assignment]
    before = await _joined(bot)
    flaky_database(bot, monkeypatch, failures=3)
    mei = community.guild.add_member(env.create_user("mei"))
    await env.settle()
    await env.advance_time(AFTER_ALL_TRIES)
    assert len(_welcomes(mei)) == 1
    assert await _joined(bot) == before + 1  # counted once for /insights too


async def test_a_welcome_discord_could_not_send_is_sent_on_a_later_try(
    community: Community,
) -> None:
    env = community.env
    user = env.create_user("mei")
    env.inject_error("POST", "/channels/*/messages", status=503, times=2)
    mei = community.guild.add_member(user)
    await env.settle()
    await env.advance_time(AFTER_ALL_TRIES)
    assert len(_welcomes(mei)) == 1


@pytest.mark.parametrize("event", ["the mentee leaves", "the space is deleted"])
async def test_an_event_during_database_trouble_still_ends_the_pair(
    community: Community, monkeypatch: pytest.MonkeyPatch, event: str
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    flaky_database(w.bot, monkeypatch, failures=2)
    if event == "the mentee leaves":
        w.c.guild.remove_member(w.mentee)
        told, word = [w.mentor], "left"
    else:
        w.env.backend.delete_channel(pair.channel_id)
        told, word = [w.mentee, w.mentor], "removed"
    await w.env.settle()
    await w.env.advance_time(AFTER_ALL_TRIES)
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ENDED
    for person in told:
        dms = [m for m in person.user.dm_channel.history() if word in (m.content or "")]
        assert len(dms) == 1, (event, person)


async def test_trouble_that_does_not_pass_is_given_up_and_logged(
    community: Community, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = community.env
    bot: LanternBot = env.bot  # type: ignore[assignment]
    flaky_database(bot, monkeypatch, failures=1_000)
    with caplog.at_level(logging.WARNING, logger="lantern.errors"):
        mei = community.guild.add_member(env.create_user("mei"))
        await env.settle()
        await env.advance_time(AFTER_ALL_TRIES)
    assert _welcomes(mei) == []
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert {r.getMessage().split()[0] for r in given_up} >= {"welcome"}
    assert all(f"user={mei.id}" in r.getMessage() or "join" in r.getMessage() for r in given_up)


async def test_a_departure_while_lantern_was_away_is_found_at_start_up(
    community: Community, bot_factory: Any
) -> None:
    """No leave event reached Lantern (it was offline): the start-up catch-up finds that the
    mentee is no longer a member and ends the pair as the event would have."""
    w = await pair_world(community)
    pair = await w.opened()
    del w.env.backend.guilds[community.guild.id].members[w.mentee.id]  # left, unseen
    await w.env.restart_bot(bot_factory())
    await w.bot.run_sweeps(w.env.now())  # the start-up catch-up
    await w.env.settle()
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ENDED
    told = [m for m in w.mentor.user.dm_channel.history() if "left" in (m.content or "")]
    assert len(told) == 1
    await w.bot.run_sweeps(w.env.now())  # again: nothing more
    await w.env.settle()
    assert len([m for m in w.mentor.user.dm_channel.history() if "left" in (m.content or "")]) == 1
