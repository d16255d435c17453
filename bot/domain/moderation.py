"""Reports and calls for help as moderators work them, per-member cooldowns, and what members
and moderators are told when the alerts channel does not work. Pure words and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.text import safe_block, user_mention

# --- cooldowns ------------------------------------------------------------------------------

COOLDOWNS: dict[str, timedelta] = {
    "report": timedelta(minutes=1),
    "help": timedelta(minutes=10),
    "match_request": timedelta(minutes=1),
    "suggestion": timedelta(minutes=5),
}
OWNER_WARNING_EVERY = timedelta(hours=24)  # a broken alerts channel is told the owner daily
ALERT_RETRY = timedelta(minutes=2)  # an undelivered alert is retried by the sweep after this


def in_words(delta: timedelta) -> str:
    """A wait as a person says it: "in 40 seconds", "in 3 minutes", "in about 5 hours"."""
    seconds = max(1, int(delta.total_seconds() + 0.999))
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"in about {hours} hour{'s' if hours != 1 else ''}"


def cooldown_text(action: str, retry_at: datetime, now: datetime) -> str:
    """The kind refusal for a member who did ``action`` a moment ago: when to try again."""
    when = in_words(retry_at - now)
    if action == "report":
        return (
            "You sent a report a moment ago. So that every report gets a moderator's full "
            f"attention, Lantern takes one a minute: please try again {when}. If you feel unsafe "
            "right now, contact a moderator directly. Nothing was sent this time."
        )
    if action == "help":
        return (
            "Your call for help from a moment ago is already saved for the moderators, so "
            f"nothing more was sent. You can ask again {when}. If something happened that they "
            "should know, `/pair report` tells them privately."
        )
    if action == "match_request":
        return (
            "You asked for a mentor a moment ago and Lantern is on it. You can ask again "
            f"{when}; `/match status` shows where you stand."
        )
    return (
        "Thank you for the ideas! Lantern takes one suggestion every few minutes: please send "
        f"this one {when}. It wasn't sent, so keep a copy of your text."
    )


def reports_held(retry_at: datetime, now: datetime) -> str:
    """A member reached the daily number of reports."""
    return (
        "You've sent several reports today, so Lantern is holding this one. You can send "
        f"another {in_words(retry_at - now)}. If you feel unsafe, contact a moderator "
        "directly. Your words weren't stored."
    )


# --- what members are told ------------------------------------------------------------------

SAVED_NOT_DELIVERED = (
    "It is saved, and the moderators will see it as soon as their alerts channel works again: "
    "Lantern keeps trying."
)


def report_thanks(*, delivered: bool, paused: bool, pause_failed: bool, block: bool) -> str:
    """What the reporter is told: only what really happened."""
    parts = [
        "Thank you. Your report went privately to the moderators."
        if delivered
        else "Thank you. Your report couldn't reach the moderators yet. " + SAVED_NOT_DELIVERED
    ]
    if paused:
        parts.append("The other person can't see your space until a moderator acts.")
    if pause_failed:
        parts.append(
            "Lantern couldn't pause contact: it lacks the permission to change who sees your "
            "space, so the other person can still see it. The moderators "
            + ("are told." if delivered else "will see this in your report.")
        )
    if block:
        parts.append("Lantern will never pair you with them again.")
    return " ".join(parts)


def help_thanks(*, delivered: bool) -> str:
    """What a member who pressed "We need help" is told."""
    if delivered:
        return (
            "Thank you for telling us. A moderator has your call for help and will reach out "
            "to you privately. You can also use `/pair report` at any time."
        )
    return (
        "Thank you for telling us. Your call for help couldn't reach the moderators yet. "
        + SAVED_NOT_DELIVERED
        + " You can also use `/pair report` at any time."
    )


def acknowledged_text(kind: str, pair_id: int) -> str:
    """The private word to the reporter (or the member who asked for help)."""
    what = "your report" if kind == "report" else "your call for help"
    return (
        f"A moderator has seen {what} about your mentorship (pair #{pair_id}) and is on it. "
        "They will reach out to you privately. 🌱"
    )


# --- what moderators are told ---------------------------------------------------------------

ALERT_PROBLEMS = {
    "no_channel": "no alerts channel is set",
    "unknown_channel": "the alerts channel no longer exists",
    "missing_access": "Lantern can't see the alerts channel",
    "missing_permissions": "Lantern can't post in the alerts channel",
}


def alert_problem(reason: str) -> str:
    """Why an alert could not reach the moderators, in a few words."""
    return ALERT_PROBLEMS.get(reason, f"Discord refused the alert ({reason})")


def owner_warning(guild_name: str, reason: str, waiting: int) -> str:
    """The DM to a server's owner when no alerts channel works."""
    items = f"{waiting} report{'s' if waiting != 1 else ''} or call{'s' if waiting != 1 else ''}"
    return (
        f"⚠️ Lantern can't reach the moderators of **{guild_name}**: {alert_problem(reason)}. "
        f"{items} for help {'is' if waiting == 1 else 'are'} waiting, saved. Please run "
        "`/setup alerts_channel:` with a private channel Lantern can post in; everything "
        "waiting is delivered as soon as it works."
    )


