"""The shipped prompt library is valid (every problem reported at once); rotation; crisis;
what members and moderators read (inert moderator text, threads, the journal)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.domain.areas import AREA_KEYS
from bot.domain.crisis import load_resources, mentions_crisis, resources_for
from bot.domain.prompts import (
    DM_FOOTER,
    JournalEntry,
    LibraryError,
    Prompt,
    chunk_lines,
    load_library,
    merge_library,
    next_prompt,
    parse_library,
    prompt_message,
    render_journal,
    shared_areas,
    shared_text,
    thread_name,
    when_text,
)
from bot.domain.text import safe_inline


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


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("@everyone what is home?", "@everyone"),
        ("@here tell us", "@here"),
        ("ask <@&123> about it", "<@&123>"),
        ("right\u202eto left", "\u202e"),
    ],
)
def test_moderator_text_is_made_inert_in_what_members_receive(text: str, absent: str) -> None:
    prompt = Prompt(key="identity-99", area="identity", text=text, follow_ups=(text,))
    message = prompt_message(prompt, DM_FOOTER)
    assert absent not in message
    assert message.startswith("**A reflection prompt · Identity")
    assert message.endswith(DM_FOOTER)


@pytest.mark.parametrize("length", [1, 80, 1000])
def test_a_thread_name_fits_discords_limit(length: int) -> None:
    name = thread_name(Prompt(key="growth-01", area="growth", text="*" * length))
    assert name.startswith("Reflections · ") and len(name) <= 100


@pytest.mark.parametrize(
    ("lines", "chunks"),
    [
        ([], []),
        (["a", "b"], ["a\nb"]),
        (["x" * 1000, "y" * 1000], ["x" * 1000, "y" * 1000]),
        (["x" * 900, "y" * 900, "z"], ["x" * 900 + "\n" + "y" * 900 + "\nz"]),
    ],
)
def test_lines_are_chunked_into_messages(lines: list[str], chunks: list[str]) -> None:
    assert chunk_lines(lines) == chunks


def test_when_text_is_local_with_a_relative_stamp() -> None:
    instant = datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert when_text(instant, "Europe/London") == (
        f"Wed 01 Jul 2026 09:00 Europe/London (<t:{int(instant.timestamp())}:R>)"
    )
    assert when_text(None, "UTC") == "never"


def test_the_journal_page_shows_only_what_it_is_given_escaped_and_fitted() -> None:
    entries = [
        JournalEntry(n, datetime(2026, 1, n, tzinfo=UTC), "identity", "A *prompt*", "x" * 900)
        for n in range(1, 4)
    ]
    page = render_journal(entries, area="identity", page=1, total=7)
    assert page.startswith("**Your journal in Identity")
    assert "page 2 of 3, 7 reflections" in page
    assert "A \\*prompt\\*" in page and len(page) <= 2000
    assert "is empty" in render_journal([], area=None, page=0, total=0)


def test_a_shared_excerpt_names_its_author_and_pings_no_one() -> None:
    text = shared_text(
        name=safe_inline("@everyone"), prompt_text="What is home?", excerpt="line one\n<@1>"
    )
    assert text.startswith("**@\u200beveryone** shared from their reflection on *What is home?*")
    assert "\n> line one\n> " in text and "<@1>" not in text
