"""Pair spaces, decided without Discord or SQL: names, where a space goes, when to check in,
and what the opening message says.

Everything a member wrote is echoed through ``safe_inline``/``safe_block``; the only pings in an
opening message are the two members' mentions, which the cog allows explicitly.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.areas import AREA_KEYS, area_label
from bot.domain.introductions import discord_date
from bot.domain.profile import SHAREABLE, Profile
from bot.domain.text import (
    EMBED_FIELD_NAME,
    EMBED_FIELD_VALUE,
    EMBED_FIELDS,
    EMBED_TITLE,
    EMBED_TOTAL,
    Safe,
    fit,
    fit_lines,
    safe_block,
    safe_inline,
    user_mention,
)

CATEGORY_CAP = 50  # channels a Discord category holds
GUILD_CAP = 500  # channels (categories included) a Discord server holds
GUILD_WARN_AT = 480  # tell moderators before the server is full
MAX_CHANNEL_NAME = 100
STARTERS_PER_PAIR = 3
MAX_STARTER = 200

# What each party of a pair space may do. Never a manage_* permission: the space belongs to
# the pair, and Lantern keeps its own powers at server level.
MEMBER_ALLOW: tuple[str, ...] = (
    "view_channel",
    "send_messages",
    "read_message_history",
    "attach_files",
)
BOT_ALLOW: tuple[str, ...] = (*MEMBER_ALLOW, "embed_links")
MODERATOR_ALLOW: tuple[str, ...] = ("view_channel", "send_messages", "read_message_history")
# After an ending: the two can still read (until deletion), never write.
READ_ONLY_ALLOW: tuple[str, ...] = ("view_channel", "read_message_history")
READ_ONLY_DENY: tuple[str, ...] = ("send_messages", "attach_files", "add_reactions")


@dataclass(frozen=True)
class Grant:
    """One overwrite: permission flags allowed and denied for one target."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


def space_grants(*, moderators_see: bool, has_moderator_role: bool) -> dict[str, Grant]:
    """The complete overwrite set of a private space (a pair's or a circle's), keyed by target
    kind.

    Kinds: ``everyone``, ``members`` (each person the space is for), ``bot`` and (only if
    chosen) ``moderators``.
    """
    grants = {
        "everyone": Grant(deny=("view_channel",)),
        "members": Grant(allow=MEMBER_ALLOW),
        "bot": Grant(allow=BOT_ALLOW),
    }
    if moderators_see and has_moderator_role:
        grants["moderators"] = Grant(allow=MODERATOR_ALLOW)
    return grants


def category_grants(*, moderators_see: bool, has_moderator_role: bool) -> dict[str, Grant]:
    """Overwrites of an overflow category: private like the first one."""
    grants = space_grants(moderators_see=moderators_see, has_moderator_role=has_moderator_role)
    return {k: v for k, v in grants.items() if k != "members"}


