"""Pair spaces end to end: private by construction, one per match, roll-over, failures told,
check-ins once, endings that really revoke, departures, and echoed text that pings no one."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands
from sqlalchemy import func, select

from bot.db.models import Block, Pair, PairCheckin, PairReport, PairStatus
from bot.db.registry import export_member
from bot.domain.pairs import BOT_ALLOW, MEMBER_ALLOW, MODERATOR_ALLOW
from bot.errors import UserFacingError
from bot.services.events import PairEnded
from tests.e2e.conftest import Community, set_bot_permission
from tests.e2e.pairs_helpers import (
    MENTOR_ANSWERS,
    REASONS,
    PairWorld,
    give_profile,
    in_bot,
    load_pair,
    make_pair,
    pair_world,
)
from tests.factories import MENTEE_DEFAULTS

DAY = 86400


_ALIASES = {"read_messages": "view_channel"}


def _flags(perms: discord.Permissions) -> set[str]:
    return {_ALIASES.get(name, name) for name, value in perms if value}


def _refuse_channels(w: PairWorld, code: int, message: str, *, times: int | None = 1) -> None:
    """Discord answers the bot's next channel creation in the server (every one, with
    ``times=None``) with a 400 carrying ``code``."""
    w.env.inject_error(
        "POST",
        f"/guilds/{w.c.guild.id}/channels",
        status=400,
        code=code,
        message=message,
        times=times,
    )


def _ended_events(world: PairWorld) -> list[int]:
    seen: list[int] = []

    async def on_ended(event: PairEnded) -> None:
        seen.append(event.pair_id)

    world.bot.services.ctx.events.on_pair_ended(on_ended)
    return seen


async def _opened_watching_endings(community: Community) -> tuple[PairWorld, Pair, list[int]]:
    """A pair world with one open pair, and the ids of the pairs that end from now on."""
    w = await pair_world(community)
    ended = _ended_events(w)
    return w, await w.opened(), ended


async def test_accept_opens_a_private_channel_with_exactly_these_overwrites(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    assert pair.status == PairStatus.ACTIVE and pair.space_error is None
    channel = w.bot.get_channel(pair.channel_id)
    settings = await w.settings()
    assert isinstance(channel, discord.TextChannel)
    assert channel.category_id == settings.pair_category_id
    assert channel.name == "ana-reyes-and-kenji-sato"
    guild = channel.guild
    overwrites = channel.overwrites
    assert set(overwrites) == {
        guild.default_role,
        guild.get_member(w.mentee.id),
        guild.get_member(w.mentor.id),
        guild.me,
    }
    everyone_allow, everyone_deny = overwrites[guild.default_role].pair()
    assert everyone_allow.value == 0 and _flags(everyone_deny) == {"view_channel"}
    for member_id in (w.mentee.id, w.mentor.id):
        allow, deny = overwrites[guild.get_member(member_id)].pair()
        assert _flags(allow) == set(MEMBER_ALLOW) and deny.value == 0
    bot_allow, _ = overwrites[guild.me].pair()
    assert _flags(bot_allow) == set(BOT_ALLOW) == {*MEMBER_ALLOW, "embed_links"}
    for ow in overwrites.values():
        assert not any(flag.startswith("manage_") for flag in _flags(ow.pair()[0]))
    # the overwrites went out in the create call itself, never patched afterwards
    creates = [
        r for r in w.env.http_requests if r.method == "POST" and r.path.endswith("/channels")
    ]
    assert len(creates[-1].json["permission_overwrites"]) == 4
    assert not [r for r in w.env.http_requests if "/permissions/" in r.path]

    handle = w.channel(pair.channel_id)
    await w.mentee.send(handle, "hello Kenji!")
    await w.mentor.send(handle, "hi Ana")
    with pytest.raises(simcord.BackendError) as denied:
        await w.third.send(handle, "can I join?")
    assert denied.value.code == 50001
    with pytest.raises(simcord.SetupError):
        handle.history(viewer=w.third)
    with pytest.raises(simcord.BackendError):
        await community.moderator.send(handle, "moderators can't see it unless chosen")


async def test_moderator_role_sees_the_space_only_when_the_guild_chose_so(
    community: Community,
) -> None:
    w = await pair_world(community, moderators_see=True)
    pair = await w.opened()
    channel = w.bot.get_channel(pair.channel_id)
    role = channel.guild.get_role(community.moderator_role.id)
    assert _flags(channel.overwrites[role].pair()[0]) == set(MODERATOR_ALLOW)
    handle = w.channel(pair.channel_id)
    await community.moderator.send(handle, "hello from the community team")
    opening = handle.history()[0]
    assert "Community Team" in opening.content and "Who can see this channel" in opening.content
    # seeing the space is not being in the pair: the buttons refuse, nothing changes
    refused = await community.moderator.click(opening, label="End mentorship")
    assert refused.ephemeral and refused.modal is None
    assert "someone else" in refused.response.content
    assert (await load_pair(w.bot, pair.id)).status == PairStatus.ACTIVE


async def test_concurrent_accepted_events_give_one_channel(community: Community) -> None:
    w = await pair_world(community)
    pair_id = await make_pair(w.bot, community.guild.id, w.mentee.id, w.mentor.id)
    pairs = w.bot.services.pairs

    def creates() -> int:
        return len(
            [r for r in w.env.http_requests if r.method == "POST" and r.path.endswith("/channels")]
        )

    before = creates()
    await in_bot(w.env, *(pairs.open_space(pair_id) for _ in range(8)))
    settings = await w.settings()
    category = w.bot.get_channel(settings.pair_category_id)
    assert len(category.channels) == 1 and creates() == before + 1
    pair = await load_pair(w.bot, pair_id)
    assert pair.status == PairStatus.ACTIVE and pair.channel_id == category.channels[0].id
    # a late retry (sweep or moderator) changes nothing either
    await in_bot(w.env, pairs.open_space(pair_id), pairs.open_pending(w.env.now()))
    assert creates() == before + 1 and len(category.channels) == 1


async def test_the_51st_pair_rolls_over_to_a_new_private_category(community: Community) -> None:
    w = await pair_world(community)
    settings = await w.settings()
    first = next(h for h in community.guild.channels.values() if h.id == settings.pair_category_id)
    for n in range(50):
        community.guild.create_text_channel(f"earlier-pair-{n}", category=first)
    await w.env.settle()
    pair = await w.opened()
    channel = w.bot.get_channel(pair.channel_id)
    assert channel.category is not None and channel.category.name == "Mentorship 2"
    guild = channel.guild
    assert not channel.category.permissions_for(guild.get_member(w.third.id)).view_channel
    assert len(channel.overwrites) == 4  # the pair's own full set, not inherited
    # the next pair goes into the same overflow category, not a third one
    other = community.guild.add_member(w.env.create_user("lee_mentee"))
    await w.env.settle()
    second = await w.opened(other)
    assert w.bot.get_channel(second.channel_id).category.id == channel.category.id


async def test_discord_refusing_a_full_category_also_rolls_over(community: Community) -> None:
    w = await pair_world(community)
    _refuse_channels(w, 50035, "Invalid Form Body: CHANNEL_PARENT_MAX_CHANNELS")
    pair = await w.opened()
    assert pair.status == PairStatus.ACTIVE
    assert w.bot.get_channel(pair.channel_id).category.name == "Mentorship 2"


async def test_bot_without_manage_channels_leaves_a_pending_pair_and_one_alert(
    community: Community,
) -> None:
    w = await pair_world(community)
    set_bot_permission(community, "manage_channels", False)
    await w.env.settle()
    alerts_before = len(w.alerts())
    pair = await w.opened()
    pair_id = pair.id
    assert pair.status == PairStatus.OPENING and pair.space_error == "missing_permissions"
    # retries (accepted again, the sweep) do not alert again
    pairs = w.bot.services.pairs
    await in_bot(w.env, pairs.open_space(pair_id))
    await in_bot(w.env, pairs.open_pending(w.env.now()))
    alerts = w.alerts()[alerts_before:]
    assert len(alerts) == 1
    assert "Manage Channels" in alerts[0].content and f"pair:{pair_id}" in alerts[0].content
    for person in (w.mentee, w.mentor):
        dms = person.user.dm_channel.history()
        assert len([d for d in dms if "taking a little longer" in d.content]) == 1
    # a moderator fixes the permission and retries
    set_bot_permission(community, "manage_channels", True)
    await w.env.settle()
    result = await community.moderator.slash(community.general, "pairs recreate", pair=pair_id)
    assert result.ephemeral and "open again" in result.response.content
    assert (await load_pair(w.bot, pair_id)).status == PairStatus.ACTIVE


async def test_opening_message_introduces_with_shared_fields_reasons_and_starters(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    opening = w.channel(pair.channel_id).history()[0]
    text = opening.content
    for reason in REASONS:
        assert reason in text
    assert text.count("\n1. ") == 1 and "\n3. " in text
    assert "Who can see this channel" in text and "the two of you" in text
    cards = {e.title: {f.name: f.value for f in e.fields} for e in opening.embeds}
    mentee_card = cards["Mentee: Ana Reyes"]
    mentor_card = cards["Mentor: Kenji Sato"]
    assert mentee_card["Languages"] == "English, Tagalog"
    assert "Career" in mentor_card
    assert "What I hope for" not in mentor_card  # not shared with the match
    labels = [c.label for row in opening.components for c in row.children]
    assert labels == ["How it's going", "Pause reminders", "End mentorship"]
    assert {u.id for u in opening.mentions} == {w.mentee.id, w.mentor.id}


async def test_echoed_profile_text_pings_no_one_and_cannot_break_the_layout(
    community: Community,
) -> None:
    w = await pair_world(community)
    role_id = community.moderator_role.id
    hostile = (
        f"@everyone @here <@&{role_id}> **bold** `code`\n# Heading\n> quote "
        "\u202eevil\u202c ||spoiler|| [link](https://x.example)"
    )
    await give_profile(
        w.bot, community.guild.id, w.mentee.id, {**MENTEE_DEFAULTS, "about": hostile}
    )
    pair = await w.opened(reasons=["@everyone **look**"])
    opening = w.channel(pair.channel_id).history()[0]
    assert not opening.mention_everyone and not opening.role_mentions
    assert {u.id for u in opening.mentions} == {w.mentee.id, w.mentor.id}
    posted = next(
        r
        for r in w.env.http_requests
        if r.method == "POST" and r.path == f"/channels/{pair.channel_id}/messages"
    )
    mentions = posted.json["allowed_mentions"]
    assert mentions["parse"] == []
    assert sorted(int(u) for u in mentions["users"]) == sorted([w.mentee.id, w.mentor.id])
    assert not mentions.get("roles")
    about = next(f.value for e in opening.embeds for f in e.fields if f.name == "About me")
    for raw in ("@everyone", "@here", f"<@&{role_id}>", "**bold**", "\u202e", "\n#"):
        assert raw not in about
    assert "@everyone" not in opening.content and "**look**" not in opening.content


async def test_a_checkin_arrives_on_schedule_once_also_across_a_restart(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    pairs = w.bot.services.pairs
    await w.env.advance_time(13 * DAY)
    await pairs.checkins_due(w.env.now())
    assert len(handle.history()) == 1  # only the opening message: not due yet
    await w.env.advance_time(1 * DAY + 1)
    await asyncio.gather(pairs.checkins_due(w.env.now()), pairs.checkins_due(w.env.now()))
    await w.env.settle()
    checkins = [m for m in handle.history() if "Check-in" in m.content]
    assert len(checkins) == 1
    await w.env.restart_bot(bot_factory())
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert len([m for m in handle.history() if "Check-in" in m.content]) == 1
    # the buttons still work after the restart; "need help" tells moderators, no content
    before = len(w.alerts())
    result = await w.mentee.click(checkins[0], label="We need help")
    assert result.ephemeral and "moderator" in result.response.content
    new_alerts = w.alerts()[before:]
    assert len(new_alerts) == 1 and f"#{pair.id}" in new_alerts[0].content
    with pytest.raises(simcord.SetupError):
        await w.third.click(checkins[0], label="Going well")
    # the next one comes a month later
    await w.env.advance_time(30 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    assert len([m for m in handle.history() if "Check-in" in m.content]) == 2
    async with w.bot.database.session() as session:
        count = await session.scalar(select(func.count()).select_from(PairCheckin))
    assert count == 2


async def test_silence_nudges_then_tells_moderators_once(community: Community) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    pairs = w.bot.services.pairs
    before = len(w.alerts())
    for _ in range(2):
        await w.env.advance_time(21 * DAY + 1)
        await pairs.nudge_quiet(w.env.now())
        await pairs.nudge_quiet(w.env.now())
    nudges = [m for m in handle.history() if "quiet here" in m.content]
    assert len(nudges) == 2
    assert len(w.alerts()) == before
    await w.env.advance_time(21 * DAY + 1)
    await pairs.nudge_quiet(w.env.now())
    await pairs.nudge_quiet(w.env.now())
    alerts = w.alerts()[before:]
    assert (
        len(alerts) == 1 and "quiet" in alerts[0].content and "2 gentle nudges" in alerts[0].content
    )
    # talking resets the count
    await w.mentee.send(handle, "sorry, busy month!")
    await w.env.advance_time(21 * DAY + 1)
    await pairs.nudge_quiet(w.env.now())
    assert len([m for m in handle.history() if "quiet here" in m.content]) == 3


async def test_ending_revokes_sending_offers_a_new_match_and_deletes_later(
    community: Community,
) -> None:
    w, pair, ended = await _opened_watching_endings(community)
    pair_id = pair.id
    handle = w.channel(pair.channel_id)
    shown = await w.mentee.slash(handle, "pair end", reason="We drifted apart, no hard feelings")
    assert shown.ephemeral and "end this mentorship" in shown.response.content
    await w.mentee.click(shown.response.message, label="Yes, end the mentorship")
    await w.env.settle()
    pair = await load_pair(w.bot, pair_id)
    assert pair.status == PairStatus.ENDED and pair.ended_by_id == w.mentee.id
    assert w.bot.cipher.decrypt(pair.end_reason_enc) == "We drifted apart, no hard feelings"
    assert ended == [pair_id]
    for person in (w.mentee, w.mentor):
        with pytest.raises(simcord.BackendError):
            await person.send(handle, "still here?")
        assert handle.history(viewer=person)  # still readable until deletion
    channel = w.bot.get_channel(pair.channel_id)
    assert not channel.permissions_for(channel.guild.get_member(w.mentor.id)).send_messages
    # the note is for moderators only, never in the pair space or general
    assert "drifted" not in " ".join(m.content for m in handle.history())
    assert "drifted" not in " ".join(m.content for m in community.general.history())
    assert any("drifted" in m.content for m in w.alerts())
    # a second end changes nothing
    pairs = w.bot.services.pairs
    again = await asyncio.gather(
        *(pairs.end(pair_id, actor_id=w.mentor.id, reason=None, cause="ended") for _ in range(3))
    )
    assert not any(again) and ended == [pair_id]
    # retention: the space is deleted after 30 days, exactly once
    await w.env.advance_time(29 * DAY)
    await pairs.delete_due(w.env.now())
    assert w.bot.get_channel(pair.channel_id) is not None
    await w.env.advance_time(1 * DAY + 1)
    await asyncio.gather(pairs.delete_due(w.env.now()), pairs.delete_due(w.env.now()))
    await w.env.settle()
    assert w.bot.get_channel(pair.channel_id) is None
    assert (await load_pair(w.bot, pair_id)).status == PairStatus.ENDED


async def test_either_person_can_delete_an_ended_space_sooner(community: Community) -> None:
    w = await pair_world(community)
    pair, handle = await w.opened_space()
    opening = handle.history()[0]
    shown = await w.mentor.click(opening, label="End mentorship")
    assert shown.modal is not None
    confirm = await w.mentor.submit_modal(shown, {"reason": ""})
    await w.mentor.click(confirm.response.message, label="Yes, end the mentorship")
    closing = handle.history()[-1]
    assert "read-only" in closing.content
    await w.mentee.click(closing, label="Delete this space now")
    await w.env.settle()
    assert w.bot.get_channel(pair.channel_id) is None


async def test_a_member_leaving_ends_the_pair_and_the_other_is_told_kindly(
    community: Community,
) -> None:
    w, pair, ended = await _opened_watching_endings(community)
    pair_id = pair.id
    community.guild.remove_member(w.mentor)
    await w.env.settle()
    assert (await load_pair(w.bot, pair_id)).status == PairStatus.ENDED
    assert ended == [pair_id]
    dms = [m.content for m in w.mentee.user.dm_channel.history()]
    assert any("left the server" in d and "isn't about you" in d for d in dms)
    with pytest.raises(simcord.BackendError):
        await w.mentee.send(w.channel(pair.channel_id), "hello?")


async def _active_mentees(w: Any) -> int:
    from bot.db.models import MemberProfile

    async with w.bot.database.session() as session:
        row = await session.get(MemberProfile, (w.c.guild.id, w.mentor.id), populate_existing=True)
    return row.active_mentees if row else -1


async def test_a_space_deleted_by_hand_ends_the_match_and_can_be_recreated(
    community: Community,
) -> None:
    w, pair, ended = await _opened_watching_endings(community)
    pair_id = pair.id
    w.env.backend.delete_channel(pair.channel_id)
    await w.env.settle()
    after = await load_pair(w.bot, pair_id)
    assert after.status == PairStatus.ENDED and after.channel_id is None
    assert ended == [pair_id]
    for person in (w.mentee, w.mentor):
        assert any("removed" in m.content for m in person.user.dm_channel.history())
    assert await _active_mentees(w) == 0  # ending gave the mentor's slot back
    result = await community.moderator.slash(community.general, "pairs recreate", pair=pair_id)
    assert "open again" in result.response.content
    assert await _active_mentees(w) == 1  # and reopening takes it again
    restored = await load_pair(w.bot, pair_id)
    assert restored.status == PairStatus.ACTIVE and restored.channel_id not in (
        None,
        pair.channel_id,
    )


async def test_report_pauses_contact_blocks_and_is_idempotent(community: Community) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    pair_id = pair.id
    handle = w.channel(pair.channel_id)
    before = len(w.alerts())
    first = await w.mentee.slash(
        handle, "pair report", reason="He keeps @everyone-ing me", pause_contact=True, block=True
    )
    assert first.ephemeral and "privately to the moderators" in first.response.content
    again = await w.mentee.slash(handle, "pair report", reason="again", pause_contact=True)
    assert "already reported" in again.response.content
    alerts = w.alerts()[before:]
    assert len(alerts) == 1 and "@everyone" not in alerts[0].content.replace("@\u200beveryone", "")
    assert (await load_pair(w.bot, pair_id)).status == PairStatus.PAUSED
    with pytest.raises(simcord.BackendError):
        await w.mentor.send(handle, "hello?")
    await w.mentee.send(handle, "I can still write here")
    async with w.bot.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Block)) == 1
        report = (await session.execute(select(PairReport))).scalar_one()
        assert "everyone-ing" not in (report.reason_enc or "")  # encrypted at rest
        exported = await export_member(session, user_id=w.mentee.id, cipher=w.bot.cipher)
    assert exported["pair_reports"][0]["reason"] == "He keeps @everyone-ing me"
    resumed = await community.moderator.slash(community.general, "pairs resume", pair=pair_id)
    assert "can talk again" in resumed.response.content
    await w.mentor.send(handle, "thanks for the space")


async def test_moderators_list_pairs_without_content_and_members_cannot(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    pair_id = pair.id
    await w.mentee.send(w.channel(pair.channel_id), "a secret about my family")
    listed = await community.moderator.slash(community.general, "pairs list")
    text = listed.response.content
    assert listed.ephemeral and f"#{pair_id}" in text and "Ana Reyes" in text
    assert "Kenji Sato" in text and "2026-01-01" in text and "secret" not in text
    with pytest.raises(simcord.SetupError):
        await w.mentee.slash(community.general, "pairs list")
    w.bot.tree.get_command("pairs").default_permissions = None
    await w.bot.tree.sync()
    refused = await w.mentee.slash(community.general, "pairs end", pair=pair_id)
    simcord.assert_error(w.env, app_commands.CheckFailure)
    assert refused.ephemeral and (await load_pair(w.bot, pair_id)).status == PairStatus.ACTIVE
    ended = await community.moderator.slash(community.general, "pairs end", pair=pair_id)
    assert "has ended" in ended.response.content


async def test_private_threads_are_the_configured_alternative(community: Community) -> None:
    w = await pair_world(community)
    holder = community.guild.create_text_channel("pair-threads")
    await w.env.settle()
    result = await community.moderator.slash(
        community.general, "pairs settings", use_threads=True, thread_channel=holder
    )
    assert "private threads" in result.response.content
    pair = await w.opened()
    assert pair.status == PairStatus.ACTIVE and pair.thread_id is not None
    assert pair.channel_id is None
    created = next(r for r in w.env.http_requests if r.path == f"/channels/{holder.id}/threads")
    assert created.json["type"] == discord.ChannelType.private_thread.value
    assert created.json["invitable"] is False
    thread = next(t for t in holder.threads if t.id == pair.thread_id)
    await w.mentee.send(thread, "hello in our thread")
    with pytest.raises(simcord.BackendError) as denied:
        await w.third.send(thread, "let me in")
    assert denied.value.code == 50001
    opening = thread.history()[0]
    assert "Who can see this thread" in opening.content and "Manage Threads" in opening.content


async def test_a_full_guild_leaves_the_pair_pending_with_one_alert(community: Community) -> None:
    w = await pair_world(community)
    _refuse_channels(w, 30013, "Maximum number of guild channels reached (500)", times=None)
    before = len(w.alerts())
    pair_id = await w.accept()
    await in_bot(w.env, w.bot.services.pairs.open_pending(w.env.now()))
    pair = await load_pair(w.bot, pair_id)
    assert pair.status == PairStatus.OPENING and pair.space_error == "guild_full"
    alerts = w.alerts()[before:]
    assert len(alerts) == 1 and "500 channels" in alerts[0].content
    assert "use_threads" in alerts[0].content


async def test_pause_reminders_holds_checkins_until_resumed(community: Community) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    opening = handle.history()[0]
    paused = await w.mentor.click(opening, label="Pause reminders")
    assert paused.ephemeral and "paused" in paused.response.content
    with pytest.raises(simcord.SetupError):
        await w.third.click(opening, label="Pause reminders")
    pairs = w.bot.services.pairs
    await w.env.advance_time(15 * DAY)
    await pairs.checkins_due(w.env.now())
    assert not [m for m in handle.history() if "Check-in" in m.content]
    resumed = await w.mentee.click(opening, label="Pause reminders")
    assert "back on" in resumed.response.content
    await pairs.checkins_due(w.env.now())
    assert len([m for m in handle.history() if "Check-in" in m.content]) == 1


async def test_a_space_deleted_while_lantern_was_away_ends_the_match_at_the_checkin(
    community: Community, bot_factory: Any
) -> None:
    w, pair, ended = await _opened_watching_endings(community)
    pair_id = pair.id
    # the channel vanishes without Lantern seeing the event (e.g. it was offline)
    guild = w.env.backend.guilds[community.guild.id]
    guild.channel_ids.remove(pair.channel_id)
    del w.env.backend.channels[pair.channel_id]
    await w.env.restart_bot(bot_factory())
    ended = _ended_events(w)
    await w.env.advance_time(15 * DAY)
    await w.bot.run_sweeps(w.env.now())
    await w.env.settle()
    after = await load_pair(w.bot, pair_id)
    assert after.status == PairStatus.ENDED and after.channel_id is None
    assert ended == [pair_id]
    assert any("removed" in m.content for m in w.mentee.user.dm_channel.history())


async def test_how_its_going_button_lets_a_member_ask_for_help_any_time(
    community: Community,
) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    pair_id = pair.id
    opening = w.channel(pair.channel_id).history()[0]
    shown = await w.mentee.click(opening, label="How it's going")
    assert shown.ephemeral
    before = len(w.alerts())
    answered = await w.mentee.click(shown.response.message, label="We need help")
    assert answered.ephemeral
    alerts = w.alerts()[before:]
    assert len(alerts) == 1 and f"#{pair_id}" in alerts[0].content


async def test_reports_are_rate_limited_per_person(community: Community) -> None:
    w = await pair_world(community)
    # One mentor with four mentees reports in each of the four spaces.
    await give_profile(w.bot, community.guild.id, w.mentor.id, {**MENTOR_ANSWERS, "capacity": 5})
    channels = []
    for n in range(4):
        mentee = community.guild.add_member(w.env.create_user(f"mentee_{n}"))
        await w.env.settle()
        await give_profile(w.bot, community.guild.id, mentee.id, MENTEE_DEFAULTS)
        pair = await w.opened(mentee)
        channels.append(w.channel(pair.channel_id))
    for handle in channels[:3]:
        sent = await w.mentor.slash(handle, "pair report", reason="not ok")
        assert "privately to the moderators" in sent.response.content
        await w.env.advance_time(61)  # the per-member cooldown between reports
    held = await w.mentor.slash(channels[3], "pair report", reason="not ok")
    simcord.assert_error(w.env, UserFacingError)
    assert held.ephemeral and "several reports today" in held.response.content
    async with w.bot.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(PairReport)) == 3
