"""Plain words in DMs, /profile editing, and moderators' totals."""

from __future__ import annotations

from typing import Any

import pytest
import simcord
from sqlalchemy import select

from bot.db.models import AuditEntry, SubscriptionStatus
from bot.db.queries.members import get_prompt_subscription, load_profile
from bot.db.queries.onboarding import onboarding_counts
from bot.domain.onboarding import OnboardingCounts
from tests.e2e.conftest import Community
from tests.e2e.onboarding_flow import ABOUT_ANN, MENTEE_PAGES, labels, onboard_in_dm


async def _ann(community: Community, *, onboard: bool = True) -> simcord.MemberActor:
    ann = community.guild.add_member(community.env.create_user("ann"))
    await community.env.settle()
    if onboard:
        await onboard_in_dm(ann, MENTEE_PAGES)
    return ann


async def _said(ann: simcord.MemberActor, text: str) -> Any:
    await ann.user.send_dm(text)
    return ann.user.dm_channel.last_message


async def test_help_and_unknown_words_get_the_menu(community: Community) -> None:
    ann = await _ann(community, onboard=False)
    assert "I'm Lantern" in (await _said(ann, "help")).content
    reply = await _said(ann, "what's for dinner?")
    assert "not sure I understood" in reply.content and "delete my data" in reply.content


async def test_my_profile_shows_only_their_answers_safely(community: Community) -> None:
    ann = await _ann(community)
    reply = await _said(ann, "show my profile")
    assert "Your Lantern profile" in reply.content
    assert "Identity exploration" in reply.content and "America/Vancouver" in reply.content


async def test_replies_to_messages_are_left_to_reflections(community: Community) -> None:
    ann = await _ann(community, onboard=False)
    welcome = ann.user.dm_channel.last_message
    channel = ann.user.dm_channel
    await ann.user.send_dm(
        "help", reference={"channel_id": str(channel.id), "message_id": str(welcome.id)}
    )
    assert ann.user.dm_channel.last_message.author.id != community.env.bot.user.id


async def test_pause_and_resume_prompts(community: Community) -> None:
    env = community.env
    ann = await _ann(community)
    assert "paused" in (await _said(ann, "pause prompts")).content
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=ann.id)
    assert sub is not None and sub.status == SubscriptionStatus.PAUSED
    await _said(ann, "resume prompts")
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=ann.id)
    assert sub is not None and sub.status == SubscriptionStatus.SUBSCRIBED


async def test_find_me_a_mentor_in_dm_puts_them_on_the_waiting_list(
    community: Community,
) -> None:
    ann = await _ann(community)
    reply = await _said(ann, "I'd like to find a mentor")
    assert "waiting list, number 1" in reply.content
    status = await ann.slash(community.general, "match status")
    assert "waiting list" in status.response.content


async def test_find_me_a_mentor_before_onboarding_points_to_onboard(
    community: Community,
) -> None:
    ann = await _ann(community, onboard=False)
    reply = await _said(ann, "find me a mentor")
    assert "/onboard" in reply.content


async def test_delete_my_data_in_dm_asks_then_erases(community: Community) -> None:
    env = community.env
    ann = await _ann(community)
    question = await _said(ann, "please delete my data")
    assert labels(question) == ["Yes, delete everything", "Keep my data"]
    await ann.user.click(question, label="Yes, delete everything")
    async with env.bot.database.session() as session:
        profile = await load_profile(
            session, guild_id=community.guild.id, user_id=ann.id, cipher=env.bot.cipher
        )
    assert profile is None


async def test_member_in_two_servers_is_asked_which_one(community: Community) -> None:
    env = community.env
    other = env.create_guild("Second Circle")
    user = env.create_user("ann")
    community.guild.add_member(user)
    second = other.add_member(user)
    await env.settle()
    await second.user.send_dm("pause prompts")
    chooser = second.user.dm_channel.last_message
    assert "Which one" in chooser.content
    result = await second.user.select(chooser, [str(other.id)])
    assert "paused" in result.response.content
    async with env.bot.database.session() as session:
        here = await get_prompt_subscription(session, guild_id=other.id, user_id=user.id)
        there = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=user.id)
    assert here is not None and here.status == SubscriptionStatus.PAUSED and there is None


async def test_profile_shows_own_answers_and_edits_one_page(community: Community) -> None:
    env = community.env
    ann = await _ann(community)
    shown = await ann.slash(community.general, "profile")
    assert shown.ephemeral and ABOUT_ANN[:40] in shown.response.content
    form = await ann.select(shown.response, ["rhythm"], custom_id="profile-edit")
    assert form.modal is not None and "Vancouver" in str(form.modal)
    saved = await ann.submit_modal(form, {"timezone": "London", "cadence": ["weekly"]})
    assert "Europe/London" in saved.response.content
    async with env.bot.database.session() as session:
        profile = await load_profile(
            session, guild_id=community.guild.id, user_id=ann.id, cipher=env.bot.cipher
        )
    assert profile.timezone == "Europe/London" and profile.about == ABOUT_ANN
    assert profile.meeting_times == ()  # cleared in the form, so cleared in the profile


async def test_profile_before_onboarding_points_to_onboard(community: Community) -> None:
    shown = await community.member.slash(community.general, "profile")
    assert "/onboard" in shown.response.content


async def test_moderators_see_totals_never_answers(community: Community) -> None:
    await _ann(community)
    result = await community.moderator.slash(community.general, "onboarding status")
    assert result.ephemeral
    text = result.response.content
    assert "Started: fewer than 5" in text and "Withdrew consent: 0" in text
    assert ABOUT_ANN not in text and "Vancouver" not in text


async def test_members_cannot_see_onboarding_totals(community: Community) -> None:
    assert "onboarding status" not in community.member.available_commands(community.general)
    with pytest.raises(simcord.SetupError):
        await community.member.slash(community.general, "onboarding status")


async def test_onboarding_counts_are_exact_and_the_look_is_audited(community: Community) -> None:
    env = community.env
    await _ann(community)
    bo = community.guild.add_member(env.create_user("bo"))
    await env.settle()
    consent = await bo.user.click(bo.user.dm_channel.last_message, label="Start")
    await bo.user.click(consent.response, label="No thanks")
    await community.moderator.slash(community.general, "onboarding status")
    async with env.bot.database.session() as session:
        counts = await onboarding_counts(session, guild_id=community.guild.id)
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert counts == OnboardingCounts(started=2, completed=1, consented=1, declined=1, withdrawn=0)
    assert [(a.action, a.actor_id) for a in audit] == [
        ("onboarding_status", community.moderator.id)
    ]
