"""Peer circles, decided without Discord or SQL: who is grouped with whom, why, and every
sentence members and moderators read about circles.

The grouping is greedy and deterministic (same waiting list, same circles):

1. Members wait for one area; each area is grouped on its own, longest wait first.
2. An area with ``n`` members waiting is cut into ``ceil(n / TARGET)`` circles of about equal
   size (8 waiting make 4 + 4, not 6 + 2 left over).
3. The longest-waiting member not yet placed starts a circle; the member who keeps the most
   shared weekly hours joins next (ties: the longer wait), as long as they fit everyone already
   in it: nobody blocked by or blocking anyone in it, a language everyone speaks, and at least
   ``MIN_OVERLAP_HOURS`` weekly hours that suit everyone (from their time zone and the times
   that usually work for them). A member who left an answer out fits anyone on that point.
4. A starting member who can't gather ``MIN_SIZE`` keeps waiting; members still waiting at the
   end join a circle of their area that they fit and that has room.
5. A mentor who offers the area and chose to facilitate joins the first circle they fit that
   has no facilitator yet (a circle holds at most ``MAX_SIZE`` people, facilitator included).

Nobody is told anything about a grouping until a moderator confirms it; who keeps waiting is
told nothing changed. The reasons a circle is shown come only from what *every* member chose
to share (like a pair's reasons); the area is the circle's purpose and always shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from bot.domain.areas import AREA_KEYS, area_label
from bot.domain.introductions import discord_date
from bot.domain.matching.scoring import minutes_apart, norm, utc_offset_minutes
from bot.domain.pairs import Card, Opening, member_card, render_space_opening
from bot.domain.profile import Profile
from bot.domain.text import Safe, fit, fit_lines, safe_block, safe_inline, user_mention

MIN_SIZE = 3  # members (peers) a circle needs
MAX_SIZE = 8  # people in a circle, a facilitator included
MAX_PEERS = MAX_SIZE - 1  # room is always kept for a facilitator
TARGET = 6  # the size an area's waiting members are cut into
MIN_OVERLAP_HOURS = 2  # weekly hours that must suit everyone
WEEK = 168
PREVIEW_CIRCLES = 12  # circles shown in full in a preview (the rest are counted)
PREVIEW_NAMES = 15  # members still waiting named in a preview

# The questionnaire's "meeting_times" buckets: (days of the week, local hours).
_WEEKDAYS = range(5)
_WEEKEND = range(5, 7)
BUCKETS: dict[str, tuple[range, range]] = {
    "weekday_morning": (_WEEKDAYS, range(7, 12)),
    "weekday_daytime": (_WEEKDAYS, range(9, 17)),
    "weekday_evening": (_WEEKDAYS, range(17, 22)),
    "weekend_morning": (_WEEKEND, range(8, 12)),
    "weekend_afternoon": (_WEEKEND, range(12, 17)),
    "weekend_evening": (_WEEKEND, range(17, 22)),
}
BUCKET_LABELS: dict[str, str] = {
    "weekday_morning": "Weekday mornings",
    "weekday_daytime": "Weekday daytime",
    "weekday_evening": "Weekday evenings",
    "weekend_morning": "Weekend mornings",
    "weekend_afternoon": "Weekend afternoons",
    "weekend_evening": "Weekend evenings",
}
_BUCKET_OF = {
    **{key: key for key in BUCKETS},
    **{label.casefold(): key for key, label in BUCKET_LABELS.items()},
}
WAKING = (range(7), range(8, 22))  # no times given: any waking hour, any day


def buckets_of(profile: Profile) -> frozenset[str]:
    """The member's meeting-time buckets (stored as codes or as their labels)."""
    found = (_BUCKET_OF.get(str(t).strip().casefold()) for t in profile.meeting_times)
    return frozenset(b for b in found if b)


