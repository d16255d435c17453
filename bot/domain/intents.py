"""Understanding plain words sent to Lantern in a direct message.

Members can write "help", "my profile", "find me a mentor", "pause prompts" or "delete my
data" (and close variants); anything else gets a short menu. Negated requests ("don't delete
my data") are never acted on.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    """What a member asked for."""

    HELP = "help"
    PROFILE = "profile"
    MATCH = "match"
    PAUSE_PROMPTS = "pause_prompts"
    RESUME_PROMPTS = "resume_prompts"
    DELETE = "delete"
    START = "start"
    UNKNOWN = "unknown"


# Checked in order: the first intent with a matching pattern wins.
_PATTERNS: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (
        Intent.DELETE,
        (
            r"\b(delete|erase|remove|wipe|purge)\b.*"
            r"\b(my )?(data|profile|account|info|everything|answers)\b",
            r"\bdelete me\b",
            r"\bforget (about )?me\b",
            r"\bright to be forgotten\b",
        ),
    ),
    (
        Intent.RESUME_PROMPTS,
        (
            r"\b(resume|unpause|restart|turn on|start|continue)\b.*\bprompts?\b",
            r"\bprompts? (back )?on\b",
            r"\bsend (me )?prompts?\b",
        ),
    ),
    (
        Intent.PAUSE_PROMPTS,
        (
            r"\b(pause|stop|mute|silence|turn off|no more|unsubscribe|disable|hold)\b.*"
            r"\b(prompts?|reflections?|messages|dms?)\b",
            r"\bprompts? off\b",
            r"^(pause|unsubscribe|mute|stop)$",
            r"\btoo many (prompts?|messages)\b",
        ),
    ),
    (
        Intent.MATCH,
        (
            r"\b(find|get|want|need|looking for|request|match)\b.*\bmentors?\b",
            r"\bmatch me\b",
            r"^match( me)?$",
            r"\bmentor please\b",
            r"\bfind (me )?a match\b",
        ),
    ),
    (
        Intent.PROFILE,
        (
            r"\b(my|show|see|view)\b.*\bprofile\b",
            r"^profile$",
            r"\bwhat do you (know|have) (about|on) me\b",
            r"\bmy answers\b",
        ),
    ),
    (
        Intent.START,
        (
            r"^(start|begin|onboard|onboarding|continue|resume|sign me up|sign up|join"
            r"|get started|let'?s go)$",
            r"\b(start|continue|finish|resume) (the )?(questionnaire|onboarding|questions)\b",
            r"\bsign me up\b",
        ),
    ),
    (
        Intent.HELP,
        (
            r"^(help|\?+|menu|commands|options|hi|hello|hey)$",
            r"\bhelp\b",
            r"\bwhat can (you|i) do\b",
            r"\bhow does (this|it|lantern) work\b",
        ),
    ),
)

_NEGATION = re.compile(r"\b(don'?t|do not|dont|never|not now|no need to)\b")


def normalise(text: str) -> str:
    """Lower-case, unify apostrophes, drop punctuation except '?' and collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    text = re.sub(r"[^\w\s'?]", " ", text)
    return " ".join(text.split())


def parse_intent(text: str) -> Intent:
    """The intent of a DM, or ``UNKNOWN`` (which gets the menu)."""
    words = normalise(text)
    if not words or len(words) > 200:
        return Intent.UNKNOWN
    if _NEGATION.search(words):
        return Intent.UNKNOWN
    for intent, patterns in _PATTERNS:
        if any(re.search(p, words) for p in patterns):
            return intent
    return Intent.UNKNOWN


# Intents that act on one server's data, so a member in several servers is asked which one.
# "pause prompts" is not among them: it pauses prompts in every server at once.
NEEDS_SERVER = frozenset({Intent.PROFILE, Intent.MATCH, Intent.RESUME_PROMPTS, Intent.START})
