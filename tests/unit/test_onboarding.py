"""What onboarding shows: safe echoes, one message, moderators see suppressed totals."""

from __future__ import annotations

import pytest

from bot.domain.onboarding import OnboardingCounts, counts_text, profile_summary
from bot.domain.questionnaire import load_questionnaire

Q = load_questionnaire()


def test_profile_summary_defuses_and_fits() -> None:
    answers = {
        "role": "mentee",
        "about": "@everyone look <@&123> **bold** \u202eevil" + "x" * 5000,
        "career_field": "<@456> nurse",
        "areas_wanted": ["identity", "culture"],
        "timezone": "Asia/Manila",
    }
    text = profile_summary(Q, answers, consent_status="accepted", completed=True, guild_name="G")
    assert len(text) <= 2000
    assert "@everyone" not in text and "<@&123>" not in text and "<@456>" not in text
    assert "\u202e" not in text and "\\*\\*bold" in text
    assert "Identity exploration, Cultural connection" in text


@pytest.mark.parametrize(
    ("counts", "shown", "hidden"),
    [
        (OnboardingCounts(12, 7, 9, 3, 0), ["Started: 12", "Completed: 7", "matching: 9"], []),
        (OnboardingCounts(3, 1, 2, 0, 0), ["Started: fewer than 5", "prompts only: 0"], ["3"]),
    ],
)
def test_counts_suppress_small_groups(
    counts: OnboardingCounts, shown: list[str], hidden: list[str]
) -> None:
    text = counts_text(counts)
    for part in shown:
        assert part in text
    for part in hidden:
        assert f": {part}\n" not in text
