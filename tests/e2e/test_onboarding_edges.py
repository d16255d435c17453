"""Onboarding at its edges (issue 13): old cards answer with the current one, "No thanks" after
answering, progress only forward, honest length limits, totals that cannot be subtracted."""

from __future__ import annotations

import json
from typing import Any

import pytest
import simcord

from bot.db.models import ConsentStatus
from bot.db.queries.members import record_consent
from bot.domain.questionnaire import load_questionnaire
from tests.e2e import onboarding_flow as flow
from tests.e2e.conftest import Community


async def _dm(env: simcord.Env, ann: simcord.MemberActor, text: str) -> Any:
    await ann.user.send_dm(text)
    await env.settle()
    return ann.user.dm_channel.last_message


# --- old cards ---------------------------------------------------------------------------------


async def test_a_profile_menu_that_timed_out_shows_the_current_profile(
    community: Community,
) -> None:
    env = community.env
    ann = await flow.joins(community, pages=flow.MENTEE_PAGES)
    shown = await ann.slash(community.general, "profile")
    menu = await ann.click(shown.response, label="Change an answer")
    await env.advance_time(901)  # the menu's view timed out
    late = await ann.select(menu.response, ["rhythm"])
    assert late.acknowledged and late.ephemeral
    said = late.response.content
    assert said.startswith("This card has expired")
    assert flow.ABOUT_ANN[:30] in said and flow.labels(late.response) == ["Change an answer"]
    # ...and the card it offers works.
    again = await ann.click(late.response, label="Change an answer")
    form = await ann.select(again.response, ["rhythm"])
    assert form.modal is not None


async def test_a_try_again_button_after_a_restart_offers_the_current_card(
    community: Community, bot_factory: Any
) -> None:
    env = community.env
    ann = await flow.joins(community)
    card = await flow.start_in_dm(ann)
    refused = await flow.answer_page_in_dm(ann, card, {"career_field": "Nursing"})  # no role
    assert flow.labels(refused.response) == ["Try again"]
    await env.restart_bot(bot_factory())
    late = await ann.user.click(refused.response, label="Try again")
    said = late.response.content
    assert said.startswith("This card has expired") and "Step 1 of 7" in said
    assert flow.labels(late.response) == ["Continue"]


async def test_a_server_menu_that_timed_out_is_offered_again(community: Community) -> None:
    env = community.env
    other = env.create_guild("Second Circle")
    ann = await flow.joins(community)
    other.add_member(ann.user)
    await env.settle()
    asked = await _dm(env, ann, "my profile")
    assert "more than one" in asked.content
    await env.advance_time(901)
    late = await ann.user.select(asked, [str(community.guild.id)])
    assert late.acknowledged
    assert "This card has expired" in late.response.content
    assert "more than one" in late.response.content
    chosen = await ann.user.select(late.response, [str(community.guild.id)])
    assert "You don't have a profile here yet" in chosen.response.content


# --- "No thanks" after answering, and one profile ---------------------------------------------


@pytest.mark.parametrize("erase", [True, False])
async def test_no_thanks_after_answering_asks_whether_to_erase(
    community: Community, erase: bool
) -> None:
    env = community.env
    ann = await flow.joins(community)
    consent = await ann.user.click(ann.user.dm_channel.last_message, label="Start")
    card = (await ann.user.click(consent.response, label="I agree")).response
    for page_id in ("you", "areas"):
        card = (await flow.answer_page_in_dm(ann, card, flow.MENTEE_PAGES[page_id])).response
    assert "Step 3 of 7" in card.content
    # Back on the consent card, she changes her mind.
    declined = await ann.user.click(consent.response, label="No thanks")
    assert "erase" in declined.response.content
    assert flow.labels(declined.response) == ["Erase my answers", "Keep my answers"]
    row = await flow.row_of(env, community.guild.id, ann.id)
    assert row.consent_status == ConsentStatus.DECLINED and row.answers_enc is not None
    choice = "Erase my answers" if erase else "Keep my answers"
    done = await ann.user.click(declined.response, label=choice)
    assert flow.labels(done.response) == ["Send me prompts", "No prompts"]
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    row = await flow.row_of(env, community.guild.id, ann.id)
    if erase:
        assert "erased" in done.response.content
        assert row.answers_enc is None and row.step is None and row.role is None
        assert profile.languages == ()
    else:
        assert "kept" in done.response.content
        assert profile.languages == ("English", "Hokkien / Taiwanese")
    # /profile and "my profile" show the same thing.
    slash = await ann.slash(community.general, "profile")
    dm = await _dm(env, ann, "my profile")
    assert slash.response.content == dm.content
    assert flow.labels(slash.response) == flow.labels(dm)


