"""What onboarding says: page cards, the profile summary, moderators' counts, the menu.

Every piece of member text is echoed through ``safe_inline``/``safe_block`` so nothing pings
anyone or breaks the layout; every message fits Discord's 2,000 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.questionnaire import Page, Questionnaire
from bot.domain.text import fit, safe_block, safe_inline

SMALL_GROUP = 5
DONE = "done"
CONSENT = "consent"


def is_forward(order: Sequence[str], current: str | None, candidate: str) -> bool:
    """Whether ``candidate`` lies after ``current`` in the pages' ``order`` (``done`` last):
    progress only moves forward."""
    if current is None or current not in order:
        return True
    if candidate not in order:
        return False
    return order.index(candidate) > order.index(current)


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


def band(n: int) -> str:
    """A total as moderators see it: 0, "fewer than 5", or a band of 5 ("10-14").

    Hiding only the small totals is not enough: 12 started and 9 agreed gives away the 3 who
    declined. Showing every total as a band keeps such differences from recovering a hidden
    one (tests/unit/test_onboarding.py checks every small world)."""
    if n == 0:
        return "0"
    if n < SMALL_GROUP:
        return f"fewer than {SMALL_GROUP}"
    low = n - n % SMALL_GROUP
    return f"{low}-{low + SMALL_GROUP - 1}"


def counts_text(counts: OnboardingCounts) -> str:
    """Moderators' view: totals only, small groups suppressed, never an individual answer."""
    return (
        "**Onboarding in this server**\n"
        f"- Started: {band(counts.started)}\n"
        f"- Completed: {band(counts.completed)}\n"
        f"- Agreed to matching: {band(counts.consented)}\n"
        f"- Chose community prompts only: {band(counts.declined)}\n"
        f"- Withdrew consent: {band(counts.withdrawn)}\n"
        f"-# Totals are shown in bands of {SMALL_GROUP} and those between 1 and "
        f"{SMALL_GROUP - 1} are hidden, so nobody can be singled out, even by subtracting one "
        "total from another. Lantern never shows moderators anyone's answers."
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


# --- the questionnaire conversation ----------------------------------------------------------

NOT_IN_SERVER = "You're no longer in that server, so there's nothing to fill in there."
DECLINED_NOTE = "You chose community prompts only. If you've changed your mind:\n\n"
CONSENT_DECLINED = (
    "No problem: you won't be matched, and Lantern won't ask you anything more. "
    "Would you still like the community's reflection prompts by DM?"
)
DECLINED_WITH_ANSWERS = (
    "No problem: you won't be matched. You've already answered some questions here. "
    "Should I erase those answers, or keep them in case you change your mind? "
    "(`/profile` shows them either way until you choose.)"
)
ANSWERS_ERASED = "Done: I erased the answers you'd given here."
ANSWERS_KEPT = "Okay, I kept your answers. `/profile` shows them, and `/onboard` picks up again."
DECLINE_CHANGED = (
    "You've agreed to matching since, so nothing was erased. `/profile` shows your answers."
)
PROMPTS_QUESTION = "Would you still like the community's reflection prompts by DM?"
CARD_EXPIRED = "This card has expired, so nothing changed. Here is the current one:"
FORM_EXPIRED = (
    "This form was open too long or Lantern restarted, so it expired and nothing in it was "
    "saved. Everything you saved before is kept: press **Continue** below to pick up again."
)
SAVE_FAILED = (
    "I couldn't save that page: Lantern's database is temporarily unavailable. Nothing you "
    "typed is lost: press **Retry** to save it again (in a minute is best)."
)
PICK_PAGE = "Which answers would you like to change?"
BACK_TO_WHERE_YOU_WERE = "Saved. Back to where you were:"
CONSENT_ALREADY_COMPLETE = "Thank you! Your profile is complete; `/profile` shows it."
LETS_BEGIN = "Thank you! Let's begin."
PAGE_CHANGED = "That part of the questions has changed. Run `/onboard` to carry on."
NEEDS_CONSENT = "Lantern needs your consent before it keeps any answers. Run `/onboard` to see it."
PAGE_EXPIRED = "That has expired. Run `/onboard` to carry on where you were."
NOT_SKIPPABLE = "This page has a question that needs an answer, so it can't be skipped."
NO_EARLIER_PAGE = "There's no earlier page. Run `/onboard` to carry on."
SKIPPED = "Skipped."
EDIT_NEEDS_PAGE = "Saved. One more page needs an answer for your new role:"
EDIT_SAVED = "Saved. `/profile` shows your updated answers."
PROMPTS_CHOSEN = (
    "Lovely: you'll get community reflection prompts by DM. Say **pause prompts** to me any time."
)
PROMPTS_REFUSED = "Okay, no prompts by DM. You can change your mind with **resume prompts**."
NO_PROFILE = (
    "You don't have a profile here yet. `/onboard` starts one (it begins by explaining what "
    "Lantern keeps and why)."
)


def finished_here(guild_name: str) -> str:
    """What Start or /onboard says once the member has finished in this server."""
    return (
        f"You've finished onboarding in **{safe_inline(guild_name, limit=100)}**. "
        "`/profile` shows your answers and lets you change any of them."
    )


def rejected_text(errors: Iterable[str]) -> str:
    """A page that could not be saved: every problem, and that nothing saved was lost."""
    return fit(
        "I couldn't save that page yet, and nothing you saved before has changed:\n"
        + "\n".join(f"- {e}" for e in errors)
        + "\n\nPress **Try again**: the form keeps what you typed."
    )


def timezone_note(zone: str, local: str, *, editing: bool) -> str:
    """Confirms the time zone a member gave (with its local time) so a wrong guess shows."""
    if editing:
        return f"Your time zone is now **{zone}** (it's {local} there now)."
    return (
        f"I've set your time zone to **{zone}** (it's {local} there now). "
        "If that's not right, press **Back** and change it."
    )


def finished_text(notes: Iterable[str], *, prompts_dm: bool) -> str:
    """The end of the questionnaire."""
    prompts = (
        "You'll get reflection prompts by DM (say **pause prompts** to me any time)."
        if prompts_dm
        else "You won't get prompts by DM; you can change that in `/profile`."
    )
    return fit(
        "\n".join(
            [
                *notes,
                "**All done, thank you!** Your profile is saved.",
                prompts,
                "`/profile` shows your answers and lets you change any of them; "
                "`/mydata` lets you download or delete them.",
            ]
        )
    )


# --- plain words in DMs ----------------------------------------------------------------------

NO_SHARED_SERVER = "I can't find a server we share any more, so there's nothing to look up."
WHICH_SERVER = "We share more than one server. Which one is this about?"
NOT_UNDERSTOOD = "I'm not sure I understood that, but I'm happy to help.\n" + MENU
NOTHING_TO_PAUSE = (
    "You aren't receiving prompts by DM anywhere right now, so nothing changed. "
    "Say **resume prompts** whenever you'd like them."
)


def paused_text(guild_names: Iterable[str]) -> str:
    """'pause prompts': which servers were paused, and how to resume one."""
    names = [f"**{safe_inline(n, limit=100)}**" for n in guild_names]
    where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return fit(
        f"Prompts paused in {where}. Say **resume prompts** whenever you'd like them again "
        "(I'll ask which server if there's more than one)."
    )


def resumed_text(guild_name: str) -> str:
    """'resume prompts' in one server."""
    return (
        f"Prompts are back on in **{safe_inline(guild_name, limit=100)}**: you'll get the next "
        "one by DM."
    )


# --- member data -----------------------------------------------------------------------------

DELETE_QUESTION = (
    "**Delete everything Lantern holds about you?**\n"
    "This erases your answers, your consent record, your prompt settings, your reports and "
    "blocks and anything else you said or chose, in every server; any pair you're in ends "
    "kindly first. What others recorded about you (their blocks and reports, moderators' "
    "records) stays, without your id. It can't be undone. (`/mydata export` first if you'd "
    "like a copy.)"
)
DELETED = (
    "Done: everything you said and chose in Lantern is deleted. If you ever want to take part "
    "again, `/onboard` starts fresh."
)
KEPT = "Nothing was deleted. Your data stays as it is."
NOTHING_TO_WITHDRAW = (
    "You haven't agreed to matching here, so there's nothing to withdraw. "
    "`/mydata delete` erases anything Lantern holds about you."
)
WITHDRAWN = (
    "Consent withdrawn: Lantern won't match you with anyone in this server. Your "
    "answers are still stored; would you like them deleted too?\n\n" + DELETE_QUESTION
)
EXPORTED = (
    "Here is everything of yours that Lantern holds. Where a record involves someone else, "
    "only your side is included: other people's ids, words and choices, and notes for "
    "moderators, are left out because they are other people's data (the file lists what)."
)
EXPORTED_NOTHING = "Lantern holds nothing about you right now; the file says so."
