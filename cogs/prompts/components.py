"""The prompts feature's persistent buttons: Reflect (on a prompt), Share (under a reflection)
and Approve/Decline (on a member's suggestion). Each survives restarts and checks who acts."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.components import REFLECT, SHARE, SUGGESTION
from bot.gateway.boundary import send_private
from bot.gateway.checks import is_moderator
from bot.gateway.components import Answer, Defer, PersistentButton, modal_answer
from bot.gateway.messenger import reply
from cogs.prompts.reflections import ReflectModal, ShareModal


class ReflectButton(PersistentButton, template=REFLECT):
    """Opens a private reflection form for the prompt one delivery carried."""

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        delivery_id = int(self.match["id"])
        return await self.services(interaction).reflections.may_reflect(
            delivery_id, interaction.user.id
        )

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        await send_private(interaction, "This prompt was sent to someone else, so nothing changed.")

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        context = await self.services(interaction).reflections.context(int(self.match["id"]))
        owner_id = interaction.user.id
        return modal_answer(lambda: ReflectModal(owner_id=owner_id, context=context))


class ShareButton(PersistentButton, template=SHARE):
    """Lets the author share an excerpt of their reflection (pair space or community thread).

    Only the author gets the form: ``excerpt`` refuses anyone else.
    """

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        reflection_id, owner_id = int(self.match["id"]), interaction.user.id
        default = await self.services(interaction).reflections.excerpt(reflection_id, owner_id)
        return modal_answer(
            lambda: ShareModal(
                owner_id=owner_id,
                reflection_id=reflection_id,
                where=self.match["where"],
                default=default,
            )
        )


class SuggestionButton(PersistentButton, template=SUGGESTION):
    """Approve or decline a member's suggested prompt (moderators only, decided once)."""

    defer = Defer.UPDATE

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return isinstance(interaction.user, discord.Member) and await is_moderator(
            self.services(interaction), interaction.user
        )

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        await send_private(interaction, "Only this server's moderators can decide suggestions.")

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        text = await self.services(interaction).prompts.decide_suggestion(
            interaction.guild_id or 0,
            interaction.user.id,
            int(self.match["id"]),
            approve=self.match["action"] == "approve",
        )
        await reply(interaction, text)
