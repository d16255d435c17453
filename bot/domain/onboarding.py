"""What onboarding says: page cards, the profile summary, moderators' counts, the menu.

Every piece of member text is echoed through ``safe_inline``/``safe_block`` so nothing pings
anyone or breaks the layout; every message fits Discord's 2,000 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.questionnaire import Page, Questionnaire
from bot.domain.text import fit, safe_block, safe_inline

SMALL_GROUP = 5
DONE = "done"
CONSENT = "consent"


def welcome_text(guild_name: str) -> str:
    """The welcome DM a new member gets."""
    return fit(
        f"Welcome to **{safe_inline(guild_name, limit=100)}**! I'm Lantern, the community's "
        "mentorship helper. I can introduce you to a mentor or mentee and send you gentle "
        "reflection prompts.\n\nIt takes about five minutes, you can stop at any point and "
        "pick up later, and every personal question is optional. Press **Start** when you're "
        "ready."
    )


def fallback_text(member_mention: str) -> str:
    """The welcome posted in the welcome channel when a member's DMs are closed."""
    return (
        f"Welcome, {member_mention}! I tried to send you a private message but your DMs are "
        "closed. Whenever you're ready, type `/onboard` here: everything after that is visible "
        "only to you."
    )


def consent_card(q: Questionnaire) -> str:
    """The consent message (title, text and version)."""
    return fit(
        f"**{q.consent.title}**\n\n{q.consent.text}\n\n-# Consent text version {q.consent.version}"
    )


def page_card(q: Questionnaire, page: Page, role: str | None, *, notes: Iterable[str] = ()) -> str:
    """The message introducing a page: progress, title, intro, what Skip means."""
    lines = [f"**{q.progress(role, page.id)}: {page.title}**", page.intro]
    if page.skippable(role):
        lines.append("-# Everything on this page is optional: press **Skip** to move on.")
    extra = list(notes)
    if extra:
        lines.insert(0, "\n".join(extra) + "\n")
    return fit("\n".join(line for line in lines if line))


def _value_text(q: Questionnaire, question_id: str, value: Any) -> str:
    question = q.question(question_id)
    if question.kind == "details":
        labels = {o.value: o.label for opts in q.details.values() for o in opts}
        return ", ".join(labels.get(v, v) for v in value)
    if question.kind in ("multi", "ranked"):
        return ", ".join(question.option_label(str(v)) for v in value)
    if question.kind in ("choice", "number"):
        return question.option_label(str(value))
    if question.kind == "yesno":
        return "yes" if value else "no"
    if question.kind == "paragraph":
        return "\n> " + safe_block(str(value), limit=300).replace("\n", "\n> ")
    return safe_inline(str(value), limit=120)


def profile_summary(
    q: Questionnaire,
    answers: Mapping[str, Any],
    *,
    consent_status: str | None,
    completed: bool,
    guild_name: str,
) -> str:
    """The member's own profile, as they see it with /profile (always one message)."""
    role = answers.get("role")
    head = f"**Your Lantern profile in {safe_inline(guild_name, limit=80)}**"
    status = {
        "accepted": "you agreed to matching",
        "declined": "you chose not to be matched (community prompts only)",
        "withdrawn": "you withdrew consent, so you won't be matched",
    }.get(consent_status or "", "you haven't answered the consent question yet")
    lines = [head, f"-# Consent: {status}. " + ("Complete." if completed else "Not finished yet.")]
    for page in q.pages_for(role):
        parts = []
        for question in page.questions_for(role):
            value = answers.get(question.id)
            if value in (None, "", []):
                continue
            parts.append(f"- {question.label}: {_value_text(q, question.id, value)}")
        if parts:
            lines.append(f"__{page.title}__")
            lines.extend(parts)
    if len(lines) == 2:
        lines.append("You haven't answered any questions yet. `/onboard` starts or resumes.")
    return fit("\n".join(lines))


@dataclass(frozen=True)
class OnboardingCounts:
    """How many members started, completed and consented in one server."""

    started: int
    completed: int
    consented: int
    declined: int
    withdrawn: int


def _count(n: int) -> str:
    if 0 < n < SMALL_GROUP:
        return f"fewer than {SMALL_GROUP}"
    return str(n)


def counts_text(counts: OnboardingCounts) -> str:
    """Moderators' view: totals only, small groups suppressed, never an individual answer."""
    return (
        "**Onboarding in this server**\n"
        f"- Started: {_count(counts.started)}\n"
        f"- Completed: {_count(counts.completed)}\n"
        f"- Agreed to matching: {_count(counts.consented)}\n"
        f"- Chose community prompts only: {_count(counts.declined)}\n"
        f"- Withdrew consent: {_count(counts.withdrawn)}\n"
        f"-# Numbers between 1 and {SMALL_GROUP - 1} are hidden so nobody can be singled out. "
        "Lantern never shows moderators anyone's answers."
    )


MENU = (
    "Here's what you can say to me:\n"
    "- **help**: what I do\n"
    "- **my profile**: see your answers\n"
    "- **find me a mentor**: ask for a match\n"
    "- **pause prompts** / **resume prompts**: reflection prompts by DM\n"
    "- **start**: begin or continue your questions\n"
    "- **delete my data**: erase everything I hold about you\n"
    "In a server you can also use `/onboard`, `/profile` and `/mydata`."
)

HELP = (
    "I'm Lantern. I help this community find mentors and mentees, and I send gentle "
    "reflection prompts about identity, culture, confidence and more. Your answers are "
    "private: a match only sees what you choose to share, and moderators only see totals.\n\n"
    + MENU
)
