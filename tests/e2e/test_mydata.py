"""/mydata end to end: export holds exactly the caller's data, delete asks first and leaves no
trace, the question survives a restart and only its member may answer it, withdraw offers
deletion, and a member leaving a server is handled once."""

from __future__ import annotations

import json
from typing import Any

import discord
import simcord
from sqlalchemy import select

from bot.db.models import (
    AuditEntry,
    Block,
    ConsentStatus,
    Pair,
    PairReport,
    RequestStatus,
    SubscriptionStatus,
)
from bot.db.queries.matching import blocked_between, get_request
from bot.db.queries.members import get_prompt_subscription
from bot.domain.member_data import actor_text
from tests.e2e.conftest import Community
from tests.e2e.onboarding_flow import (
    ABOUT_ANN,
    HERITAGE_ANN,
    MENTEE_PAGES,
    joins,
    labels,
    profile_of,
    row_of,
    two_onboarded,
)
from tests.e2e.pairs_helpers import MENTOR_ANSWERS, give_profile, pair_world
from tests.factories import MENTEE_DEFAULTS, count_rows, tables_naming


async def test_withdrawing_consent_stops_matching_and_offers_deletion(community: Community) -> None:
    env = community.env
    ann = await joins(community, pages=MENTEE_PAGES)
    result = await ann.slash(community.general, "mydata withdraw")
    assert result.ephemeral and "won't match you" in result.response.content
    row = await row_of(env, community.guild.id, ann.id)
    assert row.consent_status == ConsentStatus.WITHDRAWN
    await ann.click(result.response, label="Yes, delete everything")
    assert await row_of(env, community.guild.id, ann.id) is None


async def test_export_holds_exactly_the_callers_data(community: Community) -> None:
    ann, ben = await two_onboarded(community.env, community.guild)
    result = await ann.slash(community.general, "mydata export")
    assert result.ephemeral
    files = result.response.attachments
    assert len(files) == 1
    data = json.loads(await files[0].read())
    text = json.dumps(data, ensure_ascii=False)
    assert ABOUT_ANN in text and HERITAGE_ANN in text
    assert "Twenty years" not in text and str(ben.id) not in text
    assert data["data"]["profile"][0]["answers"]["about"] == ABOUT_ANN
    assert data["data"]["prompt_subscription"][0]["status"] == "subscribed"


async def test_delete_leaves_no_trace_in_any_table(community: Community) -> None:
    env = community.env
    ann, ben = await two_onboarded(community.env, community.guild)
    assert await tables_naming(env.bot.database, ann.id, as_text=True)
    asked = await ann.slash(community.general, "mydata delete")
    assert asked.ephemeral and labels(asked.response) == ["Yes, delete everything", "Keep my data"]
    done = await ann.click(asked.response, label="Yes, delete everything")
    assert "deleted" in (done.response.content if done.response else asked.response.content)
    assert await tables_naming(env.bot.database, ann.id, as_text=True) == []
    assert (await profile_of(env, community.guild.id, ben.id)).capacity == 2


async def test_keep_my_data_deletes_nothing(community: Community) -> None:
    env = community.env
    ann, _ = await two_onboarded(community.env, community.guild)
    asked = await ann.slash(community.general, "mydata delete")
    await ann.click(asked.response, label="Keep my data")
    assert (await profile_of(env, community.guild.id, ann.id)).about == ABOUT_ANN


