"""Pair spaces at their edges, end to end: an opening message that always fits, endings that
tell the other person, moderator visibility applied to existing spaces, and orphaned spaces
cleaned up by retention."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.db.models import PairStatus
from bot.domain.pairs import MODERATOR_ALLOW
from tests.e2e.conftest import Community
from tests.e2e.pairs_helpers import (
    MENTEE_ANSWERS,
    MENTOR_ANSWERS,
    give_profile,
    in_bot,
    load_pair,
    make_pair,
    pair_world,
)

DAY = 86400
EVERYTHING = ["heritage", "generation", "languages", "career", "timezone", "cadence"]
EVERYTHING += ["about", "hopes", "brings"]


def _long(seed: str) -> str:
    """4,000 characters of hostile text: markdown that doubles when escaped, pings, newlines."""
    chunk = f"{seed} **[x](https://e.example)** @everyone _#_\n"
    return (chunk * (4000 // len(chunk) + 1))[:4000]


async def test_an_opening_with_4000_character_answers_fits_discord_and_is_posted(
    community: Community,
) -> None:
    w = await pair_world(community)
    guild_id = community.guild.id
    long_answers: dict[str, Any] = {
        "heritage_text": _long("heritage"),
        "generation": _long("generation"),
        "career_field": _long("career"),
        "timezone": _long("zone"),
        "cadence": _long("cadence"),
        "about": _long("about"),
        "hopes": _long("hopes"),
        "brings": _long("brings"),
        "share": EVERYTHING,
    }
    await give_profile(w.bot, guild_id, w.mentee.id, {**MENTEE_ANSWERS, **long_answers})
    await give_profile(w.bot, guild_id, w.mentor.id, {**MENTOR_ANSWERS, **long_answers})
    pair_id = await make_pair(w.bot, guild_id, w.mentee.id, w.mentor.id, reasons=[_long("r")] * 9)
    await in_bot(w.env, w.bot.services.pairs.open_space(pair_id))
    pair = await load_pair(w.bot, pair_id)
    assert pair.status == PairStatus.ACTIVE
    history = w.channel(pair.channel_id).history()
    assert len(history) == 1, "the space has its opening message"
    opening = history[0]
    assert len(opening.content) <= 2000 and not opening.mention_everyone
    assert [e.title for e in opening.embeds] == ["Mentee: Ana Reyes", "Mentor: Kenji Sato"]
    total = 0
    for embed in opening.embeds:
        total += len(embed.title or "") + len(embed.description or "")
        for f in embed.fields:
            assert f.value and len(f.value) <= 1024 and len(f.name) <= 256
            total += len(f.name) + len(f.value)
    assert total <= 6000
    about = [f.value for e in opening.embeds for f in e.fields if f.name == "About me"]
    assert len(about) == 2 and all(v.endswith("…") for v in about)
    assert all("@everyone" not in v for e in opening.embeds for f in e.fields for v in [f.value])
    assert pair.id is not None


def _dms(person: Any) -> list[str]:
    channel = person.user.dm_channel
    return [m.content for m in channel.history()] if channel else []


async def _end_with_button(w: Any, person: Any, pair: Any, note: str) -> None:
    opening = w.channel(pair.channel_id).history()[0]
    shown = await person.click(opening, label="End mentorship")
    confirm = await person.submit_modal(shown, {"reason": note})
    done = await person.click(confirm.response.message, label="Yes, end the mentorship")
    await w.env.settle()
    assert done.ephemeral and "Your mentorship has ended" in done.response.content


@pytest.mark.parametrize("ender", ["mentee", "mentor"])
async def test_ending_tells_the_other_person_kindly_and_privately(
    community: Community, ender: str
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    ending, other = (w.mentee, w.mentor) if ender == "mentee" else (w.mentor, w.mentee)
    before_other, before_ender = len(_dms(other)), len(_dms(ending))
    await _end_with_button(w, ending, pair, "private: they never showed up")
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ENDED
    told = _dms(other)[before_other:]
    ended_by = "Ana Reyes" if ender == "mentee" else "Kenji Sato"
    [news] = [t for t in told if "has ended your mentorship" in t]
    assert ended_by in news and "Lantern Test Community" in news
    assert "isn't a judgement of you" in news and "read-only" in news
    assert "never showed up" not in " ".join(told)  # the note is for moderators only
    if ender == "mentee":
        assert "place as a mentor is open again" in news
    else:
        assert "new mentor" in news
    # the one who ended it got their private answer, not this DM
    assert not [t for t in _dms(ending)[before_ender:] if "has ended your mentorship" in t]
    # and nothing was said in public
    assert not [m for m in community.general.history() if "ended" in m.content]


async def test_a_moderator_ending_a_pair_tells_both_members(community: Community) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    done = await community.moderator.slash(
        community.general, "pairs end", pair=pair.id, reason="reported twice"
    )
    await w.env.settle()
    assert "has ended" in done.response.content
    for person in (w.mentee, w.mentor):
        [news] = [t for t in _dms(person) if "has ended your mentorship" in t]
        assert news.startswith("A moderator has ended") and "reported twice" not in news