# ---------------------------------------------------------------- names

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str, *, limit: int = 40) -> str:
    """A channel-safe slug of a display name: ascii, lower case, dashes; ``member`` if empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    value = _NON_SLUG.sub("-", ascii_name.lower()).strip("-")
    value = value[:limit].strip("-")
    return value or "member"


def pair_channel_name(mentee_name: str, mentor_name: str, taken: Iterable[str]) -> str:
    """``mentee-and-mentor``, with ``-2``, ``-3``... when a channel already has that name."""
    base = f"{slug(mentee_name)}-and-{slug(mentor_name)}"[: MAX_CHANNEL_NAME - 4]
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


_PAIR_NAME = re.compile(r"^[a-z0-9-]+-and-[a-z0-9-]+$")


def is_pair_channel_name(name: str) -> bool:
    """Whether ``name`` is one ``pair_channel_name`` could have given."""
    return bool(_PAIR_NAME.match(name)) and len(name) <= MAX_CHANNEL_NAME


# ---------------------------------------------------------------- placement


@dataclass(frozen=True)
class Placement:
    """Where the next pair space goes.

    ``kind``: ``channel`` (in ``category_id``), ``new_category`` (create category ``number``
    first), ``thread`` (a private thread in the configured channel) or ``full`` (nowhere).
    ``warn_moderators``: the server is close to Discord's channel limit.
    """

    kind: str
    category_id: int | None = None
    number: int = 0
    warn_moderators: bool = False


def place_space(
    categories: Sequence[tuple[int, int]],
    *,
    guild_channels: int,
    prefer_threads: bool,
    thread_parent: bool,
    category_cap: int = CATEGORY_CAP,
    guild_cap: int = GUILD_CAP,
    warn_at: int = GUILD_WARN_AT,
) -> Placement:
    """Pick the first category (in order) with room, roll over to a new one, or use a thread.

    ``categories`` is ``(category_id, channels_in_it)`` in roll-over order.
    """
    warn = guild_channels >= warn_at
    if prefer_threads and thread_parent:
        return Placement("thread", warn_moderators=warn)
    for category_id, count in categories:
        if count < category_cap:
            if guild_channels + 1 > guild_cap:
                break
            return Placement("channel", category_id=category_id, warn_moderators=warn)
    else:
        # every category is full: a new category and its first channel need two slots
        if guild_channels + 2 <= guild_cap:
            return Placement("new_category", number=len(categories) + 1, warn_moderators=warn)
    if thread_parent:
        return Placement("thread", warn_moderators=True)
    return Placement("full", warn_moderators=True)


def overflow_category_name(base: str, number: int) -> str:
    """``Mentorship 2``, ``Mentorship 3``, ... named after the first category."""
    return fit(f"{base} {number}", MAX_CHANNEL_NAME)


# ---------------------------------------------------------------- rhythm


@dataclass(frozen=True)
class Rhythm:
    """A server's pair-space timings, in days."""

    first_checkin_days: int = 14
    checkin_every_days: int = 30
    silence_days: int = 21
    silence_alert_after: int = 2  # nudges without activity before moderators are told
    retention_days: int = 30
    # Quiet days after which a pair space closes (0: never). 90 keeps the care ladder in
    # order with the defaults: nudges on days 21 and 42, moderators told on day 63, the
    # closing warning on day 83, the close on day 90, so moderators have weeks to reach out
    # first and a pair meeting monthly elsewhere is never surprised.
    close_after_quiet_days: int = 90


def first_checkin(start: datetime, rhythm: Rhythm) -> datetime:
    """When the first check-in is due for a pair whose space opened at ``start``."""
    return start + timedelta(days=rhythm.first_checkin_days)


def following_checkin(due: datetime, now: datetime, rhythm: Rhythm) -> datetime:
    """The next check-in after one due at ``due`` ran at ``now``; missed ones collapse."""
    step = timedelta(days=rhythm.checkin_every_days)
    following = due + step
    while following <= now:
        following += step
    return following


def silence_action(
    *,
    last_activity: datetime,
    nudges_sent: int,
    alerted: bool,
    now: datetime,
    rhythm: Rhythm,
) -> str | None:
    """``nudge``, ``alert`` or ``None`` for a pair silent since ``last_activity``.

    A nudge goes out once per silent period; after ``silence_alert_after`` nudges the next
    silent period tells moderators, once.
    """
    silent_periods = (now - last_activity) // timedelta(days=rhythm.silence_days)
    if silent_periods <= nudges_sent:
        return None
    if nudges_sent < rhythm.silence_alert_after:
        return "nudge"
    return None if alerted else "alert"


# A quiet space is warned this long before it closes, and never closes sooner after a warning.
CLOSE_WARNING = timedelta(days=7)
MIN_CLOSE_AFTER_DAYS = 14  # the shortest setting (0 turns closing off)
MAX_CLOSE_AFTER_DAYS = 730
# Only pairs quiet at least this long can be due a warning (the sweep's first filter).
QUIET_BEFORE_WARNING = timedelta(days=MIN_CLOSE_AFTER_DAYS) - CLOSE_WARNING


def inactivity_action(
    *,
    last_activity: datetime,
    warned_for: datetime | None,
    closes_at: datetime | None,
    now: datetime,
    rhythm: Rhythm,
) -> str | None:
    """``warn``, ``end`` or ``None`` for an active pair quiet since ``last_activity``.

    ``warned_for`` is the silence a warning was posted about (its ``last_activity``) and
    ``closes_at`` the date it announced. A warning counts only for that same silence (any
    message starts a new one) and until a week after its date (a close Lantern missed while
    offline, or one a moderator postponed or turned off and on again, is warned anew). A pair
    ends at the announced date or the setting's, whichever is later: never sooner than told.
    """
    days = rhythm.close_after_quiet_days
    if days <= 0:
        return None
    due = last_activity + timedelta(days=days)
    warned = (
        warned_for == last_activity and closes_at is not None and now < closes_at + CLOSE_WARNING
    )
    if not warned:
        return "warn" if now >= due - CLOSE_WARNING else None
    assert closes_at is not None
    return "end" if now >= max(closes_at, due) else None


def closing_date(last_activity: datetime, now: datetime, rhythm: Rhythm) -> datetime:
    """When a space warned at ``now`` closes: the setting's date, but never within a week."""
    return max(last_activity + timedelta(days=rhythm.close_after_quiet_days), now + CLOSE_WARNING)


