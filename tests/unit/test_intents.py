"""Plain words in DMs: what members mean."""

from __future__ import annotations

import pytest

from bot.domain.intents import NEEDS_SERVER, Intent, parse_intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("help", Intent.HELP),
        ("Help!", Intent.HELP),
        ("?", Intent.HELP),
        ("what can you do", Intent.HELP),
        ("hi", Intent.HELP),
        ("my profile", Intent.PROFILE),
        ("Show me my profile please", Intent.PROFILE),
        ("profile", Intent.PROFILE),
        ("what do you know about me?", Intent.PROFILE),
        ("find me a mentor", Intent.MATCH),
        ("Find a mentor", Intent.MATCH),
        ("I'd like to get a mentor", Intent.MATCH),
        ("can you help me find a mentor", Intent.MATCH),
        ("match me", Intent.MATCH),
        ("pause prompts", Intent.PAUSE_PROMPTS),
        ("please stop the prompts", Intent.PAUSE_PROMPTS),
        ("pause", Intent.PAUSE_PROMPTS),
        ("no more reflections", Intent.PAUSE_PROMPTS),
        ("unsubscribe", Intent.PAUSE_PROMPTS),
        ("resume prompts", Intent.RESUME_PROMPTS),
        ("turn on prompts", Intent.RESUME_PROMPTS),
        ("delete my data", Intent.DELETE),
        ("Please DELETE all my data.", Intent.DELETE),
        ("erase my profile", Intent.DELETE),
        ("forget me", Intent.DELETE),
        ("delete me", Intent.DELETE),
        ("start", Intent.START),
        ("continue the questionnaire", Intent.START),
        ("don't delete my data", Intent.UNKNOWN),
        ("do not pause prompts", Intent.UNKNOWN),
        ("the weather is nice", Intent.UNKNOWN),
        ("", Intent.UNKNOWN),
        ("🙂", Intent.UNKNOWN),
    ],
)
def test_parse_intent(text: str, intent: Intent) -> None:
    assert parse_intent(text) is intent


@pytest.mark.parametrize(
    ("intent", "needs_server"),
    [
        (Intent.PROFILE, True),
        (Intent.MATCH, True),
        (Intent.RESUME_PROMPTS, True),
        (Intent.START, True),
        (Intent.PAUSE_PROMPTS, False),  # pauses every server at once
        (Intent.DELETE, False),  # erases everywhere
        (Intent.HELP, False),
        (Intent.UNKNOWN, False),
    ],
)
def test_which_intents_ask_for_a_server(intent: Intent, needs_server: bool) -> None:
    assert (intent in NEEDS_SERVER) is needs_server
