"""Pair spaces: opening, check-ins, care, endings, retention."""

from __future__ import annotations

from bot.services.context import Context, Service


class PairsService(Service):
    """Pair spaces: opening, check-ins, care, endings, retention."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