def close_after_problem(days: int) -> str | None:
    """Why ``days`` can't be the closing setting (``None``: it can)."""
    if days == 0 or MIN_CLOSE_AFTER_DAYS <= days <= MAX_CLOSE_AFTER_DAYS:
        return None
    return (
        f"A quiet space can close after {MIN_CLOSE_AFTER_DAYS} to {MAX_CLOSE_AFTER_DAYS} quiet "
        f"days (a pair is warned a week ahead, after at least a week of quiet), or use 0 so "
        "quiet spaces never close. Nothing was saved."
    )


# ---------------------------------------------------------------- starters


class StartersError(ValueError):
    """The starters file has problems; the message lists all of them."""


def parse_starters(data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Validate a starters table (``[area] starters = [...]``), reporting every problem at once."""
    problems: list[str] = []
    library: dict[str, tuple[str, ...]] = {}
    for key in data:
        if key not in AREA_KEYS:
            problems.append(f"unknown area {key!r}")
    for area in AREA_KEYS:
        entry = data.get(area)
        items = entry.get("starters") if isinstance(entry, Mapping) else None
        if not isinstance(items, list):
            problems.append(f"{area}: missing 'starters' list")
            continue
        texts = [t.strip() for t in items if isinstance(t, str) and t.strip()]
        if len(texts) != len(items):
            problems.append(f"{area}: every starter must be non-empty text")
        if len(texts) < STARTERS_PER_PAIR:
            problems.append(f"{area}: needs at least {STARTERS_PER_PAIR} starters")
        if len(set(texts)) != len(texts):
            problems.append(f"{area}: duplicate starters")
        for text in texts:
            if len(text) > MAX_STARTER:
                problems.append(f"{area}: starter longer than {MAX_STARTER} characters")
        library[area] = tuple(texts)
    if problems:
        raise StartersError("; ".join(problems))
    return library


def prompts_by_area(data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Best-effort read of a prompt library: any list of tables with ``area`` and ``text``."""
    found: dict[str, list[str]] = {}
    for value in data.values():
        if not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, Mapping):
                continue
            area, text = item.get("area"), item.get("text")
            if area in AREA_KEYS and isinstance(text, str) and 0 < len(text) <= MAX_STARTER:
                found.setdefault(str(area), []).append(text.strip())
    return {k: tuple(v) for k, v in found.items()}


def load_starter_library(data_dir: Path) -> dict[str, tuple[str, ...]]:
    """Shipped starters, topped with prompts from ``prompts.toml`` when that file exists."""
    with (data_dir / "starters.toml").open("rb") as handle:
        library = parse_starters(tomllib.load(handle))
    prompts_file = data_dir / "prompts.toml"
    if prompts_file.exists():
        try:
            with prompts_file.open("rb") as handle:
                extra = prompts_by_area(tomllib.load(handle))
        except (OSError, tomllib.TOMLDecodeError):
            extra = {}
        for area, texts in extra.items():
            library[area] = tuple(dict.fromkeys((*library.get(area, ()), *texts)))
    return library


def shared_areas(mentee: Profile, mentor: Profile) -> tuple[str, ...]:
    """Areas the mentee wants and the mentor offers, in the mentee's order."""
    return tuple(a for a in mentee.areas_wanted if a in mentor.areas_offered)


def pick_starters(
    areas: Sequence[str], library: Mapping[str, Sequence[str]], *, seed: int
) -> list[tuple[str, str]]:
    """Three ``(area, starter)`` drawn round-robin from ``areas`` (all areas if none shared)."""
    pool = [a for a in areas if library.get(a)] or [a for a in AREA_KEYS if library.get(a)]
    picked: list[tuple[str, str]] = []
    round_no = 0
    while len(picked) < STARTERS_PER_PAIR and pool:
        progressed = False
        for index, area in enumerate(pool):
            options = list(library[area])
            if round_no >= len(options):
                continue
            choice = options[(seed + index + round_no * 7) % len(options)]
            if (area, choice) in picked:
                choice = next((o for o in options if (area, o) not in picked), choice)
            if (area, choice) not in picked:
                picked.append((area, choice))
                progressed = True
            if len(picked) == STARTERS_PER_PAIR:
                break
        if not progressed:
            break
        round_no += 1
    return picked


# ---------------------------------------------------------------- the opening message


