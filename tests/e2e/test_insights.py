"""/insights and the end-of-mentorship feedback through the real bot on simcord: the ending
asks both members once by DM, the partner never sees the other's card or answers, a double
click is one answer, the buttons and the words form work (or say so kindly) after a restart;
moderators get a private PNG chart and a CSV, members cannot run it."""

from __future__ import annotations

import csv
import io
from typing import Any

import simcord
from sqlalchemy import select

from bot.db.models import MentorshipFeedback
from bot.domain import feedback as d
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
    pair = await w.opened()
    handle = w.channel(pair.channel_id)
    shown = await w.mentee.slash(handle, "pair end")
    await w.mentee.click(shown.response.message, label="Yes, end the mentorship")
    await w.env.settle()
    (mentee_card,) = _cards(w.mentee)
    (mentor_card,) = _cards(w.mentor)
    assert "How helpful" in mentor_card.content and "partner never sees" in mentor_card.content
    # A double click delivered at once: one answer, and the card moves on once.
    await at_once(
        w.env,
        lambda: w.mentor.user.click(mentor_card, label="4"),
        lambda: w.mentor.user.click(mentor_card, label="2"),
    )
    rows = await _rows(w.bot)
    assert rows[w.mentor.id].helpful in (2, 4)
    mentor_card = _cards(w.mentor)[0]
    assert d.RECOMMEND_QUESTION in (
        w.mentor.user.dm_channel.history()[-1].content + mentor_card.content
    )
    # Lantern restarts; the card's buttons still work.
    await w.env.restart_bot(bot_factory())
    await w.env.settle()
    card = w.mentor.user.dm_channel.history()
    current = next(m for m in reversed(card) if d.RECOMMEND_QUESTION in m.content)
    await w.mentor.user.click(current, label="Yes")
    current = next(
        m for m in reversed(w.mentor.user.dm_channel.history()) if d.WORDS_QUESTION in m.content
    )
    opened = await w.mentor.user.click(current, label="Add words moderators may read")
    assert opened.modal is not None
    await w.mentor.user.submit_modal(opened, {"words": "Patient, kind @everyone"})
    await w.env.settle()
    rows = await _rows(w.bot)
    assert rows[w.mentor.id].recommend == "yes" and rows[w.mentor.id].share_words
    assert rows[w.mentor.id].status == "done"
    thanks = next(m for m in w.mentor.user.dm_channel.history() if m.id == current.id)
    assert thanks.content == d.WORDS_SAVED_SHARED and not thanks.components
    # The partner never saw any of it: their DMs hold only their own card and the ending.
    partner = " ".join(m.content for m in w.mentee.user.dm_channel.history())
    assert "Patient" not in partner and "recommend" not in partner.lower().replace(
        d.RECOMMEND_QUESTION.lower(), ""
    )
    assert "Patient" not in " ".join(m.content for m in handle.history())
    assert len(_cards(w.mentee)) == 1 and mentee_card.id == _cards(w.mentee)[0].id
    # A card left a month is closed, and says so kindly; nothing is recorded.
    await w.env.advance_time(31 * 24 * 3600)
    await w.mentee.user.click(mentee_card, label="5")
    closed = next(m for m in w.mentee.user.dm_channel.history() if m.id == mentee_card.id)
    assert closed.content == d.CLOSED and not closed.components
    assert (await _rows(w.bot))[w.mentee.id].helpful is None


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
