"""The questionnaire's forms: one modal per page, built from the fields the service hands over."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import discord

from bot.domain import onboarding as text
from bot.domain.components import Reply
from bot.domain.questionnaire import MAX_PLACEHOLDER, Field
from bot.domain.text import fit
from bot.gateway.boundary import is_database_trouble
from bot.gateway.components import (
    Answer,
    LanternModal,
    OwnedView,
    expired_key,
    first_answer,
    services_of,
)
from bot.gateway.messenger import reply
from bot.services.onboarding import Form, PageStep

log = logging.getLogger("lantern.onboarding")


def private(interaction: discord.Interaction[Any]) -> bool:
    """Ephemeral in a server; a DM is already private."""
    return interaction.guild is not None


def placeholder(f: Field) -> str:
    """The question's placeholder, saying how much the box keeps."""
    limit = f"Up to {f.question.max_length:,} characters"
    if not f.question.placeholder:
        return limit
    return fit(f"{limit}: {f.question.placeholder}", MAX_PLACEHOLDER)


def _input(f: Field, prefill: Any) -> discord.ui.TextInput[Any] | discord.ui.Select[Any]:
    if f.is_text:
        # The box takes exactly what is kept: Discord stops the member at the stored limit.
        limit = f.question.max_length
        return discord.ui.TextInput(
            custom_id=f.custom_id,
            style=discord.TextStyle.paragraph
            if f.question.kind == "paragraph"
            else discord.TextStyle.short,
            placeholder=placeholder(f),
            default=fit(str(prefill), limit) if prefill else None,
            required=False,
            max_length=limit,
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


def about(form: Form) -> str:
    """What a click on this form's expired pieces should show: the profile while editing,
    otherwise the member's current onboarding card."""
    return expired_key("profile" if form.editing else "onb", form.guild_id)


class PageModal(LanternModal):
    """One page of questions; answers always land on the person who submits it."""

    def __init__(self, form: Form, owner_id: int) -> None:
        super().__init__(title=form.title, owner_id=owner_id, about=about(form))
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
        await submit(interaction, self.form, self.raw_values())


async def submit(interaction: discord.Interaction[Any], form: Form, raw: Mapping[str, Any]) -> None:
    """Save one page and show what comes next. If the database is unavailable, nothing typed
    is lost: the member is told and offered Retry, which submits the same answers again."""
    await interaction.response.defer(ephemeral=private(interaction), thinking=True)
    try:
        submitted = await services_of(interaction).onboarding.submit_page(
            interaction.user.id, form, raw
        )
    except Exception as error:
        if not is_database_trouble(error):
            raise
        log.warning(
            "page not saved, retry offered guild=%s user=%s page=%s error=%s",
            form.guild_id,
            interaction.user.id,
            form.page_id,
            type(error).__name__,
        )
        view = SaveRetryView(form, dict(raw), interaction.user.id)
        await reply(interaction, text.SAVE_FAILED, view=view, ephemeral=private(interaction))
        return
    if submitted.step is PageStep.REJECTED and submitted.retry is not None:
        retry = RetryView(submitted.retry, interaction.user.id)
        await reply(interaction, submitted.card.text, view=retry, ephemeral=private(interaction))
        return
    await show_card(interaction, submitted.card)


class RetryView(OwnedView):
    """After a rejected page: reopen the form with what the member typed, nothing lost."""

    def __init__(self, form: Form, owner_id: int) -> None:
        super().__init__(owner_id, timeout=1800, about=about(form))
        self.form = form

    @discord.ui.button(label="Try again", style=discord.ButtonStyle.primary)
    async def again(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(build_modal(self.form, interaction.user.id))


class SaveRetryView(OwnedView):
    """After the database failed: Retry submits exactly what the member typed, again."""

    def __init__(self, form: Form, raw: dict[str, Any], owner_id: int) -> None:
        super().__init__(owner_id, timeout=1800, about=about(form))
        self.form = replace(form, prefill=raw)
        self.raw = raw

    @discord.ui.button(label="Retry", style=discord.ButtonStyle.primary)
    async def retry(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await submit(interaction, self.form, self.raw)

    @discord.ui.button(label="Edit first", style=discord.ButtonStyle.secondary)
    async def edit(
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


def answer_with(opened: Reply | Form) -> Answer:
    """The first answer that shows ``opened``: its form, or its card."""

    async def answer(interaction: discord.Interaction[Any]) -> None:
        await show(interaction, opened)

    return answer


async def show_read(
    interaction: discord.Interaction[Any], read: Callable[[], Awaitable[Reply | Form]]
) -> None:
    """Show the form or card ``read`` returns as the first answer; if the database is slow, the
    member gets an Open button instead of a failed interaction (``first_answer``)."""

    async def prepare() -> Answer:
        return answer_with(await read())

    await first_answer(interaction, prepare)


async def expired_onboarding(interaction: discord.Interaction[Any], key: str) -> bool:
    """A click on an expired onboarding form or button: say so, and show the current card."""
    await interaction.response.defer(ephemeral=private(interaction), thinking=True)
    card = await services_of(interaction).onboarding.where(int(key), interaction.user.id)
    return await show_expired(interaction, card)


async def show_expired(interaction: discord.Interaction[Any], card: Reply) -> bool:
    """Say that the form or button clicked has expired, above the card that replaces it."""
    said = (
        text.FORM_EXPIRED
        if interaction.type == discord.InteractionType.modal_submit
        else text.CARD_EXPIRED
    )
    await reply(
        interaction,
        f"{said}\n\n{card.text}",
        buttons=card.buttons,
        ephemeral=private(interaction),
    )
    return True
