"""A quiet pair space closes, through the real bot on simcord: the warning in the space a week
ahead, a message that keeps it open, a restart between the warning and the close, then the
ending (read-only, a kind DM to each, the feedback card, one line for moderators), and the
moderators' setting."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from bot.db.models import PairStatus
from bot.errors import UserFacingError
from tests.e2e.conftest import Community
from tests.e2e.pairs_helpers import PairWorld, in_bot, load_pair, pair_world
from tests.e2e.test_insights import _cards, _said

DAY = 86400
WARNING = "unless one of you writes here"


async def _sweep(w: PairWorld) -> None:
    """The hourly closing sweep, run as the bot runs it, at simcord's time."""
    await in_bot(w.env, w.bot.services.pairs.close_quiet(w.env.now()))


async def test_warned_kept_open_by_a_message_then_closed_after_a_restart(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    await w.env.advance_time(83 * DAY)
    await _sweep(w)
    await _sweep(w)
    [warning] = [m for m in handle.history() if WARNING in m.content]
    assert f"<@{w.mentee.id}>" in warning.content and f"<@{w.mentor.id}>" in warning.content
    assert warning.author.id == w.bot.user.id
    # Only the two of them (and Lantern) can read it: the space is private.
    with pytest.raises(simcord.SetupError):
        handle.history(viewer=w.third)

    # Writing anything keeps the space open.
    await w.env.advance_time(2 * DAY)
    await w.mentor.send(handle, "Sorry, busy month! Coffee next week?")
    await w.env.settle()
    await w.env.advance_time(6 * DAY)
    await _sweep(w)
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE

    # A new silence gets its own warning; then Lantern restarts before the date.
    await w.env.advance_time(77 * DAY)
    await _sweep(w)
    assert len([m for m in handle.history() if WARNING in m.content]) == 2
    await w.env.restart_bot(bot_factory())
    await w.env.advance_time(7 * DAY + 1)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()

    closed = await load_pair(w.bot, pair.id)
    assert closed.status == PairStatus.ENDED
    assert any("quiet here for a long while" in m.content for m in handle.history())
    for person in (w.mentee, w.mentor):
        with pytest.raises(simcord.BackendError):
            await person.send(handle, "wait!")
        told = [m.content for m in person.user.dm_channel.history()]
        assert sum("had been quiet" in t for t in told) == 1
        (card,) = _cards(person)
        assert "How helpful" in card.content
    offers = " ".join(m.content for m in w.mentee.user.dm_channel.history())
    assert "new mentor" in offers
    alerts = [m.content for m in w.alerts() if f"#{pair.id}" in m.content and "ended" in m.content]
    assert len(alerts) == 1 and "quiet too long" in alerts[0]
    # Later sweeps change nothing.
    await w.env.advance_time(DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert len(_cards(w.mentor)) == 1


async def test_moderators_choose_how_long_a_quiet_space_stays_open(community: Community) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    moderator, general = community.moderator, community.general
    refused = await moderator.slash(general, "pairs settings", close_after_quiet_days=5)
    simcord.assert_error(w.env, UserFacingError)
    assert refused.ephemeral and "Nothing was saved" in _said(refused)
    off = await moderator.slash(general, "pairs settings", close_after_quiet_days=0)
    assert off.ephemeral and "quiet spaces never close" in _said(off)
    await w.env.advance_time(200 * DAY)
    await _sweep(w)
    assert not [m for m in handle.history() if WARNING in m.content]
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE
    on = await moderator.slash(general, "pairs settings", close_after_quiet_days=30)
    assert "quiet spaces close after 30 days" in _said(on)
    await _sweep(w)
    assert len([m for m in handle.history() if WARNING in m.content]) == 1