def setup_alerts_warning(reason: str, waiting: int) -> str:
    """The line /setup adds when the alerts channel does not work."""
    extra = f" {waiting} saved report(s) or call(s) for help are waiting." if waiting else ""
    return (
        f"⚠️ Alerts can't reach you: {alert_problem(reason)}. Reports and calls for help are "
        "saved and delivered once Lantern can post there: pick a channel with "
        f"`alerts_channel`, and let Lantern see it and send messages there.{extra}"
    )


def setup_alerts_delivered(count: int) -> str:
    """/setup delivered alerts that were waiting."""
    return (
        f"📬 {count} saved report(s) or call(s) for help were just delivered to the alerts channel."
    )


@dataclass(frozen=True)
class Case:
    """One open report or call for help, as the moderators' queue shows it."""

    kind: str  # "report" | "help"
    case_id: int
    pair_id: int
    person_id: int  # the reporter, or the member who asked for help
    other_id: int | None  # the reported member (reports only)
    status: str
    created_at: datetime
    delivered: bool
    reason: str | None = None  # a report's private text: moderators only


def age(created_at: datetime, now: datetime) -> str:
    """How long ago, briefly: "5 min ago", "3 h ago", "2 days ago"."""
    minutes = max(0, int((now - created_at).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def case_card(case: Case, now: datetime) -> str:
    """One entry of /reports (moderators only, so the report's words are shown)."""
    status = "🟡 open" if case.status == "open" else "🔵 acknowledged"
    late = "" if case.delivered else " · ⚠️ never reached the alerts channel"
    if case.kind == "report":
        head = (
            f"🚩 **Report #{case.case_id}** · pair **#{case.pair_id}** · "
            f"{age(case.created_at, now)} · {status}{late}\nFrom {user_mention(case.person_id)}"
            f" about {user_mention(case.other_id or 0)}"
        )
        return f"{head}\n>>> {safe_block(case.reason or '', limit=1200)}"
    return (
        f"🙋 **Call for help #{case.case_id}** · pair **#{case.pair_id}** · "
        f"{age(case.created_at, now)} · {status}{late}\nFrom {user_mention(case.person_id)}"
    )


NO_CASES = "No open reports or calls for help. 🌱"


def queue_header(shown: int, total: int) -> str:
    """The first line of /reports."""
    more = f" (the {shown} newest shown)" if total > shown else ""
    return f"**{total} open report(s) and call(s) for help**, newest first{more}."


def case_done(kind: str, case_id: int, action: str, *, changed: bool, told: bool = True) -> str:
    """What the moderator who pressed Acknowledge or Resolve is told."""
    what = f"Report #{case_id}" if kind == "report" else f"Call for help #{case_id}"
    if action == "ack":
        if not changed:
            return f"{what} was already acknowledged or resolved. Nothing changed."
        if told:
            return (
                f"{what} is acknowledged; the member was told privately that a moderator is on it."
            )
        return (
            f"{what} is acknowledged, but Lantern couldn't tell the member (their DMs are "
            "closed): please reach out to them another way."
        )
    return f"{what} is resolved." if changed else f"{what} was already resolved. Nothing changed."