async def test_the_delete_question_still_works_after_a_restart(
    community: Community, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    ann, _ = await two_onboarded(env, community.guild)
    asked = await ann.slash(community.general, "mydata delete")
    await env.restart_bot(bot_factory())
    await ann.click(asked.response, label="Yes, delete everything")
    assert await tables_naming(env.bot.database, ann.id, as_text=True) == []


async def test_only_the_member_asked_may_answer_the_delete_question(community: Community) -> None:
    env = community.env
    ann, ben = await two_onboarded(env, community.guild)
    # Ben presses a copy of the button that asks Ann: refused, nothing deleted.
    refused = await _press_as(env, community, ben, f"lantern:mydata:erase:{ann.id}:yes")
    assert refused.ephemeral and "belongs to someone else" in refused.response.content
    assert (await profile_of(env, community.guild.id, ann.id)).about == ABOUT_ANN
    assert (await profile_of(env, community.guild.id, ben.id)) is not None


async def _press_as(
    env: simcord.Env, community: Community, member: simcord.MemberActor, custom_id: str
) -> Any:
    """``member`` presses a button with ``custom_id`` on a message the bot posted."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Press", custom_id=custom_id))
    channel = env.bot.get_channel(community.general.id)
    assert isinstance(channel, discord.TextChannel)
    with env._bot_scope():
        message = await channel.send("A copied button", view=view)
    await env.settle()
    handle = next(m for m in community.general.history() if m.id == message.id)
    return await member.click(handle, label="Press")


async def test_a_member_leaving_stops_their_prompts_there(community: Community) -> None:
    env = community.env
    ann = await joins(community, pages=MENTEE_PAGES)
    community.guild.remove_member(ann)
    await env.settle()
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=ann.id)
    assert sub is not None and sub.status == SubscriptionStatus.UNSUBSCRIBED
    row = await row_of(env, community.guild.id, ann.id)
    assert row is not None and row.consent_status == ConsentStatus.ACCEPTED  # nothing erased


# --------------------------------------------------------- the other person's side (issue 11)


async def _export(member: simcord.MemberActor, channel: simcord.ChannelHandle) -> tuple[Any, str]:
    result = await member.slash(channel, "mydata export")
    assert result.ephemeral
    raw = (await result.response.attachments[0].read()).decode("utf-8")
    return result, raw


async def test_export_gives_only_the_members_side_of_two_party_rows(
    community: Community,
) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    report = "He keeps [pinging](https://example.com) me at 3am"
    await w.mentee.slash(handle, "pair report", reason=report, pause_contact=True, block=True)
    shown = await w.mentee.slash(handle, "pair end", reason="Note for moderators: he scares me")
    await w.mentee.click(shown.response.message, label="Yes, end the mentorship")
    await w.env.settle()

    # The mentor (reported, blocked, left): nothing of the mentee's id, words or choices.
    result, raw = await _export(w.mentor, community.general)
    assert str(w.mentee.id) not in raw
    assert "pinging" not in raw and "scares me" not in raw
    data = json.loads(raw)["data"]
    assert "blocks" not in data and "pair_reports" not in data
    (mine,) = data["pairs"]
    assert mine["mentor_id"] == str(w.mentor.id) and "mentee_id" not in mine
    assert "end_reason" not in mine and "ended_by_id" not in mine
    assert "other people" in result.response.content
    left_out = json.loads(raw)["left_out"]
    assert "other people" in left_out["why"] and "pairs" in left_out["tables"]

    # The mentee: her own report and block and her own ending note, never the mentor's id.
    _, raw = await _export(w.mentee, community.general)
    assert str(w.mentor.id) not in raw
    data = json.loads(raw)["data"]
    assert data["pair_reports"][0]["reason"] == report
    assert data["pair_reports"][0]["block"] is True and "reported_id" not in data["pair_reports"][0]
    assert data["blocks"][0]["blocker_id"] == str(w.mentee.id)
    assert data["pairs"][0]["end_reason"] == "Note for moderators: he scares me"


async def test_a_blocked_member_erasing_keeps_the_block_and_the_report(
    community: Community,
) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    await w.mentee.slash(
        handle, "pair report", reason="Unkind to me", pause_contact=True, block=True
    )
    asked = await w.mentor.slash(community.general, "mydata delete")
    await w.mentor.click(asked.response, label="Yes, delete everything")
    await w.env.settle()
    # No raw id of the mentor is left anywhere, but the block and the report survive.
    assert await tables_naming(w.bot.database, w.mentor.id, as_text=True) == []
    async with w.bot.database.session() as session:
        blocks = (await session.execute(select(Block))).scalars().all()
        reports = (await session.execute(select(PairReport))).scalars().all()
    assert [b.blocker_id for b in blocks] == [w.mentee.id] and blocks[0].blocked_key
    assert [r.reporter_id for r in reports] == [w.mentee.id] and reports[0].reported_key
    assert w.bot.cipher.decrypt(reports[0].reason_enc) == "Unkind to me"
    # The mentor comes back and onboards again: the block still holds.
    for member, answers in ((w.mentee, MENTEE_DEFAULTS), (w.mentor, MENTOR_ANSWERS)):
        await give_profile(w.bot, community.guild.id, member.id, answers, completed=True)
    await w.mentee.slash(community.general, "match request")
    refused = await community.moderator.slash(
        community.general, "matching manual", mentee=w.mentee, mentor=w.mentor
    )
    assert "blocked" in refused.response.content
    simcord.assert_error(w.env, Exception, contains="blocked")
    async with w.bot.database.session() as session:
        assert await blocked_between(
            session, guild_id=community.guild.id, a=w.mentee.id, b=w.mentor.id, cipher=w.bot.cipher
        )


async def test_a_members_own_blocks_and_reports_leave_with_them(community: Community) -> None:
    w = await pair_world(community)
    _pair, handle = await w.opened_space()
    await w.mentee.slash(handle, "pair report", reason="Unkind to me", block=True)
    asked = await w.mentee.slash(community.general, "mydata delete")
    await w.mentee.click(asked.response, label="Yes, delete everything")
    await w.env.settle()
    assert await tables_naming(w.bot.database, w.mentee.id, as_text=True) == []
    assert await count_rows(w.bot.database, Block) == 0
    assert await count_rows(w.bot.database, PairReport) == 0


async def test_a_moderators_erasure_keeps_the_audit_trail_anonymised(
    community: Community,
) -> None:
    env = community.env
    moderator = community.moderator
    await moderator.slash(community.general, "setup", moderator_role=community.moderator_role)
    asked = await moderator.slash(community.general, "mydata delete")
    await moderator.click(asked.response, label="Yes, delete everything")
    await env.settle()
    assert await tables_naming(env.bot.database, moderator.id, as_text=True) == []
    async with env.bot.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.action, e.actor_id) for e in entries] == [("setup", None)]
    assert actor_text(entries[0].actor_id) == "a moderator who has since erased their data"


async def test_a_mentor_erasing_while_paired_ends_the_pair_kindly(community: Community) -> None:
    w = await pair_world(community)
    # Ken mentors one mentee at a time; Zed waits for a mentor while Ken's place is taken.
    for member, answers in (
        (w.mentor, {**MENTOR_ANSWERS, "capacity": 1}),
        (w.mentee, MENTEE_DEFAULTS),
        (w.third, MENTEE_DEFAULTS),
    ):
        await give_profile(w.bot, community.guild.id, member.id, answers, completed=True)
    pair = await w.opened()
    waiting = await w.third.slash(community.general, "match request")
    assert waiting.ephemeral
    asked = await w.mentor.slash(community.general, "mydata delete")
    done = await w.mentor.click(asked.response, label="Yes, delete everything")
    await w.env.settle()
    assert "deleted" in (done.response.content if done.response else asked.response.content)
    assert any("stepped away" in m.content for m in w.mentee.user.dm_channel.history())
    assert await tables_naming(w.bot.database, w.mentor.id, as_text=True) == []
    assert await count_rows(w.bot.database, Pair, id=pair.id) == 0
    # The place the ended pair freed was never offered to Zed while Ken was leaving.
    async with w.bot.database.session() as session:
        request = await get_request(session, guild_id=community.guild.id, mentee_id=w.third.id)
    assert request is not None and request.status == RequestStatus.WAITING
    status = await w.third.slash(community.general, "match status")
    assert "introduced" not in status.response.content.lower()