@dataclass(frozen=True)
class Card:
    """One person's introduction: a title and (label, value) fields."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()


def fit_cards(cards: Sequence[Card]) -> tuple[Card, ...]:
    """The cards within Discord's embed limits: each title, name and value on its own, then
    the whole message (6,000), by shortening the longest values first (each with "…")."""
    bounded = [
        Card(
            fit(card.title, EMBED_TITLE),
            tuple(
                (fit(label, EMBED_FIELD_NAME), fit(value, EMBED_FIELD_VALUE) or "—")
                for label, value in card.fields[:EMBED_FIELDS]
            ),
        )
        for card in cards
    ]
    fixed = sum(len(c.title) + sum(len(label) for label, _ in c.fields) for c in bounded)
    budget = EMBED_TOTAL - fixed
    lengths = [len(value) for c in bounded for _, value in c.fields]
    if sum(lengths) <= budget:
        return tuple(bounded)
    low, high = 1, max(lengths)  # the largest cap at which the values fit the budget
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(n, cap) for n in lengths) <= budget:
            low = cap
        else:
            high = cap - 1
    return tuple(
        Card(c.title, tuple((label, fit(value, low)) for label, value in c.fields)) for c in bounded
    )


@dataclass(frozen=True)
class Opening:
    """The opening message: text and one card per person."""

    content: str
    cards: tuple[Card, ...] = field(default_factory=tuple)


def shared_fields(profile: Profile) -> list[tuple[str, str]]:
    """The fields ``profile`` chose to show their match, safe to echo, in a stable order."""
    out: list[tuple[str, str]] = []

    def add(key: str, value: str | None, *, block: bool = False) -> None:
        if value and profile.shares(key):
            out.append((SHAREABLE[key], safe_block(value) if block else safe_inline(value)))

    heritage = profile.heritage_text or ", ".join(
        (*profile.heritage_regions, *profile.heritage_details)
    )
    add("heritage", heritage)
    add("generation", profile.generation)
    add("languages", ", ".join(profile.languages))
    career = " · ".join(p for p in (profile.career_field, profile.career_stage) if p)
    add("career", career)
    add("timezone", profile.timezone)
    add("cadence", profile.cadence)
    add("about", profile.about, block=True)
    add("hopes", profile.hopes, block=True)
    add("brings", profile.brings, block=True)
    return [(label, value) for label, value in out if value]


def visibility_notice(
    *,
    moderators_see: bool,
    moderator_role: str | None,
    thread: bool = False,
    members: str = "the two of you",
    checks_in: bool = True,
) -> str:
    """Who can really see this space, in plain words (``members``: who the space is for;
    ``checks_in``: Lantern notes when it was last active, to know when to check in)."""
    who = [members, "Lantern"]
    if moderators_see and moderator_role:
        who.append(f"members of the **{safe_inline(moderator_role, limit=80)}** role")
    who.append("the server's owner and administrators")
    if thread:
        who.append("people with the Manage Threads permission")
    listed = ", ".join(who[:-1]) + ", and " + who[-1]
    return (
        f"🔒 **Who can see this {'thread' if thread else 'channel'}:** {listed}. "
        "Nobody else in the server can. Lantern doesn't read your messages"
        + (
            "; it only notes when the space was last active, so it knows when to check in."
            if checks_in
            else "."
        )
    )


def member_card(title: str, profile: Profile, areas_label: str, areas: Sequence[str]) -> Card:
    """One person's card in an opening message: the areas they came for (or offer), then only
    what they chose to share (``shared_fields``)."""
    fields: list[tuple[str, str]] = []
    if areas:
        fields.append((areas_label, ", ".join(area_label(a) for a in areas)))
    fields.extend(shared_fields(profile))
    return Card(title=title, fields=tuple(fields))


def render_space_opening(
    *,
    welcome: str,
    reasons_title: str,
    reasons: Sequence[str],
    starters: Sequence[tuple[str, str]],
    notice: str,
    closing: str,
    cards: Sequence[Card],
    meet: tuple[str, str] | None = None,
) -> Opening:
    """The warm start of any private space (a pair's, a circle's): the welcome, why these
    people were brought together, a few ways to start, who can see it, and what happens next;
    one card per person, and ``meet`` (a label and text with timestamps, from
    ``bot.domain.meeting.best_overlap``) as a last card when everyone shares a weekly time."""
    lines = [welcome, ""]
    clean_reasons = [safe_inline(r, limit=200) for r in reasons if r and r.strip()]
    if clean_reasons:
        lines.append(f"**{reasons_title}**")
        lines.extend(f"• {r}" for r in clean_reasons[:6])
        lines.append("")
    if starters:
        lines.append("**A few ways to start**")
        lines.extend(
            f"{i}. {safe_inline(text, limit=MAX_STARTER)}"
            for i, (_, text) in enumerate(starters, 1)
        )
        lines.append("")
    lines.extend((notice, "", closing))
    every = [*cards, *((Card(title="🗓️ When you could meet", fields=(meet,)),) if meet else ())]
    return Opening(content=fit("\n".join(lines)), cards=fit_cards(every))


def render_opening(
    *,
    mentee: Profile,
    mentor: Profile,
    mentee_name: Safe,
    mentor_name: Safe,
    mentee_mention: str,
    mentor_mention: str,
    reasons: Sequence[str],
    starters: Sequence[tuple[str, str]],
    notice: str,
    first_checkin_days: int,
    meet: tuple[str, str] | None = None,
) -> Opening:
    """The warm start of a pair space: who they are, why they were matched, how to begin;
    ``meet`` (a label and text with timestamps) is the best weekly time, when there is one."""
    return render_space_opening(
        welcome=(
            f"Welcome, {mentee_mention} and {mentor_mention}! 🌱 This is your own space to get "
            "to know each other."
        ),
        reasons_title="Why Lantern introduced you",
        reasons=reasons,
        starters=starters,
        notice=notice,
        closing=(
            f"Lantern will check in after {first_checkin_days} days. Use the buttons below any "
            "time to tell us how it's going, pause reminders, or end the mentorship privately "
            "(`/pair end` works too; `/pair report` reaches moderators privately)."
        ),
        cards=(
            member_card(f"Mentee: {mentee_name}", mentee, "Hopes to grow in", mentee.areas_wanted),
            member_card(f"Mentor: {mentor_name}", mentor, "Can offer", mentor.areas_offered),
        ),
        meet=meet,
    )


STEPPED_AWAY_TEXT = (
    "Your mentorship partner has stepped away from Lantern, so it has closed your pair space. "
    "This isn't about you: people move on for many reasons. Thank you for showing up. "
    "If you'd like a new match, Lantern will be glad to help."
)


def kind_departure_text(*, left: bool) -> str:
    """What the remaining person is told when the other left or the space vanished."""
    if left:
        return (
            "Your mentorship partner has left the server, so Lantern has closed your pair space. "
            "This isn't about you: people move on for many reasons. Thank you for showing up. "
            "If you'd like a new match, Lantern will be glad to help."
        )
    return (
        "Your pair space was removed from the server, so Lantern has closed this match. "
        "Nothing you did caused this. If it was a mistake, a moderator can restore the space."
    )


# ---------------------------------------------------------------- failures, told plainly

SPACE_ERRORS: dict[str, str] = {
    "missing_permissions": (
        "Lantern is missing **Manage Channels** (or **Manage Roles**, or can't see the pair "
        "category). Grant them to Lantern's role"
    ),
    "guild_full": (
        "The server has reached Discord's limit of 500 channels. Remove unused channels, or let "
        "Lantern use private threads with `/pairs settings use_threads:True thread_channel:#...`"
    ),
    "category_full": (
        "Every pair category is full (Discord allows 50 channels per category) and Lantern "
        "could not add another. Make room"
    ),
    "no_category": "No pair-spaces category is set or it was deleted. Run `/setup`",
    "member_missing": "One of the two members is no longer in the server; end the pair",
    "guild_unavailable": "Lantern can't reach this server right now; it will retry",
    "deleted": "The pair's space was deleted",
    "interrupted": "Lantern was interrupted while opening the space",
}


def space_error_help(error: str, pair_id: int) -> str:
    """What moderators should do about a pair space that could not be opened."""
    base = SPACE_ERRORS.get(error, f"Discord refused to create the space ({error})")
    return (
        f"⚠️ Lantern couldn't open the private space for pair **#{pair_id}**. {base}, then run "
        f"`/pairs recreate pair:{pair_id}`. Lantern also retries on its own; both members have "
        "been told their space is on its way."
    )


PENDING_TEXT = (
    "Good news: your mentorship match is confirmed! 🌱 Your private space is taking a little "
    "longer to open; the moderators have been told and Lantern will let you know when it's "
    "ready. There's nothing you need to do."
)


def rhythm_from(values: Mapping[str, Any] | None) -> Rhythm:
    """A server's rhythm from its saved settings (defaults for anything missing)."""
    if not values:
        return Rhythm()
    defaults = Rhythm()
    return Rhythm(
        first_checkin_days=int(values.get("first_checkin_days") or defaults.first_checkin_days),
        checkin_every_days=int(values.get("checkin_every_days") or defaults.checkin_every_days),
        silence_days=int(values.get("silence_days") or defaults.silence_days),
        silence_alert_after=int(values.get("silence_alert_after") or defaults.silence_alert_after),
        retention_days=int(values.get("retention_days") or defaults.retention_days),
        close_after_quiet_days=int(
            defaults.close_after_quiet_days
            if values.get("close_after_quiet_days") is None
            else values["close_after_quiet_days"]  # 0 is a choice: never close
        ),
    )


