"""Schedule maths: simple forms and 5-field cron, next occurrence in an IANA zone, DST, catch-up.

All instants going in and out are aware UTC datetimes; local wall-clock times are naive in the
schedule's zone. DST rules: a wall-clock time that happens twice (fall back) fires once, at its
first instant; a wall-clock time that does not exist (spring forward) fires once, at the first
valid instant after it (the moment the clocks jump).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.text import quoted

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FULL_DAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
MAX_YEARS_AHEAD = 8
# Prompts go out at most once an hour; after an outage only this many missed runs are recorded
# one by one (the rest are not even worked out: the latest is found directly).
MIN_INTERVAL_MINUTES = 60
MISSED_RECORDED = 5


class ScheduleError(ValueError):
    """A schedule expression or time zone that cannot be used; the message is for a person."""


@dataclass(frozen=True)
class Recurrence:
    """When a schedule fires, in local wall-clock terms (weekday 0 = Monday)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool
    expression: str

    def matches_date(self, day: date) -> bool:
        """Whether ``day`` is a day this recurrence fires on (cron's day-of-month OR weekday)."""
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.weekday() in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_day or by_weekday
        return by_day and by_weekday

    def times(self) -> list[time]:
        """The wall-clock times of day it fires at, in order."""
        return [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a ScheduleError that says what was expected."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"I don't know the time zone {quoted(name)}. Use a name like Europe/London, "
            "America/New_York or Asia/Singapore."
        ) from None


# ---------------------------------------------------------------------------------- parsing

_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")


def _parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip())
    if not match:
        raise ScheduleError(f"I couldn't read the time {quoted(text)}. Use 24-hour HH:MM.")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"{quoted(text)} is not a time on a 12-hour clock.")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{quoted(text)} is not a time of day (00:00 to 23:59).")
    return hour, minute


def _day_of_week(word: str) -> int | None:
    word = word.lower()
    if word in _FULL_DAYS:
        return _FULL_DAYS[word]
    if word.endswith("s") and word[:-1] in _FULL_DAYS:
        return _FULL_DAYS[word[:-1]]
    if len(word) <= 4:
        return next((i for i, day in enumerate(DAY_NAMES) if word.startswith(day)), None)
    return None


_DAY_GROUPS: dict[str, frozenset[int]] = {
    "daily": frozenset(range(7)),
    "day": frozenset(range(7)),
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weekend": frozenset({5, 6}),
    "weekends": frozenset({5, 6}),
}


def _simple(text: str) -> Recurrence | None:
    words = [
        w for w in text.lower().replace(",", " ").split() if w not in ("every", "at", "and", "on")
    ]
    if len(words) >= 2 and words[-1] in ("am", "pm"):
        words = [*words[:-2], words[-2] + words[-1]]
    if len(words) < 2:
        return None
    *heads, when = words
    days: set[int] = set()
    for head in heads:
        if head in _DAY_GROUPS:
            days |= _DAY_GROUPS[head]
            continue
        day = _day_of_week(head)
        if day is None:
            return None
        days.add(day)
    hour, minute = _parse_time(when)
    return Recurrence(
        minutes=frozenset({minute}),
        hours=frozenset({hour}),
        days=frozenset(range(1, 32)),
        months=frozenset(range(1, 13)),
        weekdays=frozenset(days),
        days_restricted=False,
        weekdays_restricted=days != set(range(7)),
        expression=text.strip(),
    )


def _cron_value(token: str, names: tuple[str, ...], low: int) -> int:
    token = token.lower()
    if token in names:
        return names.index(token) + low
    if not token.isdigit():
        raise ValueError(token)
    return int(token)


def _cron_field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(step_text)
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _cron_value(a, names, low), _cron_value(b, names, low)
        else:
            start = _cron_value(part, names, low)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ValueError(part)
        values.update(range(start, end + 1, step))
    return values


