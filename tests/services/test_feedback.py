"""End-of-mentorship feedback on a real database: every ending asks each member still in the
server once, privately; answers are recorded once; the partner never sees any of it; a member
who erased their data or left is not asked; export and erase cover the answers."""

from __future__ import annotations

import asyncio
import json
import re

from sqlalchemy import select

from bot.db.models import FeedbackStatus, MentorshipFeedback
from bot.domain import feedback as d
from bot.domain.components import FEEDBACK
from bot.services.events import PairEnded
from tests.factories import accepted_pair, count_rows, onboarded
from tests.services.conftest import World

GUILD, MENTEE, MENTOR, MODERATOR = 10, 1, 2, 9


async def _pair(world: World) -> int:
    world.messenger.join(GUILD, MENTEE, MENTOR, MODERATOR)
    cipher, now = world.services.ctx.cipher, world.clock.now
    await onboarded(world.database, cipher, guild_id=GUILD, user_id=MENTEE, now=now)
    await onboarded(
        world.database, cipher, guild_id=GUILD, user_id=MENTOR, now=now, mentor=True, capacity=3
    )
    return await accepted_pair(
        world.database,
        cipher,
        guild_id=GUILD,
        mentee_id=MENTEE,
        mentor_id=MENTOR,
        now=now,
        reasons=["You both chose identity exploration"],
    )


def _cards(world: World, user_id: int) -> list[int]:
    """The feedback cards DMed to ``user_id``: their ids, from the buttons' custom ids."""
    ids = []
    for message in world.messenger.dms_to(user_id):
        for button in message.buttons:
            match = re.fullmatch(FEEDBACK, button.custom_id)
            if match and match["id"] not in map(str, ids):
                ids.append(int(match["id"]))
    return ids


async def _rows(world: World) -> list[MentorshipFeedback]:
    async with world.database.session() as session:
        return list((await session.execute(select(MentorshipFeedback))).scalars())


async def test_a_member_ending_asks_both_once_privately(world: World) -> None:
    pair_id = await _pair(world)
    await world.services.pairs.member_end(pair_id, MENTEE, "we drifted apart")
    mentee_cards, mentor_cards = _cards(world, MENTEE), _cards(world, MENTOR)
    assert len(mentee_cards) == 1 and len(mentor_cards) == 1
    assert mentee_cards != mentor_cards, "each member has their own card"
    first = next(m for m in world.messenger.dms_to(MENTOR) if m.buttons)
    assert "How helpful" in first.text and "partner never sees" in first.text
    # The same ending published again (a retry, a second process) asks nobody twice.
    await world.services.ctx.events.pair_ended(
        PairEnded(pair_id, GUILD, MENTEE, MENTOR, "ended", MENTEE)
    )
    assert len(_cards(world, MENTEE)) == 1 and len(_cards(world, MENTOR)) == 1
    assert await count_rows(world.database, MentorshipFeedback) == 2


async def test_moderator_ending_asks_both(world: World) -> None:
    pair_id = await _pair(world)
    await world.services.pairs.moderator_end(GUILD, MODERATOR, pair_id, None)
    assert len(_cards(world, MENTEE)) == 1 and len(_cards(world, MENTOR)) == 1
    assert not _cards(world, MODERATOR)


async def test_who_left_is_not_asked_their_partner_is(world: World) -> None:
    pair_id = await _pair(world)
    world.messenger.leave(GUILD, MENTOR)
    await world.services.member_data.member_left(GUILD, MENTOR)
    assert _cards(world, MENTOR) == []
    assert len(_cards(world, MENTEE)) == 1
    assert pair_id


async def test_who_erased_is_not_asked_their_partner_is(world: World) -> None:
    await _pair(world)
    await world.services.member_data.erase(MENTEE)
    assert _cards(world, MENTEE) == []
    assert len(_cards(world, MENTOR)) == 1
    rows = await _rows(world)
    assert [r.user_id for r in rows] == [MENTOR]


async def test_dms_closed_loses_nothing_and_tells_nobody(world: World) -> None:
    pair_id = await _pair(world)
    world.messenger.closed.add(MENTOR)
    before = len(world.messenger.sent)
    await world.services.pairs.member_end(pair_id, MENTEE, None)
    rows = {r.user_id: r for r in await _rows(world)}
    assert rows[MENTOR].status == FeedbackStatus.UNDELIVERED
    assert rows[MENTEE].status == FeedbackStatus.ASKED
    sent_after = world.messenger.sent[before:]
    assert not any("feedback" in m.text.lower() for m in sent_after if m.to != MENTEE)
    # The closed card cannot be answered later either.
    changed, card = await world.services.feedback.answer(
        rows[MENTOR].id or 0, MENTOR, "helpful", "5"
    )
    assert not changed and card.text == d.CLOSED