def weekly_hours(profile: Profile) -> frozenset[int] | None:
    """The UTC hours of the week (0 = Monday 00:00 UTC) that usually suit the member, or
    ``None`` when their time zone is unknown (they fit anyone)."""
    offset = utc_offset_minutes(profile.timezone)
    if offset is None:
        return None
    shift = math.floor(offset / 60)
    chosen = [BUCKETS[b] for b in sorted(buckets_of(profile))] or [WAKING]
    return frozenset(
        (day * 24 + hour - shift) % WEEK for days, hours in chosen for day in days for hour in hours
    )


def languages_of(profile: Profile) -> frozenset[str]:
    """The member's languages, normalised (empty: not answered, they fit anyone)."""
    return frozenset(k for k in (norm(lang) for lang in profile.languages) if k)


@dataclass(frozen=True)
class Candidate:
    """One member waiting for a circle."""

    profile: Profile
    area: str
    since: datetime
    facilitate: bool = False

    @property
    def user_id(self) -> int:
        return self.profile.user_id

    @cached_property
    def languages(self) -> frozenset[str]:
        return languages_of(self.profile)

    @cached_property
    def hours(self) -> frozenset[int] | None:
        return weekly_hours(self.profile)


@dataclass(frozen=True)
class PlannedCircle:
    """A circle the round would form."""

    area: str
    members: tuple[int, ...]
    facilitator: int | None
    reasons: tuple[str, ...]

    @property
    def everyone(self) -> tuple[int, ...]:
        """Members, then the facilitator."""
        return self.members + ((self.facilitator,) if self.facilitator else ())


@dataclass(frozen=True)
class Grouping:
    """A round's circles, and who keeps waiting (in wait order)."""

    circles: tuple[PlannedCircle, ...]
    waiting: tuple[int, ...]


class _Group:
    """A circle being gathered: its people, what they still share, and whom they block (or
    are blocked by), kept up to date as people join."""

    def __init__(self, first: Candidate, walls: Mapping[int, frozenset[int]]) -> None:
        self.people: list[Candidate] = []
        self.facilitator: Candidate | None = None
        self.languages: frozenset[str] = frozenset()
        self.hours: frozenset[int] | None = None
        self.walled: set[int] = set()
        self.walls = walls
        self.add(first)

    def joined(self, other: Candidate) -> tuple[frozenset[str], frozenset[int] | None]:
        """The languages and hours the group would share with ``other`` in it."""
        theirs = other.languages
        languages = (
            self.languages & theirs if self.languages and theirs else self.languages or theirs
        )
        hours = other.hours
        if self.hours is None or hours is None:
            together = self.hours if hours is None else hours
        else:
            together = self.hours & hours
        return languages, together

    def room_for(self, other: Candidate) -> int | None:
        """``None`` when ``other`` may not join (a block either way with anyone in it, no
        language or too few weekly hours everyone shares); else the weekly hours everyone would
        still share (an unknown time zone counts as the whole week)."""
        if other.user_id in self.walled:
            return None
        languages, hours = self.joined(other)
        if self.languages and other.languages and not languages:
            return None
        if hours is None:
            return WEEK
        return len(hours) if len(hours) >= MIN_OVERLAP_HOURS else None

    def add(self, other: Candidate, *, facilitator: bool = False) -> None:
        self.languages, self.hours = self.joined(other)
        self.walled |= self.walls.get(other.user_id, frozenset())
        if facilitator:
            self.facilitator = other
        else:
            self.people.append(other)


def _cap(waiting: int) -> int:
    """How many members each circle of an area with ``waiting`` members gathers."""
    circles = max(1, math.ceil(waiting / TARGET))
    return max(MIN_SIZE, min(MAX_PEERS, math.ceil(waiting / circles)))


