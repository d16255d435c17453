"""Schedule maths: parsing, next occurrence in a zone, DST change days, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.schedule import (
    ScheduleError,
    load_zone,
    next_occurrence,
    occurrences_between,
    parse_schedule,
    plan_catch_up,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


NY = "America/New_York"
LDN = "Europe/London"


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # 2026-01-01 is a Thursday; the first Monday is the 5th, 09:00 EST = 14:00 UTC.
        ("every Monday 09:00", NY, utc(2026, 1, 1), utc(2026, 1, 5, 14)),
        ("every monday at 9am", NY, utc(2026, 1, 1), utc(2026, 1, 5, 14)),
        ("mondays 09:00", LDN, utc(2026, 1, 1), utc(2026, 1, 5, 9)),
        ("daily 18:30", "Asia/Singapore", utc(2026, 1, 1), utc(2026, 1, 1, 10, 30)),
        ("weekdays 08:00", LDN, utc(2026, 1, 2, 9), utc(2026, 1, 5, 8)),  # Fri after 8 -> Mon
        ("weekends 10:00", LDN, utc(2026, 1, 1), utc(2026, 1, 3, 10)),
        ("every tue, thu 19:15", LDN, utc(2026, 1, 1), utc(2026, 1, 1, 19, 15)),
        ("0 9 * * mon", NY, utc(2026, 1, 1), utc(2026, 1, 5, 14)),
        ("0 9 * * 1", NY, utc(2026, 1, 1), utc(2026, 1, 5, 14)),
        ("30 7 1 * *", LDN, utc(2026, 1, 1, 8), utc(2026, 2, 1, 7, 30)),
        ("0 12 13 * 5", LDN, utc(2026, 1, 1), utc(2026, 1, 2, 12)),  # dom OR dow: Fri 2nd
        ("*/15 * * * *", LDN, utc(2026, 1, 1, 0, 7), utc(2026, 1, 1, 0, 15)),
        ("0 0 29 2 *", LDN, utc(2026, 1, 1), utc(2028, 2, 29)),
        # The same weekly schedule either side of New York's spring change (8 March 2026).
        ("every Monday 09:00", NY, utc(2026, 3, 2, 15), utc(2026, 3, 9, 13)),
        # Spring forward, New York: 02:30 does not exist on 8 March; fires at 03:00 EDT.
        ("daily 02:30", NY, utc(2026, 3, 8, 5), utc(2026, 3, 8, 7)),
        ("daily 02:30", NY, utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)),
        # Fall back, New York: 01:30 happens twice on 1 November; only the first fires.
        ("daily 01:30", NY, utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)),
        ("daily 01:30", NY, utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)),
        # Spring forward, London: 01:30 does not exist on 29 March; fires at 02:00 BST.
        ("daily 01:30", LDN, utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)),
        # Fall back, London: 01:30 happens twice on 25 October; only the first fires.
        ("daily 01:30", LDN, utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30)),
        ("daily 01:30", LDN, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
        # A Sunday-morning weekly prompt on London's fall-back day is unaffected.
        ("every Sunday 09:00", LDN, utc(2026, 10, 24), utc(2026, 10, 25, 9)),
    ],
)
def test_next_occurrence(expression: str, zone: str, after: datetime, expected: datetime) -> None:
    assert next_occurrence(parse_schedule(expression), zone, after) == expected


@pytest.mark.parametrize(
    ("expression", "zone", "start", "end", "count"),
    [
        # Every minute of the skipped 02:xx hour collapses to one firing at the jump.
        ("* 2 * * *", NY, utc(2026, 3, 8, 5), utc(2026, 3, 8, 9), 1),
        # Every 30 minutes from 01:00 to 01:59 on fall-back day: 01:00 and 01:30 once each.
        ("0,30 1 * * *", NY, utc(2026, 11, 1, 4), utc(2026, 11, 1, 8), 2),
        ("0,30 1 * * *", LDN, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), 2),
        # A week of a daily prompt across a change is exactly seven firings.
        ("daily 09:00", NY, utc(2026, 3, 5), utc(2026, 3, 12), 7),
        ("daily 01:30", LDN, utc(2026, 10, 22), utc(2026, 10, 29), 7),
        ("every Monday 09:00", NY, utc(2026, 1, 1), utc(2026, 12, 31), 52),
    ],
)
def test_occurrences_between_fire_once(
    expression: str, zone: str, start: datetime, end: datetime, count: int
) -> None:
    found = occurrences_between(parse_schedule(expression), zone, start, end)
    assert len(found) == count
    assert found == sorted(set(found))


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("", "say when"),
        ("every Funday 09:00", "couldn't read"),
        ("daily 25:00", "not a time"),
        ("daily 9:75", "not a time"),
        ("61 * * * *", "cron"),
        ("0 9 * * 8", "cron"),
        ("*/0 * * * *", "cron"),
        ("whenever", "couldn't read"),
    ],
)
def test_bad_expressions_explain_themselves(expression: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        parse_schedule(expression)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "New York"])
def test_bad_zone_is_refused(zone: str) -> None:
    with pytest.raises(ScheduleError, match="time zone"):
        load_zone(zone)


WINDOW = timedelta(minutes=60)


@pytest.mark.parametrize(
    ("due", "now", "send", "skipped"),
    [
        ([], utc(2026, 1, 5, 14), None, ()),
        ([utc(2026, 1, 5, 14)], utc(2026, 1, 5, 14, 0, 30), utc(2026, 1, 5, 14), ()),
        ([utc(2026, 1, 5, 14)], utc(2026, 1, 5, 15), utc(2026, 1, 5, 14), ()),  # exactly window
        ([utc(2026, 1, 5, 14)], utc(2026, 1, 5, 15, 0, 1), None, (utc(2026, 1, 5, 14),)),
        (
            [utc(2026, 1, 5, 14), utc(2026, 1, 12, 14)],
            utc(2026, 1, 12, 14, 20),
            utc(2026, 1, 12, 14),
            (utc(2026, 1, 5, 14),),
        ),
    ],
)
def test_catch_up_sends_one_recent_and_skips_older(
    due: list[datetime], now: datetime, send: datetime | None, skipped: tuple[datetime, ...]
) -> None:
    plan = plan_catch_up(due, now, WINDOW)
    assert plan.send == send
    assert plan.skipped == skipped