# ---------------------------------------------------------------- what people are told

NOT_HERE = (
    "Please use this inside your pair space, so Lantern knows which mentorship you mean. "
    "Nothing changed."
)
ALREADY_ENDED = "This mentorship has already ended, so nothing changed."
HAD_ENDED = "This mentorship had already ended, so nothing changed."
NOT_ACTIVE = "This mentorship isn't active anymore, so nothing changed."
CHECKIN_TEXT = (
    "🌱 **Check-in:** how is your mentorship going? Each of you can answer. Your answers stay "
    "with Lantern; moderators are told only if you ask for help."
)
CHECKIN_REPLIES = {
    "well": "Lovely to hear. Thank you for letting us know! 🌱",
    "notmet": (
        "Thanks for being honest: it happens. A short first call is enough; try "
        "suggesting two times that suit you, right here in your space."
    ),
    "help": (
        "Thank you for telling us. A moderator has been let know and will reach out to "
        "you privately. You can also use `/pair report` at any time."
    ),
}
ANYTIME_CHECKIN = "How is it going? Your answer helps Lantern look after you both."
ANYTIME_THANKS = "Thank you for letting us know. 🌱"
NUDGE_TEXT = (
    "👋 It's been a little quiet here. No pressure: even a short hello or a time that suits "
    "you this week keeps things going."
)
REMINDERS_PAUSED = "Check-ins and reminders are paused. Press the button again to resume them."
REMINDERS_ON = "Check-ins and reminders are back on."
DELETING_NOW = "Deleting this space now. Take care! 🌱"
DELETE_ONLY_ENDED = "This space can only be deleted after the mentorship has ended."
ENDED_BY_YOU = (
    "Your mentorship has ended. The space is now read-only for you both and will be deleted "
    "after the retention period (use **Delete this space now** to remove it sooner). Nothing "
    "was announced publicly. Thank you for taking part. 🌱"
)
ALREADY_REPORTED = (
    "You already reported this mentorship, and your report is saved for the moderators. "
    "Nothing more was sent."
)
NO_PAIRS = "No active pairs yet."


