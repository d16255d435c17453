"""The questionnaire file: valid, within Discord's limits, and every problem reported at once."""

from __future__ import annotations

import tomllib
from typing import Any
from zoneinfo import available_timezones

import pytest

from bot.domain.questionnaire import (
    CONTRACT,
    QUESTIONNAIRE_FILE,
    QuestionnaireError,
    load_questionnaire,
    parse_questionnaire,
    validate_page,
)
from bot.domain.timezones import TimezoneResolver, load_aliases

Q = load_questionnaire()
ZONES = TimezoneResolver(available_timezones(), load_aliases())


def _raw() -> dict[str, Any]:
    return tomllib.loads(QUESTIONNAIRE_FILE.read_text(encoding="utf-8"))


def test_shipped_questionnaire_has_no_problems() -> None:
    _, problems = parse_questionnaire(_raw())
    assert problems == []


def test_every_answer_id_of_the_profile_contract_is_asked_exactly_once() -> None:
    asked = [q.id for page in Q.pages for q in page.questions]
    assert sorted(asked) == sorted(CONTRACT)


@pytest.mark.parametrize("role", ["mentee", "mentor", "both"])
def test_no_page_shows_more_than_five_inputs(role: str) -> None:
    every_region = {"heritage_regions": list(Q.details)}
    for page in Q.pages_for(role):
        assert len(Q.fields(page, role, every_region)) <= 5, page.id


def test_a_broken_file_reports_every_problem_at_once() -> None:
    raw = _raw()
    raw["consent"]["version"] = ""
    first = raw["pages"][0]
    first["questions"][0]["label"] = "x" * 46
    first["questions"][1]["options"] = [{"value": f"v{i}", "label": f"L{i}"} for i in range(26)]
    first["questions"].append({"id": "about", "kind": "paragraph", "label": "Again"})
    first["questions"].append({"id": "shoe_size", "kind": "short", "label": "Shoe size"})
    raw["pages"][1]["questions"][0]["count"] = 6
    raw["pages"][2]["id"] = "p" * 80
    _, problems = parse_questionnaire(raw)
    text = "\n".join(problems)
    assert "consent: needs a version" in text
    assert "label must be 1-45" in text
    assert "26 options" in text
    assert "question id used twice" in text
    assert "not an answer id" in text
    assert "a modal holds at most 5" in text
    assert "page id longer than" in text
    assert len(problems) >= 7


def test_loading_a_broken_file_raises_with_the_file_name(tmp_path: Any) -> None:
    path = tmp_path / "questionnaire.toml"
    path.write_text('version = 1\n[consent]\nversion = "v"\ntext = "t"\ntitle = "T"\n')
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert any(
        "questionnaire.toml: the questionnaire has no pages" in p for p in caught.value.problems
    )


@pytest.mark.parametrize(
    ("role", "current", "expected_next", "expected_back"),
    [
        ("mentee", "you", "areas", None),
        ("mentee", "heritage", "heritage_more", "areas"),
        ("mentor", "story", "privacy", "rhythm"),
        ("mentee", "privacy", None, "story"),
        (None, "unknown-page", "you", None),
    ],
)
def test_paging(
    role: str | None, current: str, expected_next: str | None, expected_back: str | None
) -> None:
    assert Q.next_page_id(role, current) == expected_next
    assert Q.previous_page_id(role, current) == expected_back


@pytest.mark.parametrize(
    ("page_id", "role", "skippable"),
    [
        ("you", "mentee", False),
        ("areas", "mentor", False),
        ("heritage", "mentee", True),
        ("heritage_more", "both", True),
        ("rhythm", "mentor", True),
        ("story", "mentee", False),
        ("privacy", "mentee", False),
    ],
)
def test_only_pages_without_required_questions_can_be_skipped(
    page_id: str, role: str, skippable: bool
) -> None:
    assert Q.page(page_id).skippable(role) is skippable


def test_progress_line() -> None:
    assert Q.progress("mentee", "heritage") == "Step 3 of 7"


