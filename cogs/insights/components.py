"""The end-of-mentorship feedback card (sent by DM when a pair ends): persistent answer
buttons that read the card's state back through the feedback service, so they work after a
restart, and the form for optional words. Only the member it was sent to may answer."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain import feedback as d
from bot.domain.components import FEEDBACK, Reply
from bot.gateway.boundary import send_private
from bot.gateway.components import (
    Answer,
    Defer,
    LanternModal,
    PersistentButton,
    expired_key,
    expired_said,
    modal_answer,
    services_of,
    view_of,
)
from bot.gateway.messenger import reply


async def show_card(interaction: discord.Interaction[Any], card: Reply) -> None:
    """Put the card's current state in the message that was pressed (or answer with it)."""
    view = view_of(card.buttons)
    if interaction.message is not None and not interaction.response.is_done():
        await interaction.response.edit_message(content=card.text, view=view)
    elif (
        interaction.message is not None
        and interaction.response.type is discord.InteractionResponseType.deferred_message_update
    ):
        await interaction.edit_original_response(content=card.text, view=view)
    else:
        await reply(interaction, card.text, buttons=card.buttons)


class FeedbackButton(PersistentButton, template=FEEDBACK):
    """One answer on a feedback card; "Add words" opens the form."""

    def deferral(self) -> Defer | None:
        # "Add words" opens a form, which must be the first answer: it cannot be deferred.
        return None if self.match["step"] == "words" else Defer.UPDATE

    @property
    def feedback_id(self) -> int:
        return int(self.match["id"])

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        feedback = self.services(interaction).feedback
        return await feedback.may_answer(self.feedback_id, interaction.user.id)

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        await send_private(interaction, d.NOT_YOURS)

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        owner_id = interaction.user.id
        card = await self.services(interaction).feedback.card(self.feedback_id, owner_id)
        if card.text == d.CLOSED:

            async def closed(interaction: discord.Interaction[Any]) -> None:
                await show_card(interaction, card)

            return closed
        share = self.match["value"] == "share"
        return modal_answer(
            lambda: WordsModal(owner_id=owner_id, feedback_id=self.feedback_id, share=share)
        )

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        feedback = self.services(interaction).feedback
        step, value = self.match["step"], self.match["value"]
        changed, card = await feedback.answer(self.feedback_id, interaction.user.id, step, value)
        if changed or card.text == d.CLOSED:
            await show_card(interaction, card)
        else:
            await reply(interaction, f"{d.ALREADY}\n\n{card.text}", buttons=card.buttons)


class WordsModal(LanternModal):
    """Optional words about the mentorship, shared with moderators or kept just for the member
    (the button pressed chose, and the form's title says which)."""

    def __init__(self, *, owner_id: int, feedback_id: int, share: bool) -> None:
        super().__init__(
            title="Words moderators may read" if share else "Words kept just for you",
            owner_id=owner_id,
            about=expired_key("feedback", feedback_id),
        )
        self.feedback_id = feedback_id
        self.share = share
        self.words: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Shown without your name" if share else "Moderators won't see this",
            custom_id="words",
            style=discord.TextStyle.paragraph,
            max_length=d.MAX_WORDS,
            placeholder="What went well, what could be better…",
        )
        self.add_item(self.words)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        said = await services_of(interaction).feedback.words(
            self.feedback_id, interaction.user.id, str(self.words.value), share=self.share
        )
        if said in (d.WORDS_SAVED_SHARED, d.WORDS_SAVED_KEPT):
            await show_card(interaction, Reply(said))
        else:
            await reply(interaction, said)


async def expired_words(interaction: discord.Interaction[Any], key: str) -> bool:
    """The words form expired (or Lantern restarted): say so, with the card as it stands."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    card = await services_of(interaction).feedback.card(int(key), interaction.user.id)
    await reply(interaction, f"{expired_said(interaction)}\n\n{card.text}", buttons=card.buttons)
    return True
