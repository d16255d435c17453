"""Introduction wording and waiting-list estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.introductions import (
    Skip,
    already_decided,
    closed_dms_card,
    expected_wait,
    format_hours,
    intro_card,
    manual_refusal,
    reminder_due,
    round_sent,
    skip_reason,
)
from bot.domain.profile import Profile
from bot.domain.text import safe_inline

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
        safe_inline("<@&123> Ann"),  # names reach the domain escaped (Messenger.name)
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


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("accepted", "already accepted"),
        ("declined", "already declined"),
        ("expired", "expired and was passed on"),
        ("cancelled", "no longer open"),
    ],
)
def test_a_second_answer_says_what_already_happened(status: str, text: str) -> None:
    assert text in already_decided(status)
    assert "nothing changed" in already_decided(status)


def test_every_skip_has_a_reason_and_a_manual_refusal() -> None:
    for skip in Skip:
        assert skip_reason(skip)
        assert manual_refusal(skip, "Ann", "Bo")
    assert "Bo isn't available" in manual_refusal(Skip.MENTOR_PAUSED, "Ann", "Bo")
    assert "blocked" in manual_refusal(Skip.BLOCKED, "Ann", "Bo")


def test_a_round_confirmation_lists_what_it_skipped() -> None:
    assert round_sent(3, []) == (
        "Done: 3 introductions sent. Each mentee has been told, and each mentor has the card "
        "to accept or decline."
    )
    many = [(f"m{i}", "the mentor paused introductions") for i in range(20)]
    text = round_sent(1, many)
    assert "Done: 1 introduction sent." in text and "Skipped 20" in text
    assert "- m0: the mentor paused introductions" in text and "…and 5 more" in text
    assert len(text) <= 2000


def test_a_card_in_a_thread_pings_its_mentor_first() -> None:
    assert closed_dms_card(42, "card").startswith("<@42> — your DMs are closed")
    assert closed_dms_card(42, "card").endswith("\n\ncard")


def test_a_huge_card_is_fitted_to_one_message() -> None:
    mentee = Profile.from_answers(1, {"role": "mentee", "about": "x" * 400, "share": ["about"]})
    card = intro_card("Ann", mentee, ["r" * 200] * 30, expires_in=timedelta(hours=72))
    assert len(card) == 2000 and card.endswith("…")
