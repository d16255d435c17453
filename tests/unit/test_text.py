"""Echoing member text: no pings, no markdown breakage, no bidi or zalgo tricks."""

from __future__ import annotations

import pytest

from bot.domain.text import (
    EmbedText,
    clean_input,
    defuse_mentions,
    fit,
    fit_embeds,
    fit_lines,
    fit_words,
    plain_inline,
    quoted,
    safe_block,
    safe_inline,
    unescape,
)


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


def test_fit_trims_with_an_ellipsis_within_the_limit() -> None:
    assert fit("short") == "short"
    assert fit("x" * 2001) == "x" * 1999 + "…" and len(fit("x" * 5000)) == 2000
    assert fit("abc", 1) == "a" and fit("abc", 0) == ""


def test_fit_words_and_fit_lines_cut_at_a_boundary() -> None:
    assert fit_words("one two three", 9) == "one two…"
    lines = [f"line {i}" for i in range(1000)]
    text = fit_lines(lines, 100, more="… (more)")
    assert len(text) <= 100 and text.endswith("\n… (more)") and text.startswith("line 0\n")
    assert all(line.startswith("line ") for line in text.splitlines()[:-1])


def test_every_embed_part_fits_discords_limits() -> None:
    huge = EmbedText(
        title="t" * 300,
        description="d" * 5000,
        fields=tuple((f"n{i}" * 200, "v" * 2000) for i in range(30)),
        footer="f" * 3000,
    )
    (one,) = fit_embeds([huge])
    assert len(one.title) == 256 and one.title.endswith("…")
    assert len(one.footer) == 2048 and len(one.description) <= 4096
    assert len(one.fields) <= 25
    assert all(len(n) <= 256 and len(v) <= 1024 for n, v in one.fields)
    assert one.size() <= 6000


def test_several_embeds_share_one_messages_6000() -> None:
    card = EmbedText(title="Mentee", fields=tuple(("About", "a" * 1024) for _ in range(5)))
    fitted = fit_embeds([card, card])
    assert sum(e.size() for e in fitted) <= 6000
    assert fitted[1].title == "Mentee" and fitted[0].fields == card.fields
    assert all(v for _, v in fitted[1].fields)  # a field that does not fit is left out whole


def test_empty_fields_get_a_dash_and_small_embeds_are_untouched() -> None:
    (one,) = fit_embeds([EmbedText(title="Hi", fields=(("Label", ""), ("", "value")))])
    assert one == EmbedText(title="Hi", fields=(("Label", "—"), ("—", "value")))


def test_names_and_quotes_are_escaped_and_thread_names_are_plain() -> None:
    assert quoted("[a](http://x)\n@here") == "“\\[a\\]\\(http://x\\) @\u200bhere”"
    assert unescape(safe_inline("a_b (c)")) == "a_b (c)"
    assert plain_inline("a\nb " + "c" * 200, limit=10) == "a b ccccc…"
