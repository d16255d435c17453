"""The questionnaire's forms: one modal per page, built from the fields the service hands over."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.components import Reply
from bot.domain.questionnaire import Field
from bot.domain.text import fit
from bot.gateway.components import LanternModal, OwnedView, services_of
from bot.gateway.messenger import reply
from bot.services.onboarding import Form, PageStep

MAX_TEXT = 4000  # Discord's limit for a text input


def private(interaction: discord.Interaction[Any]) -> bool:
    """Ephemeral in a server; a DM is already private."""
    return interaction.guild is not None


def _input(f: Field, prefill: Any) -> discord.ui.TextInput[Any] | discord.ui.Select[Any]:
    if f.is_text:
        return discord.ui.TextInput(
            custom_id=f.custom_id,
            style=discord.TextStyle.paragraph
            if f.question.kind == "paragraph"
            else discord.TextStyle.short,
            placeholder=f.question.placeholder,
            default=fit(str(prefill), MAX_TEXT) if prefill else None,
            required=False,
            max_length=MAX_TEXT,
        )
    chosen = set(prefill or [])
    return discord.ui.Select(
        custom_id=f.custom_id,
        min_values=0,
        max_values=f.max_values,
        required=False,
        placeholder="Optional" if not f.required else "Please choose",
        options=[
            discord.SelectOption(label=o.label, value=o.value, default=o.value in chosen)
            for o in f.options
        ],
    )


class PageModal(LanternModal):
    """One page of questions; answers always land on the person who submits it."""

    def __init__(self, form: Form, owner_id: int) -> None:
        super().__init__(title=form.title, owner_id=owner_id)
        self.form = form
        self.inputs: dict[str, discord.ui.TextInput[Any] | discord.ui.Select[Any]] = {}
        for f in form.fields:
            component = _input(f, form.prefill.get(f.custom_id))
            self.inputs[f.custom_id] = component
            self.add_item(discord.ui.Label(text=f.label, component=component))

    def raw_values(self) -> dict[str, Any]:
        """What was submitted, by field custom id (text or a list of option values)."""
        raw: dict[str, Any] = {}
        for key, component in self.inputs.items():
            if isinstance(component, discord.ui.TextInput):
                raw[key] = component.value or ""
            else:
                raw[key] = list(component.values)
        return raw

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=private(interaction), thinking=True)
        submitted = await services_of(interaction).onboarding.submit_page(
            interaction.user.id, self.form, self.raw_values()
        )
        if submitted.step is PageStep.REJECTED and submitted.retry is not None:
            retry = RetryView(submitted.retry, interaction.user.id)
            await reply(
                interaction, submitted.card.text, view=retry, ephemeral=private(interaction)
            )
            return
        await show_card(interaction, submitted.card)


class RetryView(OwnedView):
    """After a rejected page: reopen the form with what the member typed, nothing lost."""

    def __init__(self, form: Form, owner_id: int) -> None:
        super().__init__(owner_id, timeout=1800)
        self.form = form

    @discord.ui.button(label="Try again", style=discord.ButtonStyle.primary)
    async def again(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(build_modal(self.form, interaction.user.id))


def build_modal(form: Form, owner_id: int) -> PageModal:
    """The modal for one page's form, answered only by ``owner_id``."""
    return PageModal(form, owner_id)


async def show_card(interaction: discord.Interaction[Any], card: Reply) -> None:
    """Answer privately with a card's text and persistent buttons."""
    await reply(interaction, card.text, buttons=card.buttons, ephemeral=private(interaction))


async def show(interaction: discord.Interaction[Any], opened: Reply | Form) -> None:
    """A form opens as a modal (the first answer to the interaction); a card is a reply."""
    if isinstance(opened, Form):
        await interaction.response.send_modal(build_modal(opened, interaction.user.id))
    else:
        await show_card(interaction, opened)
