"""Prompts: the library, schedules, suggestions and subscriptions."""

from __future__ import annotations

from bot.services.context import Context, Service


class PromptsService(Service):
    """Prompts: the library, schedules, suggestions and subscriptions."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
