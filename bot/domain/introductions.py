"""Introductions and the waiting list, as pure decisions: wait estimates, reminders, wording."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median

from bot.domain.areas import area_label
from bot.domain.profile import Profile, shared_fields
from bot.domain.text import safe_block, safe_inline

DEFAULT_EXPIRY = timedelta(hours=72)


def expected_wait(position: int, recent_waits: Sequence[timedelta]) -> str:
    """A plain estimate of the wait for someone with ``position`` people ahead of them."""
    if not recent_waits:
        return "we'll let you know as soon as a mentor is free"
    typical = median(w.total_seconds() for w in recent_waits) * (1 + position * 0.25)
    days = typical / 86400
    if days < 1:
        return "usually less than a day"
    if days < 7:
        return f"usually about {round(days)} day{'s' if round(days) != 1 else ''}"
    weeks = round(days / 7)
    return f"usually about {weeks} week{'s' if weeks != 1 else ''}"


def reminder_due(created_at: datetime, expires_at: datetime, now: datetime) -> bool:
    """Whether an introduction has reached the halfway point of its time to answer."""
    return now >= created_at + (expires_at - created_at) / 2 and now < expires_at


def format_hours(delta: timedelta) -> str:
    """'3 days', '5 hours' or 'less than an hour'."""
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "less than an hour"


def intro_card(
    mentee_name: str,
    mentee: Profile,
    reasons: Sequence[str],
    *,
    expires_in: timedelta,
) -> str:
    """The introduction a mentor reads: who, what they hope for, why Lantern thinks it fits."""
    lines = [
        f"**{safe_inline(mentee_name, limit=80)} would like a mentor, and Lantern thinks you "
        "could be a great fit.**",
    ]
    if mentee.areas_wanted:
        lines.append(
            "They're looking for: " + ", ".join(area_label(a) for a in mentee.areas_wanted)
        )
    if reasons:
        lines.append("\n**Why you two**")
        lines.extend(f"- {safe_inline(r, limit=200)}" for r in reasons)
    shared = shared_fields(mentee)
    if shared:
        lines.append("\n**What they chose to share**")
        lines.extend(f"- {label}: {safe_block(value, limit=400)}" for label, value in shared)
    lines.append(
        f"\nPlease answer within {format_hours(expires_in)}. If you decline, they are simply "
        "introduced to someone else — they won't be told who said no."
    )
    return "\n".join(lines)[:2000]
