"""Matching: requests, introductions, accepts and declines, rounds."""

from __future__ import annotations

from bot.services.context import Context, Service


class MatchingService(Service):
    """Matching: requests, introductions, accepts and declines, rounds."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
