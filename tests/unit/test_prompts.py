"""The shipped prompt library is valid (every problem reported at once); rotation; crisis."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.domain.areas import AREA_KEYS
from bot.domain.crisis import load_resources, mentions_crisis, resources_for
from bot.domain.prompts import (
    LibraryError,
    Prompt,
    load_library,
    merge_library,
    next_prompt,
    parse_library,
    shared_areas,
)


def test_shipped_library_is_valid_and_covers_every_area() -> None:
    try:
        library = load_library()
    except LibraryError as error:  # report every problem at once
        pytest.fail("data/prompts.toml has problems:\n" + "\n".join(error.problems))
    counts = Counter(p.area for p in library.active())
    assert set(counts) == set(AREA_KEYS)
    assert min(counts.values()) >= 10
    texts = [p.text for p in library.active()]
    assert len(texts) == len(set(texts))
    for prompt in library.active():
        assert "@" not in prompt.text
        assert "asian culture" not in prompt.text.lower()  # never one pan-Asian frame


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "prompt": [
            {"id": "identity-01", "area": "identity", "text": ""},
            {"id": "identity-01", "area": "identity", "text": "x" * 1001},
            {"id": "Bad Id", "area": "identity", "text": "hi"},
            {"id": "culture-01", "area": "nowhere", "text": "hi", "colour": "red"},
            {"id": "growth-01", "area": "growth", "text": "hi", "follow_ups": ["a"] * 4},
        ]
    }
    with pytest.raises(LibraryError) as caught:
        parse_library(data)
    text = "\n".join(caught.value.problems)
    for expected in (
        "identity-01: the prompt text is empty",
        "identity-01: duplicate id",
        "1001 characters",
        "id must look like",
        "area must be one of",
        "unknown keys ['colour']",
        "4 follow-ups",
        "area resilience has 0 prompts",
    ):
        assert expected in text, expected


def test_moderator_edits_override_by_key_and_retire() -> None:
    shipped = load_library()
    edited = Prompt(key="identity-01", area="identity", text="New words", edited=True)
    retired = Prompt(key="identity-02", area="identity", text="x", retired=True)
    custom = Prompt(key="custom-1", area="growth", text="Ours", custom=True)
    merged = merge_library(shipped, [edited, retired, custom])
    assert merged.get("identity-01").text == "New words"  # type: ignore[union-attr]
    assert "identity-02" not in {p.key for p in merged.active()}
    assert "custom-1" in {p.key for p in merged.active(["growth"])}
    assert shipped.get("identity-01").text != "New words"  # type: ignore[union-attr]


@pytest.mark.parametrize("size", [1, 2, 5, 11])
def test_rotation_never_repeats_until_the_set_is_used_up(size: int) -> None:
    pool = [f"growth-{i:02d}" for i in range(size)]
    history: list[str] = []
    for _ in range(size * 3):
        choice = next_prompt(pool, history, salt="s1")
        assert choice is not None
        history.append(choice)
    for cycle in range(3):
        assert sorted(history[cycle * size : (cycle + 1) * size]) == sorted(pool)


def test_rotation_adapts_when_the_pool_changes() -> None:
    history = ["a-1", "a-2"]
    assert next_prompt(["a-1", "a-2", "a-3"], history, salt="x") == "a-3"
    assert next_prompt(["a-1", "a-2"], history, salt="x") in {"a-1", "a-2"}
    assert next_prompt([], history, salt="x") is None
    assert next_prompt(["a-9"], ["zzz"], salt="x") == "a-9"


@pytest.mark.parametrize(
    ("wanted", "offered", "shared"),
    [
        (("identity", "growth"), ("growth", "identity"), ["identity", "growth"]),
        (("identity",), ("culture",), []),
        ((), ("culture",), []),
    ],
)
def test_shared_areas(wanted: tuple[str, ...], offered: tuple[str, ...], shared: list[str]) -> None:
    assert shared_areas(wanted, offered) == shared


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("Some days I want to die and I can't tell anyone", True),
        ("I've been thinking about suicide", True),
        ("I don't want to be here anymore", True),
        ("I don’t want to wake up tomorrow", True),
        ("My family would be better off without me", True),
        ("The deadline is killing me", False),
        ("I died laughing at my aunt's story", False),
        ("Grandma taught me to make dumplings", False),
    ],
)
def test_crisis_language(text: str, crisis: bool) -> None:
    assert mentions_crisis(text) is crisis


@pytest.mark.parametrize(
    ("zone", "region"),
    [
        ("America/New_York", "United States"),
        ("Europe/London", "United Kingdom and Ireland"),
        ("Australia/Sydney", "Australia"),
        ("Asia/Tokyo", "Anywhere"),
        (None, "Anywhere"),
    ],
)
def test_crisis_resources_by_region(zone: str | None, region: str) -> None:
    assert resources_for(load_resources(), zone).name == region