def test_role_decides_the_questions_on_the_areas_page() -> None:
    page = Q.page("areas")
    assert [f.custom_id for f in Q.fields(page, "mentee", {})] == [
        "areas_wanted:1",
        "areas_wanted:2",
        "areas_wanted:3",
    ]
    assert [f.custom_id for f in Q.fields(page, "mentor", {})] == ["areas_offered", "capacity"]
    assert len(Q.fields(page, "both", {})) == 5


def test_detail_selects_follow_the_regions_picked() -> None:
    page = Q.page("heritage_more")
    fields = Q.fields(page, "mentee", {"heritage_regions": ["pacific", "east_asia"]})
    assert [f.custom_id for f in fields] == [
        "heritage_details:pacific",
        "heritage_details:east_asia",
        "heritage_text",
    ]


def _check(page_id: str, raw: dict[str, Any], role: str | None = "mentee", answers: Any = None):  # type: ignore[no-untyped-def]
    return validate_page(Q, Q.page(page_id), role, raw, answers=answers or {}, zones=ZONES)


@pytest.mark.parametrize(
    ("page_id", "raw", "error"),
    [
        ("story", {"about": ""}, "needs an answer"),
        ("story", {"about": "   \u200b "}, "needs an answer"),
        ("story", {"about": "a" * 4000}, "4,000 characters"),
        ("story", {"about": "hello @here"}, "leave @everyone"),
        ("story", {"about": "ping <@123456789>"}, "mentions"),
        ("story", {"about": "go to <#123456789>"}, "mentions"),
        ("rhythm", {"timezone": "Xyzzyville"}, "couldn't find a time zone"),
        ("you", {"role": []}, "needs an answer"),
        ("areas", {"areas_wanted:1": ["identity"], "areas_wanted:2": ["identity"]}, "only once"),
        ("areas", {"areas_wanted:2": ["identity"]}, None),
        ("privacy", {"share": ["about"]}, "needs an answer"),
    ],
)
def test_validation_messages(page_id: str, raw: dict[str, Any], error: str | None) -> None:
    outcome = _check(page_id, raw)
    if error is None:
        assert outcome.ok and outcome.answers["areas_wanted"] == ["identity"]
    else:
        assert not outcome.ok and outcome.answers == {}
        assert any(error in e for e in outcome.errors), outcome.errors


def test_values_are_typed_and_unknown_options_dropped() -> None:
    outcome = _check(
        "areas", {"areas_offered": ["identity", "made_up"], "capacity": ["3"]}, "mentor"
    )
    assert outcome.answers == {"areas_offered": ["identity"], "capacity": 3}
    outcome = _check("privacy", {"prompts_dm": ["no"], "share": []})
    assert outcome.answers == {"prompts_dm": False, "share": None}


def test_changing_role_clears_answers_the_new_role_is_not_asked() -> None:
    before = {"role": "mentee", "areas_wanted": ["identity"], "hopes": "x", "about": "y"}
    outcome = _check("you", {"role": ["mentor"]}, "mentee", before)
    assert outcome.answers["role"] == "mentor"
    assert outcome.answers["areas_wanted"] is None and outcome.answers["hopes"] is None
    assert "about" not in outcome.answers


def test_a_time_zone_is_resolved_and_cleaned_text_noted() -> None:
    outcome = _check("rhythm", {"timezone": "  São Paulo "})
    assert outcome.answers["timezone"] == "America/Sao_Paulo"
    outcome = _check("story", {"about": "Hi\u202e there"})
    assert outcome.answers["about"] == "Hi there" and outcome.notes


def test_a_refused_time_zone_is_not_echoed_with_its_formatting() -> None:
    outcome = _check("rhythm", {"timezone": "[click](https://evil.example)\n**x** `y`"})
    assert not outcome.ok
    (error,) = outcome.errors
    assert "couldn't find a time zone" in error
    assert "[click](" not in error and "**x**" not in error and "`y`" not in error
    assert "\n" not in error


def test_an_ambiguous_time_zone_offers_the_choices() -> None:
    outcome = _check("rhythm", {"timezone": "IST"})
    assert not outcome.ok
    (error,) = outcome.errors
    # Each choice can be copied as shown, and the sentence reads as one list.
    assert "could be more than one time zone: `Asia/Kolkata`, `Europe/Dublin` or " in error
    assert "**Try again**" in error and " or **" not in error