def _group_area(
    peers: Sequence[Candidate],
    facilitators: Sequence[Candidate],
    walls: Mapping[int, frozenset[int]],
) -> tuple[list[_Group], list[Candidate]]:
    cap = _cap(len(peers))
    left = list(peers)
    groups: list[_Group] = []
    stayed: list[Candidate] = []
    while left:
        group = _Group(left.pop(0), walls)
        while len(group.people) < cap:
            best: tuple[int, int] | None = None  # (hours kept, -position in the queue)
            for index, candidate in enumerate(left):
                kept = group.room_for(candidate)
                if kept is not None and (best is None or (kept, -index) > best):
                    best = (kept, -index)
            if best is None:
                break
            group.add(left.pop(-best[1]))
        if len(group.people) >= MIN_SIZE:
            groups.append(group)
        else:
            stayed.append(group.people[0])
            left = sorted([*group.people[1:], *left], key=lambda c: (c.since, c.user_id))
    still: list[Candidate] = []
    for candidate in sorted(stayed, key=lambda c: (c.since, c.user_id)):
        home = next(
            (g for g in groups if len(g.people) < MAX_PEERS and g.room_for(candidate) is not None),
            None,
        )
        if home is None:
            still.append(candidate)
        else:
            home.add(candidate)
    for mentor in facilitators:
        home = next(
            (g for g in groups if g.facilitator is None and g.room_for(mentor) is not None),
            None,
        )
        if home is None:
            still.append(mentor)
        else:
            home.add(mentor, facilitator=True)
    return groups, still


def group_circles(candidates: Iterable[Candidate], blocked: Iterable[tuple[int, int]]) -> Grouping:
    """The circles a round would form from everyone waiting (see the module's steps), and who
    keeps waiting. ``blocked``: (blocker, blocked) pairs, either direction keeps two apart."""
    walls: dict[int, frozenset[int]] = {}
    for a, b in blocked:
        walls[a] = walls.get(a, frozenset()) | {b}
        walls[b] = walls.get(b, frozenset()) | {a}
    ordered = sorted(candidates, key=lambda c: (c.since, c.user_id))
    circles: list[PlannedCircle] = []
    waiting: list[Candidate] = []
    for area in AREA_KEYS:
        here = [c for c in ordered if c.area == area]
        guides = [c for c in here if c.facilitate and area in c.profile.areas_offered]
        peers = [c for c in here if c not in guides]
        groups, still = _group_area(peers, guides, walls)
        waiting.extend(still)
        for group in groups:
            facilitator = group.facilitator
            profiles = [p.profile for p in group.people]
            if facilitator is not None:
                profiles.append(facilitator.profile)
            circles.append(
                PlannedCircle(
                    area=area,
                    members=tuple(p.user_id for p in group.people),
                    facilitator=facilitator.user_id if facilitator else None,
                    reasons=explain_circle(area, profiles),
                )
            )
    waiting.sort(key=lambda c: (c.since, c.user_id))
    return Grouping(tuple(circles), tuple(c.user_id for c in waiting))


ROUND_FAILED = (
    "Sorry — Lantern couldn't finish grouping the circles: its worker stopped before it was "
    "done. Nothing was sent and nothing changed. Please run `/circles round` again; if it "
    "keeps happening, tell whoever runs Lantern (the bot's log says more)."
)


def group_in_worker(
    candidates: Sequence[Candidate], blocked: Sequence[tuple[int, int]], report: object
) -> Grouping:
    """``group_circles`` as the ``Compute`` port runs it (a worker process: thousands waiting
    take seconds of pure Python, which must not stall the bot). It reports no phases."""
    return group_circles(candidates, blocked)


