"""Introductions and the waiting list, as pure decisions: wait estimates, reminders, wording.

Every sentence matching says to a member or a moderator lives here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from bot.domain.areas import area_label
from bot.domain.matching import RoundPhase
from bot.domain.profile import Profile, shared_fields
from bot.domain.text import Safe, fit, safe_block, safe_inline

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
    mentee_name: Safe,
    mentee: Profile,
    reasons: Sequence[str],
    *,
    expires_in: timedelta,
) -> str:
    """The introduction a mentor reads: who, what they hope for, why Lantern thinks it fits."""
    lines = [
        f"**{mentee_name} would like a mentor, and Lantern thinks you could be a great fit.**",
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
    return fit("\n".join(lines))


def discord_date(moment: datetime) -> str:
    """A date every reader sees in their own time zone (Discord's ``<t:…:D>`` markup)."""
    return f"<t:{int(moment.timestamp())}:D>"


def user_ping(user_id: int) -> str:
    """The mention of one member (pings them only where the message allows it)."""
    return f"<@{user_id}>"


# --- what members read ----------------------------------------------------------------------

NOT_READY = (
    "Lantern can look for a mentor once you've finished onboarding and agreed to matching. "
    "Run `/onboard` to pick up where you left off."
)
MENTOR_ONLY = (
    "Your profile says you're here to mentor, so there's nothing to request. "
    "If you'd also like a mentor, change your role with `/profile`."
)
ALREADY_MATCHED = "You already have a mentor. `/match status` shows your pair."
NOT_ASKED = "You haven't asked for a mentor yet. Use `/match request` when you're ready."
NOT_A_MENTOR = (
    "You're not set up as a mentor yet. Run `/onboard` and choose "
    "“offering mentorship” to become one."
)
NOT_A_MENTOR_YET = "You're not set up as a mentor yet. Run `/onboard` first."
PAUSED = (
    "You're paused: no new introductions until you run `/mentor resume`. Your current "
    "pairs carry on as before."
)
RESUMED = "Welcome back! You'll get introductions again when someone fits."
CANCELLED = "You're off the waiting list. Use `/match request` whenever you'd like to look again."
NOT_WAITING = "You're not on the waiting list, so nothing changed."
CANT_BLOCK_SELF = "You can't block yourself, so nothing changed."
WITHDRAWN_CARD = "This introduction was withdrawn. Nothing else to do."
EXPIRED_CARD = "⌛ This introduction expired and was passed on. No worries."
EXPIRED_ON_ACCEPT = (
    "This introduction has expired, so the mentee is being introduced to someone "
    "else. Thank you for looking!"
)
FULL_ON_ACCEPT = (
    "You're already mentoring as many people as your capacity allows, so nothing "
    "changed. Raise it with `/mentor capacity`, or decline this one."
)
NEW_MENTOR_OFFER = (
    "Whenever you're ready, Lantern can introduce you to a new mentor — just press "
    "the button below. There's no rush."
)
DECLINED_BY_MENTOR = "The mentor we introduced you to can't take anyone on right now"
NOT_ANSWERED = "Your mentor introduction wasn't answered in time"
UNAVAILABLE_AFTER_ALL = "The mentor we introduced you to isn't available after all"
UNAVAILABLE = "The mentor we introduced you to isn't available"
MEMBER_LEFT = (
    "This member is no longer in the server, so the introduction was withdrawn. Nothing else to do."
)
YOU_LEFT = (
    "You're no longer in that server, so Lantern can't look for a mentor for you there. "
    "If you rejoin, you can ask again."
)


def already_asked(status: str) -> str:
    """A second request (a double click, or words and a command together) changes nothing."""
    return f"Lantern already has your request, so nothing changed. {status}"


def mentor_unreachable(mentor_name: str) -> str:
    """The alert when no introduction card can reach a mentor."""
    return (
        f"⚠️ Lantern couldn't deliver an introduction to mentor **{mentor_name}**: their DMs "
        "are closed and the card couldn't be posted in a private thread either (is an "
        "introductions channel set in `/setup`, and can Lantern create private threads "
        "there?). Their introductions are paused so mentees aren't kept waiting; the mentee "
        "was offered another mentor. Once they can be reached, they can run `/mentor resume`."
    )


def already_decided(status: str) -> str:
    """Why a second click on an introduction changed nothing."""
    return {
        "accepted": "This introduction was already accepted, so nothing changed.",
        "declined": "This introduction was already declined, so nothing changed.",
        "expired": "This introduction expired and was passed on, so nothing changed.",
    }.get(status, "This introduction is no longer open, so nothing changed.")


def mentee_told_introduced(expiry: timedelta) -> str:
    """The mentee's DM when an introduction is sent."""
    return (
        "Good news: Lantern has introduced you to a mentor who offers what you're looking "
        f"for. They have {format_hours(expiry)} to answer, and I'll tell you as soon as "
        "they do. `/match status` shows where things stand."
    )


def closed_dms_card(mentor_id: int, card: str) -> str:
    """The introduction posted in a private thread because the mentor's DMs are closed."""
    return (
        f"{user_ping(mentor_id)} — your DMs are closed, so here is your introduction. "
        "Only you and the moderators can see this thread.\n\n" + card
    )


def accepted_card(mentee_name: Safe) -> str:
    """What the mentor's card says once they accepted."""
    return f"✅ You accepted. Lantern is opening a private space for you and {mentee_name}."


def accepted_dm(mentor_name: Safe) -> str:
    """The mentee's DM when the mentor accepted."""
    return (
        f"🎉 {mentor_name} accepted! Lantern is opening a private space just for the two "
        "of you, and will mention you both there as soon as it's ready. If it takes longer, "
        "I'll tell you here."
    )


def declined_card(pause: bool) -> str:
    """What the mentor's card says once they declined."""
    note = (
        "Thanks for letting us know. You're paused, so Lantern won't send you new "
        "introductions until you run `/mentor resume`."
        if pause
        else "Thanks for letting us know — they'll be introduced to someone else."
    )
    return "You declined. " + note


def reminder(mentee_name: Safe, left: timedelta) -> str:
    """The mentor's halfway reminder."""
    return (
        f"A gentle reminder: {mentee_name} is waiting to "
        f"hear from you. The introduction expires in {format_hours(left)}."
    )


def rolled_on(why: str, introduced: bool, status: str = "") -> str:
    """The mentee's DM after an introduction ended without a pair."""
    if introduced:
        return f"{why}, so Lantern has introduced you to another mentor."
    return f"{why}, so you're back on the waiting list. {status}"


def keep_looking(why: str) -> str:
    """A moderator's introduction did not work out: the mentee chooses whether to go on."""
    return (
        f"{why}. Would you like Lantern to keep looking for a mentor for you? Press the button "
        "below if so; otherwise there's nothing you need to do."
    )


def matched_since(mentor_name: Safe, since: datetime) -> str:
    """Status: the member has a mentor."""
    return f"You're matched with {mentor_name} since {discord_date(since)}."


def waiting_for_answer(left: timedelta, *, by_hand: bool = False) -> str:
    """Status: an introduction is waiting for the mentor's answer."""
    after = (
        "If they can't, I'll ask whether you'd like me to keep looking."
        if by_hand
        else "If they can't, you'll be introduced to someone else."
    )
    return (
        "You've been introduced to a mentor and are waiting for their answer "
        f"(they have {format_hours(left)} left). {after}"
    )


def waiting_position(position: int, estimate: str, *, rounds_only: bool) -> str:
    """Status: on the waiting list."""
    if rounds_only:
        return (
            f"You're on the waiting list, number {position}. This server's moderators "
            "introduce people in rounds, so that everyone gets the best possible fit; "
            "I'll message you as soon as you're introduced."
        )
    return (
        f"You're on the waiting list, number {position}. No mentor with free time matches "
        f"what you're looking for right now; {estimate}. "
        "I'll message you the moment that changes."
    )


def blocked(name: Safe, *, new: bool, paired: bool) -> str:
    """The private answer to ``/match block``."""
    text = (
        f"Done. Lantern will never match you with {name}, and they are not told."
        if new
        else f"You had already blocked {name}, so nothing changed."
    )
    if paired:
        text += (
            " You're paired with them right now: `/pair end` ends it privately, and "
            "`/pair report` reaches the moderators."
        )
    return text


def capacity_set(mentees: int, active: int) -> str:
    """The answer to ``/mentor capacity``."""
    extra = (
        f" You currently have {active}, so no new introductions until one ends."
        if active >= mentees
        else ""
    )
    return f"Your capacity is now {mentees} mentee{'s' if mentees != 1 else ''}.{extra}"


# --- why an introduction cannot be made -----------------------------------------------------


class Skip(StrEnum):
    """Why ``introduce`` refused: re-checked for every request, round and manual introduction."""

    SELF = "self"
    MENTEE_NOT_READY = "mentee_not_ready"
    MENTEE_PAIRED = "mentee_paired"
    MENTEE_NOT_WAITING = "mentee_not_waiting"
    MENTOR_NOT_READY = "mentor_not_ready"
    MENTOR_PAUSED = "mentor_paused"
    MENTOR_FULL = "mentor_full"
    BLOCKED = "blocked"
    INTRODUCED_BEFORE = "introduced_before"
    MENTEE_LEFT = "mentee_left"
    MENTOR_LEFT = "mentor_left"
    MENTOR_UNREACHABLE = "mentor_unreachable"


MENTEE_SIDE = frozenset(
    {
        Skip.SELF,
        Skip.MENTEE_NOT_READY,
        Skip.MENTEE_PAIRED,
        Skip.MENTEE_NOT_WAITING,
        Skip.MENTEE_LEFT,
    }
)

_SKIP_REASONS = {
    Skip.SELF: "a member can't mentor themselves",
    Skip.MENTEE_NOT_READY: "withdrew consent or their profile since the preview",
    Skip.MENTEE_PAIRED: "found a mentor since the preview",
    Skip.MENTEE_NOT_WAITING: "left the waiting list since the preview",
    Skip.MENTOR_NOT_READY: "the mentor withdrew consent or their profile since the preview",
    Skip.MENTOR_PAUSED: "the mentor paused since the preview",
    Skip.MENTOR_FULL: "the mentor's places filled since the preview",
    Skip.BLOCKED: "one of them blocked the other since the preview",
    Skip.INTRODUCED_BEFORE: "they were introduced since the preview",
    Skip.MENTEE_LEFT: "left the server since the preview",
    Skip.MENTOR_LEFT: "the mentor left the server since the preview",
    Skip.MENTOR_UNREACHABLE: (
        "the mentor couldn't be reached (DMs closed, no private thread); they were paused "
        "and the alerts channel was told"
    ),
}


def skip_reason(skip: Skip) -> str:
    """Why a round left one introduction out (things changed since the preview), for the
    moderator's confirmation."""
    return _SKIP_REASONS[skip]


def manual_refusal(skip: Skip, mentee_name: Safe, mentor_name: Safe) -> str:
    """Why a moderator's manual introduction was refused, so nothing changed."""
    if skip is Skip.SELF:
        return "A member can't mentor themselves, so nothing changed."
    if skip is Skip.MENTEE_NOT_READY:
        return (
            f"{mentee_name} hasn't finished onboarding as a mentee with consent "
            "to matching, so they can't be introduced yet."
        )
    if skip is Skip.MENTEE_PAIRED:
        return f"{mentee_name} already has a mentor."
    if skip in (Skip.MENTEE_LEFT, Skip.MENTOR_LEFT):
        who = mentee_name if skip is Skip.MENTEE_LEFT else mentor_name
        return f"{who} is no longer in the server, so nothing changed."
    if skip is Skip.MENTOR_UNREACHABLE:
        return (
            f"Lantern couldn't deliver the introduction to {mentor_name} (DMs closed and no "
            "private thread possible), so it was withdrawn and they were paused; the alerts "
            "channel has the details."
        )
    if skip is Skip.MENTEE_NOT_WAITING:
        return (
            f"{mentee_name} is already waiting on an introduction; wait for that "
            "mentor's answer first."
        )
    if skip in (Skip.MENTOR_NOT_READY, Skip.MENTOR_PAUSED, Skip.MENTOR_FULL):
        return (
            f"{mentor_name} isn't available: they need a finished mentor profile "
            "with consent, free capacity, and not be paused."
        )
    return (
        "These two can't be introduced: one blocked the other, or this introduction "
        "was already made before."
    )


# --- what moderators read -------------------------------------------------------------------

NOBODY_WAITING = "Nobody is waiting for a mentor right now."
ROUNDS_MODE = (
    "Requests now wait for your batch rounds: run `/matching round` to preview and send "
    "the best set of introductions for everyone waiting."
)
INSTANT_MODE = "Requests are now introduced at once, to the best available mentor."


def round_preview(
    introductions: int,
    scores: Sequence[float],
    unmatched: Sequence[tuple[Safe, str]],
    more: int,
) -> str:
    """The preview of a batch round; nothing is sent yet. Counts, scores and generic reasons
    only: never a member's areas or answers beside their name."""
    lines = [
        f"**Matching round preview** — {introductions} introduction"
        f"{'s' if introductions != 1 else ''}",
    ]
    if scores:
        lines.append(
            f"Compatibility: average {sum(scores) / len(scores):.0f}/100, "
            f"lowest {min(scores):.0f}, highest {max(scores):.0f}"
        )
    if unmatched:
        lines.append(f"\n**Staying on the waiting list ({len(unmatched) + more})**")
        lines.extend(f"- {name}: {why}" for name, why in unmatched)
        if more:
            lines.append(f"- …and {more} more")
    lines.append("\nNothing is sent until you press **Send introductions**.")
    return fit("\n".join(lines))


SKIPPED_SHOWN = 15


def round_sent(sent: int, skipped: Sequence[tuple[Safe, str]]) -> str:
    """The confirmation of a published round, with what it skipped and why."""
    text = (
        f"Done: {sent} introduction{'s' if sent != 1 else ''} sent. "
        "Each mentee has been told, and each mentor has the card to accept or decline."
    )
    if skipped:
        lines = [f"\n\n**Skipped {len(skipped)}** (things changed since the preview):"]
        lines.extend(f"- {name}: {why}" for name, why in skipped[:SKIPPED_SHOWN])
        if len(skipped) > SKIPPED_SHOWN:
            lines.append(f"- …and {len(skipped) - SKIPPED_SHOWN} more")
        text += "\n".join(lines)
    return fit(text)


ROUND_PHASES = {
    RoundPhase.WAITING: "waiting for the matching worker to start, or to finish another round",
    RoundPhase.READING: "reading the profiles of everyone waiting and every free mentor",
    RoundPhase.SCORING: "scoring every possible pair",
    RoundPhase.SOLVING: "finding the best set of introductions",
    RoundPhase.PROVING: "checking that no other set of introductions is better",
    RoundPhase.REASONS: "writing why each pair fits",
}
ROUND_ALREADY_RUNNING = (
    "A matching round for this server is already being worked out (perhaps by another "
    "moderator), so this one didn't start. Its preview goes to whoever started it; once it's "
    "there, you can run `/matching round` again to see who is still waiting."
)
ROUND_FAILED = (
    "Sorry — Lantern couldn't finish working out this round: the matching worker stopped "
    "before it was done. Nothing was sent and nothing changed. Please run `/matching round` "
    "again; if it keeps happening, tell whoever runs Lantern (the bot's log says more)."
)


def round_working(phase: RoundPhase, elapsed_s: float) -> str:
    """The round's progress, edited in place until its preview replaces it."""
    what = ROUND_PHASES[phase]
    step = f"Step {phase.value} of {len(ROUND_PHASES) - 1}: {what}" if phase else what.capitalize()
    return (
        f"**Working out a matching round…** ({elapsed_s:.0f} s so far)\n"
        f"{step}.\n"
        "Large rounds take up to a minute; the preview will appear right here, and nothing is "
        "sent until you confirm it."
    )


ROUND_WAITING = (
    "Another round is being sent in this server right now. Yours starts as soon as it "
    "finishes; anyone it introduces is skipped here and listed at the end."
)


def round_progress(done: int, total: int) -> str:
    """Progress while a round's introductions are sent."""
    return f"Sending introductions… {done} of {total}"


def manual_done(mentee_name: Safe, mentor_name: Safe, score: float, expiry: timedelta) -> str:
    """The answer to ``/matching manual``."""
    return (
        f"Introduced {mentee_name} to {mentor_name} "
        f"(compatibility {score:.0f}/100). {mentor_name} has "
        f"{format_hours(expiry)} to answer."
    )


def queue_list(waiting: Sequence[tuple[Safe, timedelta]], total: int) -> str:
    """``/matching queue``: who waits and for how long."""
    if not total:
        return NOBODY_WAITING
    lines = [f"**Waiting for a mentor ({total})**"]
    lines.extend(
        f"{index}. {name} — {format_hours(waited)}"
        for index, (name, waited) in enumerate(waiting, start=1)
    )
    if total > len(waiting):
        lines.append(f"…and {total - len(waiting)} more")
    return fit("\n".join(lines))


def weights_table(weights: Mapping[str, float], expiry: timedelta, *, updated: bool) -> str:
    """``/matching weights``: the server's weights and expiry."""
    lines = ["**Matching weights for this server**" + (" (updated)" if updated else "")]
    lines += [f"- {name}: {value:g}" for name, value in weights.items()]
    lines.append(f"- introductions expire after: {format_hours(expiry)}")
    return "\n".join(lines)


def bad_weights(problems: Sequence[str]) -> str:
    """Weights that cannot be used."""
    return "Those weights can't be used, so nothing changed: " + "; ".join(problems) + "."
