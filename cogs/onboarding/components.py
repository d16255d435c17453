"""Onboarding's persistent buttons: Start, consent, page cards, and the prompts choice.

Each custom id carries only the server (and page): the member is always the person who
presses, and their state is read back by the service, so the buttons keep working after a
restart and nobody can act on someone else's answers.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.components import CONSENT, DECLINED_ANSWERS, PAGE, PROMPTS_CHOICE, START
from bot.gateway.components import Answer, Defer, PersistentButton
from bot.gateway.messenger import reply
from cogs.onboarding.forms import answer_with, private, show_card


class StartButton(PersistentButton, template=START):
    """The welcome's Start: shows consent, or resumes where the member stopped."""

    defer = Defer.PRIVATE

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        card = await self.services(interaction).onboarding.where(
            int(self.match["guild"]), interaction.user.id
        )
        await show_card(interaction, card)


class ConsentButton(PersistentButton, template=CONSENT):
    """I agree / No thanks on the consent card."""

    defer = Defer.PRIVATE

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        card = await self.services(interaction).onboarding.decide_consent(
            int(self.match["guild"]), interaction.user.id, accepted=self.match["choice"] == "yes"
        )
        await show_card(interaction, card)


class DeclinedAnswersButton(PersistentButton, template=DECLINED_ANSWERS):
    """After "No thanks" with answers given: erase them, or keep them."""

    defer = Defer.PRIVATE

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        card = await self.services(interaction).onboarding.keep_or_erase(
            int(self.match["guild"]), interaction.user.id, erase=self.match["choice"] == "erase"
        )
        await show_card(interaction, card)


class PageButton(PersistentButton, template=PAGE):
    """Continue (opens the page's form), Skip (optional pages) and Back on a page card."""

    def deferral(self) -> Defer | None:
        # Continue opens the page's form, which must be the first answer: it cannot be deferred.
        return None if self.match["action"] == "answer" else Defer.PRIVATE

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        onboarding = self.services(interaction).onboarding
        guild_id, page_id = int(self.match["guild"]), self.match["page"]
        return answer_with(await onboarding.open_page(guild_id, interaction.user.id, page_id))

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        onboarding = self.services(interaction).onboarding
        guild_id, page_id = int(self.match["guild"]), self.match["page"]
        if self.match["action"] == "skip":
            card = await onboarding.skip_page(guild_id, interaction.user.id, page_id)
        else:
            card = await onboarding.go_back(guild_id, interaction.user.id, page_id)
        await show_card(interaction, card)


class PromptsChoiceButton(PersistentButton, template=PROMPTS_CHOICE):
    """For members who declined matching: community prompts by DM, or not."""

    defer = Defer.PRIVATE

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        said = await self.services(interaction).onboarding.choose_prompts(
            int(self.match["guild"]), interaction.user.id, wanted=self.match["choice"] == "on"
        )
        await reply(interaction, said, ephemeral=private(interaction))


BUTTONS = (StartButton, ConsentButton, DeclinedAnswersButton, PageButton, PromptsChoiceButton)