# ---------------------------------------------------------------- reasons


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _hours_text(minutes: int) -> str:
    hours = round(minutes / 60)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def explain_circle(area: str, profiles: Sequence[Profile]) -> tuple[str, ...]:
    """Why these people fit, in plain words, only from fields *every one* of them lets a match
    see (like a pair's reasons). Typed values (languages) come back as typed: echo them through
    ``safe_inline``."""
    reasons = [f"You all chose {area_label(area).lower()}"]

    def everyone(field: str) -> bool:
        return all(p.shares(field) for p in profiles)

    if profiles and everyone("languages"):
        common = set.intersection(*(set(languages_of(p)) for p in profiles))
        spelled = [" ".join(lang.split()) for lang in profiles[0].languages if norm(lang) in common]
        if spelled:
            reasons.append("Everyone speaks " + _join(list(dict.fromkeys(spelled))[:3]))
    if profiles and everyone("timezone"):
        offsets = [utc_offset_minutes(p.timezone) for p in profiles]
        known = [o for o in offsets if o is not None]
        if len(known) == len(offsets):
            spread = max(minutes_apart(a, b) for a in known for b in known)
            if spread == 0:
                reasons.append("Everyone is in the same time of day")
            elif spread <= 180:
                reasons.append(f"Everyone is within {_hours_text(spread)} of each other")
    if profiles and everyone("cadence"):
        common_times = frozenset.intersection(*(buckets_of(p) for p in profiles))
        if common_times:
            labels = [BUCKET_LABELS[b].lower() for b in BUCKETS if b in common_times]
            reasons.append(f"{_join(labels[:2]).capitalize()} usually work for everyone")
    return tuple(reasons)


# ---------------------------------------------------------------- names and the opening


def circle_channel_name(area: str, circle_id: int, taken: Iterable[str]) -> str:
    """``circle-identity-12`` (never shaped like a pair channel's name)."""
    base = f"circle-{area.replace('_', '-')}-{circle_id}"  # short: an area key and an id
    used = set(taken)
    number = 2
    name = base
    while name in used:
        name = f"{base}-{number}"
        number += 1
    return name


def render_circle_opening(
    *,
    area: str,
    members: Sequence[tuple[Profile, Safe]],
    facilitator: tuple[Profile, Safe] | None,
    reasons: Sequence[str],
    starters: Sequence[tuple[str, str]],
    notice: str,
    meet: tuple[str, str] | None = None,
) -> Opening:
    """The warm start of a circle's space: who is here, why, how to begin, who can see it;
    ``meet``: the best weekly time for everyone (``bot.domain.meeting.best_overlap``)."""
    everyone = [*members, *((facilitator,) if facilitator else ())]
    mentions = [user_mention(p.user_id) for p, _ in everyone]
    welcome = (
        f"Welcome, {_join(mentions)}! 🌱 This is your circle around **{area_label(area)}**: a "
        "small, private space to share, listen and grow together."
    )
    if facilitator is not None:
        welcome += f" {facilitator[1]} has offered to facilitate."
    cards: list[Card] = [member_card(f"Member: {name}", p, "", ()) for p, name in members]
    if facilitator is not None:
        profile, name = facilitator
        cards.append(member_card(f"Facilitator: {name}", profile, "", ()))
    return render_space_opening(
        welcome=welcome,
        reasons_title="Why Lantern brought you together",
        reasons=reasons,
        starters=starters,
        notice=notice,
        closing=(
            "Go at whatever pace suits the circle. Anyone can step away privately at any time "
            "with `/circle leave`; the others are only told that someone has left."
        ),
        cards=cards,
        meet=meet,
    )


CIRCLE_MEMBERS = "the members of this circle"


# ---------------------------------------------------------------- members are told


def joined_text(area: str, *, facilitate: bool, moved_from: str | None) -> str:
    """A member joined (or changed) the waiting list."""
    role = " as a facilitator" if facilitate else ""
    moved = f" (instead of {area_label(moved_from)})" if moved_from and moved_from != area else ""
    return (
        f"You're on the waiting list for a circle around **{area_label(area)}**{role}{moved}. 🌱 "
        "When moderators form the next circles, Lantern will let you know if you're in one. "
        "You can leave the list any time with `/circle leave`; nobody is told."
    )


