"""End-of-mentorship feedback: the three questions, what a member's card shows at each step,
and the words around it. Pure: the service decides from a row's state which card to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.components import Button, Reply, feedback_buttons

OPEN_FOR = timedelta(days=30)  # a card left unanswered this long closes
MAX_WORDS = 500
SKIPPED_HELPFUL = 0
RECOMMEND = {"yes": "Yes", "unsure": "Not sure", "no": "No"}
SKIPPED = "skip"

# The causes after which the member who caused the ending is not asked: they erased their
# data (a member who erased is never asked), or they left the server.
NOT_ASKED_AFTER = ("data_deleted", "member_left")

PRIVACY = (
    "Your answers are private: your partner never sees them, and moderators only see totals "
    "once at least five people have answered, never who said what."
)
HELPFUL_QUESTION = (
    "**1 of 3 · How helpful was this mentorship for you?**\n"
    "1 = not helpful at all, 5 = very helpful. Every question can be skipped."
)
RECOMMEND_QUESTION = "**2 of 3 · Would you recommend mentoring here to a friend?**"
WORDS_QUESTION = (
    "**3 of 3 · Anything you'd like the moderators to know?** (optional)\n"
    "You choose: words moderators may read (shown without your name, and only once at least "
    "five people have answered), or words kept just for you (only `/mydata export` shows them)."
)
THANKS = "Thank you for sharing. It helps the moderators make mentoring here better. 🌱"
CLOSED = (
    "This feedback card has closed (it was answered, or it was a while ago), so nothing "
    "changed. Thank you for being part of mentoring here. 🌱"
)
ALREADY = "You had already answered that one, so nothing changed."
NOT_YOURS = "This card was sent to someone else, so nothing changed."
WORDS_SAVED_SHARED = (
    "Thank you: your words are saved. Moderators may read them without your name, once at "
    "least five people have answered. 🌱"
)
WORDS_SAVED_KEPT = (
    "Thank you: your words are saved just for you. Moderators won't see them; "
    "`/mydata export` shows them, and `/mydata delete` erases them. 🌱"
)
WORDS_EMPTY = "There were no words to save, so nothing changed. The card is still open."


def ask_text(server: str) -> str:
    """The first card, sent by DM when a mentorship ended."""
    return (
        f"Your mentorship in **{server}** has ended. Would you tell us how it went? Three short "
        f"questions, a minute at most.\n{PRIVACY}\n\n{HELPFUL_QUESTION}"
    )


@dataclass(frozen=True)
class CardState:
    """What one feedback row says about where its card stands."""

    feedback_id: int
    helpful: int | None
    recommend: str | None
    open: bool
    asked_at: datetime


def is_open(state: CardState, now: datetime) -> bool:
    """Whether the card still takes answers."""
    return state.open and now - state.asked_at < OPEN_FOR


def step_of(state: CardState) -> str:
    """The question the card is on: ``helpful``, ``recommend`` or ``words``."""
    if state.helpful is None:
        return "helpful"
    if state.recommend is None:
        return "recommend"
    return "words"


def card(state: CardState, now: datetime, *, server: str = "") -> Reply:
    """The card as it should look now: the next question and its buttons, or closed."""
    if not is_open(state, now):
        return Reply(CLOSED)
    step = step_of(state)
    buttons: tuple[Button, ...] = feedback_buttons(state.feedback_id, step)
    if step == "helpful":
        return Reply(ask_text(server) if server else HELPFUL_QUESTION, buttons)
    if step == "recommend":
        return Reply(RECOMMEND_QUESTION, buttons)
    return Reply(WORDS_QUESTION, buttons)


def valid_answer(step: str, value: str) -> bool:
    """Whether ``value`` answers ``step`` (a custom id is data anyone could forge)."""
    if step == "helpful":
        return value == SKIPPED or value in {"1", "2", "3", "4", "5"}
    if step == "recommend":
        return value == SKIPPED or value in RECOMMEND
    return step == "finish" and value == "done"
