"""The privacy rules of /insights, checked on every small world: counts are banded, 1-4 shows
as "fewer than 5", and no hidden figure can be worked out from the others (a checker that
does find the leak when a total is shown beside its parts proves it can fail)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import insights as d
from bot.domain.onboarding import band

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def counts(**changes: object) -> d.Counts:
    base: dict[str, object] = dict(
        start=NOW - timedelta(days=30),
        now=NOW,
        joined=0,
        joins_counted_since=None,
        started=0,
        consented=0,
        finished=0,
        waiting=0,
        waits=(),
        intro_answers={},
        active_pairs=0,
        endings={},
        delivered=0,
        reflected=0,
        shared=0,
        feedback_answers=0,
        helpful={},
        recommend={},
        words=(),
    )
    base.update(changes)
    return d.Counts(**base)  # type: ignore[arg-type]


def leaks(worlds: Iterable[Sequence[int]], show: Callable[[Sequence[int]], str]) -> list[str]:
    """Every (display, cell) where a cell shown as "fewer than 5" has only one value in all
    the worlds that display the same: that value was recovered from the other figures."""
    seen: dict[str, list[set[int]]] = {}
    for world in worlds:
        values = seen.setdefault(show(world), [set() for _ in world])
        for index, value in enumerate(world):
            values[index].add(value)
    return [
        f"{shown!r} cell {i} = {next(iter(v))}"
        for shown, cells in seen.items()
        for i, v in enumerate(cells)
        if len(v) == 1 and 0 < next(iter(v)) < 5
    ]


def test_bands() -> None:
    assert [d.cell("x", n).shown for n in (0, 1, 4, 5, 9, 10, 14, 37)] == [
        "0",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5"[:0] + "5-9",
        "5-9",
        "10-14",
        "10-14",
        "35-39",
    ]
    assert {d.cell("x", n).bar for n in range(1, 5)} == {2.5}, "the bar never tells 1 from 4"
    assert d.cell("x", 12).bar == d.cell("x", 10).bar


def test_the_checker_finds_a_total_shown_beside_its_parts() -> None:
    """Bands alone are not enough: five parts and their total, all banded, pin a hidden part
    (four parts at 9 and a total of 40 leave 4 for the fifth). This is why totals are left
    out; the checker must see it."""

    def naive(world: Sequence[int]) -> str:
        return "|".join([*(band(n) for n in world), band(sum(world))])

    found = leaks(itertools.product(range(10), repeat=5), naive)
    assert found, "the checker must catch a recoverable figure"


def test_no_feedback_score_can_be_recovered() -> None:
    def shown(world: Sequence[int]) -> str:
        helpful = dict(zip(range(1, 6), world, strict=True))
        built = d.build(counts(feedback_answers=sum(world), helpful=helpful), "30")
        return d.summary_text(built) + d.csv_text(built)

    assert leaks(itertools.product(range(6), repeat=5), shown) == []


def test_no_ending_count_can_be_recovered() -> None:
    names = [*d.ENDING_CATEGORIES.values(), d.OTHER_ENDING]

    def shown(world: Sequence[int]) -> str:
        return d.csv_text(d.build(counts(endings=dict(zip(names, world, strict=True))), "all"))

    assert leaks(itertools.product((0, 1, 4, 6, 9), repeat=len(names)), shown) == []


def test_no_introduction_answer_can_be_recovered() -> None:
    def shown(world: Sequence[int]) -> str:
        answers = dict(zip(("accepted", "declined", "expired"), world, strict=True))
        return d.csv_text(d.build(counts(intro_answers=answers), "all"))

    assert leaks(itertools.product(range(12), repeat=3), shown) == []


@pytest.mark.parametrize("answers", [0, 1, 4])
def test_feedback_needs_five_answers(answers: int) -> None:
    built = d.build(
        counts(
            feedback_answers=answers,
            helpful={5: answers},
            recommend={"yes": answers},
            words=("a secret",),
        ),
        "7",
    )
    assert not built.words
    assert not any(p.title.startswith("Would recommend") for p in built.panels)
    assert "a secret" not in d.summary_text(built) + d.csv_text(built)


def test_shared_words_are_escaped_unsigned_and_not_in_written_order() -> None:
    hostile = "@everyone [click](http://e.vil) **loud**\n# heading " + "x" * 4000
    built = d.build(
        counts(feedback_answers=5, helpful={3: 5}, words=("zebra", hostile, "Apple")), "30"
    )
    assert built.words[0] == "@everyone [click](http://e.vil) **loud**\n# heading " + "x" * 4000
    assert built.words[1:] == ("Apple", "zebra")
    text = d.summary_text(built)
    assert "@everyone" not in text and "](http" not in text and len(text) <= 2000


def test_csv_cells_cannot_run_as_formulas() -> None:
    for evil in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "|calc"):
        assert d.csv_cell(evil).startswith("'")
    built = d.build(counts(feedback_answers=6, helpful={4: 6}, words=("=cmd|' /C calc'!A0",)), "30")
    for line in d.csv_text(built).splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), line


def test_median_wait_needs_five_waits() -> None:
    assert d.median_wait([]) == "nobody is waiting"
    assert "fewer than 5" in d.median_wait([timedelta(days=2)] * 4)
    assert d.median_wait([timedelta(days=n) for n in (1, 2, 3, 9, 20)]) == "about 3 days"
    assert d.median_wait([timedelta(hours=n) for n in (1, 2, 5, 9, 20)]) == "about 5 hours"


def test_joins_say_since_when_they_are_counted() -> None:
    since = NOW - timedelta(days=3)
    built = d.build(counts(joined=12, joins_counted_since=since), "30")
    assert built.panels[0].cells[0].label == "Joined (since 29 May 2026)"
    built = d.build(counts(joined=12, joins_counted_since=NOW - timedelta(days=90)), "30")
    assert built.panels[0].cells[0].label == "Joined"
    assert d.build(counts(), "all").panels[0].cells[0].label == "Joined (not counted yet)"
