"""Making member and moderator text safe to echo: no pings, no layout breaks, no bidi tricks."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional controls and invisible formatting characters that can reorder or hide text.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200d\u2060\ufeff]")
_MARKDOWN = re.compile(r"([\\*_`~|>\[\]()#-])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MAX_COMBINING_RUN = 2
MAX_MESSAGE = 2000


def strip_controls(text: str) -> str:
    """Remove bidi controls, invisible formatters and stacks of combining marks (zalgo)."""
    text = _BIDI.sub("", text)
    out: list[str] = []
    run = 0
    for ch in text:
        if unicodedata.combining(ch):
            run += 1
            if run > _MAX_COMBINING_RUN:
                continue
        else:
            run = 0
        if unicodedata.category(ch) == "Cc" and ch not in "\n\t":
            continue
        out.append(ch)
    return "".join(out)


def clean_input(text: str) -> str:
    """Normalise what a person typed before it is validated and stored."""
    return unicodedata.normalize("NFC", strip_controls(text)).strip()


def defuse_mentions(text: str) -> str:
    """Make @everyone, @here and <@id>/<@&id>/<#id> inert even if allowed mentions were lost."""
    text = _MASS_MENTION.sub(lambda m: "@\u200b" + m.group(1), text)
    return _MENTION.sub(lambda m: "<" + m.group(1) + "\u200b" + m.group(2) + ">", text)


def safe_inline(text: str, *, limit: int = 300) -> str:
    """Member text ready to echo inside a message: one line, escaped, inert, bounded."""
    text = " ".join(strip_controls(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return defuse_mentions(_MARKDOWN.sub(r"\\\1", text))


def safe_block(text: str, *, limit: int = 1000) -> str:
    """Multi-line member text ready to echo: escaped and inert, paragraphs kept, bounded."""
    lines = [" ".join(line.split()) for line in strip_controls(text).splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return defuse_mentions(_MARKDOWN.sub(r"\\\1", text))


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """Trim ``text`` to one Discord message (the one place Lantern trims a message)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def user_mention(user_id: int) -> str:
    """A mention of one person (it pings only if the message allows that person)."""
    return f"<@{user_id}>"
