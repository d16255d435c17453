"""Plain words in DMs: one answer per DM, one use case per intent, the server chosen once."""

from __future__ import annotations

from typing import Any

import simcord

from bot.db.models import SubscriptionStatus
from bot.db.queries.members import (
    get_prompt_subscription,
    set_prompt_subscription,
)
from tests.e2e.conftest import Community
from tests.e2e.onboarding_flow import MENTEE_PAGES, joins, labels, profile_of


async def _said(ann: simcord.MemberActor, text: str) -> Any:
    await ann.user.send_dm(text)
    return ann.user.dm_channel.last_message


async def test_help_and_unknown_words_get_the_menu(community: Community) -> None:
    ann = await joins(community)
    assert "I'm Lantern" in (await _said(ann, "help")).content
    reply = await _said(ann, "what's for dinner?")
    assert "not sure I understood" in reply.content and "delete my data" in reply.content


async def test_my_profile_shows_only_their_answers_safely(community: Community) -> None:
    ann = await joins(community, pages=MENTEE_PAGES)
    reply = await _said(ann, "show my profile")
    assert "Your Lantern profile" in reply.content
    assert "Identity exploration" in reply.content and "America/Vancouver" in reply.content


async def test_a_reply_to_a_message_that_is_no_prompt_is_read_as_plain_words_once(
    community: Community,
) -> None:
    env = community.env
    ann = await joins(community)
    welcome = ann.user.dm_channel.last_message
    channel = ann.user.dm_channel
    reference = {"channel_id": str(channel.id), "message_id": str(welcome.id)}
    answers = await _replies(env, ann, "help", reference=reference)
    assert [a.content for a in answers if "I'm Lantern" in a.content] == [answers[0].content]
    assert len(answers) == 1


async def test_pause_and_resume_prompts(community: Community) -> None:
    env = community.env
    ann = await joins(community, pages=MENTEE_PAGES)
    assert "paused" in (await _said(ann, "pause prompts")).content
    assert await _status(env, community.guild.id, ann.id) == SubscriptionStatus.PAUSED
    await _said(ann, "resume prompts")
    assert await _status(env, community.guild.id, ann.id) == SubscriptionStatus.SUBSCRIBED


async def test_find_me_a_mentor_in_dm_puts_them_on_the_waiting_list(
    community: Community,
) -> None:
    ann = await joins(community, pages=MENTEE_PAGES)
    reply = await _said(ann, "I'd like to find a mentor")
    assert "waiting list, number 1" in reply.content
    status = await ann.slash(community.general, "match status")
    assert "waiting list" in status.response.content


async def test_find_me_a_mentor_before_onboarding_points_to_onboard(
    community: Community,
) -> None:
    ann = await joins(community)
    reply = await _said(ann, "find me a mentor")
    assert "/onboard" in reply.content


async def test_delete_my_data_in_dm_asks_then_erases(community: Community) -> None:
    env = community.env
    ann = await joins(community, pages=MENTEE_PAGES)
    question = await _said(ann, "please delete my data")
    assert labels(question) == ["Yes, delete everything", "Keep my data"]
    await ann.user.click(question, label="Yes, delete everything")
    assert await profile_of(env, community.guild.id, ann.id) is None


async def _replies(
    env: simcord.Env, ann: simcord.MemberActor, text: str, **message: Any
) -> list[Any]:
    """Every DM the bot sends ``ann`` in answer to her DM ``text`` (``message`` holds extra
    fields of her message, such as the one it replies to)."""

    def from_bot() -> list[Any]:
        return [m for m in ann.user.dm_channel.history() if m.author.id == env.bot.user.id]

    before = len(from_bot())
    await ann.user.send_dm(text, **message)
    await env.settle()
    return from_bot()[before:]


async def _subscribe(env: simcord.Env, guild_id: int, user_id: int) -> None:
    async with env.bot.database.session() as session:
        await set_prompt_subscription(
            session,
            guild_id=guild_id,
            user_id=user_id,
            status=SubscriptionStatus.SUBSCRIBED,
            now=env.now(),
        )


