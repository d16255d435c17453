"""Content files are checked by schema: a typo names the file, the key and the line, at
start-up (the loaders) and in ``python -m bot check-config``."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.domain.prompts as prompts_module
import bot.domain.questionnaire as questionnaire_module
from bot.__main__ import main
from bot.domain.prompts import DEFAULT_LIBRARY, LibraryError, load_library
from bot.domain.questionnaire import QUESTIONNAIRE_FILE, QuestionnaireError, load_questionnaire
from bot.domain.schedule import ScheduleError, check_interval, missed_runs, parse_schedule

CONFIG = str(Path(__file__).resolve().parents[2] / "config.example.toml")


def _typo(source: Path, tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = source.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / source.name
    path.write_text(changed, encoding="utf-8")
    line = changed[: changed.index(new)].count("\n") + 1
    return path, line


def test_a_questionnaire_key_typo_names_the_file_the_key_and_the_line(tmp_path: Path) -> None:
    path, line = _typo(
        QUESTIONNAIRE_FILE, tmp_path, 'label = "Languages you', 'lable = "Languages you'
    )
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert f"questionnaire.toml:{line}: pages[1].questions[2].lable: unknown key" in str(
        caught.value.problems
    )


def test_a_wrong_type_in_an_option_names_its_line(tmp_path: Path) -> None:
    path, line = _typo(
        QUESTIONNAIRE_FILE,
        tmp_path,
        '{ value = "mentor", label = "Offering mentorship" }',
        '{ value = "mentor", label = 3 }',
    )
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert any(
        p.startswith(f"questionnaire.toml:{line}: pages[1].questions[1].options[2].label")
        for p in caught.value.problems
    ), caught.value.problems


def test_a_prompt_key_typo_names_the_file_the_key_and_the_line(tmp_path: Path) -> None:
    path, line = _typo(DEFAULT_LIBRARY, tmp_path, "follow_ups = [", "folow_ups = [")
    with pytest.raises(LibraryError) as caught:
        load_library(path)
    assert f"prompts.toml:{line}: prompt[1].folow_ups: unknown key (a typo?)" in (
        caught.value.problems
    )


def test_check_config_reports_a_content_typo_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", CONFIG]) == 0
    assert "prompts:   72" in capsys.readouterr().out
    path, line = _typo(DEFAULT_LIBRARY, tmp_path, 'area = "identity"', 'aera = "identity"')
    monkeypatch.setattr(prompts_module, "DEFAULT_LIBRARY", path)
    assert main(["check-config", CONFIG]) == 2
    err = capsys.readouterr().err
    assert f"content error: prompts.toml:{line}: prompt[1].aera: unknown key" in err
    monkeypatch.setattr(prompts_module, "DEFAULT_LIBRARY", DEFAULT_LIBRARY)
    path, line = _typo(QUESTIONNAIRE_FILE, tmp_path, "required = true", "requird = true")
    monkeypatch.setattr(questionnaire_module, "QUESTIONNAIRE_FILE", path)
    assert main(["check-config", CONFIG]) == 2
    assert f"questionnaire.toml:{line}: pages[1].questions[1].requird" in capsys.readouterr().err


@pytest.mark.parametrize("when", ["* * * * *", "*/5 * * * *", "15,45 * * * *"])
def test_more_often_than_hourly_is_refused(when: str) -> None:
    with pytest.raises(ScheduleError, match="more than once an hour"):
        check_interval(parse_schedule(when))


@pytest.mark.parametrize("when", ["0 * * * *", "daily 18:30", "30 */2 * * *"])
def test_hourly_or_less_is_accepted(when: str) -> None:
    check_interval(parse_schedule(when))


def test_missed_runs_are_bounded_however_long_the_outage() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, 0, tzinfo=UTC)
    now = datetime(2031, 1, 1, 0, 30, tzinfo=UTC)  # five years of hourly runs
    runs = missed_runs(parse_schedule("0 * * * *"), "UTC", start, now)
    assert len(runs) == 6 and runs[-1] == datetime(2031, 1, 1, 0, tzinfo=UTC)
    assert runs[:5] == [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(5)]