async def test_profile_and_my_profile_show_the_same_card(community: Community) -> None:
    env = community.env
    ann = await flow.joins(community, pages=flow.MENTEE_PAGES)
    slash = await ann.slash(community.general, "profile")
    dm = await _dm(env, ann, "my profile")
    assert slash.response.content == dm.content
    assert flow.labels(slash.response) == flow.labels(dm) == ["Change an answer"]
    menu = await ann.user.click(dm, label="Change an answer")  # works from the DM too
    form = await ann.user.select(menu.response, ["story"])
    assert form.modal is not None and flow.ABOUT_ANN[:30] in json.dumps(form.modal)


# --- progress only moves forward --------------------------------------------------------------


async def test_saving_an_earlier_page_again_never_moves_progress_back(
    community: Community,
) -> None:
    env = community.env
    ann = await flow.joins(community)
    first = await flow.start_in_dm(ann)
    card = first
    for page_id in ("you", "areas", "heritage", "heritage_more"):
        card = (await flow.answer_page_in_dm(ann, card, flow.MENTEE_PAGES[page_id])).response
    assert "Step 5 of 7" in card.content
    back = (await ann.user.click(card, label="Back")).response
    assert (await flow.row_of(env, community.guild.id, ann.id)).step == "rhythm"
    back = (await ann.user.click(back, label="Back")).response
    assert "Step 3 of 7" in back.content
    # The first page's old card, answered again with a change.
    changed = dict(flow.MENTEE_PAGES["you"], career_field="Midwifery")
    again = await flow.answer_page_in_dm(ann, first, changed)
    assert "Step 5 of 7" in again.response.content  # back to where she was
    row = await flow.row_of(env, community.guild.id, ann.id)
    assert row.step == "rhythm"
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    assert profile.career_field == "Midwifery" and profile.areas_wanted == ("identity", "culture")
    # Skipping an optional page she had already passed does not move her back either.
    skipped = await ann.user.click(back, label="Skip")
    assert "Step 5 of 7" in skipped.response.content
    assert (await flow.row_of(env, community.guild.id, ann.id)).step == "rhythm"
    resumed = await ann.slash(community.general, "onboard")
    assert resumed.modal is not None and "Step 5 of 7" in json.dumps(resumed.modal)


async def test_changing_an_answer_from_profile_before_finishing_keeps_the_place(
    community: Community,
) -> None:
    env = community.env
    ann = await flow.joins(community)
    await flow.onboard_in_dm(ann, flow.MENTEE_PAGES, stop_after="rhythm")
    shown = await ann.slash(community.general, "profile")
    menu = await ann.click(shown.response, label="Change an answer")
    form = await ann.select(menu.response, ["you"])
    saved = await ann.submit_modal(form, dict(flow.MENTEE_PAGES["you"], career_field="Teaching"))
    assert "Step 6 of 7" in saved.response.content
    assert (await flow.row_of(env, community.guild.id, ann.id)).step == "story"


# --- honest length limits ---------------------------------------------------------------------


async def test_text_boxes_take_exactly_what_is_kept_and_say_so(community: Community) -> None:
    q = load_questionnaire()
    m, channel = community.member, community.general
    await flow.consent_in_guild(m, channel)
    for page_id in ("you", "areas", "heritage", "heritage_more", "rhythm", "story"):
        shown = await m.slash(channel, "onboard")
        assert shown.modal is not None
        for row in shown.modal["components"]:
            component = row.get("component", row)
            if component.get("type") != 4:  # text inputs only
                continue
            question = q.question(component["custom_id"])
            assert component["max_length"] == question.max_length
            assert f"Up to {question.max_length:,} characters" in component["placeholder"]
        if page_id == "story":
            with pytest.raises(simcord.SetupError, match="max_length"):
                await m.submit_modal(shown, {"about": "x" * 1001, "hopes": "A guide"})
            shown = await m.slash(channel, "onboard")
            saved = await m.submit_modal(shown, {"about": "x" * 1000, "hopes": "A guide"})
            assert "Step 7 of 7" in saved.response.content
        else:
            await m.submit_modal(shown, flow.MENTEE_PAGES[page_id])
    profile = await flow.profile_of(community.env, community.guild.id, m.id)
    assert profile.about == "x" * 1000


# --- moderators' totals -----------------------------------------------------------------------


async def test_moderators_totals_cannot_be_subtracted_to_find_a_small_group(
    community: Community,
) -> None:
    env = community.env
    async with env.bot.database.session() as session:
        for user_id in range(1, 13):  # 12 started: 9 agreed, 3 declined
            status = ConsentStatus.ACCEPTED if user_id <= 9 else ConsentStatus.DECLINED
            await record_consent(
                session,
                guild_id=community.guild.id,
                user_id=user_id,
                status=status,
                version="2026-01",
                now=env.now(),
            )
        await session.commit()
    result = await community.moderator.slash(community.general, "onboarding status")
    said = result.response.content
    assert "prompts only: fewer than 5" in said
    assert "Started: 12" not in said and ": 9\n" not in said
    assert "Started: 10-14" in said and "Agreed to matching: 5-9" in said
