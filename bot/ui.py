"""Base classes for Lantern's components: every one checks who acts and reports errors kindly.

Persistent buttons are ``DynamicItem`` subclasses that mix in ``GuardedItem`` and carry
namespaced custom ids (``lantern:<feature>:<action>:<id>``); their state is read back from the
database on click, so they keep working after a restart.
"""

from __future__ import annotations

import secrets
import weakref
from typing import Any, ClassVar

import discord

from bot.boundary import report_interaction_error, send_private
from bot.errors import NotYourComponentError

CUSTOM_ID_PREFIX = "lantern:"
MODAL_PREFIX = "lantern:modal:"
MAX_CUSTOM_ID = 100


def custom_id(*parts: object) -> str:
    """A namespaced custom id, refusing anything over Discord's 100-character limit."""
    value = CUSTOM_ID_PREFIX + ":".join(str(p) for p in parts)
    if len(value) > MAX_CUSTOM_ID:
        raise ValueError(f"custom id longer than {MAX_CUSTOM_ID} characters: {value[:40]}...")
    return value


class GuardedItem:
    """Mixin for DynamicItems: a refusal for the wrong person, the error boundary for failures.

    Subclasses implement ``allowed`` (who may act) and ``handle`` (what happens).
    """

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return True

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        """What the component does; every subclass defines it."""

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            if await self.allowed(interaction):
                return True
            await send_private(interaction, NotYourComponentError().message)
        except Exception as error:
            await report_interaction_error(interaction, error, where=type(self).__name__)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.handle(interaction)
        except Exception as error:
            await report_interaction_error(interaction, error, where=type(self).__name__)


class OwnedView(discord.ui.View):
    """A short-lived view that only its owner may use."""

    def __init__(self, owner_id: int, *, timeout: float | None = 600) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_private(interaction, NotYourComponentError().message)
        return False

    async def on_error(
        self,
        interaction: discord.Interaction[Any],
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        await report_interaction_error(interaction, error, where=type(self).__name__)


class LanternModal(discord.ui.Modal):
    """A modal with a custom id unique to this opening, answered only by its owner."""

    live: ClassVar[weakref.WeakValueDictionary[str, LanternModal]] = weakref.WeakValueDictionary()

    def __init__(self, *, title: str, owner_id: int, timeout: float | None = 1800) -> None:
        super().__init__(
            title=title[:45],
            timeout=timeout,
            custom_id=MODAL_PREFIX + secrets.token_hex(8),
        )
        self.owner_id = owner_id
        LanternModal.live[self.custom_id] = self

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_private(interaction, NotYourComponentError().message)
        return False

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await report_interaction_error(interaction, error, where=type(self).__name__)
