"""The onboarding service on a real database: consent first, pages saved one by one, rejected
pages lose nothing, skip and back, finishing once (which asks matching to fill the waiting
list), the welcome, the profile, totals, and prompts by plain words."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from bot.db.models import AuditEntry, ConsentStatus, SubscriptionStatus
from bot.db.queries.members import get_prompt_subscription
from bot.domain.components import consent_buttons, prompts_choice_buttons
from bot.errors import TryLaterError, UserFacingError
from bot.services.onboarding import Form, PageStep
from bot.services.ports import SendFailure
from tests.e2e.onboarding_flow import MENTEE_PAGES, MENTOR_PAGES
from tests.services.conftest import World

GUILD = 10
OTHER = 11
ANN = 101
BEN = 102


@pytest.fixture
def filled(world: World) -> list[int]:
    """Servers matching was asked to fill the waiting list of."""
    calls: list[int] = []

    async def fill_waiting(guild_id: int) -> None:
        calls.append(guild_id)

    world.services.matching.fill_waiting = fill_waiting  # type: ignore[method-assign]
    world.messenger.join(GUILD, ANN, BEN)
    return calls


async def _form(world: World, user_id: int) -> Form:
    opened = await world.services.onboarding.where(GUILD, user_id, form=True)
    assert isinstance(opened, Form), opened
    return opened


async def _answer(
    world: World, user_id: int, pages: dict[str, dict[str, Any]], *, until: str | None = None
) -> list[PageStep]:
    """Agree, then submit each page's form as the member would; the steps it led to."""
    await world.services.onboarding.decide_consent(GUILD, user_id, accepted=True)
    steps = []
    for page_id, values in pages.items():
        form = await _form(world, user_id)
        assert form.page_id == page_id
        submitted = await world.services.onboarding.submit_page(user_id, form, values)
        steps.append(submitted.step)
        if page_id == until:
            break
    return steps


async def _subscription(world: World, guild_id: int, user_id: int) -> str | None:
    async with world.database.session() as session:
        sub = await get_prompt_subscription(session, guild_id=guild_id, user_id=user_id)
    return sub.status if sub else None


async def test_consent_comes_before_any_question(world: World, filled: list[int]) -> None:
    onboarding = world.services.onboarding
    first = await onboarding.where(GUILD, ANN)
    assert "Before we begin" in first.text and first.buttons == consent_buttons(GUILD)
    assert await onboarding.open_page(GUILD, ANN, "you") == first
    form = Form(GUILD, "you", "You", (), {}, editing=False)
    with pytest.raises(UserFacingError, match="needs your consent"):
        await onboarding.submit_page(ANN, form, MENTEE_PAGES["you"])
    assert not (await onboarding.state(GUILD, ANN)).exists


async def test_declining_records_the_version_and_offers_prompts(
    world: World, filled: list[int]
) -> None:
    onboarding = world.services.onboarding
    card = await onboarding.decide_consent(GUILD, ANN, accepted=False)
    assert card.buttons == prompts_choice_buttons(GUILD)
    state = await onboarding.state(GUILD, ANN)
    assert state.consent_status == ConsentStatus.DECLINED and state.answers == {}
    said = await onboarding.choose_prompts(GUILD, ANN, wanted=True)
    assert "pause prompts" in said
    assert await _subscription(world, GUILD, ANN) == SubscriptionStatus.SUBSCRIBED
    again = await onboarding.where(GUILD, ANN)
    assert "changed your mind" in again.text


async def test_someone_no_longer_in_the_server_is_refused(world: World, filled: list[int]) -> None:
    with pytest.raises(UserFacingError, match="no longer in that server"):
        await world.services.onboarding.where(GUILD, 999)
    with pytest.raises(UserFacingError, match="no longer in that server"):
        await world.services.onboarding.decide_consent(GUILD, 999, accepted=True)