async def test_answers_once_in_order_and_the_partner_sees_nothing(world: World) -> None:
    pair_id = await _pair(world)
    await world.services.pairs.member_end(pair_id, MENTEE, None)
    (card_id,) = _cards(world, MENTOR)
    feedback = world.services.feedback
    seen_by_mentee = len(world.messenger.dms_to(MENTEE))
    # A double click delivered at once: one answer.
    results = await asyncio.gather(
        feedback.answer(card_id, MENTOR, "helpful", "4"),
        feedback.answer(card_id, MENTOR, "helpful", "2"),
    )
    assert sorted(changed for changed, _ in results) == [False, True]
    changed, card = await feedback.answer(card_id, MENTOR, "recommend", "yes")
    assert changed and card.text == d.WORDS_QUESTION
    said = await feedback.words(
        card_id, MENTOR, "Kind and patient @everyone [x](http://e.vil)", share=True
    )
    assert said == d.WORDS_SAVED_SHARED
    (row,) = [r for r in await _rows(world) if r.user_id == MENTOR]
    assert row.helpful in (4, 2) and row.recommend == "yes" and row.share_words
    assert row.status == FeedbackStatus.DONE and row.words_enc and "Kind" not in row.words_enc
    # Closed: more clicks change nothing and say so kindly.
    changed, card = await feedback.answer(card_id, MENTOR, "helpful", "1")
    assert not changed and card.text == d.CLOSED
    assert await feedback.words(card_id, MENTOR, "again", share=False) == d.CLOSED
    # The partner was never told anything about it.
    assert len(world.messenger.dms_to(MENTEE)) == seen_by_mentee
    # Someone else pressing the card is refused; the partner's card is theirs alone.
    assert not await feedback.may_answer(card_id, MENTEE)
    changed, card = await feedback.answer(card_id, MENTEE, "helpful", "1")
    assert not changed and card.text == d.CLOSED


async def _ended(world: World) -> tuple[int, int]:
    """A pair the mentee ended: the mentee's and the mentor's feedback cards."""
    await world.services.pairs.member_end(await _pair(world), MENTEE, None)
    (mentee_card,) = _cards(world, MENTEE)
    (mentor_card,) = _cards(world, MENTOR)
    return mentee_card, mentor_card


async def test_skip_and_finish_and_an_old_card_closes(world: World) -> None:
    mentee_card, mentor_card = await _ended(world)
    feedback = world.services.feedback
    changed, card = await feedback.answer(mentee_card, MENTEE, "helpful", "skip")
    assert changed and card.text == d.RECOMMEND_QUESTION
    changed, card = await feedback.answer(mentee_card, MENTEE, "recommend", "skip")
    changed, card = await feedback.answer(mentee_card, MENTEE, "finish", "done")
    assert changed and card.text == d.THANKS
    assert await feedback.words(mentee_card, MENTEE, "   ", share=True) == d.WORDS_EMPTY
    world.clock.advance(days=d.OPEN_FOR.days + 1)
    changed, card = await feedback.answer(mentor_card, MENTOR, "helpful", "5")
    assert not changed and card.text == d.CLOSED


async def test_export_shows_own_answers_and_erase_removes_them(world: World) -> None:
    mentee_card, mentor_card = await _ended(world)
    feedback = world.services.feedback
    await feedback.answer(mentor_card, MENTOR, "helpful", "5")
    await feedback.answer(mentor_card, MENTOR, "recommend", "no")
    await feedback.words(mentor_card, MENTOR, "Only mine", share=False)
    await feedback.answer(mentee_card, MENTEE, "helpful", "1")
    exported = json.loads((await world.services.member_data.export(MENTOR)).content)
    (mine,) = exported["data"]["mentorship_feedback"]
    assert mine["helpful"] == 5 and mine["words"] == "Only mine" and mine["recommend"] == "no"
    assert "Only mine" not in json.dumps(
        json.loads((await world.services.member_data.export(MENTEE)).content)
    )
    await world.services.member_data.erase(MENTOR)
    assert [r.user_id for r in await _rows(world)] == [MENTEE]