def _cron(text: str) -> Recurrence:
    fields = text.split()
    minute, hour, dom, month, dow = fields
    try:
        minutes = _cron_field(minute, 0, 59)
        hours = _cron_field(hour, 0, 23)
        days = _cron_field(dom, 1, 31)
        months = _cron_field(month, 1, 12, MONTH_NAMES)
        # cron: 0 and 7 are Sunday, 1 is Monday; names allowed.
        raw = _cron_field(dow, 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
    except ValueError as exc:
        raise ScheduleError(
            f"I couldn't read the cron expression {quoted(text)} "
            f"(problem near {quoted(str(exc), limit=20)}). "
            "It needs five fields: minute hour day-of-month month day-of-week, "
            "for example `0 9 * * mon`."
        ) from None
    weekdays = {(d - 1) % 7 for d in raw}
    return Recurrence(
        minutes=frozenset(minutes),
        hours=frozenset(hours),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        days_restricted=dom != "*",
        weekdays_restricted=dow != "*",
        expression=text,
    )


def parse_schedule(text: str) -> Recurrence:
    """Read a simple form ("every Monday 09:00", "daily 18:30", "weekdays 08:00") or cron."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise ScheduleError("Please say when, for example `every Monday 09:00` or `0 9 * * mon`.")
    if len(cleaned.split()) == 5 and re.fullmatch(r"[\d*/,\-a-zA-Z ]+", cleaned):
        first = cleaned.split()[0]
        if re.fullmatch(r"[\d*/,\-]+", first):
            return _cron(cleaned)
    simple = _simple(cleaned)
    if simple is None:
        raise ScheduleError(
            f"I couldn't read {quoted(cleaned)}. Try `every Monday 09:00`, `daily 18:30`, "
            "`weekdays 08:00`, `weekends 10:00`, or a cron expression like `0 9 * * mon`."
        )
    return simple


def check_interval(recurrence: Recurrence) -> None:
    """Refuse a schedule that would fire more often than once an hour."""
    if len(recurrence.minutes) > 1:
        raise ScheduleError(
            f"{recurrence.expression!r} would send prompts more than once an hour. Lantern "
            f"sends at most one prompt per schedule every {MIN_INTERVAL_MINUTES} minutes: use "
            "one minute value, for example `0 * * * *` (hourly) or `daily 18:30`."
        )


def describe(recurrence: Recurrence, zone: str) -> str:
    """A short human summary: the expression and its zone."""
    return f"{recurrence.expression} ({zone})"


# ------------------------------------------------------------------------- occurrences


def _resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive local wall-clock time fires at, applying the DST rules."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first  # exists; on a repeated time fold=0 is its first instant
    # A skipped time: fire at the first instant whose local time is at or after it.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= local:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


def _candidates(recurrence: Recurrence, zone: ZoneInfo, start_day: date) -> Iterator[datetime]:
    times = recurrence.times()
    day = start_day
    last = start_day + timedelta(days=366 * MAX_YEARS_AHEAD)
    while day <= last:
        if recurrence.matches_date(day):
            for moment in times:
                yield _resolve(datetime.combine(day, moment), zone)
        day += timedelta(days=1)


def next_occurrence(recurrence: Recurrence, zone_name: str, after: datetime) -> datetime | None:
    """The first firing instant strictly after ``after`` (UTC), or ``None`` if there is none."""
    zone = load_zone(zone_name)
    start = after.astimezone(zone).date() - timedelta(days=1)
    for instant in _candidates(recurrence, zone, start):
        if instant > after:
            return instant
    return None


def occurrences_between(
    recurrence: Recurrence,
    zone_name: str,
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
) -> list[datetime]:
    """Every firing instant in ``(start, end]`` (the first ``limit``), each once, in order."""
    found: list[datetime] = []
    cursor = start
    while limit is None or len(found) < limit:
        instant = next_occurrence(recurrence, zone_name, cursor)
        if instant is None or instant > end:
            return found
        found.append(instant)
        cursor = instant
    return found


def latest_occurrence(
    recurrence: Recurrence, zone_name: str, at: datetime, not_before: datetime
) -> datetime | None:
    """The last firing instant in ``[not_before, at]``, found walking back from ``at`` (so a
    long outage costs days, not every missed run), or ``None``."""
    zone = load_zone(zone_name)
    day = at.astimezone(zone).date() + timedelta(days=1)
    stop = not_before.astimezone(zone).date() - timedelta(days=1)
    times = list(reversed(recurrence.times()))
    while day >= stop:
        if recurrence.matches_date(day):
            instants = sorted(
                (_resolve(datetime.combine(day, moment), zone) for moment in times), reverse=True
            )
            for instant in instants:
                if not_before <= instant <= at:
                    return instant
        day -= timedelta(days=1)
    return None


def missed_runs(
    recurrence: Recurrence, zone_name: str, first_due: datetime, now: datetime
) -> list[datetime]:
    """The runs that fell due from ``first_due`` to ``now``: the first few and the latest, in
    order (bounded work however long the outage; the ones between are not worked out)."""
    due = [first_due]
    due += occurrences_between(recurrence, zone_name, first_due, now, limit=MISSED_RECORDED - 1)
    latest = latest_occurrence(recurrence, zone_name, now, first_due)
    if latest is not None:
        due.append(latest)
    return sorted(set(due))


@dataclass(frozen=True)
class CatchUp:
    """What to do with the occurrences that fell due: send one, skip the rest (logged)."""

    send: datetime | None
    skipped: tuple[datetime, ...]


def plan_catch_up(due: list[datetime], now: datetime, window: timedelta) -> CatchUp:
    """The newest due occurrence is sent if it is at most ``window`` late; others are skipped."""
    if not due:
        return CatchUp(None, ())
    newest = max(due)
    older = tuple(sorted(d for d in due if d != newest))
    if now - newest <= window:
        return CatchUp(newest, older)
    return CatchUp(None, (*older, newest))
