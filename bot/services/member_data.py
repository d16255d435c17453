"""Member data: export, erase, consent withdrawal, a member leaving."""

from __future__ import annotations

from bot.services.context import Context, Service


class MemberDataService(Service):
    """Member data: export, erase, consent withdrawal, a member leaving."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
