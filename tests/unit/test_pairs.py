"""The pure core of pair spaces: names, placement and roll-over, rhythm, silence, starters,
the opening message and the visibility notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import pairs as d
from bot.domain.areas import AREA_KEYS
from bot.domain.profile import Profile
from bot.domain.text import Safe, safe_inline

DATA = Path(__file__).resolve().parents[2] / "data"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ana Reyes", "ana-reyes"),
        ("  ✨Kenji✨ Sato!! ", "kenji-sato"),
        ("Zoë Nguyễn", "zoe-nguyen"),
        ("李小龍", "member"),
        ("@everyone", "everyone"),
        ("x" * 80, "x" * 40),
        ("--__--", "member"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert d.slug(name) == expected


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (set(), "ana-and-ken"),
        ({"ana-and-ken"}, "ana-and-ken-2"),
        ({"ana-and-ken", "ana-and-ken-2"}, "ana-and-ken-3"),
        ({"ana-and-ken-2"}, "ana-and-ken"),
    ],
)
def test_channel_names_are_unique(taken: set[str], expected: str) -> None:
    assert d.pair_channel_name("Ana", "Ken", taken) == expected


def test_channel_name_fits_discord() -> None:
    assert len(d.pair_channel_name("a" * 300, "b" * 300, {"x"})) <= d.MAX_CHANNEL_NAME


@pytest.mark.parametrize(
    ("categories", "guild_channels", "threads", "parent", "expected"),
    [
        ([(1, 0)], 10, False, False, ("channel", 1, 0)),
        ([(1, 49)], 10, False, False, ("channel", 1, 0)),
        ([(1, 50)], 60, False, False, ("new_category", None, 2)),
        ([(1, 50), (2, 12)], 70, False, False, ("channel", 2, 0)),
        ([(1, 50), (2, 50)], 110, False, False, ("new_category", None, 3)),
        ([(1, 10)], 10, True, True, ("thread", None, 0)),
        ([(1, 10)], 10, True, False, ("channel", 1, 0)),  # threads chosen but no parent
        ([(1, 10)], 500, False, True, ("thread", None, 0)),  # guild full: configured fallback
        ([(1, 10)], 500, False, False, ("full", None, 0)),
        ([(1, 50)], 499, False, False, ("full", None, 0)),  # no room for category + channel
    ],
)
def test_placement_rolls_over_and_falls_back(
    categories: list[tuple[int, int]],
    guild_channels: int,
    threads: bool,
    parent: bool,
    expected: tuple[str, int | None, int],
) -> None:
    placed = d.place_space(
        categories, guild_channels=guild_channels, prefer_threads=threads, thread_parent=parent
    )
    assert (placed.kind, placed.category_id, placed.number) == expected


@pytest.mark.parametrize(("count", "warn"), [(100, False), (479, False), (480, True)])
def test_moderators_are_warned_near_the_guild_cap(count: int, warn: bool) -> None:
    placed = d.place_space(
        [(1, 0)], guild_channels=count, prefer_threads=False, thread_parent=False
    )
    assert placed.warn_moderators is warn


@pytest.mark.parametrize("moderators", [True, False])
def test_space_grants_never_manage_anything(moderators: bool) -> None:
    grants = d.space_grants(moderators_see=moderators, has_moderator_role=True)
    assert ("moderators" in grants) is moderators
    assert grants["everyone"] == d.Grant(deny=("view_channel",))
    for grant in grants.values():
        assert not any(flag.startswith("manage_") for flag in (*grant.allow, *grant.deny))
    assert "moderators" not in d.space_grants(moderators_see=True, has_moderator_role=False)


@pytest.mark.parametrize(
    ("due_offset_days", "now_offset_days", "expected_offset_days"),
    [
        (14, 14, 44),  # on time: a month later
        (14, 20, 44),  # a few days late: rhythm kept
        (14, 80, 104),  # missed two: collapse, never a burst
    ],
)
def test_following_checkin(
    due_offset_days: int, now_offset_days: int, expected_offset_days: int
) -> None:
    rhythm = d.Rhythm()
    due = T0 + timedelta(days=due_offset_days)
    now = T0 + timedelta(days=now_offset_days)
    assert d.following_checkin(due, now, rhythm) == T0 + timedelta(days=expected_offset_days)
    assert d.first_checkin(T0, rhythm) == T0 + timedelta(days=14)


@pytest.mark.parametrize(
    ("quiet_days", "nudges", "alerted", "expected"),
    [
        (5, 0, False, None),
        (21, 0, False, "nudge"),
        (30, 1, False, None),
        (42, 1, False, "nudge"),
        (63, 2, False, "alert"),
        (63, 2, True, None),
        (200, 2, True, None),
    ],
)
def test_silence(quiet_days: int, nudges: int, alerted: bool, expected: str | None) -> None:
    action = d.silence_action(
        last_activity=T0,
        nudges_sent=nudges,
        alerted=alerted,
        now=T0 + timedelta(days=quiet_days),
        rhythm=d.Rhythm(),
    )
    assert action == expected


def test_shipped_starters_are_valid() -> None:
    library = d.load_starter_library(DATA)
    assert set(AREA_KEYS) <= set(library)
    assert all(len(v) >= d.STARTERS_PER_PAIR for v in library.values())


def test_starters_validation_reports_every_problem_at_once() -> None:
    bad = {
        "identity": {"starters": ["a", "a", "b"]},
        "culture": {"starters": ["x" * 300, "y", "z"]},
        "nonsense": {"starters": ["q"]},
    }
    with pytest.raises(d.StartersError) as caught:
        d.parse_starters(bad)
    text = str(caught.value)
    for fragment in ("identity: duplicate", "culture: starter longer", "unknown area", "growth:"):
        assert fragment in text


@pytest.mark.parametrize(
    ("areas", "expected_areas"),
    [
        (("identity", "culture"), ["identity", "culture", "identity"]),
        (("resilience",), ["resilience"] * 3),
        ((), None),  # nothing shared: still three, from any area
    ],
)
def test_pick_starters(areas: tuple[str, ...], expected_areas: list[str] | None) -> None:
    library = d.load_starter_library(DATA)
    picked = d.pick_starters(areas, library, seed=7)
    assert len(picked) == 3 and len(set(picked)) == 3
    if expected_areas is not None:
        assert [a for a, _ in picked] == expected_areas
    assert d.pick_starters(areas, library, seed=7) == picked  # deterministic


def test_prompt_library_is_read_when_present() -> None:
    data = {"prompt": [{"id": "p1", "area": "growth", "text": "What grew?"}, {"area": "x"}]}
    assert d.prompts_by_area(data) == {"growth": ("What grew?",)}


@pytest.mark.parametrize(
    ("moderators", "role", "thread", "present", "absent"),
    [
        (False, "Team", False, ["the two of you", "Lantern", "administrators"], ["Team"]),
        (True, "Team", False, ["**Team**", "the two of you"], ["Manage Threads"]),
        (True, None, False, ["administrators"], ["role"]),
        (False, None, True, ["Manage Threads", "this thread"], ["role"]),
    ],
)
def test_visibility_notice_tells_the_truth(
    moderators: bool, role: str | None, thread: bool, present: list[str], absent: list[str]
) -> None:
    text = d.visibility_notice(moderators_see=moderators, moderator_role=role, thread=thread)
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


def test_opening_shows_only_shared_fields_and_defuses_text() -> None:
    mentee = Profile.from_answers(
        1,
        {
            "role": "mentee",
            "areas_wanted": ["identity"],
            "about": "@everyone **hi** \u202e",
            "hopes": "private hope",
            "share": ["about"],
        },
    )
    mentor = Profile.from_answers(2, {"role": "mentor", "areas_offered": ["identity"]})
    opening = d.render_opening(
        mentee=mentee,
        mentor=mentor,
        mentee_name=safe_inline("Ana *"),
        mentor_name=safe_inline("Ken"),
        mentee_mention="<@1>",
        mentor_mention="<@2>",
        reasons=["<@&5> both like tea"],
        starters=[("identity", "Start?")],
        notice="NOTICE",
        first_checkin_days=14,
    )
    fields = dict(opening.cards[0].fields)
    assert "private hope" not in repr(opening)
    assert "@everyone" not in fields["About me"] and "\u202e" not in fields["About me"]
    assert "<@&5>" not in opening.content
    assert opening.cards[0].title == "Mentee: Ana \\*"
    assert len(opening.content) <= 2000


def test_space_errors_name_the_fix() -> None:
    text = d.space_error_help("missing_permissions", 7)
    assert "Manage Channels" in text and "/pairs recreate pair:7" in text
    assert "(discord_50001)" in d.space_error_help("discord_50001", 7)


def test_moderators_list_is_cut_at_a_line_and_shows_escaped_names() -> None:
    rows = [
        d.Listed(n, safe_inline("**Ana** @everyone"), Safe(""), T0, None, "active")
        for n in range(1, 60)
    ]
    text = d.pairs_list_text(rows)
    assert len(text) <= 2000 and text.endswith("\n… (more not shown)")
    first = text.splitlines()[0]
    assert first.startswith("**#1** \\*\\*Ana\\*\\* @\u200beveryone & (left) · started 2026-01-01")
    assert first.endswith("last activity — · active")
    assert d.pairs_list_text([]) == d.NO_PAIRS


@pytest.mark.parametrize(
    ("actor", "reason", "expected"),
    [
        (None, None, "Pair **#7** ended (channel_deleted)"),
        (5, None, "Pair **#7** ended (channel_deleted) by <@5>"),
        (5, "@here *x*", "Pair **#7** ended (channel_deleted) by <@5>. Their private note:\n>>> "),
    ],
)
def test_ended_note_names_ids_and_escapes_the_note(
    actor: int | None, reason: str | None, expected: str
) -> None:
    note = d.ended_note(7, "channel_deleted", actor, reason)
    assert note.startswith(expected) and "@here" not in note


def bare_opening(mentee: Profile, mentor: Profile, **overrides: Any) -> d.Opening:
    """The opening of members "A" and "B" with no reasons or starters."""
    arguments: dict[str, Any] = {
        "mentee_name": safe_inline("A"),
        "mentor_name": safe_inline("B"),
        "mentee_mention": "<@1>",
        "mentor_mention": "<@2>",
        "reasons": [],
        "starters": [],
        "notice": "N",
        "first_checkin_days": 14,
        **overrides,
    }
    return d.render_opening(mentee=mentee, mentor=mentor, **arguments)


def test_an_opening_longer_than_a_message_is_fitted() -> None:
    opening = bare_opening(Profile(user_id=1), Profile(user_id=2), notice="x" * 3000)
    assert len(opening.content) == 2000 and opening.content.endswith("…")
