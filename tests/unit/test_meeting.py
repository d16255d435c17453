"""Weekly meeting times (bot.domain.meeting): buckets in each member's own zone, DST, day
boundaries in UTC, N members, nearest options, and only what members share."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import meeting as d
from bot.domain.profile import Profile
from bot.domain.text import EMBED_TOTAL
from tests.unit.test_pairs import bare_opening

NOW = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)  # a Monday in January (no clock changes near)
SHARE = frozenset({"timezone", "cadence"})


def member(user_id: int, zone: str | None, *times: str) -> d.Availability:
    return d.Availability(user_id, zone, frozenset(times))


def local_fit(slot_start: datetime, who: d.Availability) -> bool:
    """An independent check: every minute of the hour lies in one of their buckets."""
    zone = ZoneInfo(who.zone or "UTC")
    for minute in range(0, 60, 5):
        local = (slot_start + timedelta(minutes=minute)).astimezone(zone)
        weekend = local.weekday() >= 5
        if not any(
            w == weekend and first <= local.hour < end
            for w, first, end in (d.BUCKETS[b] for b in (who.buckets or d.ALL_BUCKETS))
        ):
            return False
    return True


@dataclass(frozen=True)
class Case:
    name: str
    members: Sequence[d.Availability]
    now: datetime = NOW
    exact: bool = True
    count: int = 3
    no_zone: tuple[int, ...] = ()
    no_times: tuple[int, ...] = ()
    clocks_change: bool = False


CASES = [
    Case(
        "same zone, weekday evenings",
        [member(1, "Europe/London", "weekday_evening"), member(2, "Europe/London", *d.BUCKETS)],
    ),
    Case(
        "Manila mornings meet Vancouver evenings across the date line",
        [
            member(1, "Asia/Manila", "weekday_morning"),
            member(2, "America/Vancouver", "weekday_evening"),
        ],
    ),
    Case(
        "Manila and Vancouver mornings are too far apart",
        [
            member(1, "Asia/Manila", "weekday_morning"),
            member(2, "America/Vancouver", "weekday_morning"),
        ],
        exact=False,
        count=0,
    ),
    Case(
        "Manila evenings and Vancouver mornings: nearest options",
        [
            member(1, "Asia/Manila", "weekday_evening"),
            member(2, "America/Vancouver", "weekday_morning"),
        ],
        exact=False,
    ),
    Case(
        "a member without usual times is counted 08-21 their time",
        [member(1, "Europe/London", "weekend_morning"), member(2, "Asia/Kolkata")],
        no_times=(2,),
    ),
    Case(
        "a member without a zone is left out and named",
        [member(1, "Europe/Berlin", "weekday_daytime"), member(2, None, "weekday_daytime")],
        no_zone=(2,),
    ),
    Case(
        "nobody placed",
        [member(1, None, "weekday_daytime"), member(2, "Not/AZone", "weekday_daytime")],
        exact=False,
        count=0,
        no_zone=(1, 2),
    ),
    Case(
        "three members in three zones",
        [
            member(1, "Europe/London", "weekday_evening", "weekend_afternoon"),
            member(2, "America/New_York", "weekday_daytime", "weekend_morning"),
            member(3, "Europe/Berlin", "weekday_evening", "weekend_evening"),
        ],
    ),
    Case(
        "four members, one far away: slots that fit all but one",
        [
            member(1, "Europe/London", "weekday_evening"),
            member(2, "Europe/Paris", "weekday_evening"),
            member(3, "Europe/Madrid", "weekday_evening"),
            member(4, "America/New_York", "weekday_morning"),
        ],
        exact=False,
    ),
    Case(
        "a DST switch inside the week (US clocks go forward on 8 March 2026)",
        [
            member(1, "America/Vancouver", "weekday_evening"),
            member(2, "Asia/Tokyo", "weekday_morning"),
        ],
        now=datetime(2026, 3, 4, 12, tzinfo=UTC),
        clocks_change=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_suggest(case: Case) -> None:
    plan = d.suggest(case.members, case.now)
    assert plan.exact is case.exact
    assert len(plan.slots) == case.count
    assert plan.no_zone == case.no_zone
    assert plan.no_times == case.no_times
    assert plan.clocks_change is case.clocks_change
    placed = [m for m in case.members if m.user_id in plan.placed]
    start = d.window_start(case.now)
    for slot in plan.slots:
        assert start <= slot.start < start + timedelta(weeks=1)
        assert slot.start >= case.now + d.LEAD
        outside = {user_id for user_id, _ in slot.outside}
        for who in placed:
            assert local_fit(slot.start, who) is (who.user_id not in outside)
        assert all(0 < minutes <= d.MAX_STRETCH * 15 for _, minutes in slot.outside)
    starts = sorted(s.start for s in plan.slots)
    assert all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(starts))
    assert d.suggest(case.members, case.now) == plan  # deterministic


def test_opposite_zones_cross_the_day_boundary_in_utc() -> None:
    plan = d.suggest(CASES[1].members, NOW)
    manila, vancouver = ZoneInfo("Asia/Manila"), ZoneInfo("America/Vancouver")
    for slot in plan.slots:
        here, there = slot.start.astimezone(manila), slot.start.astimezone(vancouver)
        assert here.date() == there.date() + timedelta(days=1)  # tomorrow morning in Manila
        assert here.weekday() in range(1, 5) and there.weekday() in range(0, 4)
        assert here.minute == 0 and there.minute == 0
    assert len({s.start.astimezone(manila).date() for s in plan.slots}) == 3  # spread over days


def test_dst_week_uses_the_clocks_of_each_day() -> None:
    """After 8 March Vancouver is UTC-7, so its evening overlaps Tokyo's morning for three
    hours (00-03 UTC), not two: the roomiest, best-centred time is on a day after the switch."""
    plan = d.suggest(CASES[-1].members, datetime(2026, 3, 4, 12, tzinfo=UTC))
    best = plan.slots[0].start
    assert best == datetime(2026, 3, 10, 1, tzinfo=UTC)
    assert best.astimezone(ZoneInfo("America/Vancouver")).strftime("%a %H:%M") == "Mon 18:00"
    assert best.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%a %H:%M") == "Tue 10:00"


def test_prefers_the_middle_of_the_overlap_and_whole_hours() -> None:
    plan = d.suggest(
        [member(1, "Europe/London", "weekend_afternoon"), member(2, "Europe/London", *d.BUCKETS)],
        NOW,
    )
    hours = sorted(s.start.astimezone(ZoneInfo("Europe/London")).hour for s in plan.slots)
    assert all(13 <= h <= 15 for h in hours)  # 12:00-17:00: not at the edges
    assert all(s.start.minute == 0 for s in plan.slots)


def test_half_hour_zone_gets_a_time_on_its_own_hour_when_it_can() -> None:
    plan = d.suggest([member(1, "Asia/Kolkata", "weekday_evening"), member(2, "Asia/Kolkata")], NOW)
    assert all(s.start.astimezone(ZoneInfo("Asia/Kolkata")).minute == 0 for s in plan.slots)


def test_nearest_options_prefer_all_but_one() -> None:
    plan = d.suggest(CASES[8].members, NOW)
    for slot in plan.slots:
        assert len(slot.outside) == 1


def test_only_shared_fields_are_used() -> None:
    labels = {"weekday_morning": "Weekday mornings"}
    kept = Profile(
        user_id=1,
        timezone="Asia/Manila",
        meeting_times=("Weekday mornings", "weekend_evening", "nonsense"),
        share=frozenset({"about"}),
    )
    assert d.availability_of(kept, labels) == d.Availability(1, None, frozenset())
    shared = Profile(
        user_id=1, timezone="Asia/Manila", meeting_times=kept.meeting_times, share=SHARE
    )
    assert d.availability_of(shared, labels) == d.Availability(
        1, "Asia/Manila", frozenset({"weekday_morning", "weekend_evening"})
    )
    zone_only = Profile(user_id=1, timezone="Asia/Manila", share=frozenset({"timezone"}))
    assert d.availability_of(zone_only, labels) == d.Availability(1, "Asia/Manila")
    bad = Profile(user_id=1, timezone="Mars/Olympus", share=SHARE)
    assert d.availability_of(bad).zone is None


def test_plan_for_reads_the_shipped_labels() -> None:
    profiles = [
        Profile(
            user_id=1, timezone="Europe/London", meeting_times=("Weekday evenings",), share=SHARE
        ),
        Profile(user_id=2, timezone="Europe/London", meeting_times=("Weekday evenings",)),
    ]
    plan = d.plan_for(profiles, NOW)
    assert plan.no_zone == (2,) and plan.exact
    assert all(17 <= s.start.hour < 21 for s in plan.slots)


NAMES = {1: "<@1>", 2: "<@2>", 3: "<@3>"}


def test_render_exact_times_in_every_readers_zone() -> None:
    plan = d.suggest(CASES[1].members, NOW)
    text = "\n".join(d.render_plan(plan, NAMES))
    assert "Weekly times that fit you both" in text
    first = sorted(plan.slots, key=lambda s: s.start)[0]
    assert f"1. <t:{first.unix}:F>, then every week on that day at <t:{first.unix}:t>" in text
    assert "Asia/Manila" not in text and "Weekday" not in text  # no private field named


def test_render_nearest_options_say_who_is_outside_without_their_times() -> None:
    plan = d.suggest(CASES[3].members, NOW)
    text = "\n".join(d.render_plan(plan, NAMES))
    assert "No weekly hour falls inside everyone's usual times" in text
    assert "outside <@" in text and "usual times" in text
    assert "morning" not in text.lower() and "evening" not in text.lower()


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (CASES[2].members, "No weekly hour comes close"),
        (CASES[6].members, "doesn't know anyone's time zone"),
        (CASES[5].members, "doesn't know <@2>'s time zone"),
        (CASES[4].members, "<@2> hasn't shared usual meeting times"),
        (
            [member(1, "UTC", "weekday_daytime"), member(2, None), member(3, None)],
            "doesn't know <@2> and <@3>'s time zones",
        ),
    ],
)
def test_render_says_plainly_what_is_missing(
    members: Sequence[d.Availability], expected: str
) -> None:
    text = "\n".join(d.render_plan(d.suggest(members, NOW), NAMES))
    assert expected in text


def test_window_starts_on_a_whole_hour_ahead() -> None:
    assert d.window_start(datetime(2026, 1, 5, 6, 30, tzinfo=UTC)) == datetime(
        2026, 1, 5, 19, tzinfo=UTC
    )
    assert d.window_start(datetime(2026, 1, 5, 6, tzinfo=UTC)) == datetime(
        2026, 1, 5, 18, tzinfo=UTC
    )


def test_opening_card_has_the_best_overlap_within_embed_limits() -> None:
    long = "x" * 1000
    profiles = [
        Profile(
            user_id=i,
            role="both",
            timezone="Europe/London",
            meeting_times=("Weekday evenings",),
            about=long,
            hopes=long,
            brings=long,
            career_field=long,
            languages=(long,),
            heritage_text=long,
            share=frozenset(
                {"timezone", "cadence", "about", "hopes", "brings", "career", "languages"}
            ),
        )
        for i in (1, 2)
    ]
    meet = d.best_overlap(d.plan_for(profiles, NOW))
    assert meet is not None
    opening = bare_opening(profiles[0], profiles[1], meet=meet)
    card = opening.cards[-1]
    assert card.title == "🗓️ When you could meet"
    assert card.fields == (meet,)  # never cut: a cut timestamp would show as raw markup
    total = sum(len(c.title) + sum(len(a) + len(b) for a, b in c.fields) for c in opening.cards)
    assert total <= EMBED_TOTAL


def test_no_opening_card_without_an_exact_overlap_for_everyone() -> None:
    assert d.best_overlap(d.suggest(CASES[3].members, NOW)) is None  # nearest options only
    assert d.best_overlap(d.suggest(CASES[6].members, NOW)) is None  # nobody placed
    assert d.best_overlap(d.suggest(CASES[5].members, NOW)) is None  # one without a zone
    assumed = d.best_overlap(d.suggest(CASES[4].members, NOW))  # one without usual times
    assert assumed is not None and "counted 08:00–21:00" in assumed[1]
