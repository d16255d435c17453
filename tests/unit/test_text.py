"""Echoing member text: no pings, no markdown breakage, no bidi or zalgo tricks."""

from __future__ import annotations

import pytest

from bot.domain.text import clean_input, defuse_mentions, safe_block, safe_inline


@pytest.mark.parametrize(
    ("raw", "must_not_contain"),
    [
        ("@everyone hello", "@everyone"),
        ("hi @here", "@here"),
        ("<@&123456789012345678> join", "<@&123456789012345678>"),
        ("<@123456789012345678>", "<@123456789012345678>"),
        ("<#123456789012345678>", "<#123456789012345678>"),
    ],
)
def test_mentions_are_made_inert(raw: str, must_not_contain: str) -> None:
    assert must_not_contain not in safe_inline(raw)
    assert must_not_contain not in defuse_mentions(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("**bold** _it_", "\\*\\*bold\\*\\* \\_it\\_"),
        ("line\nbreak", "line break"),
        ("abc\u202edef", "abcdef"),
        ("  spaced  ", "spaced"),
        ("# heading", "\\# heading"),
    ],
)
def test_inline_text_is_escaped_and_one_line(raw: str, expected: str) -> None:
    assert safe_inline(raw) == expected


def test_zalgo_is_trimmed_to_two_marks() -> None:
    zalgo = "e" + "\u0301" * 30
    assert clean_input(zalgo) in {"e\u0301\u0301", "é\u0301"}


def test_long_text_is_bounded() -> None:
    assert len(safe_inline("x" * 5000, limit=100)) == 100
    assert len(safe_block("y\n" * 5000, limit=50)) <= 50


def test_block_keeps_paragraphs() -> None:
    assert safe_block("one\n\n two ") == "one\ntwo"
