"""Every persistent component spec: fits Discord's limits and matches exactly one template."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.domain import components as c

BIG = 2**63 - 1  # the largest Discord snowflake-sized id

SPECS: list[tuple[str, Callable[[], tuple[c.Button, ...]]]] = [
    ("intro", lambda: c.intro_buttons(BIG)),
    ("request", lambda: (c.request_button(BIG), c.request_button(BIG, "Find me a new mentor"))),
    ("start", lambda: (c.start_button(BIG),)),
    ("consent", lambda: c.consent_buttons(BIG)),
    (
        "page",
        lambda: tuple(c.page_button(a, BIG, "p" * 20) for a in ("answer", "skip", "back")),
    ),
    ("prompts choice", lambda: c.prompts_choice_buttons(BIG)),
    ("pair actions", lambda: tuple(c.pair_button(a, BIG) for a in ("checkin", "delete"))),
    ("opening", lambda: c.opening_buttons(BIG)),
    ("check-in", lambda: c.checkin_buttons(BIG)),
    ("reflect", lambda: (c.reflect_button(BIG),)),
    ("share", lambda: (c.share_button("pair", BIG), c.share_button("thread", BIG))),
    ("suggestion", lambda: c.suggestion_buttons(BIG)),
    ("erase", lambda: c.erase_buttons(BIG)),
]


@pytest.mark.parametrize(("name", "make"), SPECS, ids=[n for n, _ in SPECS])
def test_every_spec_fits_and_matches_exactly_one_template(
    name: str, make: Callable[[], tuple[c.Button, ...]]
) -> None:
    for spec in make():
        assert len(spec.custom_id) <= c.MAX_CUSTOM_ID
        assert spec.custom_id.startswith(c.CUSTOM_ID_PREFIX)
        assert 0 < len(spec.label) <= 80
        matching = [t for t in c.TEMPLATES if re.fullmatch(t, spec.custom_id)]
        assert len(matching) == 1, (spec.custom_id, matching)


def test_templates_are_distinct_and_namespaced() -> None:
    assert len(set(c.TEMPLATES)) == len(c.TEMPLATES)
    assert all(t.startswith("lantern:") for t in c.TEMPLATES)


def test_custom_id_refuses_more_than_100_characters() -> None:
    with pytest.raises(ValueError, match="longer than 100"):
        c.custom_id("x" * 100)
