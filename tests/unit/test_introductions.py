"""Introduction wording and waiting-list estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.introductions import expected_wait, format_hours, intro_card, reminder_due
from bot.domain.profile import Profile

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("position", "waits", "expected"),
    [
        (0, [], "as soon as a mentor is free"),
        (0, [timedelta(hours=5)], "less than a day"),
        (0, [timedelta(days=3)] * 3, "about 3 days"),
        (4, [timedelta(days=3)], "about 6 days"),
        (0, [timedelta(days=14)], "about 2 weeks"),
    ],
)
def test_expected_wait(position: int, waits: list[timedelta], expected: str) -> None:
    assert expected in expected_wait(position, waits)


@pytest.mark.parametrize(
    ("hours_since", "due"),
    [(0, False), (35, False), (36, True), (71, True), (72, False)],
)
def test_reminder_is_due_from_halfway_until_expiry(hours_since: int, due: bool) -> None:
    assert reminder_due(T0, T0 + timedelta(hours=72), T0 + timedelta(hours=hours_since)) is due


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=72), "3 days"),
        (timedelta(hours=5), "5 hours"),
        (timedelta(minutes=5), "less than an hour"),
    ],
)
def test_format_hours(delta: timedelta, text: str) -> None:
    assert format_hours(delta) == text


def test_intro_card_shows_only_shared_fields_and_pings_no_one() -> None:
    mentee = Profile.from_answers(
        1,
        {
            "role": "mentee",
            "areas_wanted": ["identity"],
            "about": "@everyone **look** at me \u202e",
            "hopes": "private hopes",
            "share": ["about"],
        },
    )
    card = intro_card(
        "<@&123> Ann",
        mentee,
        ["You both chose identity exploration"],
        expires_in=timedelta(hours=72),
    )
    assert "@everyone" not in card
    assert "<@&123>" not in card
    assert "\\*\\*look\\*\\*" in card
    assert "\u202e" not in card
    assert "private hopes" not in card
    assert "You both chose identity exploration" in card
    assert len(card) <= 2000
