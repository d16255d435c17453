"""Every persistent component Lantern sends, as data: custom-id templates, labels and styles.

A ``Button`` spec says what a button looks like and which custom id it carries; the gateway
renders specs (``bot.gateway.components.view_of``) and routes clicks back to one registered
``PersistentButton`` per template. Services return specs, so they never touch Discord.
Custom ids are namespaced (``lantern:<feature>:<action>:<id>``) and at most 100 characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.domain.text import fit

CUSTOM_ID_PREFIX = "lantern:"
MODAL_PREFIX = "lantern:modal:"
MAX_CUSTOM_ID = 100
EXPIRED_CARD = "This card has expired, so nothing changed. Here is the current one:"
FORM_LATE = (
    "This is taking a little longer than usual. Press **Open** in a moment: nothing you've "
    "done is lost."
)
FORM_STILL_LATE = "Still getting it ready. Press **Open** again in a few seconds."
EXPIRED_FORM = (
    "This form was open too long or Lantern restarted, so it expired and nothing in it was "
    "saved. Here is where things stand now:"
)

Style = Literal["primary", "secondary", "success", "danger"]


def custom_id(*parts: object) -> str:
    """A namespaced custom id, refusing anything over Discord's 100-character limit."""
    value = CUSTOM_ID_PREFIX + ":".join(str(p) for p in parts)
    if len(value) > MAX_CUSTOM_ID:
        raise ValueError(f"custom id longer than {MAX_CUSTOM_ID} characters: {fit(value, 40)}")
    return value


@dataclass(frozen=True)
class Button:
    """One button: its custom id (which carries its state), label and style."""

    custom_id: str
    label: str
    style: Style = "secondary"
    disabled: bool = False


@dataclass(frozen=True)
class Reply:
    """A message for a person: its text and the persistent buttons under it."""

    text: str
    buttons: tuple[Button, ...] = ()


def _one_of(choices: Iterable[str]) -> str:
    """A template's alternation of ``choices``, so each choice is written only in its table."""
    return "|".join(choices)


# --- matching -------------------------------------------------------------------------------

_INTRO_LABELS: dict[str, tuple[str, Style]] = {
    "accept": ("Accept", "success"),
    "decline": ("Decline", "secondary"),
    "decline-pause": ("Decline and pause me", "secondary"),
}

INTRO = rf"lantern:match:(?P<action>{_one_of(_INTRO_LABELS)}):(?P<id>\d+)"
REQUEST = r"lantern:match:request:(?P<guild>\d+)"


def intro_buttons(intro_id: int) -> tuple[Button, ...]:
    """Accept, Decline and Decline-and-pause on an introduction card."""
    return tuple(
        Button(custom_id("match", action, intro_id), label, style)
        for action, (label, style) in _INTRO_LABELS.items()
    )


def request_button(guild_id: int, label: str = "Find me a mentor") -> Button:
    """Ask for a mentor in ``guild_id`` (acts for whoever clicks)."""
    return Button(custom_id("match", "request", guild_id), label, "primary")


# --- onboarding -----------------------------------------------------------------------------

START = r"lantern:onb:start:(?P<guild>\d+)"
CONSENT = r"lantern:onb:consent:(?P<guild>\d+):(?P<choice>yes|no)"

_PAGE_LABELS = {"answer": "Continue", "skip": "Skip", "back": "Back"}

PAGE = rf"lantern:onb:(?P<action>{_one_of(_PAGE_LABELS)}):(?P<guild>\d+):(?P<page>\w+)"
PROMPTS_CHOICE = r"lantern:onb:prompts:(?P<guild>\d+):(?P<choice>on|off)"
_DECLINED_LABELS: dict[str, tuple[str, Style]] = {
    "erase": ("Erase my answers", "danger"),
    "keep": ("Keep my answers", "secondary"),
}
DECLINED_ANSWERS = rf"lantern:onb:declined:(?P<guild>\d+):(?P<choice>{_one_of(_DECLINED_LABELS)})"
PROFILE_EDIT = r"lantern:onb:edit:(?P<guild>\d+)"


