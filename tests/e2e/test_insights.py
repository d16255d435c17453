"""/insights and the end-of-mentorship feedback through the real bot on simcord: the ending
asks both members once by DM, the partner never sees the other's card or answers, a double
click is one answer, the buttons and the words form work (or say so kindly) after a restart;
moderators get a private PNG chart and a CSV, members cannot run it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import simcord
from sqlalchemy import select

from bot.db.models import MentorshipFeedback
from bot.domain import feedback as d
from bot.domain.components import EXPIRED_FORM
from tests.e2e.conftest import Community, assert_members_cannot_run, close_dms
from tests.e2e.pairs_helpers import pair_world
from tests.e2e.races import at_once

PNG = b"\x89PNG\r\n\x1a\n"


def _cards(member: simcord.MemberActor) -> list[Any]:
    return [
        m
        for m in member.user.dm_channel.history()
        if any(
            getattr(c, "custom_id", "").startswith("lantern:feedback:")
            for row in m.components
            for c in row.children
        )
    ]


async def _rows(bot: Any) -> dict[int, MentorshipFeedback]:
    async with bot.database.session() as session:
        rows = (await session.execute(select(MentorshipFeedback))).scalars()
        return {r.user_id: r for r in rows}


async def test_feedback_after_an_ending_once_privately_and_after_a_restart(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    handle = await w.end_as(w.mentee, await w.opened())
    (mentee_card,) = _cards(w.mentee)
    (mentor_card,) = _cards(w.mentor)
    assert "How helpful" in mentor_card.content and "partner never sees" in mentor_card.content
    # A double click delivered at once: one answer, and the card moves on once.
    clicks = await at_once(
        w.env,
        lambda: w.mentor.user.click(mentor_card, label="4"),
        lambda: w.mentor.user.click(mentor_card, label="2"),
    )
    assert sum(d.ALREADY in _said(click) for click in clicks) == 1
    assert (await _rows(w.bot))[w.mentor.id].helpful in (2, 4)
    assert _same(w.mentor, mentor_card.id).content == d.RECOMMEND_QUESTION
    # Lantern restarts; the card's buttons still work.
    await w.env.restart_bot(bot_factory())
    await w.env.settle()
    await w.mentor.user.click(_same(w.mentor, mentor_card.id), label="Yes")
    current = _same(w.mentor, mentor_card.id)
    assert current.content == d.WORDS_QUESTION
    opened = await w.mentor.user.click(current, label="Add words moderators may read")
    assert opened.modal is not None
    await w.mentor.user.submit_modal(opened, {"words": "Patient, kind @everyone"})
    await w.env.settle()
    rows = await _rows(w.bot)
    assert rows[w.mentor.id].recommend == "yes" and rows[w.mentor.id].share_words
    assert rows[w.mentor.id].status == "done"
    thanks = _same(w.mentor, mentor_card.id)
    assert thanks.content == d.WORDS_SAVED_SHARED and not thanks.components
    # The partner never saw any of it: only their own card, still at its first question.
    partner = " ".join(m.content for m in w.mentee.user.dm_channel.history())
    for secret in ("Patient", d.RECOMMEND_QUESTION, d.WORDS_QUESTION, d.WORDS_SAVED_SHARED):
        assert secret not in partner
    assert "Patient" not in " ".join(m.content for m in handle.history())
    assert [c.id for c in _cards(w.mentee)] == [mentee_card.id]


async def test_a_words_form_across_a_restart_and_an_old_card_close_kindly(
    community: Community, bot_factory: Any
) -> None:
    w = await pair_world(community)
    await w.end_as(w.mentor, await w.opened())
    (card,) = _cards(w.mentee)
    await w.mentee.user.click(card, label="3")
    await w.mentee.user.click(_same(w.mentee, card.id), label="No")
    opened = await w.mentee.user.click(_same(w.mentee, card.id), label="Add words kept just for me")
    await w.env.restart_bot(bot_factory())
    late = await w.mentee.user.submit_modal(opened, {"words": "lost?"})
    said = _said(late)
    assert said.startswith(EXPIRED_FORM) and d.WORDS_QUESTION in said
    assert (await _rows(w.bot))[w.mentee.id].words_enc is None, "nothing in it was saved"
    # A card left a month is closed, and says so kindly; nothing more is recorded.
    await w.env.advance_time(31 * 24 * 3600)
    await w.mentee.user.click(_same(w.mentee, card.id), label="Finish")
    closed = _same(w.mentee, card.id)
    assert closed.content == d.CLOSED and not closed.components
    assert (await _rows(w.bot))[w.mentee.id].status == "asked"


def _same(member: simcord.MemberActor, message_id: int) -> Any:
    """A DM as it reads now (feedback cards are edited in place)."""
    return next(m for m in member.user.dm_channel.history() if m.id == message_id)


def _said(result: Any) -> str:
    texts = [getattr(result.response, "content", "") or ""]
    texts += [getattr(f, "content", "") or "" for f in result.followups or []]
    return " ".join(texts)


async def test_closed_dms_lose_nothing_and_tell_nobody(community: Community) -> None:
    w = await pair_world(community)
    pair = await w.opened()
    close_dms(w.env, w.mentor.user)  # the ending's own DM
    close_dms(w.env, w.mentor.user)  # the feedback card
    result = await community.moderator.slash(community.general, "pairs end", pair=pair.id)
    assert result.ephemeral
    await w.env.settle()
    rows = await _rows(w.bot)
    assert rows[w.mentor.id].status == "undelivered"
    assert len(_cards(w.mentee)) == 1
    assert not any("feedback" in m.content.lower() for m in w.alerts())


@pytest.mark.simcord(settle_timeout=60)  # the chart draws in a thread, in real time
async def test_moderators_get_a_private_chart_and_csv_members_cannot(
    community: Community,
) -> None:
    w = await pair_world(community)
    newcomer = community.guild.add_member(w.env.create_user("new_nia"))
    await w.env.settle()
    pair = await w.opened()
    await community.moderator.slash(community.general, "pairs end", pair=pair.id)
    await w.env.settle()
    result = await community.moderator.slash(community.general, "insights chart", period="all")
    assert result.ephemeral
    message = result.followups[0] if result.followups else result.response.message
    (attachment,) = message.attachments
    assert attachment.filename == "insights.png"
    assert (await attachment.read()).startswith(PNG)
    text = message.content
    assert "Program insights: all time" in text and "A moderator ended it: fewer than 5" in text
    for person in (w.mentee, w.mentor, newcomer):
        assert str(person.id) not in text
    assert "Joined (since" in text
    result = await community.moderator.slash(community.general, "insights export", period="7")
    message = result.followups[0] if result.followups else result.response.message
    (attachment,) = message.attachments
    sheet = (await attachment.read()).decode()
    assert attachment.filename == "insights.csv" and sheet.startswith("section,figure,value")
    rows = list(csv.reader(io.StringIO(sheet)))
    assert ["Pairs ended, by reason", "A moderator ended it", "fewer than 5"] in rows
    await assert_members_cannot_run(community, "insights chart")
