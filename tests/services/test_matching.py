"""The matching service on a real database with recording fakes of the ports.

``introduce`` is the one create-and-deliver path: a member's request, a moderator's round and a
manual introduction all go through it, and it refuses a blocked, paused or full mentor alike.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import (
    AuditEntry,
    Introduction,
    IntroStatus,
    MatchRequest,
    MemberProfile,
    Pair,
    PairStatus,
    RequestStatus,
)
from bot.domain.components import intro_buttons, request_button
from bot.domain.introductions import Skip
from bot.errors import ExpiredComponentError, UserFacingError
from bot.services.events import PairEnded
from bot.services.matching import MatchingError, MatchingService
from tests.factories import count_rows, introductions, mentees_and_two_mentors, onboarded
from tests.services.conftest import World

GUILD = 10
MOD = 1
MENTEE, OTHER_MENTEE = 20, 21
MENTOR_A, MENTOR_B = 30, 31
INTRO_CHANNEL = 500


@dataclass
class Scene:
    """Two mentees and two mentors, onboarded; mentor A fits the mentees better than B."""

    w: World
    matching: MatchingService
    opened: list[int]

    async def intros(self, **where: Any) -> list[Introduction]:
        return await introductions(self.w.database, **where)

    async def count(self, model: type, **where: Any) -> int:
        return await count_rows(self.w.database, model, **where)

    async def request_status(self, mentee_id: int) -> str | None:
        async with self.w.database.session() as session:
            row = await session.get(MatchRequest, (GUILD, mentee_id))
        return row.status if row else None

    async def mentor_row(self, mentor_id: int) -> MemberProfile:
        async with self.w.database.session() as session:
            row = await session.get(MemberProfile, (GUILD, mentor_id), populate_existing=True)
        assert row is not None
        return row

    def cards_to(self, mentor_id: int) -> list[str]:
        return [
            m.text for m in self.w.messenger.dms_to(mentor_id) if "would like a mentor" in m.text
        ]

    def last_dm(self, user_id: int) -> str:
        return self.w.messenger.dms_to(user_id)[-1].text


@pytest.fixture
async def scene(world: World) -> Scene:
    cipher, now, db = world.services.ctx.cipher, world.clock(), world.database
    await mentees_and_two_mentors(
        db,
        cipher,
        guild_id=GUILD,
        mentees=(MENTEE, OTHER_MENTEE),
        better=MENTOR_A,
        worse=MENTOR_B,
        now=now,
    )
    world.messenger.join(GUILD, MOD, MENTEE, OTHER_MENTEE, MENTOR_A, MENTOR_B)
    world.messenger.names.update(
        {MENTEE: "hana", OTHER_MENTEE: "sami", MENTOR_A: "marco", MENTOR_B: "noor"}
    )
    opened: list[int] = []

    async def open_space(pair_id: int) -> None:
        opened.append(pair_id)

    # The pair space is the pairs service's business; here we only see that it was asked for.
    world.services.pairs.open_space = open_space  # type: ignore[method-assign]
    return Scene(world, world.services.matching, opened)


# --- request, accept, decline -----------------------------------------------------------------


async def test_request_introduces_the_best_mentor_and_tells_both(scene: Scene) -> None:
    text = await scene.matching.request(GUILD, MENTEE)
    assert "introduced to a mentor" in text and "3 days left" in text
    (intro,) = await scene.intros()
    assert (intro.mentee_id, intro.mentor_id) == (MENTEE, MENTOR_A)
    card = scene.w.messenger.dms_to(MENTOR_A)[-1]
    assert "hana would like a mentor" in card.text and "Why you two" in card.text
    assert card.buttons == intro_buttons(intro.id or 0)
    assert intro.message_id == card.message_id, "the card is remembered to be closed later"
    assert "Good news" in scene.last_dm(MENTEE)
    assert scene.cards_to(MENTOR_B) == []
    assert await scene.request_status(MENTEE) == RequestStatus.INTRODUCED


async def test_asking_twice_introduces_once(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    again = await scene.matching.request(GUILD, MENTEE)
    assert "waiting for their answer" in again
    assert len(await scene.intros()) == 1


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [(99, "/onboard"), (MENTOR_A, "here to mentor")],
)
async def test_who_cannot_request_is_told_why(scene: Scene, user_id: int, expected: str) -> None:
    assert expected in await scene.matching.request(GUILD, user_id)
    assert await scene.intros() == []


async def test_accept_makes_one_pair_opens_its_space_and_tells_the_mentee(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    assert intro.id is not None
    assert await scene.matching.mentor_of(intro.id) == MENTOR_A
    card = await scene.matching.accept(intro.id)
    assert "You accepted" in card and "hana" in card
    assert "marco accepted" in scene.last_dm(MENTEE)
    async with scene.w.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
    assert scene.opened == [pair.id]
    assert (await scene.mentor_row(MENTOR_A)).active_mentees == 1
    with pytest.raises(MatchingError, match="already accepted"):
        await scene.matching.accept(intro.id)
    with pytest.raises(MatchingError, match="already accepted"):
        await scene.matching.decline(intro.id)
    assert scene.opened == [pair.id], "a second click opens nothing"
    assert "matched with marco" in await scene.matching.status(GUILD, MENTEE)
    assert "already have a mentor" in await scene.matching.request(GUILD, MENTEE)


async def test_an_unknown_introduction_has_expired(scene: Scene) -> None:
    with pytest.raises(ExpiredComponentError):
        await scene.matching.mentor_of(12345)
    with pytest.raises(ExpiredComponentError):
        await scene.matching.accept(12345)
    with pytest.raises(ExpiredComponentError):
        await scene.matching.decline(12345)


async def test_accepting_after_expiry_is_refused_kindly(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    scene.w.clock.advance(hours=73)
    with pytest.raises(MatchingError, match="expired"):
        await scene.matching.accept(intro.id or 0)
    assert scene.opened == []


async def test_decline_and_pause_rolls_on_then_back_to_the_waiting_list(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    (first,) = await scene.intros()
    card = await scene.matching.decline(first.id or 0)
    assert card.startswith("You declined.") and "someone else" in card
    assert "introduced you to another mentor" in scene.last_dm(MENTEE)
    second = (await scene.intros(status=IntroStatus.PENDING))[0]
    assert second.mentor_id == MENTOR_B
    card = await scene.matching.decline(second.id or 0, pause=True)
    assert "You're paused" in card
    assert (await scene.mentor_row(MENTOR_B)).mentor_paused
    assert "back on the waiting list" in scene.last_dm(MENTEE)
    assert await scene.request_status(MENTEE) == RequestStatus.WAITING
    # Neither mentor is proposed again.
    await scene.matching.fill_waiting(GUILD)
    assert len(await scene.intros()) == 2


# --- sweeps -------------------------------------------------------------------------------------


async def test_remind_once_at_halfway_then_expire_and_roll_on(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    now = scene.w.clock.advance(hours=35)
    await scene.matching.remind_due(now)
    assert not any("reminder" in m.text for m in scene.w.messenger.dms_to(MENTOR_A))
    now = scene.w.clock.advance(hours=2)
    await scene.matching.remind_due(now)
    await scene.matching.remind_due(now)
    reminders = [m.text for m in scene.w.messenger.dms_to(MENTOR_A) if "reminder" in m.text]
    assert len(reminders) == 1 and "hana is waiting" in reminders[0]
    now = scene.w.clock.advance(hours=36)
    await scene.matching.expire_due(now)
    await scene.matching.expire_due(now)
    assert [i.status for i in await scene.intros()] == [IntroStatus.EXPIRED, IntroStatus.PENDING]
    assert (intro.message_channel_id, intro.message_id, None) == scene.w.messenger.edits[0][:3]
    assert "expired" in (scene.w.messenger.edits[0][3] or "")
    assert len(scene.cards_to(MENTOR_B)) == 1
    assert "wasn't answered in time" in scene.last_dm(MENTEE)


# --- delivery when DMs are closed --------------------------------------------------------------


async def test_a_mentor_with_closed_dms_gets_the_card_in_a_private_thread(scene: Scene) -> None:
    await scene.w.services.setup.save(GUILD, MOD, {"intro_channel_id": INTRO_CHANNEL})
    scene.w.messenger.closed.add(MENTOR_A)
    await scene.matching.request(GUILD, MENTEE)
    assert scene.w.messenger.threads == [(INTRO_CHANNEL, MENTOR_A, "Mentor introduction")]
    (post,) = scene.w.messenger.posts_in(INTRO_CHANNEL)
    assert post.text.startswith(f"<@{MENTOR_A}> — your DMs are closed")
    assert post.ping == (MENTOR_A,), "the card pings the mentor and nobody else"
    (intro,) = await scene.intros()
    assert post.buttons == intro_buttons(intro.id or 0)
    assert (intro.message_channel_id, intro.message_id) == (post.channel_id, post.message_id)
    assert "Good news" in scene.last_dm(MENTEE)


ALERTS = 600


async def test_an_undeliverable_card_moves_the_mentee_on_at_once_and_alerts_moderators(
    scene: Scene,
) -> None:
    # Marco's DMs are closed and the private-thread fallback fails (the channel is gone).
    await scene.w.services.setup.save(
        GUILD, MOD, {"intro_channel_id": INTRO_CHANNEL, "alerts_channel_id": ALERTS}
    )
    scene.w.messenger.closed.add(MENTOR_A)
    scene.w.messenger.missing_channels.add(INTRO_CHANNEL)
    text = await scene.matching.request(GUILD, MENTEE)
    assert "introduced to a mentor" in text
    first, second = await scene.intros()
    assert (first.mentor_id, first.status) == (MENTOR_A, IntroStatus.CANCELLED)
    assert (second.mentor_id, second.status) == (MENTOR_B, IntroStatus.PENDING)
    assert len(scene.cards_to(MENTOR_B)) == 1, "the next mentor at once, not after the expiry"
    told = [m.text for m in scene.w.messenger.dms_to(MENTEE)]
    assert len([t for t in told if "Good news" in t]) == 1, "told once, for the card that arrived"
    assert (await scene.mentor_row(MENTOR_A)).mentor_paused, "nobody else waits on marco"
    (alert,) = scene.w.messenger.posts_in(ALERTS)
    assert "marco" in alert.text and "/mentor resume" in alert.text and alert.ping == ()


async def test_when_no_mentor_can_be_reached_the_mentee_waits_and_moderators_know(
    scene: Scene,
) -> None:
    await scene.w.services.setup.save(GUILD, MOD, {"alerts_channel_id": ALERTS})
    scene.w.messenger.closed.update({MENTOR_A, MENTOR_B})
    text = await scene.matching.request(GUILD, MENTEE)
    assert "waiting list, number 1" in text
    assert [i.status for i in await scene.intros()] == [IntroStatus.CANCELLED] * 2
    assert await scene.request_status(MENTEE) == RequestStatus.WAITING
    assert not any("Good news" in m.text for m in scene.w.messenger.dms_to(MENTEE))
    assert len(scene.w.messenger.posts_in(ALERTS)) == 2
    # A moderator's introduction to an unreachable mentor says so and leaves nothing behind.
    await scene.matching.resume(GUILD, MENTOR_B)
    with pytest.raises(MatchingError, match="couldn't deliver the introduction to noor"):
        await scene.matching.introduce_by_hand(GUILD, MOD, OTHER_MENTEE, MENTOR_B)
    assert await scene.request_status(OTHER_MENTEE) == RequestStatus.CANCELLED


# --- introduce refuses a blocked, paused or full mentor from every path -------------------------

CAUSES = {"blocked": Skip.BLOCKED, "paused": Skip.MENTOR_PAUSED, "full": Skip.MENTOR_FULL}


async def _make_unavailable(scene: Scene, cause: str) -> None:
    """Mentor A (the only mentor left) becomes blocked, paused or full."""
    if cause == "blocked":
        assert await scene.w.services.moderation.block(GUILD, MENTOR_A, MENTEE)
    elif cause == "paused":
        await scene.matching.pause(GUILD, MENTOR_A)
    else:
        await scene.matching.set_capacity(GUILD, MENTOR_A, 1)
        await scene.matching.introduce_by_hand(GUILD, MOD, OTHER_MENTEE, MENTOR_A)


@pytest.fixture
async def only_mentor_a(scene: Scene) -> Scene:
    await scene.matching.pause(GUILD, MENTOR_B)
    return scene


@pytest.fixture(params=sorted(CAUSES))
def cause(request: pytest.FixtureRequest) -> str:
    """Each way mentor A can become unavailable: blocked, paused or full."""
    return str(request.param)


@pytest.fixture
async def mentor_a_unavailable(only_mentor_a: Scene, cause: str) -> Scene:
    """Mentor A, the only mentor left, made unavailable by ``cause``."""
    await _make_unavailable(only_mentor_a, cause)
    return only_mentor_a


async def test_request_never_introduces_an_unavailable_mentor(
    mentor_a_unavailable: Scene, cause: str
) -> None:
    scene = mentor_a_unavailable
    text = await scene.matching.request(GUILD, MENTEE)
    assert "waiting list, number 1" in text
    assert await scene.intros(mentee_id=MENTEE) == []
    # The one path says why, for the waiting mentee too.
    assert await scene.matching.introduce(GUILD, MENTEE, MENTOR_A) == CAUSES[cause]
    assert await scene.intros(mentee_id=MENTEE) == []


async def test_a_round_skips_an_introduction_that_became_impossible_and_says_why(
    only_mentor_a: Scene, cause: str
) -> None:
    scene = only_mentor_a
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    scene.w.clock.advance(minutes=1)  # the request cooldown
    await scene.matching.request(GUILD, MENTEE)
    plan = await scene.matching.preview_round(GUILD)
    assert [(a.mentee_id, a.mentor_id) for a in plan.assignments] == [(MENTEE, MENTOR_A)]
    await _make_unavailable(scene, cause)
    published = await scene.matching.publish_round(GUILD, MOD, plan.assignments)
    assert published.sent == 0
    assert published.skipped == ((MENTEE, CAUSES[cause]),)
    assert "Done: 0 introductions sent" in published.text
    assert "Skipped 1" in published.text and "hana" in published.text
    assert await scene.intros(mentee_id=MENTEE) == []
    assert await scene.request_status(MENTEE) == RequestStatus.WAITING


async def test_a_manual_introduction_to_an_unavailable_mentor_is_refused(
    mentor_a_unavailable: Scene, cause: str
) -> None:
    scene = mentor_a_unavailable
    audits = await scene.count(AuditEntry, action="matching_manual")
    with pytest.raises(MatchingError, match="nothing changed|isn't available|can't be introduced"):
        await scene.matching.introduce_by_hand(GUILD, MOD, MENTEE, MENTOR_A)
    assert await scene.intros(mentee_id=MENTEE) == []
    assert await scene.request_status(MENTEE) is None, "a refusal leaves no request behind"
    assert await scene.count(AuditEntry, action="matching_manual") == audits


@pytest.mark.parametrize(
    ("mentee", "mentor", "skip"),
    [
        (MENTEE, MENTEE, Skip.SELF),
        (99, MENTOR_A, Skip.MENTEE_NOT_READY),
        (MENTEE, OTHER_MENTEE, Skip.MENTOR_NOT_READY),
    ],
)
async def test_introduce_checks_both_profiles(
    scene: Scene, mentee: int, mentor: int, skip: Skip
) -> None:
    scene.w.messenger.join(GUILD, 99)  # a member of the server without a profile
    assert await scene.matching.introduce(GUILD, mentee, mentor, by_hand=True) == skip
    assert await scene.intros() == []


async def test_introduce_refuses_a_mentee_with_an_open_pair_or_an_earlier_introduction(
    scene: Scene,
) -> None:
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    assert await scene.matching.introduce(GUILD, MENTEE, MENTOR_B, by_hand=True) == (
        Skip.MENTEE_NOT_WAITING
    )
    await scene.matching.decline(intro.id or 0)  # rolls on to B
    (to_b,) = await scene.intros(status=IntroStatus.PENDING)
    await scene.matching.accept(to_b.id or 0)
    assert await scene.matching.introduce(GUILD, MENTEE, MENTOR_A, by_hand=True) == (
        Skip.MENTEE_PAIRED
    )
    assert await scene.matching.introduce(GUILD, OTHER_MENTEE, MENTOR_A, by_hand=True) != (
        Skip.INTRODUCED_BEFORE
    )
    await scene.matching.withdraw(GUILD, OTHER_MENTEE)
    assert await scene.matching.introduce(GUILD, OTHER_MENTEE, MENTOR_A, by_hand=True) == (
        Skip.INTRODUCED_BEFORE
    )


# --- manual introductions ----------------------------------------------------------------------


async def test_a_manual_introduction_is_audited_and_does_not_queue_the_mentee(
    scene: Scene,
) -> None:
    text = await scene.matching.introduce_by_hand(GUILD, MOD, MENTEE, MENTOR_B)
    assert text.startswith("Introduced hana to noor (compatibility")
    assert "noor has 3 days to answer" in text
    assert await scene.request_status(MENTEE) == RequestStatus.OFFERED
    assert "Nobody is waiting" in await scene.matching.queue(GUILD)
    assert "I'll ask whether" in await scene.matching.status(GUILD, MENTEE)
    assert await scene.count(AuditEntry, action="matching_manual", target_user_id=MENTEE) == 1
    (intro,) = await scene.intros()
    await scene.matching.decline(intro.id or 0)
    # Not rolled on to marco: the mentee is asked whether to keep looking.
    assert scene.cards_to(MENTOR_A) == []
    asked = scene.w.messenger.dms_to(MENTEE)[-1]
    assert "keep looking" in asked.text
    assert asked.buttons == (request_button(GUILD, "Keep looking"),)
    assert await scene.request_status(MENTEE) == RequestStatus.CANCELLED
    # Pressing the button is an ordinary request.
    assert "introduced to a mentor" in await scene.matching.request(GUILD, MENTEE)
    assert len(scene.cards_to(MENTOR_A)) == 1


async def test_an_expired_manual_introduction_asks_the_mentee_too(scene: Scene) -> None:
    await scene.matching.introduce_by_hand(GUILD, MOD, MENTEE, MENTOR_A)
    await scene.matching.expire_due(scene.w.clock.advance(hours=73))
    assert "keep looking" in scene.last_dm(MENTEE)
    assert scene.cards_to(MENTOR_B) == []


async def test_a_manual_introduction_of_a_waiting_mentee_rolls_on_as_usual(scene: Scene) -> None:
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    scene.w.clock.advance(minutes=1)  # the request cooldown
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.introduce_by_hand(GUILD, MOD, MENTEE, MENTOR_B)
    assert await scene.request_status(MENTEE) == RequestStatus.INTRODUCED
    (intro,) = await scene.intros()
    await scene.matching.decline(intro.id or 0)
    assert len(scene.cards_to(MENTOR_A)) == 1


# --- rounds, queue, mode, weights --------------------------------------------------------------


async def test_a_round_previews_sends_and_is_audited(scene: Scene) -> None:
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    scene.w.clock.advance(minutes=1)  # the request cooldown
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.request(GUILD, OTHER_MENTEE)
    assert await scene.intros() == []
    queue = await scene.matching.queue(GUILD)
    assert "Waiting for a mentor (2)" in queue and "1. hana" in queue and "2. sami" in queue
    plan = await scene.matching.preview_round(GUILD)
    assert "2 introductions" in plan.text and "Nothing is sent" in plan.text
    assert await scene.intros() == []
    progress: list[str] = []

    async def report(text: str) -> None:
        progress.append(text)

    published = await scene.matching.publish_round(GUILD, MOD, plan.assignments, progress=report)
    assert published.sent == 2 and published.skipped == ()
    assert published.text.startswith("Done: 2 introductions sent.")
    assert progress == []  # progress is shown every ten introductions
    assert len(await scene.intros()) == 2
    assert await scene.count(AuditEntry, action="matching_round") == 1
    assert await scene.count(AuditEntry, action="matching_mode") == 1


async def test_nobody_waiting_has_nothing_to_preview(scene: Scene) -> None:
    plan = await scene.matching.preview_round(GUILD)
    assert plan.text == "Nobody is waiting for a mentor right now."
    assert plan.assignments == ()


async def test_switching_back_to_instant_fills_the_waiting_list(scene: Scene) -> None:
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    assert "introduce people in rounds" in await scene.matching.request(GUILD, MENTEE)
    assert "at once" in await scene.matching.set_mode(GUILD, MOD, rounds=False)
    assert len(scene.cards_to(MENTOR_A)) == 1


async def test_weights_and_expiry_are_tuned_and_bad_weights_refused(scene: Scene) -> None:
    shown = await scene.matching.tune(GUILD, MOD, {"languages": 9.0}, expiry_hours=24)
    assert "(updated)" in shown and "languages: 9" in shown and "expire after: 24 hours" in shown
    with pytest.raises(MatchingError, match="nothing changed"):
        await scene.matching.tune(GUILD, MOD, {"areas": 0.0, "heritage": 10.0})
    settings = await scene.matching.settings(GUILD)
    assert settings.weights.languages == 9.0 and settings.expiry.total_seconds() == 24 * 3600
    assert await scene.count(AuditEntry, action="matching_weights") == 1
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    assert intro.expires_at - intro.created_at == settings.expiry


# --- members' own choices ----------------------------------------------------------------------


async def test_block_withdraws_the_pending_introduction_and_rolls_on(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    text = await scene.matching.block(GUILD, MENTEE, MENTOR_A)
    assert "never match you with marco" in text
    assert "already blocked" in await scene.matching.block(GUILD, MENTEE, MENTOR_A)
    assert [i.status for i in await scene.intros()] == [IntroStatus.CANCELLED, IntroStatus.PENDING]
    assert "withdrawn" in (scene.w.messenger.edits[0][3] or "")
    assert len(scene.cards_to(MENTOR_B)) == 1
    assert all("block" not in m.text.lower() for m in scene.w.messenger.dms_to(MENTOR_A))
    with pytest.raises(MatchingError, match="block yourself"):
        await scene.matching.block(GUILD, MENTEE, MENTEE)


async def test_cancel_pause_resume_and_capacity(scene: Scene) -> None:
    assert "not on the waiting list" in await scene.matching.cancel(GUILD, MENTEE)
    await scene.matching.pause(GUILD, MENTOR_A)
    await scene.matching.pause(GUILD, MENTOR_B)
    await scene.matching.request(GUILD, MENTEE)
    assert await scene.intros() == []
    assert "off the waiting list" in await scene.matching.cancel(GUILD, MENTEE)
    scene.w.clock.advance(minutes=1)  # the request cooldown
    await scene.matching.request(GUILD, MENTEE)
    assert "Welcome back" in await scene.matching.resume(GUILD, MENTOR_B)
    assert len(scene.cards_to(MENTOR_B)) == 1, "resuming offers the waiting list at once"
    assert "capacity is now 1 mentee." in await scene.matching.set_capacity(GUILD, MENTOR_B, 1)
    with pytest.raises(MatchingError, match="not set up as a mentor"):
        await scene.matching.pause(GUILD, MENTEE)
    with pytest.raises(MatchingError, match="not set up as a mentor"):
        await scene.matching.set_capacity(GUILD, MENTEE, 2)


# --- leaving, erasing, pairs ending ------------------------------------------------------------


async def test_withdraw_takes_a_mentee_off_and_withdraws_the_card(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.withdraw(GUILD, MENTEE)
    assert [i.status for i in await scene.intros()] == [IntroStatus.CANCELLED]
    assert "withdrawn" in (scene.w.messenger.edits[0][3] or "")
    assert await scene.request_status(MENTEE) == RequestStatus.CANCELLED
    assert "haven't asked" in await scene.matching.status(GUILD, MENTEE)


async def test_a_withdrawing_mentor_passes_the_mentee_on(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.withdraw(GUILD, MENTOR_A)
    assert len(scene.cards_to(MENTOR_B)) == 1
    assert "isn't available, so Lantern has introduced you" in scene.last_dm(MENTEE)


async def _ended_pair(scene: Scene) -> Pair:
    await scene.matching.set_capacity(GUILD, MENTOR_A, 1)
    await scene.matching.pause(GUILD, MENTOR_B)
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    await scene.matching.accept(intro.id or 0)
    await scene.matching.request(GUILD, OTHER_MENTEE)  # waits: marco is full
    assert len(await scene.intros()) == 1
    async with scene.w.database.session() as session:
        pair = (await session.execute(select(Pair))).scalar_one()
        pair.status = PairStatus.ENDED
    return pair


async def test_a_pair_ending_frees_the_place_and_offers_the_mentee_a_new_mentor(
    scene: Scene,
) -> None:
    pair = await _ended_pair(scene)
    await scene.w.services.ctx.events.pair_ended(
        PairEnded(pair.id or 0, GUILD, MENTEE, MENTOR_A, "ended")
    )
    offer = scene.w.messenger.dms_to(MENTEE)[-1]
    assert "new mentor" in offer.text
    assert offer.buttons == (request_button(GUILD, "Find me a new mentor"),)
    assert (await scene.mentor_row(MENTOR_A)).active_mentees == 0
    assert "sami would like a mentor" in scene.cards_to(MENTOR_A)[-1], "the waiting list moved"


async def test_a_mentee_who_left_is_not_offered_a_new_mentor(scene: Scene) -> None:
    pair = await _ended_pair(scene)
    scene.w.messenger.leave(GUILD, MENTEE)
    before = len(scene.w.messenger.dms_to(MENTEE))
    await scene.matching.pair_ended(PairEnded(pair.id or 0, GUILD, MENTEE, MENTOR_A, "left"))
    assert len(scene.w.messenger.dms_to(MENTEE)) == before
    assert len(scene.cards_to(MENTOR_A)) == 2


async def test_recount_after_an_erase_gives_places_back(scene: Scene) -> None:
    await _ended_pair(scene)
    await scene.matching.recount(GUILD, {MENTOR_A})
    assert (await scene.mentor_row(MENTOR_A)).active_mentees == 0
    assert len(scene.cards_to(MENTOR_A)) == 2


async def test_every_introduction_goes_through_one_path(scene: Scene) -> None:
    """Requests, rounds and manual introductions all call ``introduce`` (the drift is gone)."""
    calls: list[tuple[int, int, bool]] = []
    real = scene.matching.introduce

    async def spy(guild_id: int, mentee_id: int, mentor_id: int, *a: Any, **kw: Any) -> Any:
        calls.append((mentee_id, mentor_id, bool(kw.get("by_hand"))))
        return await real(guild_id, mentee_id, mentor_id, *a, **kw)

    scene.matching.introduce = spy  # type: ignore[method-assign]
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.introduce_by_hand(GUILD, MOD, OTHER_MENTEE, MENTOR_B)
    await scene.matching.withdraw(GUILD, MENTEE)
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    scene.w.clock.advance(minutes=1)  # the request cooldown
    await scene.matching.request(GUILD, MENTEE)
    plan = await scene.matching.preview_round(GUILD)
    published = await scene.matching.publish_round(GUILD, MOD, plan.assignments)
    assert published.sent == 1
    assert calls == [
        (MENTEE, MENTOR_A, False),
        (OTHER_MENTEE, MENTOR_B, True),
        (MENTEE, MENTOR_B, False),
    ]


async def test_asking_again_after_cancelling_waits_a_minute(scene: Scene) -> None:
    await scene.matching.request(GUILD, MENTEE)
    assert "waiting for their answer" in await scene.matching.request(GUILD, MENTEE)
    await scene.matching.withdraw(GUILD, MENTEE)
    with pytest.raises(UserFacingError, match="ask again in 1 minute"):
        await scene.matching.request(GUILD, MENTEE)
    assert await scene.request_status(MENTEE) == RequestStatus.CANCELLED  # nothing changed
    scene.w.clock.advance(minutes=1)
    await scene.matching.request(GUILD, MENTEE)
    assert await scene.request_status(MENTEE) != RequestStatus.CANCELLED


# --- the same moment: capacity, repeated requests, accept against everything else --------------

CROWD = tuple(range(100, 110))


async def _crowd(scene: Scene) -> None:
    """Ten more mentees; marco has one place, noor five."""
    w = scene.w
    for mentee in CROWD:
        await onboarded(
            w.database, w.services.ctx.cipher, guild_id=GUILD, user_id=mentee, now=w.clock()
        )
    w.messenger.join(GUILD, *CROWD)
    await scene.matching.set_capacity(GUILD, MENTOR_A, 1)
    await scene.matching.set_capacity(GUILD, MENTOR_B, 5)


async def test_ten_requests_at_once_never_overfill_a_one_place_mentor(scene: Scene) -> None:
    await _crowd(scene)
    said = await asyncio.gather(*(scene.matching.request(GUILD, m) for m in CROWD))
    to_a = await scene.intros(mentor_id=MENTOR_A)
    to_b = await scene.intros(mentor_id=MENTOR_B)
    assert len(to_a) == 1, "one place, one introduction"
    assert len(to_b) == 5, "the others were offered the next mentor"
    assert sum("waiting list" in text for text in said) == 4
    assert sum("introduced to a mentor" in text for text in said) == 6
    statuses = [await scene.request_status(m) for m in CROWD]
    assert statuses.count(RequestStatus.INTRODUCED) == 6
    assert statuses.count(RequestStatus.WAITING) == 4


async def test_the_same_request_twice_at_once_is_one_request(scene: Scene) -> None:
    said = await asyncio.gather(*(scene.matching.request(GUILD, MENTEE) for _ in range(4)))
    assert len(await scene.intros()) == 1
    assert await scene.count(MatchRequest, mentee_id=MENTEE) == 1
    repeats = [text for text in said if text.startswith("Lantern already has your request")]
    assert len(repeats) == 3, said


async def test_a_repeated_request_is_told_its_place_kindly(scene: Scene) -> None:
    await scene.matching.pause(GUILD, MENTOR_A)
    await scene.matching.pause(GUILD, MENTOR_B)
    await scene.matching.request(GUILD, OTHER_MENTEE)
    scene.w.clock.advance(minutes=5)
    await scene.matching.request(GUILD, MENTEE)
    again = await scene.matching.request(GUILD, MENTEE)
    assert again.startswith("Lantern already has your request, so nothing changed.")
    assert "waiting list, number 2" in again


async def _pending(scene: Scene) -> Introduction:
    await scene.matching.request(GUILD, MENTEE)
    (intro,) = await scene.intros()
    return intro


async def _consistent(scene: Scene) -> Pair | None:
    """A pair with exactly one space asked for, or no pair and the mentee not matched."""
    async with scene.w.database.session() as session:
        pairs = list((await session.execute(select(Pair))).scalars())
    if pairs:
        (pair,) = pairs
        assert scene.opened == [pair.id]
        return pair
    assert scene.opened == []
    assert await scene.request_status(MENTEE) != RequestStatus.MATCHED
    return None


async def _answer(call: Any) -> str:
    try:
        return str(await call)
    except MatchingError as refused:
        return refused.message


@pytest.mark.parametrize("other", ["decline", "decline-pause", "expire", "withdraw"])
async def test_accept_racing_another_ending_gives_one_outcome(scene: Scene, other: str) -> None:
    intro = await _pending(scene)
    assert intro.id is not None
    m = scene.matching
    rival = {
        "decline": lambda: m.decline(intro.id or 0),
        "decline-pause": lambda: m.decline(intro.id or 0, pause=True),
        "expire": lambda: m.expire_due(scene.w.clock() + timedelta(hours=72)),
        "withdraw": lambda: m.withdraw(GUILD, MENTEE),
    }[other]
    await asyncio.gather(_answer(m.accept(intro.id)), _answer(rival()), _answer(m.accept(intro.id)))
    pair = await _consistent(scene)
    (after,) = [i for i in await scene.intros() if i.id == intro.id]
    assert (after.status == IntroStatus.ACCEPTED) == (pair is not None)
    if other == "decline-pause":
        assert (await scene.mentor_row(MENTOR_A)).mentor_paused == (pair is None)
    assert (await scene.mentor_row(MENTOR_A)).active_mentees == (1 if pair else 0)


async def test_accept_after_a_block_is_withdrawn_and_never_a_pair(scene: Scene) -> None:
    """The block is in force (its first step done) when the mentor presses Accept."""
    intro = await _pending(scene)
    assert await scene.w.services.moderation.block(GUILD, MENTEE, MENTOR_A)
    card = await scene.matching.accept(intro.id or 0)
    assert card == "This introduction was withdrawn. Nothing else to do."
    assert await _consistent(scene) is None
    assert all("block" not in m.text.lower() for m in scene.w.messenger.dms_to(MENTOR_A))
    assert len(scene.cards_to(MENTOR_B)) == 1, "the mentee moved on"
    # The block's own step then finds nothing left to withdraw: one roll-on, not two.
    await scene.matching.block(GUILD, MENTEE, MENTOR_A)
    assert len(scene.cards_to(MENTOR_B)) == 1


async def test_accept_racing_a_block_gives_one_outcome(scene: Scene) -> None:
    intro = await _pending(scene)
    said = await asyncio.gather(
        _answer(scene.matching.block(GUILD, MENTEE, MENTOR_A)),
        _answer(scene.matching.accept(intro.id or 0)),
    )
    pair = await _consistent(scene)
    if pair is not None:  # the accept came first: the blocker is told how to end it
        assert "/pair end" in said[0]
    assert len(scene.cards_to(MENTOR_B)) == (0 if pair else 1)


async def test_a_mentee_who_left_cannot_be_accepted_or_reminded(scene: Scene) -> None:
    intro = await _pending(scene)
    scene.w.messenger.leave(GUILD, MENTEE)
    with pytest.raises(MatchingError, match="no longer in the server"):
        await scene.matching.accept(intro.id or 0)
    assert await _consistent(scene) is None
    assert await scene.request_status(MENTEE) == RequestStatus.CANCELLED
    assert "withdrawn" in (scene.w.messenger.edits[-1][3] or "")
    await scene.matching.remind_due(scene.w.clock.advance(hours=40))
    assert not any("reminder" in m.text for m in scene.w.messenger.dms_to(MENTOR_A))


async def test_a_mentor_who_left_is_not_reminded_and_the_mentee_moves_on(scene: Scene) -> None:
    await _pending(scene)
    scene.w.messenger.leave(GUILD, MENTOR_A)
    await scene.matching.remind_due(scene.w.clock.advance(hours=40))
    assert not any("reminder" in m.text for m in scene.w.messenger.dms_to(MENTOR_A))
    assert [i.status for i in await scene.intros()] == [IntroStatus.CANCELLED, IntroStatus.PENDING]
    assert len(scene.cards_to(MENTOR_B)) == 1


async def test_nobody_who_left_is_introduced_and_their_request_is_withdrawn(scene: Scene) -> None:
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    await scene.matching.request(GUILD, MENTEE)
    await scene.matching.request(GUILD, OTHER_MENTEE)
    plan = await scene.matching.preview_round(GUILD)
    assert len(plan.assignments) == 2
    scene.w.messenger.leave(GUILD, MENTEE)
    scene.w.messenger.leave(GUILD, MENTOR_B)
    published = await scene.matching.publish_round(GUILD, MOD, plan.assignments)
    reasons = dict(published.skipped)
    assert reasons.get(MENTEE) == Skip.MENTEE_LEFT
    assert "left the server since the preview" in published.text
    assert await scene.request_status(MENTEE) == RequestStatus.CANCELLED
    assert "no longer in that server" in await scene.matching.request(GUILD, MENTEE)
    assert Skip.MENTOR_LEFT in reasons.values() or published.sent == 1
    assert scene.cards_to(MENTOR_B) == []


async def test_a_round_lists_what_changed_since_the_preview(only_mentor_a: Scene) -> None:
    scene = only_mentor_a
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    await scene.matching.request(GUILD, MENTEE)
    plan = await scene.matching.preview_round(GUILD)
    await scene.matching.pause(GUILD, MENTOR_A)
    published = await scene.matching.publish_round(GUILD, MOD, plan.assignments)
    assert "hana: the mentor paused since the preview" in published.text


async def test_the_preview_never_shows_a_members_areas_beside_their_name(scene: Scene) -> None:
    await scene.matching.pause(GUILD, MENTOR_B)
    await scene.matching.set_capacity(GUILD, MENTOR_A, 1)
    await scene.matching.set_mode(GUILD, MOD, rounds=True)
    w = scene.w
    await onboarded(
        w.database, w.services.ctx.cipher, guild_id=GUILD, user_id=150, now=w.clock(),
        areas_wanted=["career"],
    )  # fmt: skip
    w.messenger.join(GUILD, 150)
    w.messenger.names[150] = "[@everyone](https://evil.example)"
    for mentee in (MENTEE, OTHER_MENTEE, 150):
        await scene.matching.request(GUILD, mentee)
    plan = await scene.matching.preview_round(GUILD)
    assert "1 introduction" in plan.text and "Compatibility: average" in plan.text
    assert "Staying on the waiting list (2)" in plan.text
    lowered = plan.text.lower()
    for private in ("career", "identity", "culture", "tagalog", "mentorship area"):
        assert private not in lowered, private
    assert "[@everyone](https://evil.example)" not in plan.text