def start_button(guild_id: int) -> Button:
    """The welcome's Start: shows consent, or resumes where the member stopped."""
    return Button(custom_id("onb", "start", guild_id), "Start", "primary")


def consent_buttons(guild_id: int) -> tuple[Button, ...]:
    """I agree / No thanks on the consent card."""
    return (
        Button(custom_id("onb", "consent", guild_id, "yes"), "I agree", "success"),
        Button(custom_id("onb", "consent", guild_id, "no"), "No thanks", "secondary"),
    )


def page_button(action: str, guild_id: int, page_id: str) -> Button:
    """Continue (open the page's form), Skip (optional pages) or Back on a page card."""
    style: Style = "primary" if action == "answer" else "secondary"
    return Button(custom_id("onb", action, guild_id, page_id), _PAGE_LABELS[action], style)


def prompts_choice_buttons(guild_id: int) -> tuple[Button, ...]:
    """For members who declined matching: community prompts by DM, or not."""
    return (
        Button(custom_id("onb", "prompts", guild_id, "on"), "Send me prompts", "primary"),
        Button(custom_id("onb", "prompts", guild_id, "off"), "No prompts", "secondary"),
    )


def declined_answers_buttons(guild_id: int) -> tuple[Button, ...]:
    """After "No thanks" with answers already given: erase them, or keep them."""
    return tuple(
        Button(custom_id("onb", "declined", guild_id, choice), label, style)
        for choice, (label, style) in _DECLINED_LABELS.items()
    )


def profile_edit_button(guild_id: int) -> Button:
    """Under the profile (/profile and "my profile" alike): pick a page to change."""
    return Button(custom_id("onb", "edit", guild_id), "Change an answer", "primary")


# --- pairs ----------------------------------------------------------------------------------

_PAIR_ACTIONS: dict[str, tuple[str, Style]] = {
    "checkin": ("How it's going", "primary"),
    "pause": ("Pause reminders", "secondary"),
    "end": ("End mentorship", "danger"),
    "delete": ("Delete this space now", "danger"),
}
CHECKIN_ANSWERS = {
    "well": "Going well",
    "notmet": "We haven't met yet",
    "help": "We need help",
}

PAIR_ACTION = rf"lantern:pairs:(?P<action>{_one_of(_PAIR_ACTIONS)}):(?P<pair_id>\d+)"
CHECKIN_ANSWER = rf"lantern:pairs:answer:(?P<checkin_id>\d+):(?P<answer>{_one_of(CHECKIN_ANSWERS)})"


def pair_button(action: str, pair_id: int) -> Button:
    """One of a pair space's buttons: check-in, pause reminders, end, delete now."""
    label, style = _PAIR_ACTIONS[action]
    return Button(custom_id("pairs", action, pair_id), label, style)


def opening_buttons(pair_id: int) -> tuple[Button, ...]:
    """The buttons under a pair space's opening message."""
    return tuple(pair_button(action, pair_id) for action in ("checkin", "pause", "end"))


def checkin_buttons(checkin_id: int) -> tuple[Button, ...]:
    """The three answers of a check-in."""
    return tuple(
        Button(
            custom_id("pairs", "answer", checkin_id, answer),
            label,
            "success" if answer == "well" else "secondary",
        )
        for answer, label in CHECKIN_ANSWERS.items()
    )


_CASE_ACTIONS: dict[str, tuple[str, Style]] = {
    "ack": ("Acknowledge", "primary"),
    "resolve": ("Resolve", "success"),
}
CASE = rf"lantern:case:(?P<action>{_one_of(_CASE_ACTIONS)}):(?P<kind>report|help):(?P<id>\d+)"


