"""Pair spaces at their edges, end to end: an opening message that always fits, endings that
tell the other person, moderator visibility applied to existing spaces, and orphaned spaces
cleaned up by retention."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
import simcord

from bot.db.models import Pair, PairStatus
from bot.domain.pairs import MODERATOR_ALLOW, space_grants
from bot.services.ports import Made
from tests.e2e.conftest import Community, set_bot_permission
from tests.e2e.pairs_helpers import MENTOR_ANSWERS, PairWorld, give_profile, load_pair, pair_world
from tests.factories import MENTEE_DEFAULTS

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
    await give_profile(w.bot, guild_id, w.mentee.id, {**MENTEE_DEFAULTS, **long_answers})
    await give_profile(w.bot, guild_id, w.mentor.id, {**MENTOR_ANSWERS, **long_answers})
    pair = await w.opened(reasons=[_long("r")] * 9)
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


def _moderator_flags(channel: discord.abc.GuildChannel, role_id: int) -> set[str] | None:
    role = channel.guild.get_role(role_id)
    overwrite = channel.overwrites.get(role)  # type: ignore[arg-type]
    if overwrite is None:
        return None
    return {"view_channel" if k == "read_messages" else k for k, v in overwrite.pair()[0] if v}


async def test_moderators_see_pairs_applies_to_existing_spaces_both_ways(
    community: Community,
) -> None:
    w = await pair_world(community)
    role_id = community.moderator_role.id
    first = await w.opened()
    other = community.guild.add_member(w.env.create_user("lee_mentee"))
    await w.env.settle()
    second = await w.opened(other)
    handles = [w.channel(p.channel_id) for p in (first, second)]
    for handle in handles:
        with pytest.raises(simcord.BackendError):
            await community.moderator.send(handle, "can I see this?")
    shown = await community.moderator.slash(community.general, "setup", moderators_see_pairs=True)
    await w.env.settle()
    text = shown.response.content
    assert "**Community Team** role can now see 2 existing pair spaces" in text
    settings = await w.settings()
    category = w.bot.get_channel(settings.pair_category_id)
    assert _moderator_flags(category, role_id) == set(MODERATOR_ALLOW)
    for pair, handle in zip((first, second), handles, strict=True):
        channel = w.bot.get_channel(pair.channel_id)
        assert _moderator_flags(channel, role_id) == set(MODERATOR_ALLOW)
        await community.moderator.send(handle, "hello from the community team")
        notes = [m.content for m in handle.history() if "has changed" in m.content]
        assert len(notes) == 1 and "can now see it" in notes[0]
    # and back: /pairs settings takes the access away again, and says so
    hidden = await community.moderator.slash(
        community.general, "pairs settings", moderators_see_pairs=False
    )
    await w.env.settle()
    assert "can no longer see 2 existing pair spaces" in hidden.response.content
    assert not (await w.settings()).moderators_see_pairs
    for pair, handle, viewer in zip((first, second), handles, (w.mentee, other), strict=True):
        assert _moderator_flags(w.bot.get_channel(pair.channel_id), role_id) is None
        with pytest.raises(simcord.BackendError):
            await community.moderator.send(handle, "still here?")
        assert "can no longer see it" in handle.history(viewer=viewer)[-1].content
    assert _moderator_flags(category, role_id) is None
    # asking for what is already so changes nothing, and says so
    same = await community.moderator.slash(
        community.general, "pairs settings", moderators_see_pairs=False
    )
    assert "already couldn't see pair spaces, so nothing changed" in same.response.content


async def test_many_spaces_show_progress_edited_in_place(community: Community) -> None:
    w = await pair_world(community)
    for n in range(12):
        mentee = community.guild.add_member(w.env.create_user(f"mentee_{n}"))
        mentor = community.guild.add_member(w.env.create_user(f"mentor_{n}"))
        await w.env.settle()
        await give_profile(w.bot, community.guild.id, mentor.id, MENTOR_ANSWERS)
        await w.accept(mentee, mentor)
    result = await community.moderator.slash(
        community.general, "pairs settings", moderators_see_pairs=True
    )
    await w.env.settle()
    edits = [
        r.json.get("content", "")
        for r in w.env.http_requests
        if r.method == "PATCH" and r.path.endswith("/messages/@original")
    ]
    assert any("Updating existing pair spaces… 10 of 12" in e for e in edits)
    assert "can now see 12 existing pair spaces" in result.response.content
    assert not result.followups  # the final answer replaced the progress, in the same message


async def _delete_mentee_data_then_wait_out_retention(
    w: PairWorld, pair: Pair, space_id: int | None
) -> None:
    """The mentee deletes their data: the pair row goes at once, its space stays readable for
    the partner through the 30 days of retention; then the first sweep after them."""
    asked = await w.mentee.slash(w.c.general, "mydata delete")
    await w.mentee.click(asked.response, label="Yes, delete everything")
    await w.env.settle()
    async with w.bot.database.session() as session:
        assert await session.get(Pair, pair.id) is None  # the pair row went with the data
    assert w.bot.get_channel(space_id) is not None  # readable for the partner a while
    await w.env.advance_time(29 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert w.bot.get_channel(space_id) is not None
    await w.env.advance_time(1 * DAY + 60)
    await w.bot.run_sweeps(w.env.now())


async def test_a_space_left_by_a_data_deletion_is_deleted_by_retention(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    await w.mentor.send(handle, "so glad to meet you")
    # a channel moderators made in the pair category is theirs: never touched
    settings = await w.settings()
    category = next(
        h for h in community.guild.channels.values() if h.id == settings.pair_category_id
    )
    guidelines = community.guild.create_text_channel("pair-guidelines", category=category)
    await w.env.settle()
    await _delete_mentee_data_then_wait_out_retention(w, pair, pair.channel_id)
    await w.env.settle()
    assert w.bot.get_channel(pair.channel_id) is None
    assert w.bot.get_channel(guidelines.id) is not None
    assert w.bot.get_channel(settings.pair_category_id) is not None


async def test_a_thread_left_by_a_data_deletion_is_deleted_by_retention(
    community: Community,
) -> None:
    w = await pair_world(community)
    holder = await w.use_threads()
    pair = await w.opened()
    assert pair.thread_id is not None and pair.channel_id is None
    thread = next(t for t in holder.threads if t.id == pair.thread_id)
    await w.mentor.send(thread, "so glad to meet you")
    await _delete_mentee_data_then_wait_out_retention(w, pair, pair.thread_id)
    await w.bot.run_sweeps(w.env.now())  # a second sweep deletes nothing more
    await w.env.settle()
    assert w.bot.get_channel(pair.thread_id) is None
    assert w.bot.get_channel(holder.id) is not None  # the channel holding the threads stays
    deletes = [
        r for r in w.env.http_requests if r.method == "DELETE" and r.path.endswith(f"/{thread.id}")
    ]
    assert len(deletes) == 1


async def test_a_channel_left_by_a_failed_creation_is_deleted_by_retention(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    # a creation that reached Discord but never the database: a second channel for the pair,
    # with the full overwrite set Lantern gives every pair space
    pairs = w.bot.services.pairs
    guild_id = community.guild.id
    grants = space_grants(moderators_see=False, has_moderator_role=False)
    stray = await pairs.spaces.create_channel(
        guild_id,
        (await w.settings()).pair_category_id,
        "ana-reyes-and-kenji-sato-2",
        pairs._overwrites(grants, guild_id, (pair.mentee_id, pair.mentor_id), None),
        reason="Lantern pair space (interrupted)",
    )
    assert isinstance(stray, Made)
    await w.env.settle()
    await w.env.advance_time(1 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert w.bot.get_channel(stray.id) is not None  # not before the retention period
    await w.env.advance_time(30 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert w.bot.get_channel(stray.id) is None
    assert w.bot.get_channel(pair.channel_id) is not None  # the live pair's own space stays
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE


async def test_threads_left_by_a_failed_creation_are_deleted_by_retention_and_nothing_else(
    community: Community,
) -> None:
    w = await pair_world(community)
    holder = await w.use_threads()
    pair = await w.opened()
    assert pair.thread_id is not None
    # creations that reached Discord but never the database; one of them since archived
    members = (pair.mentee_id, pair.mentor_id)
    strays = [
        await w.bot.services.pairs.spaces.create_thread(
            holder.id, name, members, reason="Lantern pair space (interrupted)"
        )
        for name in ("ana-reyes-and-kenji-sato-2", "ana-reyes-and-kenji-sato-3")
    ]
    assert all(isinstance(stray, Made) for stray in strays)
    stray, archived = (s.id for s in strays if isinstance(s, Made))
    backend = w.env.backend
    backend.edit_channel(archived, {}, thread_metadata={"archived": True})
    # members' own private threads named like pair spaces (one archived, with Lantern in it)
    private = discord.ChannelType.private_thread.value
    theirs = backend.create_thread(holder.id, "lee-and-sam", w.third.id, type=private).id
    kept = backend.create_thread(holder.id, "sam-and-lee", w.third.id, type=private).id
    backend.add_thread_member(kept, w.bot.user.id)
    backend.edit_channel(kept, {}, thread_metadata={"archived": True})
    await w.env.settle()
    await w.env.advance_time(1 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert set(backend.channels) >= {stray, archived}  # not before the retention period
    await w.env.advance_time(30 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.bot.run_sweeps(w.env.now())  # a second sweep deletes nothing more
    await w.env.settle()
    assert stray not in backend.channels and archived not in backend.channels
    assert {pair.thread_id, theirs, kept, holder.id} <= set(backend.channels)
    deletes = [r.path for r in w.env.http_requests if r.method == "DELETE"]
    assert sorted(deletes) == sorted(f"/channels/{space}" for space in (stray, archived))
    listings = [r for r in w.env.http_requests if "threads/archived" in r.path]
    assert len(listings) == 3  # one page per sweep, with Read Message History alone
    assert all(
        r.path == f"/channels/{holder.id}/users/@me/threads/archived/private" for r in listings
    )
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE


async def test_a_thread_sweep_discord_refuses_is_logged_once_and_tried_again_later(
    community: Community, caplog: pytest.LogCaptureFixture
) -> None:
    w = await pair_world(community)
    holder = await w.use_threads()
    stray = await w.bot.services.pairs.spaces.create_thread(
        holder.id, "ana-reyes-and-kenji-sato", (w.mentee.id, w.mentor.id), reason="interrupted"
    )
    assert isinstance(stray, Made)
    await w.env.settle()
    await w.env.advance_time(31 * DAY)
    caplog.set_level(logging.WARNING, "lantern.pairs")
    # Read Message History taken away in the thread channel, then (as real Discord does for a
    # bot without Manage Threads) the delete refused: each logged once, nothing crashes

    async def two_sweeps() -> None:
        for _ in range(2):
            await w.bot.run_sweeps(w.env.now())
            await w.env.settle()
        assert stray.id in w.env.backend.channels

    listing = f"/channels/{holder.id}/users/@me/threads/archived/private"
    w.env.inject_error("GET", listing, status=403, code=50001, message="Missing Access", times=2)
    await two_sweeps()
    refused = f"/channels/{stray.id}"
    w.env.inject_error("DELETE", refused, status=403, code=50013, times=2)
    await two_sweeps()
    assert [r.getMessage() for r in caplog.records] == [
        f"orphan thread listing refused guild={community.guild.id} reason=missing_access",
        f"orphan thread deletion refused guild={community.guild.id} reason=missing_permissions",
    ]
    await w.bot.run_sweeps(w.env.now())  # granted again: the next sweep deletes it
    await w.env.settle()
    assert stray.id not in w.env.backend.channels


async def test_thread_mode_asks_for_manage_threads_where_it_is_missing(
    community: Community, bot_factory: Any
) -> None:
    """Discord deletes a thread only for Manage Threads: without it, ended pairs' threads
    would outlive their retention, so the moderator who turns thread mode on is told."""
    await pair_world(community)  # /setup: Lantern's channels, the alerts one included
    holder = community.guild.create_text_channel("pair-threads")
    await community.env.settle()
    moderator, general = community.moderator, community.general
    set_bot_permission(community, "manage_threads", False)
    said = await moderator.slash(general, "pairs settings", use_threads=True, thread_channel=holder)
    assert "**Manage Threads**" in said.response.content and said.ephemeral
    # Lantern restarts: its start-up self-check tells the moderators too.
    await community.env.restart_bot(bot_factory())
    await community.env.settle()
    alerts = community.guild.channels["lantern-alerts"].history()
    assert any("**Manage Threads**" in (m.content or "") for m in alerts)
    set_bot_permission(community, "manage_threads", True)
    said = await moderator.slash(general, "pairs settings", use_threads=True)
    assert "Manage Threads" not in said.response.content
