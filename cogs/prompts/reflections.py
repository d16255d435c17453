"""Members' side of prompts: /reflections (subscribe, pause, resume, suggest), /journal, the
reflection and share forms, and the DM reply that becomes a reflection (a bridge)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.client import LanternCog
from bot.domain.prompts import MAX_SUGGESTION, PAUSED, SUBSCRIBED
from bot.domain.text import fit, plain_inline
from bot.gateway.checks import member_group
from bot.gateway.choices import AREA_CHOICES
from bot.gateway.components import (
    LanternModal,
    OwnedView,
    button_of,
    expired_key,
    expired_said,
    services_of,
)
from bot.gateway.messenger import reply
from bot.services.prompts import SubscriptionStatus
from bot.services.reflections import JournalPage, ReflectContext

log = logging.getLogger("lantern.reflections")

# Discord's limits for a text input: a 100-character placeholder; excerpts are 500 at most.
PLACEHOLDER = 100
EXCERPT = 500
NAV_ROW = 4


class ReflectModal(LanternModal):
    """A private reflection on a prompt."""

    def __init__(self, *, owner_id: int, context: ReflectContext) -> None:
        super().__init__(title="Your private reflection", owner_id=owner_id)
        self.context = context
        self.answer: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Only you can read this unless you share it",
            style=discord.TextStyle.paragraph,
            placeholder=plain_inline(context.question, limit=PLACEHOLDER),
            max_length=1800,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        saved = await services_of(interaction).reflections.save(
            interaction.user.id, self.context.delivery_id, str(self.answer.value)
        )
        await reply(interaction, saved.text, buttons=saved.buttons)


class ShareModal(LanternModal):
    """The author trims the excerpt before it is shared."""

    def __init__(self, *, owner_id: int, reflection_id: int, where: str, default: str) -> None:
        title = "Share with your pair" if where == "pair" else "Post to the prompt thread"
        super().__init__(title=title, owner_id=owner_id)
        self.reflection_id = reflection_id
        self.where = where
        self.text: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="What to share (edit freely)",
            style=discord.TextStyle.paragraph,
            default=fit(default, EXCERPT),
            max_length=EXCERPT,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        message = await services_of(interaction).reflections.share(
            interaction.user.id, self.reflection_id, self.where, str(self.text.value)
        )
        await reply(interaction, message)


class JournalView(OwnedView):
    """Paging through one's own reflections (share buttons per reflection, Newer/Older)."""

    def __init__(self, owner_id: int, *, guild_id: int, area: str | None) -> None:
        super().__init__(owner_id, timeout=900)
        self.guild_id = guild_id
        self.area = area

    def show(self, page: JournalPage) -> JournalView:
        """Lay out ``page``'s buttons: one row per reflection, paging on the last row."""
        self.clear_items()
        # A click after this view expired shows this page again (``expired_journal``).
        self.about = expired_key("journal", f"{self.guild_id}.{page.page}.{self.area or ''}")
        if page.pages == 0:
            return self
        for row, specs in enumerate(page.rows):
            for spec in specs:
                item = button_of(spec)
                item.row = row
                self.add_item(item)
        self.add_item(_Turn("Newer", page.page - 1, disabled=page.page == 0))
        self.add_item(_Turn("Older", page.page + 1, disabled=page.page + 1 >= page.pages))
        return self

    async def turn_to(self, interaction: discord.Interaction[Any], number: int) -> None:
        """Show page ``number`` in place (acknowledged first: the page is read from the
        database)."""
        await interaction.response.defer()
        page = await services_of(interaction).reflections.journal(
            self.guild_id, self.owner_id, area=self.area, page=number
        )
        await interaction.edit_original_response(content=fit(page.text), view=self.show(page))


class _Turn(discord.ui.Button[JournalView]):
    """Newer or Older in the journal."""

    def __init__(self, label: str, page: int, *, disabled: bool) -> None:
        super().__init__(label=label, row=NAV_ROW, disabled=disabled)
        self.page = page

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None
        await self.view.turn_to(interaction, self.page)


async def expired_journal(interaction: discord.Interaction[Any], key: str) -> bool:
    """An expired journal page: the same page as it is now, with working buttons."""
    guild, number, area = key.split(".", 2)
    await interaction.response.defer(ephemeral=True, thinking=True)
    page = await services_of(interaction).reflections.journal(
        int(guild), interaction.user.id, area=area or None, page=int(number)
    )
    view = JournalView(interaction.user.id, guild_id=int(guild), area=area or None)
    await reply(
        interaction, fit(f"{expired_said(interaction)}\n\n{page.text}"), view=view.show(page)
    )
    return True


class ReflectionsCog(LanternCog):
    """Members' reflection prompts: subscriptions, suggestions and the private journal."""

    reflections = member_group("reflections", "Reflection prompts by DM, and suggesting prompts")

    async def _subscription(self, interaction: discord.Interaction[Any], status: str) -> None:
        await interaction.response.defer(ephemeral=True)
        await self.services.prompts.set_subscription(
            interaction.guild_id or 0, interaction.user.id, status
        )
        await reply(interaction, SUBSCRIBED if status == SubscriptionStatus.SUBSCRIBED else PAUSED)

    @reflections.command(name="subscribe")
    async def reflections_subscribe(self, interaction: discord.Interaction[Any]) -> None:
        """Receive reflection prompts by DM."""
        await self._subscription(interaction, SubscriptionStatus.SUBSCRIBED)

    @reflections.command(name="pause")
    async def reflections_pause(self, interaction: discord.Interaction[Any]) -> None:
        """Pause reflection prompts by DM."""
        await self._subscription(interaction, SubscriptionStatus.PAUSED)

    @reflections.command(name="resume")
    async def reflections_resume(self, interaction: discord.Interaction[Any]) -> None:
        """Resume reflection prompts by DM."""
        await self._subscription(interaction, SubscriptionStatus.SUBSCRIBED)

    @reflections.command(name="suggest")
    @app_commands.choices(area=AREA_CHOICES)
    @app_commands.describe(
        text="The prompt you'd like the community to reflect on",
        anonymous="Keep your name from other members (moderators still see it)",
    )
    async def reflections_suggest(
        self,
        interaction: discord.Interaction[Any],
        area: app_commands.Choice[str],
        text: app_commands.Range[str, 1, MAX_SUGGESTION],
        anonymous: bool = False,
    ) -> None:
        """Suggest a reflection prompt to the moderators."""
        await interaction.response.defer(ephemeral=True)
        answer = await self.services.prompts.suggest(
            interaction.guild_id or 0, interaction.user.id, area.value, text, anonymous=anonymous
        )
        await reply(interaction, answer)

    @app_commands.command(name="journal")
    @app_commands.guild_only()
    @app_commands.choices(area=AREA_CHOICES)
    async def journal(
        self, interaction: discord.Interaction[Any], area: app_commands.Choice[str] | None = None
    ) -> None:
        """Read your own private reflections."""
        await interaction.response.defer(ephemeral=True)
        chosen = area.value if area else None
        page = await self.services.reflections.journal(
            interaction.guild_id or 0, interaction.user.id, area=chosen
        )
        view = JournalView(interaction.user.id, guild_id=interaction.guild_id or 0, area=chosen)
        await reply(interaction, page.text, view=view.show(page))
