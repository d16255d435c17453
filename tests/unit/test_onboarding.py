"""What onboarding shows: safe echoes, one message, moderators see suppressed totals."""

from __future__ import annotations

import pytest

from bot.domain.onboarding import (
    MENU,
    NOT_UNDERSTOOD,
    OnboardingCounts,
    counts_text,
    finished_here,
    finished_text,
    paused_text,
    profile_summary,
    rejected_text,
    resumed_text,
    timezone_note,
)
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
        (
            OnboardingCounts(12, 7, 9, 3, 0),
            ["Started: 10-14", "Completed: 5-9", "matching: 5-9"],
            ["12", "9", "3"],
        ),
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


def test_no_hidden_count_can_be_recovered_by_subtraction() -> None:
    """Every small total (1-4) shown as "fewer than 5" stays ambiguous among all the worlds that
    look the same to a moderator (started = agreed + declined + withdrew, completed <= agreed)."""
    seen: dict[str, list[OnboardingCounts]] = {}
    limit = 16
    for agreed in range(limit):
        for declined in range(limit):
            for withdrew in range(limit):
                for completed in range(agreed + 1):
                    counts = OnboardingCounts(
                        agreed + declined + withdrew, completed, agreed, declined, withdrew
                    )
                    seen.setdefault(counts_text(counts), []).append(counts)
    for text, worlds in seen.items():
        for name in ("started", "completed", "consented", "declined", "withdrawn"):
            values = {getattr(w, name) for w in worlds}
            if any(0 < v < 5 for v in values):
                assert len(values) > 1, (text, name, values)


@pytest.mark.parametrize(
    ("names", "shown"),
    [
        (["Hapa Circle"], "Prompts paused in **Hapa Circle**."),
        (["A", "B"], "Prompts paused in **A** and **B**."),
        (["A", "B", "C"], "Prompts paused in **A**, **B** and **C**."),
        (["@everyone *x*"], "**@\u200beveryone \\*x\\***"),
    ],
)
def test_paused_text_names_every_server_safely(names: list[str], shown: str) -> None:
    text = paused_text(names)
    assert shown in text and "resume prompts" in text


def test_long_lists_of_servers_still_fit_one_message() -> None:
    assert len(paused_text([f"Server {i} " + "x" * 90 for i in range(40)])) <= 2000


@pytest.mark.parametrize(
    "text",
    [
        finished_here("<@123> **G**"),
        resumed_text("<@123> **G**"),
    ],
)
def test_server_names_are_echoed_inertly(text: str) -> None:
    assert "<@123>" not in text and "\\*\\*G" in text


def test_rejected_text_lists_every_problem_and_fits() -> None:
    text = rejected_text(["A needs an answer", "B is too long"] * 200)
    assert len(text) <= 2000 and text.startswith("I couldn't save that page yet")
    assert "- A needs an answer\n- B is too long" in text


@pytest.mark.parametrize(("prompts_dm", "said"), [(True, "pause prompts"), (False, "/profile")])
def test_finished_text_says_what_happens_with_prompts(prompts_dm: bool, said: str) -> None:
    text = finished_text(["A note"], prompts_dm=prompts_dm)
    assert text.startswith("A note\n**All done, thank you!**") and said in text


@pytest.mark.parametrize(("editing", "said"), [(False, "press **Back**"), (True, "is now")])
def test_timezone_note(editing: bool, said: str) -> None:
    text = timezone_note("Asia/Manila", "08:00", editing=editing)
    assert "**Asia/Manila**" in text and "08:00" in text and said in text


def test_unknown_words_get_the_menu() -> None:
    assert NOT_UNDERSTOOD.endswith(MENU) and len(NOT_UNDERSTOOD) < 800