ALREADY_IN_CIRCLE = (
    "You're already in a circle. To join another, first step away with `/circle leave`. "
    "Nothing changed."
)
NOT_READY = (
    "Circles are for members who have finished joining Lantern and agreed to take part. "
    "Start with `/start`, then try again. Nothing changed."
)
NOT_A_FACILITATOR = (
    "Facilitating a circle is for mentors who offer that area. You can join as a member "
    "instead (leave `facilitate` off), or add the area to what you offer with `/profile`. "
    "Nothing changed."
)
NOTHING_TO_LEAVE = "You aren't waiting for a circle or in one, so nothing changed."
LEFT_WAITING = "You've left the circle waiting list. Nobody was told. You're welcome back any time."
LEFT_CIRCLE = (
    "You've stepped away from your circle. You no longer have access to its space. The others "
    "are told only that someone has left, never why. Thank you for the time you gave it. 🌱"
)
STATUS_NONE = (
    "You aren't waiting for a circle or in one. Join the waiting list with `/circle join`."
)


def someone_left_text(remaining: int) -> str:
    """Posted in a circle's space when someone steps away: kind, no name, no blame."""
    return (
        "🌿 Someone has stepped away from this circle. People's lives change for all sorts of "
        f"reasons, and it isn't about anyone here. The circle carries on with {remaining} of you."
    )


STILL_WAITING = (
    "Moderators formed new circles today. There wasn't a group that fits you just yet, so "
    "nothing changed: you're still on the waiting list, in the same place. 🌱"
)
FELL_THROUGH = (
    "The circle Lantern was about to open for you couldn't go ahead: too few people were "
    "still here. This isn't about you. You're back on the waiting list for the same area, "
    "and `/circle leave` takes you off it."
)
CIRCLE_CLOSED_TEXT = (
    "Your circle has closed, as the others have stepped away. This isn't about you: people move "
    "on for many reasons. Thank you for showing up. You can read the space for a while longer, "
    "and join a new circle any time with `/circle join`."
)


# Why a circle closed (stored with it): fewer than two people were left in it; too few were
# left before its space could open; its space was deleted (by hand, or while Lantern was away);
# its space stayed quiet for the server's ``close_after_quiet_days``; a moderator ended it.
TOO_FEW = "too_few"
NEVER_OPENED = "never_opened"
SPACE_DELETED = "space_deleted"
INACTIVE = "inactive"
MODERATOR = "moderator"
_CLOSED_BECAUSE = {
    TOO_FEW: "as the others stepped away",
    NEVER_OPENED: "before it opened, as too few people were still here",
    SPACE_DELETED: "because its space was removed from the server",
    INACTIVE: "after its space had been quiet for a long while",
    MODERATOR: "when a moderator closed it",
}


def quiet_warning(people: Sequence[int], *, quiet_since: datetime, closes_at: datetime) -> str:
    """Posted once in a quiet circle's space, pinging everyone in it, a week before it closes."""
    return (
        f"{' '.join(user_mention(u) for u in people)} 🍂 It has been quiet in this circle since "
        f"{discord_date(quiet_since)}. The circle will close on {discord_date(closes_at)} "
        "unless someone writes here; writing anything (even a quick hello) keeps it open.\n"
        "If the circle has run its course, that's okay too: there's nothing you need to do. "
        "Circles wind down for all sorts of reasons, and nobody did anything wrong."
    )


def _read_until(delete_on: datetime | None) -> str:
    """``None``: the circle never had a space to read."""
    if delete_on is None:
        return "You can join a new circle any time with `/circle join`. 🌱"
    return (
        f"You can still read its space until {discord_date(delete_on)}, and join a new circle "
        "any time with `/circle join`. 🌱"
    )


def quiet_closed_text(area: str, server: str, *, quiet_since: datetime, delete_on: datetime) -> str:
    """The private, kind word to each member when their quiet circle closed."""
    return (
        f"Your circle around **{area_label(area)}** in **{safe_inline(server, limit=100)}** had "
        f"been quiet since {discord_date(quiet_since)}, so Lantern has closed it, as the note in "
        "its space said it would. Nobody did anything wrong: life gets busy, and that's okay. "
        f"Thank you for the time you gave it. {_read_until(delete_on)}"
    )


