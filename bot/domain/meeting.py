"""Weekly meeting times that fall within every member's stated availability (``/meet``).

**What the answers mean.** A member's ``meeting_times`` (``data/questionnaire.toml``) are read as
local hours in their own time zone, every matching day, start included and end excluded:

=====================  ==================  ===========
answer                 days                local hours
=====================  ==================  ===========
``weekday_morning``    Monday to Friday    08:00–12:00
``weekday_daytime``    Monday to Friday    12:00–17:00
``weekday_evening``    Monday to Friday    17:00–21:00
``weekend_morning``    Saturday, Sunday    08:00–12:00
``weekend_afternoon``  Saturday, Sunday    12:00–17:00
``weekend_evening``    Saturday, Sunday    17:00–21:00
=====================  ==================  ===========

A member who gave a time zone but no usual times is taken as free 08:00–21:00 every day (said
plainly in the answer); a member without a zone cannot be placed and is left out (also said).
Only what a member lets a match see is used: the zone when they share "Time zone", their usual
times when they share "Meeting rhythm" (the same rule as pair reasons and profile cards).

**How.** The coming week (from ``LEAD`` ahead of now, on the next whole UTC hour) is cut into
15-minute steps; each step is looked up in each member's zone with ``zoneinfo`` for its actual
date, so daylight-saving changes in that week and days that begin at different UTC hours are
exact. A one-hour slot fits a member when its four steps are all inside their hours. The slots
that fit everyone are ranked: a different overlap (then a different day) from the slots already
picked, on the hour for as many members as possible, in the middle of the overlap, spread out,
earliest. Without any, the nearest options are the slots with the fewest people outside their
usual times and the least time outside them (at most ``MAX_STRETCH`` each and
``MAX_TOTAL`` together).

Pure and deterministic: the same members and ``now`` always give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.profile import Profile
from bot.domain.questionnaire import shipped_labels

# answer -> (weekend?, first local hour, hour it ends)
BUCKETS: dict[str, tuple[bool, int, int]] = {
    "weekday_morning": (False, 8, 12),
    "weekday_daytime": (False, 12, 17),
    "weekday_evening": (False, 17, 21),
    "weekend_morning": (True, 8, 12),
    "weekend_afternoon": (True, 12, 17),
    "weekend_evening": (True, 17, 21),
}
ALL_BUCKETS = frozenset(BUCKETS)

STEP = timedelta(minutes=15)
SLOT_STEPS = 4  # a suggested meeting lasts one hour
WEEK_STEPS = 7 * 24 * 4
LEAD = timedelta(hours=12)  # the first occurrence shown is at least this far ahead
MAX_SUGGESTIONS = 3
MAX_STRETCH = 2 * 4  # a nearest option asks no one to go more than 2 hours outside their times
MAX_TOTAL = 4 * 4  # ... nor everyone together more than 4 hours
DST_LOOKAHEAD = timedelta(weeks=8)


@dataclass(frozen=True)
class Availability:
    """What Lantern may use of one member's availability.

    ``zone`` is ``None`` when they gave none, it is not a known zone, or they keep it from
    their match; ``buckets`` is empty when they gave no usual times or keep them private.
    """

    user_id: int
    zone: str | None
    buckets: frozenset[str] = frozenset()


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _bucket_codes(values: Iterable[str], labels: Mapping[str, str]) -> frozenset[str]:
    """The bucket codes of stored answers, which are codes or their questionnaire labels."""
    by_label = {label.casefold(): code for code, label in labels.items()}
    out = set()
    for value in values:
        code = value if value in BUCKETS else by_label.get(value.casefold())
        if code in BUCKETS:
            out.add(code)
    return frozenset(out)


def availability_of(profile: Profile, labels: Mapping[str, str] | None = None) -> Availability:
    """What of ``profile`` a match may see and ``suggest`` may use.

    ``labels`` maps ``meeting_times`` codes to the labels profiles carry (the shipped
    questionnaire's); codes are understood without it.
    """
    zone = profile.timezone if profile.shares("timezone") and _zone(profile.timezone) else None
    buckets = (
        _bucket_codes(profile.meeting_times, labels or {})
        if profile.shares("cadence")
        else frozenset()
    )
    return Availability(profile.user_id, zone, buckets)


@dataclass(frozen=True)
class Slot:
    """One suggested weekly hour: its next occurrence, and who it leaves outside their usual
    times (user id, minutes outside), empty when it fits everyone."""

    start: datetime
    outside: tuple[tuple[int, int], ...] = ()

    @property
    def unix(self) -> int:
        return int(self.start.timestamp())


@dataclass(frozen=True)
class Plan:
    """``suggest``'s answer. ``exact``: the slots fit everyone placed; otherwise they are the
    nearest options (possibly none). ``no_zone``: members who could not be placed;
    ``no_times``: members placed with the default 08:00–21:00; ``clocks_change``: a placed
    member's clock moves within ``DST_LOOKAHEAD``, so the weekly time may shift for them."""

    slots: tuple[Slot, ...]  # best first
    exact: bool
    placed: tuple[int, ...]
    no_zone: tuple[int, ...] = ()
    no_times: tuple[int, ...] = ()
    clocks_change: bool = False


def window_start(now: datetime) -> datetime:
    """The first instant of the week searched: ``LEAD`` ahead, on the next whole UTC hour."""
    later = (now + LEAD).astimezone(UTC)
    whole = later.replace(minute=0, second=0, microsecond=0)
    return whole if whole == later else whole + timedelta(hours=1)


@dataclass(frozen=True)
class _Local:
    """One member's week, step by step: free or not, on their hour or not, their date."""

    free: list[bool]
    on_hour: list[bool]
    dates: list[date]


def _local_week(zone: ZoneInfo, buckets: frozenset[str], start: datetime, steps: int) -> _Local:
    """For each step from ``start``, whether its local time lies in one of ``buckets``."""
    hours: dict[bool, set[int]] = {False: set(), True: set()}
    for code in buckets:
        weekend, first, end = BUCKETS[code]
        hours[weekend].update(range(first, end))
    free, on_hour, dates = [], [], []
    moment = start
    for _ in range(steps):
        local = moment.astimezone(zone)
        free.append(local.hour in hours[local.weekday() >= 5])
        on_hour.append(local.minute == 0)
        dates.append(local.date())
        moment += STEP
    return _Local(free, on_hour, dates)


def _fits(free: Sequence[bool]) -> list[bool]:
    """For each start in the week, whether a whole slot from there is free."""
    ahead = [0] * (len(free) + 1)  # free steps in a row from each step
    for i in range(len(free) - 1, -1, -1):
        ahead[i] = ahead[i + 1] + 1 if free[i] else 0
    return [ahead[i] >= SLOT_STEPS for i in range(WEEK_STEPS)]


def _distances(fits: Sequence[bool]) -> list[int | None]:
    """Steps from each start to the nearest start that fits (round the week: it repeats)."""
    if not any(fits):
        return [None] * WEEK_STEPS
    far = 2 * WEEK_STEPS
    out = [far] * WEEK_STEPS
    for order in (range(2 * WEEK_STEPS), range(2 * WEEK_STEPS - 1, -1, -1)):
        gap = far
        for k in order:
            i = k % WEEK_STEPS
            gap = 0 if fits[i] else gap + 1
            if gap < out[i]:
                out[i] = gap
    return list(out)


def _circular(a: int, b: int) -> int:
    d = abs(a - b) % WEEK_STEPS
    return min(d, WEEK_STEPS - d)


@dataclass(frozen=True)
class _Candidate:
    index: int
    block: int  # which run of common free time (exact) or -1
    day: date  # the first placed member's local date
    round: int  # members for whom it starts on the hour
    margin: int  # steps to the nearer edge of its overlap
    cost: tuple[int, int]  # (people outside, steps outside in total)


def _rank(c: _Candidate, picked: Sequence[_Candidate]) -> tuple[int, ...]:
    spread = min((_circular(c.index, p.index) for p in picked), default=0)
    return (
        -c.cost[0],
        -c.cost[1],
        int(all(c.block != p.block or c.block < 0 for p in picked)),
        int(all(c.day != p.day for p in picked)),
        c.round,
        c.margin,
        spread,
        -c.index,
    )


def _pick(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """Up to three, by cost, then a new overlap and day, on the hour, centred, spread, early;
    best first. No two overlap."""
    picked: list[_Candidate] = []
    for _ in range(MAX_SUGGESTIONS):
        open_ = [
            c for c in candidates if all(_circular(c.index, p.index) >= SLOT_STEPS for p in picked)
        ]
        if not open_:
            break
        picked.append(max(open_, key=lambda c: _rank(c, picked)))
    return picked


def suggest(members: Sequence[Availability], now: datetime) -> Plan:
    """Up to three weekly one-hour times within every member's availability (see the module)."""
    start = window_start(now)
    steps = WEEK_STEPS + SLOT_STEPS - 1
    placed: list[tuple[Availability, ZoneInfo]] = []
    no_zone: list[int] = []
    no_times: list[int] = []
    for member in members:
        zone = _zone(member.zone)
        if zone is None:
            no_zone.append(member.user_id)
            continue
        if not member.buckets:
            no_times.append(member.user_id)
        placed.append((member, zone))
    if not placed:
        return Plan((), False, (), tuple(no_zone), tuple(no_times))
    weeks = [_local_week(z, m.buckets or ALL_BUCKETS, start, steps) for m, z in placed]
    frees = [week.free for week in weeks]
    fits = [_fits(free) for free in frees]
    common = [all(column) for column in zip(*frees, strict=True)]
    blocks: list[int] = []
    edges: list[tuple[int, int]] = []
    run = -1
    for i in range(steps):
        if common[i] and (i == 0 or not common[i - 1]):
            run += 1
            first = i
            last = i
            while last + 1 < steps and common[last + 1]:
                last += 1
            edges.append((first, last + 1))
        blocks.append(run if common[i] else -1)

    def candidate(i: int, cost: tuple[int, int], block: int) -> _Candidate:
        round_ = sum(1 for week in weeks if week.on_hour[i])
        margin = 0
        if block >= 0:
            first, end = edges[block]
            margin = min(i - first, end - (i + SLOT_STEPS))
        return _Candidate(i, block, weeks[0].dates[i], round_, margin, cost)

    exact = [i for i, column in enumerate(zip(*fits, strict=True)) if all(column)]
    if exact:
        chosen = _pick([candidate(i, (0, 0), blocks[i]) for i in exact])
        slots = tuple(Slot(start + c.index * STEP) for c in chosen)
    else:
        distances = [_distances(f) for f in fits]
        near = []
        for i in range(WEEK_STEPS):
            apart = [d[i] for d in distances]
            if any(a is None or a > MAX_STRETCH for a in apart):
                continue
            if sum(a or 0 for a in apart) > MAX_TOTAL:
                continue
            outside = [a for a in apart if a]
            near.append(candidate(i, (len(outside), sum(a or 0 for a in apart)), -1))
        chosen = _pick(near)
        slots = tuple(
            Slot(
                start + c.index * STEP,
                tuple(
                    (m.user_id, (d[c.index] or 0) * 15)
                    for (m, _), d in zip(placed, distances, strict=True)
                    if d[c.index]
                ),
            )
            for c in chosen
        )
    changes = any(
        start.astimezone(z).utcoffset() != (start + DST_LOOKAHEAD).astimezone(z).utcoffset()
        for _, z in placed
    )
    return Plan(
        slots,
        bool(exact),
        tuple(m.user_id for m, _ in placed),
        tuple(no_zone),
        tuple(no_times),
        changes,
    )


def plan_for(profiles: Sequence[Profile], now: datetime) -> Plan:
    """``suggest`` for stored profiles (their ``meeting_times`` carry the shipped labels)."""
    labels = shipped_labels().get("meeting_times", {})
    return suggest([availability_of(p, labels) for p in profiles], now)


# ---------------------------------------------------------------- words


def _join(names: Sequence[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} minutes"
    text = "1 hour" if hours == 1 else f"{hours} hours"
    return text + (f" {rest} minutes" if rest else "")


def slot_line(slot: Slot, names: Mapping[int, str]) -> str:
    """One suggested time, shown in every reader's own zone, and that it repeats weekly."""
    line = f"<t:{slot.unix}:F>, then every week on that day at <t:{slot.unix}:t>"
    if slot.outside:
        parts = [
            f"about {_duration(minutes)} outside {names.get(user_id, 'someone')}'s usual times"
            for user_id, minutes in slot.outside
        ]
        line += " (" + "; ".join(parts) + ")"
    return line


SHARE_HINT = (
    "Each of you can add a time zone and usual times with `/profile` and choose to let your "
    "match see them (**Time zone** and **Meeting rhythm**)."
)


def _numbered(plan: Plan, names: Mapping[int, str]) -> list[str]:
    ordered = sorted(plan.slots, key=lambda s: s.start)
    return [f"{i}. {slot_line(s, names)}" for i, s in enumerate(ordered, 1)]


def best_overlap(plan: Plan) -> tuple[str, str] | None:
    """The opening message's field: the best weekly time that fits everyone, when everyone
    could be placed and some hour fits them all."""
    if not plan.exact or not plan.slots or plan.no_zone:
        return None
    best = plan.slots[0]
    assumed = (
        " Lantern counted 08:00–21:00 for anyone who hasn't shared usual times."
        if plan.no_times
        else ""
    )
    return (
        "A weekly time that fits you both",
        f"<t:{best.unix}:F>, then every week on that day at <t:{best.unix}:t> (shown in your "
        f"own time zone).{assumed} `/meet` here suggests more.",
    )


def render_plan(plan: Plan, names: Mapping[int, str], *, everyone: str = "you both") -> list[str]:
    """The lines of a ``/meet`` answer: the times, or plainly why there are none.

    ``names`` maps user ids to mentions or escaped names; ``everyone`` is how the group is
    addressed ("you both", "all of you").
    """

    def who(ids: Sequence[int]) -> str:
        return _join([names.get(u, "someone") for u in ids])

    lines: list[str] = []
    if plan.exact:
        lines.append(f"🗓️ **Weekly times that fit {everyone}** (shown in your own time zone)")
        lines.extend(_numbered(plan, names))
    elif plan.slots:
        lines.append("🗓️ **No weekly hour falls inside everyone's usual times.**")
        lines.append("The nearest options (shown in your own time zone):")
        lines.extend(_numbered(plan, names))
    elif plan.placed:
        lines.append(
            "🗓️ **No weekly hour comes close to everyone's usual times** (not even within two "
            "hours). Talk it over: a time outside the usual for one of you now and then, or "
            "new usual times in `/profile`, may open one up."
        )
    else:
        lines.append(
            "🗓️ Lantern can't suggest meeting times yet: it doesn't know anyone's time zone here "
            "(not given, or not shared with a match)."
        )
        lines.append(SHARE_HINT)
        return lines
    if plan.no_zone:
        several = len(plan.no_zone) > 1
        lines.append(
            f"Lantern doesn't know {who(plan.no_zone)}'s time "
            f"zone{'s' if several else ''} (not given, or not shared with a match), so these "
            f"follow {who(plan.placed)} only: check with "
            f"{'them' if several else who(plan.no_zone)}."
        )
    if plan.no_times:
        have = "have" if len(plan.no_times) > 1 else "has"
        lines.append(
            f"{who(plan.no_times)} {have}n't shared usual meeting times, so Lantern counted "
            "08:00–21:00 in their own time."
        )
    if plan.no_zone or plan.no_times:
        lines.append(SHARE_HINT)
    if plan.slots and plan.clocks_change:
        lines.append("Clocks change soon for some of you, so check the time again after that.")
    return lines
