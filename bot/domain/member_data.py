"""Words about members' data: what an export leaves out and why, and how records that outlive
an erased person name them."""

from __future__ import annotations

from bot.domain.text import user_mention

LEFT_OUT_WHY = (
    "This file holds what you said and chose. Where a record involves another person (a pair, "
    "an introduction, a report or a block), only your side is here: other people's ids, words "
    "and choices, and notes written for moderators, are left out because they are other "
    "people's data."
)
ERASED_MODERATOR = "a moderator who has since erased their data"
ERASED_MEMBER = "a member who has since erased their data"


def actor_text(actor_id: int | None) -> str:
    """Who took a moderator action, as the audit trail shows it."""
    return user_mention(actor_id) if actor_id else ERASED_MODERATOR


def member_text(user_id: int | None) -> str:
    """A member named in a record that outlived them (a report about them)."""
    return user_mention(user_id) if user_id else ERASED_MEMBER
