"""What /setup should change and what it should create, given what exists and what was picked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Places Lantern creates when a server has none, with the names it gives them.
CREATABLE: dict[str, str] = {
    "pair_category_id": "Mentorship",
    "intro_channel_id": "mentor-introductions",
    "alerts_channel_id": "lantern-alerts",
    "reflections_channel_id": "reflections",
    "welcome_channel_id": "welcome",
}

LABELS: dict[str, str] = {
    "moderator_role_id": "Moderator role",
    "intro_channel_id": "Mentor introductions",
    "pair_category_id": "Pair spaces category",
    "reflections_channel_id": "Reflections channel",
    "welcome_channel_id": "Welcome fallback channel",
    "alerts_channel_id": "Moderator alerts channel",
}


@dataclass(frozen=True)
class SetupPlan:
    """The settings to save and the places to create, in order."""

    changes: dict[str, int | bool | None] = field(default_factory=dict)
    create: tuple[str, ...] = ()


def plan_setup(
    current: Mapping[str, int | bool | None],
    picked: Mapping[str, int | bool | None],
    *,
    existing_ids: frozenset[int],
    system_channel_id: int | None = None,
    by_name: Mapping[str, int] | None = None,
) -> SetupPlan:
    """Keep what was picked, keep what still exists, reuse a place Lantern made earlier (same
    name), create what is missing."""
    by_name = by_name or {}
    changes: dict[str, int | bool | None] = {k: v for k, v in picked.items() if v is not None}
    create: list[str] = []
    for key in CREATABLE:
        if key in changes:
            continue
        value = current.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value in existing_ids:
            continue
        if key == "welcome_channel_id" and system_channel_id is not None:
            changes[key] = system_channel_id
            continue
        if CREATABLE[key] in by_name:
            changes[key] = by_name[CREATABLE[key]]
            continue
        create.append(key)
    role = current.get("moderator_role_id")
    if "moderator_role_id" not in changes and role is not None and role not in existing_ids:
        changes["moderator_role_id"] = None
    return SetupPlan(changes=changes, create=tuple(create))
