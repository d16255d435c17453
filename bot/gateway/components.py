"""Lantern's components on Discord: every one checks who acts and reports errors kindly.

Persistent buttons are ``PersistentButton`` subclasses, one per template in
``bot.domain.components``; the custom id carries the state's key (``lantern:<feature>:<action>:
<id>``) and the state is read back through a service on click, so they keep working after a
restart. ``view_of`` renders the specs the services return.
"""

from __future__ import annotations

import re
import secrets
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import discord

from bot.domain.components import (
    CUSTOM_ID_PREFIX,
    MAX_CUSTOM_ID,
    MODAL_PREFIX,
    Button,
    custom_id,
)
from bot.domain.text import plain_inline
from bot.errors import NotYourComponentError
from bot.gateway.boundary import report_interaction_error, send_private

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "CUSTOM_ID_PREFIX",
    "MAX_CUSTOM_ID",
    "MODAL_PREFIX",
    "LanternModal",
    "OwnedView",
    "PersistentButton",
    "custom_id",
    "view_of",
]

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def button_of(spec: Button) -> discord.ui.Button[Any]:
    """One ``Button`` spec as a discord.py button."""
    return discord.ui.Button(
        label=spec.label,
        style=_STYLES[spec.style],
        custom_id=spec.custom_id,
        disabled=spec.disabled,
    )


def view_of(specs: Iterable[Button]) -> discord.ui.View:
    """A persistent view holding ``specs``; clicks reach the registered ``PersistentButton``."""
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(button_of(spec))
    return view


MAX_MODAL_TITLE = 45
_RAW_STYLES = {"primary": 1, "secondary": 2, "success": 3, "danger": 4}


def raw_components(specs: Sequence[Button]) -> list[dict[str, Any]]:
    """``specs`` as raw component JSON in one action row (cheap to build for 10,000 DMs)."""
    if not specs:
        return []
    buttons: list[dict[str, Any]] = []
    for spec in specs:
        raw: dict[str, Any] = {
            "type": 2,
            "style": _RAW_STYLES[spec.style],
            "label": spec.label,
            "custom_id": spec.custom_id,
        }
        if spec.disabled:
            raw["disabled"] = True
        buttons.append(raw)
    return [{"type": 1, "components": buttons}]


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The bot's services, from any interaction (the client is Lantern's bot)."""
    services: Services = interaction.client.services
    return services


class PersistentButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A button that survives restarts: subclass it with ``template=`` (a spec's pattern).

    ``allowed`` says who may press it (anyone else gets a private refusal and nothing changes),
    ``handle`` does the one service call; both see the template's groups as ``self.match``.
    Any error ends in the error boundary as a kind private reply.
    """

    def __init__(self, item: discord.ui.Button[Any], match: re.Match[str]) -> None:
        super().__init__(item)
        self.match = match

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match)

    def services(self, interaction: discord.Interaction[Any]) -> Services:
        """The bot's services."""
        return services_of(interaction)

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether this person may press it; anyone by default."""
        return True

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        """What pressing it does; every subclass defines it."""
        raise NotImplementedError

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        """The private reply to someone who may not press it."""
        await send_private(interaction, NotYourComponentError().message)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            if await self.allowed(interaction):
                return True
            await self.refuse(interaction)
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
            title=plain_inline(title, limit=MAX_MODAL_TITLE),
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