def case_buttons(kind: str, case_id: int) -> tuple[Button, ...]:
    """Acknowledge and Resolve on a report or call for help (moderators only)."""
    return tuple(
        Button(custom_id("case", action, kind, case_id), label, style)
        for action, (label, style) in _CASE_ACTIONS.items()
    )


# --- prompts and reflections ----------------------------------------------------------------

REFLECT = r"lantern:prompts:reflect:(?P<id>\d+)"
SHARE = r"lantern:reflections:share:(?P<where>pair|thread):(?P<id>\d+)"
SUGGESTION = r"lantern:prompts:suggestion:(?P<action>approve|decline):(?P<id>\d+)"


def reflect_button(delivery_id: int) -> Button:
    """Opens a private reflection form for the prompt one delivery carried."""
    return Button(custom_id("prompts", "reflect", delivery_id), "Reflect", "primary")


def share_button(where: str, reflection_id: int, label: str | None = None) -> Button:
    """Lets the author share an excerpt (to their pair space or the prompt's thread)."""
    if label is None:
        label = "Share an excerpt with my pair" if where == "pair" else "Post to the prompt thread"
    return Button(custom_id("reflections", "share", where, reflection_id), label)


def suggestion_buttons(suggestion_id: int) -> tuple[Button, ...]:
    """Approve or decline a member's suggested prompt."""
    return (
        Button(custom_id("prompts", "suggestion", "approve", suggestion_id), "Approve", "success"),
        Button(custom_id("prompts", "suggestion", "decline", suggestion_id), "Decline"),
    )


# --- member data ----------------------------------------------------------------------------

ERASE = r"lantern:mydata:erase:(?P<user>\d+):(?P<choice>yes|no)"


def erase_buttons(user_id: int) -> tuple[Button, ...]:
    """Yes-erase / keep on the "delete my data" question; they survive a restart.

    Erasing acts in every server, so the id carries the member (only they may press it),
    not a server.
    """
    return (
        Button(custom_id("mydata", "erase", user_id, "yes"), "Yes, delete everything", "danger"),
        Button(custom_id("mydata", "erase", user_id, "no"), "Keep my data"),
    )


# --- end-of-mentorship feedback -------------------------------------------------------------

_FEEDBACK_STEPS: dict[str, tuple[tuple[str, str, Style], ...]] = {
    "helpful": (
        *((str(n), str(n), "primary") for n in range(1, 6)),
        ("skip", "Skip", "secondary"),
    ),
    "recommend": (
        ("yes", "Yes", "success"),
        ("unsure", "Not sure", "secondary"),
        ("no", "No", "secondary"),
        ("skip", "Skip", "secondary"),
    ),
    "words": (
        ("share", "Add words moderators may read", "primary"),
        ("keep", "Add words kept just for me", "secondary"),
    ),
    "finish": (("done", "Finish", "success"),),
}
_FEEDBACK_VALUES = sorted({value for step in _FEEDBACK_STEPS.values() for value, *_ in step})
FEEDBACK = (
    rf"lantern:feedback:(?P<step>{_one_of(_FEEDBACK_STEPS)}):(?P<id>\d+)"
    rf":(?P<value>{_one_of(_FEEDBACK_VALUES)})"
)


def feedback_buttons(feedback_id: int, step: str) -> tuple[Button, ...]:
    """The answers of one feedback question (the words step also offers Finish)."""
    steps = (step, "finish") if step == "words" else (step,)
    return tuple(
        Button(custom_id("feedback", name, feedback_id, value), label, style)
        for name in steps
        for value, label, style in _FEEDBACK_STEPS[name]
    )


TEMPLATES: tuple[str, ...] = (
    INTRO,
    REQUEST,
    START,
    CONSENT,
    PAGE,
    PROMPTS_CHOICE,
    DECLINED_ANSWERS,
    PROFILE_EDIT,
    PAIR_ACTION,
    CHECKIN_ANSWER,
    CASE,
    REFLECT,
    SHARE,
    SUGGESTION,
    ERASE,
    FEEDBACK,
)