def checkin_text(mentee_id: int, mentor_id: int) -> str:
    """A due check-in, pinging the pair's two members."""
    return f"{user_mention(mentee_id)} {user_mention(mentor_id)} {CHECKIN_TEXT}"


def end_question(*, with_note: bool) -> str:
    """The private "are you sure?" before a member ends their mentorship."""
    return (
        "Do you want to end this mentorship? The space becomes read-only for you both and is "
        "deleted later. Nobody else is told except the moderators"
        + (" (who will see your note)" if with_note else "")
        + "."
    )


def closing_note(delete_on: datetime | None, *, quiet: bool = False) -> str:
    """Posted in a space when its mentorship ends (``quiet``: it closed after a long quiet)."""
    day = delete_on.strftime("%d %B %Y") if delete_on else "soon"
    why = (
        "It has been quiet here for a long while, so, as the earlier note said, Lantern has "
        "closed this mentorship. Nobody did anything wrong. "
        if quiet
        else ""
    )
    return (
        f"{why}This mentorship has ended, so this space is now read-only. It stays here for "
        f"you both to look back on until {day}, then Lantern deletes it. Either of you can "
        "delete it sooner. Thank you both. 🌱"
    )


def partner_ended_text(
    *,
    ended_by: str | None,
    server: str,
    mentor: bool,
    delete_on: datetime | None,
) -> str:
    """The private, kind word to a member whose mentorship someone else ended: their partner
    (named by ``ended_by``) or, with ``ended_by=None``, a moderator. Never the private note."""
    who = f"**{safe_inline(ended_by, limit=80)}**" if ended_by else "A moderator"
    partner = "" if ended_by else " with your partner"
    day = delete_on.strftime("%d %B %Y") if delete_on else "soon"
    return (
        f"{who} has ended your mentorship{partner} in **{safe_inline(server, limit=100)}**. "
        "Endings happen for many reasons, and this one isn't a judgement of you. Thank you for "
        "the time and care you gave. 🌱\n"
        f"Your pair space is now read-only; you can still look back on it until {day}, when "
        f"Lantern deletes it. {_what_next(mentor=mentor)}"
    )


