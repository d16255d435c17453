"""Reflections: private answers to prompts, the journal, sharing."""

from __future__ import annotations

from bot.services.context import Context, Service


class ReflectionsService(Service):
    """Reflections: private answers to prompts, the journal, sharing."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
