"""The one upward notice between services: a pair ended. Subscribed in ``build_services``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("lantern.events")


@dataclass(frozen=True)
class PairEnded:
    """A pair ended, for any reason (``cause``: ended, left, erased, vanished, expired...)."""

    pair_id: int
    guild_id: int
    mentee_id: int
    mentor_id: int
    cause: str
    ended_by: int | None = None  # who ended it (a member, a moderator), when someone did


Handler = Callable[[PairEnded], Awaitable[None]]


class Events:
    """Typed publish/subscribe for ``PairEnded``; a failing handler never stops the others."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def on_pair_ended(self, handler: Handler) -> None:
        """Call ``handler`` after every pair ending."""
        self._handlers.append(handler)

    async def pair_ended(self, event: PairEnded) -> None:
        """Tell every subscriber, in order, that a pair ended."""
        for handler in self._handlers:
            try:
                await handler(event)
            except Exception:
                log.exception("pair-ended handler failed pair=%s", event.pair_id)
