"""/mydata end to end: export holds exactly the caller's data, delete asks first and leaves no
trace, the question survives a restart and only its member may answer it, withdraw offers
deletion, and a member leaving a server is handled once."""

from __future__ import annotations

import json
from typing import Any

import discord
import simcord

from bot.db.models import ConsentStatus, SubscriptionStatus
from bot.db.queries.members import get_prompt_subscription
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
from tests.factories import tables_naming


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
