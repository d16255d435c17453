"""Delivery: due prompt occurrences to channels, pair spaces and DMs."""

from __future__ import annotations

from bot.services.context import Context, Service


class DeliveryService(Service):
    """Delivery: due prompt occurrences to channels, pair spaces and DMs."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
