"""Making member and moderator text safe to echo: no pings, no layout breaks, no bidi tricks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NewType

# Bidirectional controls and invisible formatting characters that can reorder or hide text.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200d\u2060\ufeff]")
_MARKDOWN = re.compile(r"([\\*_`~|>\[\]()#-])")
_ESCAPED = re.compile(r"\\([\\*_`~|>\[\]()#-])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MAX_COMBINING_RUN = 2
MAX_MESSAGE = 2000
ELLIPSIS = "…"

Safe = NewType("Safe", str)
"""Text already safe to embed in a message: escaped, inert, bounded (``safe_inline`` made it).

Display names reach the domain as ``Safe`` (``Messenger.name`` escapes them), so a sentence
that takes a name cannot be handed a raw one without mypy noticing."""


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


def safe_inline(text: str, *, limit: int = 300) -> Safe:
    """Member text ready to echo inside a message: one line, escaped, inert, bounded."""
    text = fit(" ".join(strip_controls(text).split()), limit)
    return Safe(defuse_mentions(_MARKDOWN.sub(r"\\\1", text)))


def safe_block(text: str, *, limit: int = 1000) -> Safe:
    """Multi-line member text ready to echo: escaped and inert, paragraphs kept, bounded."""
    lines = [" ".join(line.split()) for line in strip_controls(text).splitlines()]
    text = fit("\n".join(line for line in lines if line), limit)
    return Safe(defuse_mentions(_MARKDOWN.sub(r"\\\1", text)))


def quoted(text: str, *, limit: int = 60) -> Safe:
    """What a person typed, echoed back in a refusal: “escaped, one line, bounded”."""
    return Safe(f"“{safe_inline(text, limit=limit)}”")


def unescape(text: str) -> str:
    """Text ``safe_inline``/``safe_block`` escaped, with the escapes taken out again (for a
    place Discord shows literally, such as a thread name)."""
    return _ESCAPED.sub(r"\1", text)


def plain_inline(text: str, *, limit: int = 100) -> str:
    """Member text for a place Discord shows literally (a thread or channel name, a select
    label): one line, no controls, bounded; nothing to escape since nothing is rendered."""
    return fit(" ".join(strip_controls(text).split()), limit)


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """Trim ``text`` to ``limit`` characters with "…" (the one place Lantern trims text)."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1].rstrip()
    if (len(cut) - len(cut.rstrip("\\"))) % 2:  # a lone backslash would escape the "…"
        cut = cut[:-1]
    return cut + ELLIPSIS


def fit_words(text: str, limit: int) -> str:
    """Trim ``text`` at a word boundary to at most ``limit`` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]  # the last word was cut: drop it
    return cut.rstrip() + ELLIPSIS


def fit_lines(lines: Sequence[str], limit: int = MAX_MESSAGE, *, more: str = "…") -> str:
    """Whole lines joined while they fit in ``limit``; ``more`` on its own line if some were
    left out (a list cut at a line rather than mid-name)."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    used = len(more)
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return fit("\n".join([*kept, more]), limit)


# ------------------------------------------------------------------------ Discord's embeds

EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000  # every title, description, field and footer of one message together
_EMPTY_FIELD = "—"


@dataclass(frozen=True)
class EmbedText:
    """The text of one embed, before it is fitted to Discord's limits."""

    title: str = ""
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""

    def size(self) -> int:
        """Characters Discord counts towards the 6,000 of a message."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + sum(len(name) + len(value) for name, value in self.fields)
        )


def fit_embeds(embeds: Sequence[EmbedText], total: int = EMBED_TOTAL) -> list[EmbedText]:
    """The embeds of one message within every Discord limit, trimmed with "…".

    Each part is fitted to its own limit; then, in order (titles, footers, descriptions,
    fields), each takes what is left of the message's ``total``. A field that no longer fits
    with a few characters of its value is left out with every one after it.
    """
    left = total
    fitted: list[EmbedText] = []
    for embed in embeds:
        title = fit(embed.title, min(EMBED_TITLE, max(left, 0)))
        left -= len(title)
        footer = fit(embed.footer, min(EMBED_FOOTER, max(left, 0)))
        left -= len(footer)
        description = fit(embed.description, min(EMBED_DESCRIPTION, max(left, 0)))
        left -= len(description)
        fields: list[tuple[str, str]] = []
        for name, value in embed.fields[:EMBED_FIELDS]:
            name = fit(name.strip() or _EMPTY_FIELD, EMBED_FIELD_NAME)
            room = min(EMBED_FIELD_VALUE, left - len(name))
            if room < min(len(value.strip() or _EMPTY_FIELD), 20):
                left = 0
                break
            value = fit(value.strip() or _EMPTY_FIELD, room)
            fields.append((name, value))
            left -= len(name) + len(value)
        fitted.append(EmbedText(title, description, tuple(fields), footer))
    return fitted


def fit_embed(embed: EmbedText) -> EmbedText:
    """One embed alone in its message, within Discord's limits."""
    return fit_embeds([embed])[0]


def user_mention(user_id: int) -> str:
    """A mention of one person (it pings only if the message allows that person)."""
    return f"<@{user_id}>"