def _what_next(*, mentor: bool) -> str:
    """After an ending: a mentor's place is free again; a mentee can ask for a new mentor."""
    return (
        "Your place as a mentor is open again for someone new."
        if mentor
        else "Whenever you're ready, Lantern can introduce you to a new mentor."
    )


def quiet_warning(
    mentee_id: int,
    mentor_id: int,
    *,
    quiet_since: datetime,
    closes_at: datetime,
    reminders_paused: bool,
) -> str:
    """Posted once in a quiet pair space, pinging both, a week before it closes."""
    paused = (
        "\nYou paused reminders here, and this isn't one: it's the only note Lantern sends "
        "before closing a quiet space."
        if reminders_paused
        else ""
    )
    return (
        f"{user_mention(mentee_id)} {user_mention(mentor_id)} 🍂 It has been quiet here since "
        f"{discord_date(quiet_since)}. This space will close on {discord_date(closes_at)} "
        "unless one of you writes here; writing anything (even a quick hello) keeps it open.\n"
        "If your mentorship has run its course, that's okay too: there's nothing you need to "
        "do. Endings happen for many reasons, and each of you will be asked privately how it "
        "went."
        f"{paused}"
    )


def quiet_ended_text(
    *, server: str, mentor: bool, quiet_since: datetime | None, delete_on: datetime | None
) -> str:
    """The private, kind word to each member when their quiet pair space closed."""
    since = f" since {discord_date(quiet_since)}" if quiet_since else ""
    day = delete_on.strftime("%d %B %Y") if delete_on else "soon"
    return (
        f"Your pair space in **{safe_inline(server, limit=100)}** had been quiet{since}, so "
        "Lantern has closed your mentorship there, as the note in the space said it would. "
        "Nobody did anything wrong: life gets busy, and that's okay. Thank you for the time "
        "you gave. 🌱\n"
        f"You can still read the space until {day}. {_what_next(mentor=mentor)}"
    )


def moderator_access_summary(
    *,
    see: bool,
    role: str | None,
    changed: int,
    failed: int,
    threads: int,
    old_role_removed: bool = False,
) -> str:
    """What changing "moderators see pair spaces" did to the spaces that already exist."""
    spaces = "pair space" if changed == 1 else "pair spaces"
    if role is None:
        text = (
            "No moderator role is set (or it no longer exists), so no pair space was opened to "
            "moderators. Choose one with `/setup moderator_role:`."
            if see
            else "No moderator role is set, so no pair space had moderator access to remove."
        )
    elif see:
        text = (
            f"The **{safe_inline(role, limit=80)}** role can now see {changed} existing {spaces}."
        )
    else:
        text = (
            f"The **{safe_inline(role, limit=80)}** role can no longer see {changed} existing "
            f"{spaces}; only the two members and Lantern can."
        )
    if changed and role is not None:
        text += " Each pair was told in its space."
    if old_role_removed:
        text += " The previous moderator role's access was removed."
    if threads:
        text += (
            f" {threads} private thread space{'s are' if threads != 1 else ' is'} unchanged: "
            "threads have no role overwrites (people with Manage Threads can always open them)."
        )
    if failed:
        text += (
            f" ⚠️ {failed} could not be changed: Lantern needs **Manage Roles** and access to "
            "the pair category. Fix that, then change the setting again."
        )
    return text


def moderator_access_note(*, see: bool, role: str, members: str = "the two of you") -> str:
    """Told in a pair (or circle) space when who can see it changes."""
    who = f"members of the **{safe_inline(role, limit=80)}** role"
    if see:
        return (
            f"🔒 **Who can see this channel has changed:** {who} can now see it too, because "
            "the server's moderators chose so. Lantern still doesn't read your messages."
        )
    return (
        f"🔒 **Who can see this channel has changed:** {who} can no longer see it. It is "
        f"visible only to {members}, Lantern, and the server's owner and administrators."
    )


def moderator_access_unchanged(*, see: bool) -> str:
    """The choice asked for was already the server's: nothing changed."""
    return (
        "Moderators could already see pair spaces, so nothing changed."
        if see
        else "Moderators already couldn't see pair spaces, so nothing changed."
    )


def moderator_access_progress(done: int, total: int) -> str:
    """Progress while moderator access changes on many existing pair spaces."""
    return f"Updating existing pair spaces… {done} of {total}"


# How an ending's cause reads in the moderators' alert (others show as their key).
ENDED_CAUSES = {
    "inactive": "its space was quiet too long: both were warned a week ahead and told kindly",
}


