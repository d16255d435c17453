"""Grouping waiting members into circles: sizes, blocks both ways, time-zone overlap, language,
determinism; and reasons only from what everyone shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import circles as c
from bot.domain.profile import Profile

START = datetime(2026, 1, 1, tzinfo=UTC)
EVERYTHING = frozenset({"languages", "timezone", "cadence"})


def member(
    user_id: int,
    area: str = "identity",
    *,
    tz: str | None = "Europe/London",
    languages: tuple[str, ...] = ("English",),
    times: tuple[str, ...] = ("Weekday evenings",),
    share: frozenset[str] = EVERYTHING,
    facilitate: bool = False,
    offered: tuple[str, ...] = (),
) -> c.Candidate:
    profile = Profile(
        user_id=user_id,
        role="mentor" if facilitate else "mentee",
        timezone=tz,
        languages=languages,
        meeting_times=times,
        share=share,
        areas_offered=offered,
    )
    return c.Candidate(profile, area, START + timedelta(minutes=user_id), facilitate)


def test_nobody_waiting_forms_nothing() -> None:
    assert c.group_circles([], []) == c.Grouping((), ())


def test_two_members_keep_waiting() -> None:
    grouping = c.group_circles([member(1), member(2)], [])
    assert grouping.circles == ()
    assert grouping.waiting == (1, 2)


@pytest.mark.parametrize(
    ("waiting", "sizes"),
    [(3, [3]), (5, [5]), (6, [6]), (7, [4, 3]), (8, [4, 4]), (13, [5, 5, 3]), (20, [5, 5, 5, 5])],
)
def test_sizes_are_between_three_and_eight_and_even(waiting: int, sizes: list[int]) -> None:
    grouping = c.group_circles([member(i) for i in range(1, waiting + 1)], [])
    assert sorted((len(x.members) for x in grouping.circles), reverse=True) == sizes
    assert grouping.waiting == ()
    for circle in grouping.circles:
        assert c.MIN_SIZE <= len(circle.everyone) <= c.MAX_SIZE


@pytest.mark.parametrize("direction", ["first", "second"])
def test_blocked_members_are_never_together_either_way(direction: str) -> None:
    people = [member(i) for i in range(1, 7)]
    block = (1, 2) if direction == "first" else (2, 1)
    grouping = c.group_circles(people, [block])
    for circle in grouping.circles:
        assert not {1, 2} <= set(circle.everyone)
    placed = {u for circle in grouping.circles for u in circle.members}
    assert placed | set(grouping.waiting) == set(range(1, 7))


def test_a_block_with_everyone_leaves_that_member_waiting() -> None:
    people = [member(i) for i in range(1, 5)]
    grouping = c.group_circles(people, [(4, 1), (2, 4), (4, 3)])
    assert [circle.members for circle in grouping.circles] == [(1, 2, 3)]
    assert grouping.waiting == (4,)


def test_time_zones_without_shared_hours_are_not_grouped() -> None:
    london = [member(i, tz="Europe/London", times=("Weekday evenings",)) for i in (1, 2, 3)]
    tokyo = [member(i, tz="Asia/Tokyo", times=("Weekday evenings",)) for i in (4, 5, 6)]
    grouping = c.group_circles([*london, *tokyo], [])
    assert sorted(circle.members for circle in grouping.circles) == [(1, 2, 3), (4, 5, 6)]


def test_the_member_sharing_most_hours_joins_first() -> None:
    people = [
        member(1, times=("Weekday evenings", "Weekend mornings")),
        member(2, times=("Weekday evenings",)),
        member(3, times=("Weekday evenings", "Weekend mornings")),
        member(4, times=("Weekday evenings", "Weekend mornings")),
    ]
    grouping = c.group_circles(people, [])
    assert grouping.circles[0].members[:3] == (1, 3, 4)


def test_no_shared_language_keeps_people_apart_and_unknown_fits_anyone() -> None:
    people = [
        member(1, languages=("English",)),
        member(2, languages=("english ",)),
        member(3, languages=()),
        member(4, languages=("Tagalog",)),
    ]
    grouping = c.group_circles(people, [])
    assert [circle.members for circle in grouping.circles] == [(1, 2, 3)]
    assert grouping.waiting == (4,)


def test_areas_are_grouped_apart() -> None:
    people = [member(i, "identity") for i in (1, 2, 3)] + [member(i, "culture") for i in (4, 5)]
    grouping = c.group_circles(people, [])
    assert [(x.area, x.members) for x in grouping.circles] == [("identity", (1, 2, 3))]
    assert grouping.waiting == (4, 5)


def test_a_facilitating_mentor_joins_one_circle_they_fit() -> None:
    people = [member(i) for i in range(1, 9)]
    mentor = member(20, facilitate=True, offered=("identity",))
    grouping = c.group_circles([*people, mentor], [(20, 1)])
    with_mentor = [x for x in grouping.circles if x.facilitator == 20]
    assert len(with_mentor) == 1 and 1 not in with_mentor[0].members
    assert all(len(x.everyone) <= c.MAX_SIZE for x in grouping.circles)


def test_a_facilitator_who_does_not_offer_the_area_is_a_member() -> None:
    people = [member(1), member(2), member(3, facilitate=True, offered=("culture",))]
    grouping = c.group_circles(people, [])
    assert grouping.circles[0].members == (1, 2, 3)
    assert grouping.circles[0].facilitator is None


def test_a_lone_facilitator_keeps_waiting() -> None:
    grouping = c.group_circles([member(1, facilitate=True, offered=("identity",))], [])
    assert grouping == c.Grouping((), (1,))


def test_grouping_is_deterministic_whatever_the_input_order() -> None:
    people = [member(i, tz=tz) for i, tz in enumerate(["Europe/London", "Asia/Tokyo"] * 9, 1)]
    first = c.group_circles(people, [(1, 3), (5, 7)])
    assert c.group_circles(list(reversed(people)), [(7, 5), (3, 1)]) == first
    assert c.group_circles(people, [(1, 3), (5, 7)]) == first


def test_reasons_only_from_what_everyone_shared() -> None:
    shared = [member(i, languages=("Tagalog", "English")) for i in (1, 2)]
    private = member(3, languages=("Tagalog",), share=frozenset({"timezone"}))
    profiles = [p.profile for p in (*shared, private)]
    reasons = c.explain_circle("identity", profiles)
    assert reasons[0] == "You all chose identity exploration"
    assert not any("speaks" in r or "Weekday" in r for r in reasons)
    assert "Everyone is in the same time of day" in reasons
    everyone = c.explain_circle("culture", [p.profile for p in shared])
    assert "Everyone speaks Tagalog and English" in everyone
    assert "Weekday evenings usually work for everyone" in everyone


def test_preview_names_only_the_circle_area_and_escapes_names() -> None:
    profile_areas = Profile(user_id=1, areas_wanted=("resilience",), about="secret story")
    plan = c.PlannedCircle("identity", (1, 2, 3), None, ("You all chose identity exploration",))
    from bot.domain.text import safe_inline

    names = [safe_inline("[x](http://evil) @everyone"), safe_inline("B"), safe_inline("C")]
    text = c.round_preview([(plan, names, None)], [], 0)
    assert "Identity exploration" in text
    assert "Resilience" not in text and profile_areas.about not in text
    assert "](http" not in text and "@everyone" not in text.replace("@\u200beveryone", "")


def test_circle_channel_names_never_look_like_pair_channels() -> None:
    from bot.domain.pairs import is_pair_channel_name

    name = c.circle_channel_name("role_model", 3, {"circle-role-model-3"})
    assert name == "circle-role-model-3-2"
    assert not is_pair_channel_name(name)


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        (c.SPACE_DELETED, "because its space was removed from the server"),
        (c.TOO_FEW, "as the others stepped away"),
        (c.NEVER_OPENED, "before it opened"),
        (None, "closed on <t:1767225600:D>. You aren't"),
    ],
)
def test_status_says_why_the_last_circle_closed(reason: str | None, says: str) -> None:
    text = c.status_closed("identity", START, reason)
    assert says in text and "Identity exploration" in text and "`/circle join`" in text


def test_a_space_deleted_dm_escapes_the_server_name_and_says_what_next() -> None:
    text = c.space_deleted_text("culture", "**Evil** @everyone")
    assert "**Evil**" not in text and "@everyone" not in text.replace("@\u200beveryone", "")
    assert "Cultural connection" in text and "nothing you wrote anywhere else" in text
    assert "`/circle join`" in text
    alert = c.space_deleted_alert(7, "culture", 2, 3)
    assert alert.startswith("Circle **#7** (Cultural connection) closed") and "\n" not in alert


def test_a_member_of_a_circle_that_never_had_a_space_is_not_told_to_read_it() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    opened = c.moderator_closed_text("identity", "Server", delete_on=when)
    never = c.moderator_closed_text("identity", "Server", delete_on=None)
    assert "still read its space" in opened and "/circle join" in opened
    assert "space" not in never and "/circle join" in never
