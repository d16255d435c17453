"""The seven mentorship areas: the program's vocabulary (see the seed text)."""

from __future__ import annotations

AREAS: dict[str, str] = {
    "identity": "Identity exploration",
    "culture": "Cultural connection",
    "confidence": "Confidence building",
    "networking": "Networking opportunities",
    "growth": "Personal growth",
    "resilience": "Resilience development",
    "role_model": "Role modeling",
}

AREA_KEYS: tuple[str, ...] = tuple(AREAS)


def area_label(key: str) -> str:
    """The human name of an area key (the key itself if unknown)."""
    return AREAS.get(key, key)
