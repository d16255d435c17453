"""A member's profile as the rest of Lantern sees it, built from their questionnaire answers.

Answers are stored as one encrypted JSON object keyed by question id; this module is the one
place that turns them into typed fields. The question ids below are the contract between the
questionnaire (``data/questionnaire.toml``), matching and pair spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.areas import AREA_KEYS

ROLES = ("mentee", "mentor", "both")
HERITAGE_PREFERENCES = ("similar", "different", "none")

# Fields a member may let their match see (the "share" answer lists a subset of these).
SHAREABLE: dict[str, str] = {
    "heritage": "Heritage",
    "generation": "Family background",
    "languages": "Languages",
    "career": "Career",
    "timezone": "Time zone",
    "cadence": "Meeting rhythm",
    "about": "About me",
    "hopes": "What I hope for",
    "brings": "What I bring",
}


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value if str(v))


_LABELLED = (
    "heritage_regions",
    "heritage_details",
    "languages",
    "career_field",
    "career_stage",
    "cadence",
    "meeting_times",
    "generation",
)


def _labelled(
    answers: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    out = dict(answers)
    for key in _LABELLED:
        names = labels.get(key)
        value = out.get(key)
        if not names or value is None:
            continue
        if isinstance(value, str):
            out[key] = names.get(value, value)
        elif isinstance(value, (list, tuple)):
            out[key] = [names.get(str(v), str(v)) for v in value]
    return out


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Profile:
    """One member's answers, typed. Every optional answer may be missing."""

    user_id: int
    role: str | None = None
    areas_wanted: tuple[str, ...] = ()  # mentee priorities, most important first (up to 3)
    areas_offered: tuple[str, ...] = ()
    heritage_regions: tuple[str, ...] = ()
    heritage_details: tuple[str, ...] = ()
    heritage_text: str | None = None
    heritage_preference: str = "none"
    generation: str | None = None
    languages: tuple[str, ...] = ()
    career_field: str | None = None
    career_stage: str | None = None
    timezone: str | None = None
    cadence: str | None = None
    meeting_times: tuple[str, ...] = ()
    about: str | None = None
    hopes: str | None = None
    brings: str | None = None
    capacity: int = 0
    prompts_dm: bool = False
    share: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_mentee(self) -> bool:
        return self.role in ("mentee", "both")

    @property
    def is_mentor(self) -> bool:
        return self.role in ("mentor", "both")

    def shares(self, field_name: str) -> bool:
        """Whether this member lets their match see ``field_name``."""
        return field_name in self.share

    @classmethod
    def from_answers(
        cls,
        user_id: int,
        answers: Mapping[str, Any],
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Profile:
        """Build a profile from stored answers, ignoring anything unknown or malformed.

        ``labels`` (question id -> option value -> label) turns coded answers from selects into
        the words people read ("east_asia" -> "East Asia"); free text is kept as typed.
        """
        if labels:
            answers = _labelled(answers, labels)
        role = answers.get("role")
        pref = answers.get("heritage_preference")
        try:
            capacity = max(0, min(5, int(answers.get("capacity") or 0)))
        except (TypeError, ValueError):
            capacity = 0
        return cls(
            user_id=user_id,
            role=role if role in ROLES else None,
            areas_wanted=tuple(a for a in _strs(answers.get("areas_wanted")) if a in AREA_KEYS)[:3],
            areas_offered=tuple(a for a in _strs(answers.get("areas_offered")) if a in AREA_KEYS),
            heritage_regions=_strs(answers.get("heritage_regions")),
            heritage_details=_strs(answers.get("heritage_details")),
            heritage_text=_str(answers.get("heritage_text")),
            heritage_preference=pref if pref in HERITAGE_PREFERENCES else "none",
            generation=_str(answers.get("generation")),
            languages=_strs(answers.get("languages")),
            career_field=_str(answers.get("career_field")),
            career_stage=_str(answers.get("career_stage")),
            timezone=_str(answers.get("timezone")),
            cadence=_str(answers.get("cadence")),
            meeting_times=_strs(answers.get("meeting_times")),
            about=_str(answers.get("about")),
            hopes=_str(answers.get("hopes")),
            brings=_str(answers.get("brings")),
            capacity=capacity,
            prompts_dm=bool(answers.get("prompts_dm", False)),
            share=frozenset(s for s in _strs(answers.get("share")) if s in SHAREABLE),
        )


def shared_fields(profile: Profile) -> list[tuple[str, str]]:
    """(label, raw value) for every answered field the member lets their match see.

    Values are the member's own words: escape them (bot.domain.text) before echoing.
    """
    values: dict[str, str | None] = {
        "heritage": "; ".join(
            p
            for p in (
                ", ".join(profile.heritage_details or profile.heritage_regions),
                profile.heritage_text or "",
            )
            if p
        ),
        "generation": profile.generation,
        "languages": ", ".join(profile.languages),
        "career": " · ".join(p for p in (profile.career_field, profile.career_stage) if p),
        "timezone": profile.timezone,
        "cadence": " · ".join(p for p in (profile.cadence, ", ".join(profile.meeting_times)) if p),
        "about": profile.about,
        "hopes": profile.hopes if profile.is_mentee else None,
        "brings": profile.brings if profile.is_mentor else None,
    }
    return [
        (SHAREABLE[key], value) for key, value in values.items() if value and profile.shares(key)
    ]