def moderator_closed_text(area: str, server: str, *, delete_on: datetime | None) -> str:
    """The private, kind word to each member when a moderator closed their circle (never the
    moderator's note: that is for moderators); ``delete_on`` is ``None`` when it had no space."""
    return (
        f"A moderator has closed your circle around **{area_label(area)}** in "
        f"**{safe_inline(server, limit=100)}**. Circles end for many reasons, and this isn't a "
        f"judgement of you. Thank you for the time and care you gave it. {_read_until(delete_on)}"
    )


def closed_alert(circle_id: int, area: str, *, actor_id: int | None, note: str | None) -> str:
    """Moderators, one line: a circle closed after a long quiet (``actor_id`` ``None``) or a
    moderator closed it (with their private note, escaped)."""
    if actor_id is None:
        return (
            f"Circle **#{circle_id}** ({area_label(area)}) closed: its space was quiet too long. "
            "Its members were told kindly and privately."
        )
    text = f"Circle **#{circle_id}** ({area_label(area)}) was closed by {user_mention(actor_id)}"
    if note:
        text += f". Their private note:\n>>> {safe_block(note, limit=500)}"
    return text


def circle_ended(circle_id: int) -> str:
    """``/circles end``: the moderator closed it."""
    return (
        f"Circle #{circle_id} has closed. Its members were told kindly and privately (never your "
        "note); its space is read-only until retention ends."
    )


def circle_had_ended(circle_id: int) -> str:
    """``/circles end`` on a circle that was already closed: nothing changed."""
    return f"Circle #{circle_id} had already closed. Nothing changed."


NO_SUCH_CIRCLE = "There is no circle with that number in this server. Check `/circles list`."
NO_CIRCLES = "There are no open circles in this server."


@dataclass(frozen=True)
class ListedCircle:
    """One open circle as moderators see it: numbers and dates, never names or messages."""

    circle_id: int
    area: str
    people: int
    opened: datetime | None
    last_activity: datetime | None


def circles_list_text(rows: Sequence[ListedCircle], *, limit: int = 1900) -> str:
    """The moderators' list of open circles, cut at a line to fit one message."""

    def day(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d}" if moment else "—"

    lines = [
        f"**#{r.circle_id}** {area_label(r.area)} · {r.people} people · opened {day(r.opened)}"
        f" · last activity {day(r.last_activity)}"
        for r in rows
    ]
    return fit_lines(lines, limit, more="… (more not shown)") if lines else NO_CIRCLES


def space_deleted_text(area: str, server: str) -> str:
    """A member whose circle closed because its space was deleted: what happened, that nothing
    else they wrote is touched, and how to find a new circle. No blame, no guess at who."""
    return (
        f"Your peer circle around **{area_label(area)}** in **{safe_inline(server, limit=100)}** "
        "has closed: its private space was removed from the server, so the circle has nowhere "
        "to meet. This isn't anything you did. Only that space is gone; nothing you wrote "
        "anywhere else (your reflections, your answers, a mentorship) is affected. Whenever "
        "you'd like a new circle, use `/circle join` in the server and Lantern will put you on "
        "the waiting list. 🌱"
    )


def status_closed(area: str, closed_at: datetime, reason: str | None) -> str:
    """A member whose last circle has closed (and who isn't waiting for another)."""
    because = _CLOSED_BECAUSE.get(reason or "")
    why = f" {because}" if because else ""
    return (
        f"Your circle around **{area_label(area)}** closed on <t:{int(closed_at.timestamp())}:D>"
        f"{why}. You aren't waiting for a circle now: join the waiting list for a new one with "
        "`/circle join`."
    )


def status_waiting(area: str, since: datetime, *, facilitate: bool) -> str:
    """Where a waiting member stands."""
    role = " as a facilitator" if facilitate else ""
    return (
        f"You're on the waiting list for a circle around **{area_label(area)}**{role} since "
        f"<t:{int(since.timestamp())}:D>. Moderators form circles in rounds; Lantern will tell "
        "you when yours is ready. `/circle leave` takes you off the list."
    )


def status_in_circle(area: str, space_id: int | None, people: int) -> str:
    """Where a member of a circle stands."""
    where = f" Its space: <#{space_id}>." if space_id else " Its space is being opened."
    return (
        f"You're in a circle of {people} around **{area_label(area)}**.{where} "
        "`/circle leave` lets you step away privately."
    )