def ended_note(pair_id: int, cause: str, actor_id: int | None, reason: str | None) -> str:
    """What moderators are told when a pair ends for a reason they should know."""
    note = f"Pair **#{pair_id}** ended ({ENDED_CAUSES.get(cause, cause)})"
    if actor_id:
        note += f" by {user_mention(actor_id)}"
    if reason:
        note += f". Their private note:\n>>> {safe_block(reason, limit=500)}"
    return note


def help_alert(
    pair_id: int, mentee_id: int, mentor_id: int, asker_id: int, *, at_checkin: bool
) -> str:
    """A member asked for help (at a check-in or any time): who, never what was said."""
    where = " at their check-in" if at_checkin else ""
    return (
        f"🙋 Pair **#{pair_id}** ({user_mention(mentee_id)} and {user_mention(mentor_id)}) "
        f"asked for help{where}. Please reach out to {user_mention(asker_id)} privately."
    )


def silence_alert(pair_id: int, mentee_id: int, mentor_id: int, days: int, nudges: int) -> str:
    """A pair stayed quiet after every gentle nudge."""
    return (
        f"🔕 Pair **#{pair_id}** ({user_mention(mentee_id)} and {user_mention(mentor_id)}) has "
        f"been quiet for {days} days after {nudges} gentle nudges. A kind word from a moderator "
        "may help."
    )


def cap_warning(channels: int) -> str:
    """The server is close to Discord's channel limit."""
    return (
        f"ℹ️ This server has {channels} channels, close to Discord's limit of {GUILD_CAP}. New "
        "pair spaces can be private threads instead: "
        "`/pairs settings use_threads:True thread_channel:#a-private-channel`."
    )


def report_alert(
    pair_id: int,
    reporter_id: int,
    reported_id: int,
    reason: str,
    *,
    paused: bool,
    block: bool,
    pause_failed: bool = False,
) -> str:
    """A private report, for moderators only."""
    pause = "yes" if paused else "no"
    if pause_failed:
        pause = (
            "asked for, but not in place (Lantern may lack the permission to change who sees "
            "the space: please check)"
        )
    return (
        f"🚩 **Private report** about pair **#{pair_id}** from {user_mention(reporter_id)} "
        f"(about {user_mention(reported_id)}).\nContact paused: {pause} · "
        f"Block future pairing: {'yes' if block else 'no'}\n>>> {safe_block(reason)}\n"
        f"Use `/pairs resume pair:{pair_id}` or `/pairs end pair:{pair_id}`."
    )


@dataclass(frozen=True)
class Listed:
    """One pair as moderators see it: names and dates, never messages."""

    pair_id: int
    mentee: Safe  # display name (escaped); empty if they left
    mentor: Safe
    started: datetime
    last_activity: datetime | None
    state: str


def pairs_list_text(rows: Sequence[Listed], *, limit: int = 1900) -> str:
    """The moderators' list, cut at a line (``… (more not shown)``) to fit one message."""

    def name(value: Safe) -> str:
        return value or "(left)"

    lines = [
        f"**#{r.pair_id}** {name(r.mentee)} & {name(r.mentor)} · started "
        f"{r.started:%Y-%m-%d} · last activity "
        f"{r.last_activity.strftime('%Y-%m-%d') if r.last_activity else '—'} · {r.state}"
        for r in rows
    ]
    return fit_lines(lines, limit, more="… (more not shown)") if lines else NO_PAIRS


def threads_need_manage_threads(channel_id: int) -> str:
    """The warning when thread mode is on but Lantern could not delete threads at retention."""
    return (
        f"⚠️ Lantern can open pair threads in <#{channel_id}> but not delete them when a "
        "pair's retention period ends: Discord asks for **Manage Threads** for that. Grant "
        f"Lantern Manage Threads in <#{channel_id}> (Edit Channel > Permissions), or ended "
        "pairs' conversations will stay there."
    )


def settings_summary(rhythm: Rhythm, *, thread_channel_id: int | None) -> str:
    """The saved pair-space settings, in a sentence."""
    where = (
        f"private threads in <#{thread_channel_id}>"
        if thread_channel_id
        else "channels in the pair category"
    )
    closing = (
        f"quiet spaces close after {rhythm.close_after_quiet_days} days (warned a week ahead)"
        if rhythm.close_after_quiet_days
        else "quiet spaces never close"
    )
    return (
        f"Pair spaces: first check-in after {rhythm.first_checkin_days} days, then every "
        f"{rhythm.checkin_every_days}; a nudge after {rhythm.silence_days} quiet days; "
        f"{closing}; ended spaces kept {rhythm.retention_days} days; new spaces are {where}."
    )