async def test_every_page_then_finished_once_and_matching_is_asked_once(
    world: World, filled: list[int]
) -> None:
    steps = await _answer(world, ANN, MENTEE_PAGES)
    assert steps == [PageStep.NEXT] * 6 + [PageStep.FINISHED]
    state = await world.services.onboarding.state(GUILD, ANN)
    assert state.completed and state.step == "done" and state.role == "mentee"
    assert state.answers["about"] == MENTEE_PAGES["story"]["about"]
    assert filled == [GUILD]
    assert await _subscription(world, GUILD, ANN) == SubscriptionStatus.SUBSCRIBED
    # The same page again is an edit: saved, but matching is not asked again.
    form = await world.services.onboarding.open_page(GUILD, ANN, "privacy")
    assert isinstance(form, Form) and form.editing
    edited = await world.services.onboarding.submit_page(
        ANN, form, {"prompts_dm": ["no"], "share": []}
    )
    assert edited.step is PageStep.EDITED and "Saved" in edited.card.text
    assert filled == [GUILD]
    assert await _subscription(world, GUILD, ANN) == SubscriptionStatus.UNSUBSCRIBED


async def test_racing_final_pages_finish_once(
    world: World, filled: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    onboarding = world.services.onboarding
    await _answer(world, BEN, MENTOR_PAGES, until="story")
    form = await _form(world, BEN)
    # Both submissions read "not finished yet" before either saves.
    both_read = asyncio.Barrier(2)
    read_state = onboarding.state

    async def state(guild_id: int, user_id: int) -> Any:
        found = await read_state(guild_id, user_id)
        await both_read.wait()
        return found

    monkeypatch.setattr(onboarding, "state", state)
    results = await asyncio.gather(
        *(onboarding.submit_page(BEN, form, MENTOR_PAGES["privacy"]) for _ in "ab")
    )
    assert [r.step for r in results] == [PageStep.FINISHED, PageStep.FINISHED]
    assert filled == [GUILD]
    assert await _subscription(world, GUILD, BEN) == SubscriptionStatus.UNSUBSCRIBED


async def test_a_rejected_page_keeps_what_was_typed_and_saves_nothing(
    world: World, filled: list[int]
) -> None:
    await _answer(world, ANN, MENTEE_PAGES, until="rhythm")
    form = await _form(world, ANN)
    typed = {"about": "Hi @everyone, I'm new", "hopes": "A guide"}
    rejected = await world.services.onboarding.submit_page(ANN, form, typed)
    assert rejected.step is PageStep.REJECTED
    assert "leave @everyone" in rejected.card.text and "Try again" in rejected.card.text
    assert rejected.retry is not None and rejected.retry.prefill == typed
    assert rejected.retry.fields == form.fields
    state = await world.services.onboarding.state(GUILD, ANN)
    assert state.step == "story" and "about" not in state.answers


async def test_skip_and_back_move_between_pages(world: World, filled: list[int]) -> None:
    onboarding = world.services.onboarding
    await _answer(world, ANN, MENTEE_PAGES, until="areas")
    with pytest.raises(UserFacingError, match="can't be skipped"):
        await onboarding.skip_page(GUILD, ANN, "you")
    skipped = await onboarding.skip_page(GUILD, ANN, "heritage")
    assert skipped.text.startswith("Skipped.")
    assert (await onboarding.state(GUILD, ANN)).step == "heritage_more"
    back = await onboarding.go_back(GUILD, ANN, "heritage_more")
    assert "Step 3 of 7" in back.text
    assert [b.label for b in back.buttons] == ["Continue", "Skip", "Back"]
    assert (await onboarding.state(GUILD, ANN)).step == "heritage_more"  # looking back only
    with pytest.raises(UserFacingError, match="no earlier page"):
        await onboarding.go_back(GUILD, ANN, "you")
    with pytest.raises(UserFacingError, match="expired"):
        await onboarding.skip_page(GUILD, ANN, "a_page_that_was_removed")


async def test_time_zone_and_crisis_notes_are_shown_only_to_the_member(
    world: World, filled: list[int]
) -> None:
    await _answer(world, ANN, MENTEE_PAGES, until="heritage_more")
    rhythm = await world.services.onboarding.submit_page(
        ANN, await _form(world, ANN), {"timezone": "São Paulo", "cadence": ["weekly"]}
    )
    assert "America/Sao_Paulo" in rhythm.card.text and "Step 6 of 7" in rhythm.card.text
    story = await world.services.onboarding.submit_page(
        ANN,
        await _form(world, ANN),
        {"about": "Nurse", "hopes": "Some days I don't want to be here anymore"},
    )
    assert story.step is PageStep.NEXT
    assert "carry this alone" in story.card.text and "Nobody has been alerted" in story.card.text
    assert world.messenger.sent == []


async def test_welcome_by_dm_or_in_the_welcome_channel(world: World) -> None:
    onboarding = world.services.onboarding
    assert await onboarding.welcome(GUILD, ANN, fallback_channel_id=None)
    (dm,) = world.messenger.dms_to(ANN)
    assert "Welcome to **Server 10**" in dm.text
    assert len(dm.buttons) == 1 and dm.buttons[0].label == "Start"
    assert dm.buttons[0].custom_id == f"lantern:onb:start:{GUILD}"
    world.messenger.closed.add(BEN)
    assert not await onboarding.welcome(GUILD, BEN)  # nowhere to post
    await world.services.setup.save(GUILD, 1, {"welcome_channel_id": 55})
    world.messenger.missing_channels.add(55)
    world.clock.advance(minutes=2)  # each welcome here is another join
    assert await onboarding.welcome(GUILD, BEN, fallback_channel_id=66)  # the system channel
    (post,) = world.messenger.posts_in(66)
    assert f"<@{BEN}>" in post.text and "/onboard" in post.text and post.ping == (BEN,)
    world.messenger.missing_channels.discard(55)
    world.clock.advance(minutes=2)
    assert await onboarding.welcome(GUILD, BEN, fallback_channel_id=66)
    assert not await onboarding.welcome(GUILD, BEN, fallback_channel_id=66)  # the same join
    assert len(world.messenger.posts_in(55)) == 1


async def test_a_welcome_discord_failed_to_send_is_given_back_for_the_next_try(
    world: World,
) -> None:
    onboarding, joined = world.services.onboarding, world.clock.now
    world.messenger.dm_failures[ANN] = [SendFailure.SERVER_ERROR, SendFailure.RATE_LIMITED]
    for _ in range(2):
        with pytest.raises(TryLaterError):
            await onboarding.welcome(GUILD, ANN, joined_at=joined)
    assert world.messenger.dms_to(ANN) == []
    assert await onboarding.welcome(GUILD, ANN, joined_at=joined)  # the same join, tried again
    assert not await onboarding.welcome(GUILD, ANN, joined_at=joined)  # and only once
    assert len(world.messenger.dms_to(ANN)) == 1


async def test_profile_is_one_view_for_every_stage(world: World, filled: list[int]) -> None:
    onboarding = world.services.onboarding
    before = await onboarding.profile(GUILD, ANN)
    assert "/onboard" in before.text and [b.label for b in before.buttons] == ["Start"]
    assert before.pages == ()
    await _answer(world, ANN, MENTEE_PAGES)
    mine = await onboarding.profile(GUILD, ANN)
    assert "Your Lantern profile in Server 10" in mine.text
    assert "America/Vancouver" in mine.text
    assert [p for p, _ in mine.pages][:2] == ["you", "areas"]
    await onboarding.decide_consent(GUILD, BEN, accepted=False)
    declined = await onboarding.profile(GUILD, BEN)
    assert "community prompts only" in declined.text and declined.pages == ()


async def test_totals_hide_small_groups_and_the_look_is_audited(
    world: World, filled: list[int]
) -> None:
    await _answer(world, ANN, MENTEE_PAGES)
    said = await world.services.onboarding.counts(GUILD, 7)
    assert "Started: fewer than 5" in said and "Vancouver" not in said
    async with world.database.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_id, e.action) for e in entries] == [(7, "onboarding_status")]


async def test_pause_prompts_pauses_every_server_and_names_them(world: World) -> None:
    prompts, onboarding = world.services.prompts, world.services.onboarding
    for guild_id in (GUILD, OTHER):
        await prompts.set_subscription(guild_id, ANN, SubscriptionStatus.SUBSCRIBED)
    said = await onboarding.pause_prompts(ANN)
    assert "**Server 10** and **Server 11**" in said and "resume prompts" in said
    for guild_id in (GUILD, OTHER):
        assert await _subscription(world, guild_id, ANN) == SubscriptionStatus.PAUSED
    assert "nothing changed" in await onboarding.pause_prompts(ANN)
    resumed = await onboarding.resume_prompts(OTHER, ANN)
    assert "Server 11" in resumed
    assert await _subscription(world, OTHER, ANN) == SubscriptionStatus.SUBSCRIBED
    assert await _subscription(world, GUILD, ANN) == SubscriptionStatus.PAUSED
