"""/insights on a real database: figures from a seeded world, counted in SQL, banded, with no
totals beside their parts, feedback only from five answers and words only when shared."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.db.models import MatchRequest
from bot.domain import insights as d
from tests.factories import accepted_pair, add_row, onboarded
from tests.services.conftest import World

GUILD, OTHER_GUILD, MODERATOR = 10, 11, 9
MENTORS = list(range(720001, 720007))
MENTEES = list(range(710001, 710007))


def _figures(insights: d.Insights) -> dict[str, dict[str, str]]:
    return {p.title: {c.label: c.shown for c in p.cells} for p in insights.panels}


async def _seed(world: World) -> list[int]:
    """Six mentors, six mentees paired and ended by members, six waiting requests (two
    weeks), three joins; and a second server whose figures must not leak in."""
    cipher, now = world.services.ctx.cipher, world.clock.now
    world.messenger.join(GUILD, *MENTORS, *MENTEES)
    for mentor in MENTORS:
        await onboarded(
            world.database,
            cipher,
            guild_id=GUILD,
            user_id=mentor,
            now=now,
            mentor=True,
            capacity=2,
        )
    pairs = []
    for mentee, mentor in zip(MENTEES, MENTORS, strict=True):
        await onboarded(world.database, cipher, guild_id=GUILD, user_id=mentee, now=now)
        pairs.append(
            await accepted_pair(
                world.database,
                cipher,
                guild_id=GUILD,
                mentee_id=mentee,
                mentor_id=mentor,
                now=now,
                reasons=["x"],
            )
        )
    for waiting in range(300, 306):
        await add_row(
            world.database,
            MatchRequest(
                guild_id=GUILD,
                mentee_id=waiting,
                requested_at=now - timedelta(days=waiting - 298),
                updated_at=now,
            ),
        )
    for _ in range(3):
        await world.services.insights.count_join(GUILD)
    await onboarded(world.database, cipher, guild_id=OTHER_GUILD, user_id=999, now=now)
    for _ in range(9):
        await world.services.insights.count_join(OTHER_GUILD)
    return pairs


async def test_figures_from_a_seeded_world(world: World) -> None:
    pairs = await _seed(world)
    for pair_id in pairs[:2]:
        await world.services.pairs.member_end(pair_id, MENTEES[0], None)
    await world.services.pairs.moderator_end(GUILD, MODERATOR, pairs[2], None)
    insights = await world.services.insights.insights(GUILD, MODERATOR, "30")
    figures = _figures(insights)
    assert figures["Onboarding"] == {
        f"Joined (since {world.clock.now:%-d %b %Y})": "fewer than 5",
        "Started": "10-14",
        "Agreed to matching": "10-14",
        "Finished": "10-14",
    }
    assert figures["Matching now"] == {"Requests waiting": "5-9", "Active pairs": "fewer than 5"}
    assert "about 4 days" in next(p.note for p in insights.panels if p.title == "Matching now")
    assert figures["Introductions answered"] == {
        "Accepted": "5-9",
        "Declined": "0",
        "Expired": "0",
    }
    assert figures["Pairs ended, by reason"]["A member ended it"] == "fewer than 5"
    assert figures["Pairs ended, by reason"]["A moderator ended it"] == "fewer than 5"
    # Three endings asked six members: fewer than five answers shows no feedback at all.
    assert "Feedback is shown once at least 5" in insights.panels[-1].note
    assert not insights.panels[-1].cells


async def test_feedback_only_from_five_answers_and_words_only_when_shared(world: World) -> None:
    pairs = await _seed(world)
    for pair_id in pairs:
        await world.services.pairs.moderator_end(GUILD, MODERATOR, pair_id, None)
    cards = {}
    for message in world.messenger.sent:
        for button in message.buttons:
            if button.custom_id.startswith("lantern:feedback:helpful:"):
                cards[message.to] = int(button.custom_id.split(":")[3])
    assert len(cards) == 12
    feedback = world.services.feedback
    for n, user_id in enumerate(MENTEES[:4]):
        await feedback.answer(cards[user_id], user_id, "helpful", str(n % 5 + 1))
    await feedback.answer(cards[MENTEES[0]], MENTEES[0], "recommend", "yes")
    await feedback.words(cards[MENTEES[0]], MENTEES[0], '=HYPERLINK("http://e.vil")', share=True)
    await feedback.words(cards[MENTEES[1]], MENTEES[1], "my private words", share=False)
    insights = await world.services.insights.insights(GUILD, MODERATOR, "all")
    assert not insights.words and not insights.panels[-1].cells, "four answers show nothing"
    await feedback.answer(cards[MENTORS[0]], MENTORS[0], "helpful", "5")
    insights = await world.services.insights.insights(GUILD, MODERATOR, "all")
    figures = _figures(insights)
    assert figures["Feedback: how helpful (1-5)"] == {
        "1": "fewer than 5",
        "2": "fewer than 5",
        "3": "fewer than 5",
        "4": "fewer than 5",
        "5": "fewer than 5",
    }
    assert figures["Would recommend mentoring here"]["Yes"] == "fewer than 5"
    assert insights.words == ('=HYPERLINK("http://e.vil")',)
    text, sheet = d.summary_text(insights), d.csv_text(insights)
    assert "my private words" not in text + sheet
    assert "\n=" not in sheet and ",=" not in sheet and "'=HYPERLINK" in sheet
    for member in (*MENTEES, *MENTORS):
        assert str(member) not in re.sub(r"\d+-\d+", "", text + sheet)
    # An older period leaves out what happened before it.
    world.clock.advance(days=8)
    week = await world.services.insights.insights(GUILD, MODERATOR, "7")
    assert _figures(week)["Pairs ended, by reason"]["A moderator ended it"] == "0"
    assert _figures(week)["Onboarding"]["Started"] == "0"


async def test_erasing_a_member_removes_their_answers_from_the_figures(world: World) -> None:
    pairs = await _seed(world)
    for pair_id in pairs:
        await world.services.pairs.moderator_end(GUILD, MODERATOR, pair_id, None)
    feedback = world.services.feedback
    for message in world.messenger.sent:
        for button in message.buttons:
            if button.custom_id.startswith("lantern:feedback:helpful:") and message.to in MENTEES:
                await feedback.answer(
                    int(button.custom_id.split(":")[3]), message.to, "helpful", "5"
                )
    counts = await world.services.insights.counts(GUILD, "all")
    assert counts.feedback_answers == 6 and counts.helpful == {5: 6}
    await world.services.member_data.erase(MENTEES[0])
    counts = await world.services.insights.counts(GUILD, "all")
    assert counts.feedback_answers == 5 and counts.helpful == {5: 5}