def formed_dm(area: str, space_id: int) -> str:
    """A member whose circle opened (in case the ping in the space goes unseen)."""
    return f"🌱 Your circle around **{area_label(area)}** is ready: <#{space_id}>. See you there!"


# ---------------------------------------------------------------- moderators read


def round_preview(
    circles: Sequence[tuple[PlannedCircle, Sequence[Safe], Safe | None]],
    waiting: Sequence[Safe],
    more_waiting: int,
) -> str:
    """A round before it happens: each circle's area, people and reasons; who keeps waiting.
    Never anyone's other areas, never a private field."""
    if not circles and not waiting and not more_waiting:
        return "Nobody is waiting for a circle right now, so there's nothing to form."
    lines = ["**Circles round preview** (nothing is sent until you confirm)"]
    for number, (plan, names, facilitator) in enumerate(circles[:PREVIEW_CIRCLES], 1):
        who = ", ".join(names)
        lead = f" · facilitator: {facilitator}" if facilitator else ""
        lines.append(
            f"**{number}. {area_label(plan.area)}** ({len(plan.members)} members{lead}): {who}"
        )
        lines.append("   Why: " + "; ".join(safe_inline(r, limit=120) for r in plan.reasons))
    if len(circles) > PREVIEW_CIRCLES:
        lines.append(f"…and {len(circles) - PREVIEW_CIRCLES} more circles.")
    total = len(waiting) + more_waiting
    if total:
        shown = ", ".join(waiting) + (f" and {more_waiting} more" if more_waiting else "")
        lines.append(
            f"Still waiting ({total}; no group of {MIN_SIZE} that fits them yet, they are told "
            f"nothing changed): {shown}"
        )
    if not circles:
        lines.append("No circle can be formed yet.")
    return fit("\n".join(lines))


SKIPS: Mapping[str, str] = {
    "left": "left the waiting list or the server, or is no longer taking part",
    "taken": "was already placed in a circle (another round confirmed first)",
    "blocked": "a block was made since the preview",
}


def round_result(
    formed: Sequence[tuple[str, int]],
    dropped: Sequence[tuple[Safe, str]],
    unformed: Sequence[str],
) -> str:
    """What a confirmed round did: circles formed, who was left out since the preview and why,
    circles that fell below the minimum (their members keep waiting)."""
    if formed:
        lines = [
            f"Formed {len(formed)} circle{'s' if len(formed) != 1 else ''}: "
            + ", ".join(f"{area_label(a)} ({n})" for a, n in formed)
            + ". Their spaces are opening."
        ]
    else:
        lines = ["No circle was formed."]
    if dropped:
        lines.append("Changed since the preview:")
        lines.extend(f"• {name}: {SKIPS.get(why, why)}" for name, why in dropped[:20])
        if len(dropped) > 20:
            lines.append(f"• …and {len(dropped) - 20} more.")
    if unformed:
        lines.append(
            f"{len(unformed)} planned circle{'s' if len(unformed) != 1 else ''} "
            f"({', '.join(area_label(a) for a in unformed)}) fell below {MIN_SIZE} members; "
            "their members keep waiting."
        )
    return fit("\n".join(lines))


def space_deleted_alert(circle_id: int, area: str, told: int, people: int) -> str:
    """Moderators, one line: a circle closed because its space was deleted."""
    return (
        f"Circle **#{circle_id}** ({area_label(area)}) closed: its space was deleted (by hand, "
        f"or while Lantern was away). {told} of its {people} members were told privately and "
        "can join a new circle with `/circle join`."
    )


def space_pending_alert(circle_id: int, why: str) -> str:
    """Moderators: a circle's space could not be opened yet."""
    return (
        f"⚠️ Lantern couldn't open the private space for circle **#{circle_id}** ({why}). "
        "It will retry on its own; please check Lantern's permissions and the pair category."
    )
