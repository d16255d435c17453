"""/setup planning and the permission self-check, as pure decisions."""

from __future__ import annotations

import pytest

from bot.domain.permissions import REQUIRED, describe_missing, missing_permissions
from bot.domain.setup import CREATABLE, plan_setup


@pytest.mark.parametrize(
    ("current", "picked", "existing", "system", "create", "changes"),
    [
        ({}, {}, frozenset(), None, tuple(CREATABLE), {}),
        (
            {},
            {},
            frozenset(),
            9,
            tuple(k for k in CREATABLE if k != "welcome_channel_id"),
            {"welcome_channel_id": 9},
        ),
        (
            {"pair_category_id": 5},
            {},
            frozenset({5}),
            9,
            ("intro_channel_id", "alerts_channel_id", "reflections_channel_id"),
            {"welcome_channel_id": 9},
        ),
        ({"pair_category_id": 5}, {}, frozenset(), None, tuple(CREATABLE), {}),
        (
            {},
            {"intro_channel_id": 7},
            frozenset({7}),
            9,
            ("pair_category_id", "alerts_channel_id", "reflections_channel_id"),
            {"intro_channel_id": 7, "welcome_channel_id": 9},
        ),
        (
            {"moderator_role_id": 3},
            {},
            frozenset(),
            9,
            ("pair_category_id", "intro_channel_id", "alerts_channel_id", "reflections_channel_id"),
            {"welcome_channel_id": 9, "moderator_role_id": None},
        ),
    ],
)
def test_plan_setup(current, picked, existing, system, create, changes) -> None:  # type: ignore[no-untyped-def]
    plan = plan_setup(current, picked, existing_ids=existing, system_channel_id=system)
    assert plan.create == create
    assert plan.changes == changes


def test_plan_setup_reuses_places_lantern_made_before() -> None:
    plan = plan_setup({}, {}, existing_ids=frozenset({4}), by_name={"lantern-alerts": 4})
    assert plan.changes["alerts_channel_id"] == 4
    assert "alerts_channel_id" not in plan.create


@pytest.mark.parametrize(
    ("granted", "missing"),
    [
        ({f: True for f in REQUIRED}, []),
        ({"administrator": True}, []),
        ({**{f: True for f in REQUIRED}, "manage_channels": False}, ["manage_channels"]),
        ({}, list(REQUIRED)),
    ],
)
def test_missing_permissions(granted: dict[str, bool], missing: list[str]) -> None:
    assert missing_permissions(granted) == missing


def test_missing_permissions_are_described_in_plain_words() -> None:
    text = describe_missing(["manage_channels", "embed_links"])
    assert "Manage Channels" in text and "Embed Links" in text
    assert "manage_channels" not in text
