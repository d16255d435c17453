"""Onboarding end to end: welcome, consent, the questionnaire, restarts, bad input, privacy,
/profile editing and moderators' totals."""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from pathlib import Path

import pytest
import simcord
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.db.models import AuditEntry, ConsentStatus, SubscriptionStatus
from bot.db.queries.members import get_prompt_subscription
from bot.db.queries.onboarding import mark_completed, onboarding_counts
from bot.domain.onboarding import OnboardingCounts
from tests.e2e import onboarding_flow as flow
from tests.e2e.conftest import Community, assert_members_cannot_run, close_dms


def _completions(env: simcord.Env, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Servers whose waiting list matching was asked to fill (once per finished onboarding)."""
    seen: list[int] = []
    matching = env.bot.services.matching
    fill_waiting = matching.fill_waiting

    async def recording(guild_id: int) -> None:
        seen.append(guild_id)
        await fill_waiting(guild_id)

    monkeypatch.setattr(matching, "fill_waiting", recording)
    return seen


async def test_joining_member_is_welcomed_and_completes_onboarding(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = community.env
    completed = _completions(env, monkeypatch)
    ann = await flow.joins(community)
    welcome = ann.user.dm_channel.last_message
    assert "Welcome to" in welcome.content and flow.labels(welcome) == ["Start"]
    last = await flow.onboard_in_dm(ann, flow.MENTEE_PAGES)
    assert "All done" in last.response.content
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    assert profile.role == "mentee"
    assert profile.areas_wanted == ("identity", "culture")
    assert profile.heritage_regions == ("East Asia", "Europe")  # shown as their labels
    assert profile.heritage_details == ("Chinese", "British or Irish")
    assert profile.heritage_text == flow.HERITAGE_ANN
    assert profile.heritage_preference == "similar"
    assert profile.timezone == "America/Vancouver"
    assert profile.about == flow.ABOUT_ANN
    assert profile.prompts_dm is True
    assert profile.share == {"heritage", "about", "timezone"}
    row = await flow.row_of(env, community.guild.id, ann.id)
    assert row.consent_status == ConsentStatus.ACCEPTED and row.consent_version == "2026-01"
    assert row.completed_at is not None and row.step == "done"
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=ann.id)
    assert sub is not None and sub.status == SubscriptionStatus.SUBSCRIBED
    assert completed == [community.guild.id]


async def test_progress_line_and_time_zone_confirmation(community: Community) -> None:
    ann = await flow.joins(community)
    card = await flow.start_in_dm(ann)
    assert "Step 1 of 7" in card.content
    assert flow.labels(card) == ["Continue"]  # first page: nothing to skip, nowhere to go back
    for page_id in ("you", "areas", "heritage", "heritage_more"):
        card = (await flow.answer_page_in_dm(ann, card, flow.MENTEE_PAGES[page_id])).response
    assert "Step 5 of 7" in card.content
    assert flow.labels(card) == ["Continue", "Skip", "Back"]
    result = await flow.answer_page_in_dm(ann, card, {"timezone": "São Paulo"})
    assert "America/Sao_Paulo" in result.response.content
    assert "Step 6 of 7" in result.response.content


async def test_dms_closed_gets_a_welcome_in_the_channel(community: Community) -> None:
    env = community.env
    await community.moderator.slash(community.general, "setup")
    user = env.create_user("cho")
    close_dms(env, user)
    community.guild.add_member(user)
    await env.settle()
    posts = [
        r
        for r in env.http_requests
        if r.method == "POST" and r.path.endswith("/messages") and str(user.id) in str(r.json)
    ]
    assert len(posts) == 1
    assert [str(u) for u in posts[0].json["allowed_mentions"]["users"]] == [str(user.id)]
    assert posts[0].json["allowed_mentions"].get("parse", []) == []
    assert "/onboard" in posts[0].json["content"]
    assert posts[0].path == f"/channels/{community.guild.channels['welcome'].id}/messages"


async def test_restart_between_pages_loses_nothing(
    community: Community, bot_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    ann = await flow.joins(community)
    card = (await flow.onboard_in_dm(ann, flow.MENTEE_PAGES, stop_after="heritage")).response
    await env.restart_bot(bot_factory())
    completed = _completions(env, monkeypatch)
    for page_id in ("heritage_more", "rhythm", "story", "privacy"):
        result = await flow.answer_page_in_dm(ann, card, flow.MENTEE_PAGES[page_id])
        card = result.response
    assert "All done" in card.content
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    assert profile.languages == ("English", "Hokkien / Taiwanese")  # saved before the restart
    assert profile.areas_wanted == ("identity", "culture")
    assert profile.about == flow.ABOUT_ANN  # saved after it
    assert completed == [community.guild.id]


async def test_form_open_during_restart_says_how_to_resume(
    community: Community, bot_factory
) -> None:  # type: ignore[no-untyped-def]
    env = community.env
    ann = await flow.joins(community)
    card = await flow.start_in_dm(ann)
    shown = await ann.user.click(card, label="Continue")
    await env.restart_bot(bot_factory())
    result = await ann.user.submit_modal(shown, flow.MENTEE_PAGES["you"])
    assert "Continue" in result.response.content
    shown = await ann.user.click(card, label="Continue")  # the old card still works
    result = await ann.user.submit_modal(shown, flow.MENTEE_PAGES["you"])
    assert "Step 2 of 7" in result.response.content


async def test_two_members_onboarding_at_once_keep_their_own_answers(
    community: Community,
) -> None:
    env = community.env
    ann = community.guild.add_member(env.create_user("ann"))
    ben = community.guild.add_member(env.create_user("ben"))
    await env.settle()
    # simcord runs one operation at a time, so "at once" means both forms are open together
    # and the submissions interleave, page after page.
    cards = [await flow.start_in_dm(ann), await flow.start_in_dm(ben)]
    for page_id in flow.MENTEE_PAGES:
        ann_form = await ann.user.click(cards[0], label="Continue")
        ben_form = await ben.user.click(cards[1], label="Continue")
        ben_done = await ben.user.submit_modal(ben_form, flow.MENTOR_PAGES[page_id])
        ann_done = await ann.user.submit_modal(ann_form, flow.MENTEE_PAGES[page_id])
        cards = [ann_done.response, ben_done.response]
    ann_profile = await flow.profile_of(env, community.guild.id, ann.id)
    ben_profile = await flow.profile_of(env, community.guild.id, ben.id)
    assert ann_profile.role == "mentee" and ann_profile.about == flow.ABOUT_ANN
    assert ben_profile.role == "mentor" and ben_profile.capacity == 2
    assert ben_profile.timezone == "Asia/Manila" and ben_profile.heritage_text is None
    ann_dm = " ".join(m.content for m in ann.user.dm_channel.history())
    assert "Asia/Manila" not in ann_dm and "Twenty years" not in ann_dm
    assert "America/Vancouver" in ann_dm


async def test_same_button_for_two_members_opens_each_their_own_answers(
    community: Community,
) -> None:
    env = community.env
    ann = await flow.joins(community)
    ann_card = await flow.start_in_dm(ann)
    await flow.answer_page_in_dm(ann, ann_card, flow.MENTEE_PAGES["you"])
    kai_card = await flow.consent_in_guild(community.member, community.general)
    assert kai_card.ephemeral
    # Both cards carry the same custom id (server and page only): the clicker decides whose.
    assert kai_card.components == ann_card.components
    kai_form = await community.member.click(kai_card, label="Continue")
    ann_form = await ann.user.click(ann_card, label="Continue")
    assert "Nursing" not in json.dumps(kai_form.modal)
    assert "Nursing" in json.dumps(ann_form.modal)
    await community.member.submit_modal(kai_form, flow.MENTOR_PAGES["you"])
    assert (await flow.profile_of(env, community.guild.id, ann.id)).role == "mentee"
    assert (await flow.profile_of(env, community.guild.id, community.member.id)).role == "mentor"


@pytest.mark.parametrize(
    ("about", "expected"),
    [
        ("   ", "needs an answer"),
        ("\u202e\u200b\u2066", "needs an answer"),
        ("Hi @everyone, I'm new", "leave @everyone"),
        ("Ask the <@&123456789012345678> folks", "role, member or channel mentions"),
    ],
)
async def test_bad_free_text_is_refused_kindly_and_nothing_is_lost(
    community: Community, about: str, expected: str
) -> None:
    env = community.env
    m, ch = community.member, community.general
    await flow.consent_in_guild(m, ch)
    for page_id in ("you", "areas", "heritage", "heritage_more", "rhythm"):
        await flow.answer_in_guild(m, ch, flow.MENTEE_PAGES[page_id])
    before = await flow.row_of(env, community.guild.id, m.id)
    result = await flow.answer_in_guild(m, ch, {"about": about, "hopes": "A guide"})
    assert result.ephemeral
    text = result.response.content
    assert expected in text
    assert "@everyone" not in text.replace("leave @everyone", "")
    assert "<@&" not in text
    after = await flow.row_of(env, community.guild.id, m.id)
    assert after.step == before.step == "story"
    assert after.answers_enc is not None
    assert (await flow.profile_of(env, community.guild.id, m.id)).languages == (
        "English",
        "Hokkien / Taiwanese",
    )
    # Try again reopens the form with what was typed, so nothing typed is lost.
    retry = await m.click(result.response, label="Try again")
    assert retry.modal is not None
    defaults = json.dumps(retry.modal)
    assert "A guide" in defaults
    fixed = await m.submit_modal(
        retry, {"about": "Nurse, parent, learning Hokkien", "hopes": "A guide"}
    )
    assert "Step 7 of 7" in fixed.response.content
    for request in env.http_requests:
        mentions = (
            (request.json or {}).get("allowed_mentions") if isinstance(request.json, dict) else None
        )
        if mentions is not None:
            assert not mentions.get("parse") and not mentions.get("roles")


async def test_unknown_time_zone_is_refused_and_bidi_zalgo_text_is_cleaned(
    community: Community,
) -> None:
    env = community.env
    m, ch = community.member, community.general
    await flow.consent_in_guild(m, ch)
    for page_id in ("you", "areas", "heritage", "heritage_more"):
        await flow.answer_in_guild(m, ch, flow.MENTEE_PAGES[page_id])
    result = await flow.answer_in_guild(m, ch, {"timezone": "Xyzzyville", "cadence": ["weekly"]})
    assert "couldn't find a time zone" in result.response.content
    assert (await flow.row_of(env, community.guild.id, m.id)).step == "rhythm"
    await flow.answer_in_guild(m, ch, {"timezone": "manila", "cadence": ["weekly"]})
    zalgo = "Ka\u0301\u0302\u0303\u0304\u0305i \u202eis here"
    result = await flow.answer_in_guild(m, ch, {"about": zalgo})
    assert "removed some invisible or stacked characters" in result.response.content
    profile = await flow.profile_of(env, community.guild.id, m.id)
    assert profile.timezone == "Asia/Manila"
    assert profile.about == unicodedata.normalize("NFC", "Ka\u0301\u0302i is here")


async def test_skip_and_back(community: Community) -> None:
    env = community.env
    ann = await flow.joins(community)
    card = (await flow.onboard_in_dm(ann, flow.MENTEE_PAGES, stop_after="areas")).response
    assert "Your heritage" in card.content
    skipped = await ann.user.click(card, label="Skip")
    assert (
        "Skipped" in skipped.response.content
        and "heritage, in more detail" in skipped.response.content
    )
    back = await ann.user.click(skipped.response, label="Back")
    assert "Step 3 of 7" in back.response.content
    # Looking back never moves progress back.
    assert (await flow.row_of(env, community.guild.id, ann.id)).step == "heritage_more"
    with pytest.raises(simcord.SetupError):  # a page with a required question has no Skip
        await ann.user.click((await flow.start_in_dm(ann)), label="Skip")


async def test_declining_consent_offers_prompts_and_asks_nothing(
    community: Community,
) -> None:
    env = community.env
    ann = await flow.joins(community)
    consent = await ann.user.click(ann.user.dm_channel.last_message, label="Start")
    declined = await ann.user.click(consent.response, label="No thanks")
    assert "won't be matched" in declined.response.content
    await ann.user.click(declined.response, label="Send me prompts")
    row = await flow.row_of(env, community.guild.id, ann.id)
    assert row.consent_status == ConsentStatus.DECLINED and row.answers_enc is None
    async with env.bot.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=community.guild.id, user_id=ann.id)
    assert sub is not None and sub.status == SubscriptionStatus.SUBSCRIBED
    again = await ann.slash(community.general, "onboard")
    assert "changed your mind" in again.response.content


async def test_concurrent_final_submissions_complete_once(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = community.env
    completed = _completions(env, monkeypatch)
    m, ch = community.member, community.general
    await flow.consent_in_guild(m, ch)
    for page_id in ("you", "areas", "heritage", "heritage_more", "rhythm", "story"):
        await flow.answer_in_guild(m, ch, flow.MENTEE_PAGES[page_id])
    forms = [await m.slash(ch, "onboard") for _ in range(4)]  # four open copies of the form
    results = [await m.submit_modal(f, flow.MENTEE_PAGES["privacy"]) for f in forms]
    assert "All done" in results[0].response.content
    assert all("Saved" in r.response.content for r in results[1:])
    assert completed == [community.guild.id]


async def test_racing_completions_finish_exactly_once(community: Community) -> None:
    env = community.env
    await flow.consent_in_guild(community.member, community.general)

    async def finish() -> bool:
        async with env.bot.database.session() as session:
            return await mark_completed(
                session, guild_id=community.guild.id, user_id=community.member.id, now=env.now()
            )

    outcomes = await asyncio.gather(*(finish() for _ in range(8)))
    assert sorted(outcomes) == [False] * 7 + [True]


async def test_database_holds_no_plaintext_answer(
    community: Community, tmp_path: Path, backend_name: str
) -> None:
    env = community.env
    await flow.two_onboarded(community.env, community.guild)
    if backend_name == "sqlite":
        await env.bot.database.engine.dispose()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("lantern.db*"))
        assert b"member_profile" in raw
        for secret in (flow.ABOUT_ANN, flow.HERITAGE_ANN, "Twenty years in design", "Nursing"):
            assert secret.encode() not in raw
    else:
        async with env.bot.database.session() as session:
            for table in SQLModel.metadata.sorted_tables:
                for row in (await session.execute(select(table))).all():
                    assert "Hokkien at the market" not in repr(tuple(row))


async def test_logs_hold_no_answer_text(
    community: Community, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.logging_setup import configure_logging

    configure_logging("DEBUG")  # the production configuration at its most verbose
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # configure_logging replaced the root handlers
    caplog.handler.setLevel(logging.DEBUG)
    try:
        ann, _ = await flow.two_onboarded(community.env, community.guild)
        await flow.consent_in_guild(community.member, community.general)
        refused = await flow.answer_in_guild(
            community.member, community.general, {"career_field": "Secret Career Nine"}
        )
        assert "needs an answer" in refused.response.content  # the role was left out
        await ann.user.send_dm("my profile")
    finally:
        root.removeHandler(caplog.handler)
        configure_logging("WARNING")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "onboarded guild=" in logged  # the logs really were captured
    for secret in (
        flow.ABOUT_ANN,
        flow.HERITAGE_ANN,
        "Twenty years",
        "Nursing",
        "Secret Career",
        "Vancouver",
    ):
        assert secret not in logged


async def test_crisis_words_in_an_answer_show_resources_only_to_that_member(
    community: Community, caplog: pytest.LogCaptureFixture
) -> None:
    await community.moderator.slash(community.general, "setup")
    ann = await flow.joins(community)
    pages = dict(flow.MENTEE_PAGES)
    pages["story"] = {"about": flow.ABOUT_ANN, "hopes": "Some days I don't want to be here anymore"}
    result = await flow.onboard_in_dm(ann, pages, stop_after="story")
    text = result.response.content
    assert "You don't have to carry this alone" in text
    assert "Nobody has been alerted" in text
    assert "Step 7 of 7" in text  # the questionnaire carries on as normal
    alerts = community.guild.channels["lantern-alerts"]
    assert all("carry this alone" not in m.content for m in alerts.history())
    assert "want to be here" not in caplog.text


async def test_profile_shows_own_answers_and_edits_one_page(community: Community) -> None:
    env = community.env
    ann = await flow.joins(community, pages=flow.MENTEE_PAGES)
    shown = await ann.slash(community.general, "profile")
    assert shown.ephemeral and flow.ABOUT_ANN[:40] in shown.response.content
    menu = await ann.click(shown.response, label="Change an answer")
    form = await ann.select(menu.response, ["rhythm"])
    assert form.modal is not None and "Vancouver" in str(form.modal)
    saved = await ann.submit_modal(form, {"timezone": "London", "cadence": ["weekly"]})
    assert "Europe/London" in saved.response.content
    profile = await flow.profile_of(env, community.guild.id, ann.id)
    assert profile.timezone == "Europe/London" and profile.about == flow.ABOUT_ANN
    assert profile.meeting_times == ()  # cleared in the form, so cleared in the profile


async def test_profile_before_onboarding_points_to_onboard(community: Community) -> None:
    shown = await community.member.slash(community.general, "profile")
    assert "/onboard" in shown.response.content


async def test_moderators_see_totals_never_answers(community: Community) -> None:
    await flow.joins(community, pages=flow.MENTEE_PAGES)
    result = await community.moderator.slash(community.general, "onboarding status")
    assert result.ephemeral
    text = result.response.content
    assert "Started: fewer than 5" in text and "Withdrew consent: 0" in text
    assert flow.ABOUT_ANN not in text and "Vancouver" not in text


async def test_members_cannot_see_onboarding_totals(community: Community) -> None:
    await assert_members_cannot_run(community, "onboarding status")


async def test_onboarding_counts_are_exact_and_the_look_is_audited(community: Community) -> None:
    env = community.env
    await flow.joins(community, pages=flow.MENTEE_PAGES)
    bo = await flow.joins(community, "bo")
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