async def _status(env: simcord.Env, guild_id: int, user_id: int) -> str | None:
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=guild_id, user_id=user_id)
    return sub.status if sub else None


async def _in_two_servers(community: Community) -> tuple[simcord.MemberActor, Any]:
    env = community.env
    other = env.create_guild("Second Circle")
    user = env.create_user("ann")
    community.guild.add_member(user)
    await env.settle()
    second = other.add_member(user)
    await env.settle()
    return second, other


async def test_member_in_two_servers_is_asked_which_one(community: Community) -> None:
    env = community.env
    ann, other = await _in_two_servers(community)
    await ann.user.send_dm("resume prompts")
    chooser = ann.user.dm_channel.last_message
    assert "Which one" in chooser.content
    result = await ann.user.select(chooser, [str(other.id)])
    assert "back on in **Second Circle**" in result.response.content
    assert await _status(env, other.id, ann.id) == SubscriptionStatus.SUBSCRIBED
    assert await _status(env, community.guild.id, ann.id) is None


async def test_pause_prompts_is_answered_once_and_says_which_servers(
    community: Community,
) -> None:
    env = community.env
    ann, other = await _in_two_servers(community)
    for guild_id in (community.guild.id, other.id):
        await _subscribe(env, guild_id, ann.id)
    replies = await _replies(env, ann, "pause prompts")
    assert len(replies) == 1, [r.content for r in replies]
    said = replies[0].content
    assert "Lantern Test Community" in said and "Second Circle" in said
    assert "resume prompts" in said
    for guild_id in (community.guild.id, other.id):
        assert await _status(env, guild_id, ann.id) == SubscriptionStatus.PAUSED
    # Resuming picks one server; the other stays paused.
    await ann.user.send_dm("resume prompts")
    chooser = ann.user.dm_channel.last_message
    await ann.user.select(chooser, [str(community.guild.id)])
    assert await _status(env, community.guild.id, ann.id) == SubscriptionStatus.SUBSCRIBED
    assert await _status(env, other.id, ann.id) == SubscriptionStatus.PAUSED


async def test_pause_prompts_with_nothing_to_pause_says_so_once(community: Community) -> None:
    env = community.env
    ann = await joins(community)
    replies = await _replies(env, ann, "pause prompts")
    assert len(replies) == 1 and "nothing changed" in replies[0].content


async def test_find_me_a_mentor_in_two_servers_asks_which_one(community: Community) -> None:
    env = community.env
    ann = await joins(community, pages=MENTEE_PAGES)
    other = env.create_guild("Second Circle")
    other.add_member(ann.user)
    await env.settle()
    replies = await _replies(env, ann, "find me a mentor")
    assert len(replies) == 1 and "Which one" in replies[0].content
    result = await ann.user.select(replies[0], [str(community.guild.id)])
    assert "waiting list, number 1" in result.response.content
    status = await ann.slash(community.general, "match status")
    assert "waiting list" in status.response.content


async def test_unknown_words_get_one_short_help_reply(community: Community) -> None:
    env = community.env
    ann = await joins(community)
    replies = await _replies(env, ann, "what's the capital of Peru")
    assert len(replies) == 1
    said = replies[0].content
    for words in ("help", "my profile", "find me a mentor", "pause prompts", "delete my data"):
        assert words in said
    assert len(said) < 800


async def test_start_in_dm_shows_consent_then_resumes(community: Community) -> None:
    ann = await joins(community)
    consent = await _said(ann, "start")
    assert "Before we begin" in consent.content
    assert labels(consent) == ["I agree", "No thanks"]
    agreed = await ann.user.click(consent, label="I agree")
    assert "Step 1 of 7" in agreed.response.content
    again = await _said(ann, "continue the questionnaire")
    assert "Step 1 of 7" in again.content and labels(again) == ["Continue"]


async def test_my_profile_before_onboarding_offers_start(community: Community) -> None:
    ann = await joins(community)
    reply = await _said(ann, "my profile")
    assert "/onboard" in reply.content and labels(reply) == ["Start"]
