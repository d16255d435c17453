"""Pair-space buttons, the end form and its confirmation. Every one checks who acts; the
persistent ones read their state back through the pairs service, so they work after a restart."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain import components as specs
from bot.domain import pairs as d
from bot.gateway.boundary import send_private
from bot.gateway.checks import is_moderator
from bot.gateway.components import (
    Answer,
    Defer,
    LanternModal,
    OwnedView,
    PersistentButton,
    expired_key,
    expired_said,
    modal_answer,
    services_of,
)
from bot.gateway.messenger import reply


class PairActionButton(PersistentButton, template=specs.PAIR_ACTION):
    """How it's going, pause reminders, end, delete now: only the pair's two members."""

    @property
    def pair_id(self) -> int:
        return int(self.match["pair_id"])

    def deferral(self) -> Defer | None:
        # End opens a form, which must be the first answer: it cannot be deferred.
        return None if self.match["action"] == "end" else Defer.PRIVATE

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return await self.services(interaction).pairs.is_member(self.pair_id, interaction.user.id)

    async def opening(self, interaction: discord.Interaction[Any]) -> Answer:
        owner_id = interaction.user.id
        return modal_answer(lambda: EndReasonModal(owner_id=owner_id, pair_id=self.pair_id))

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        action = self.match["action"]
        pairs = self.services(interaction).pairs
        if action == "checkin":
            text = await pairs.offer_checkin(self.pair_id)
            await reply(
                interaction, text, view=AnytimeCheckinView(interaction.user.id, self.pair_id)
            )
        elif action == "pause":
            await reply(interaction, await pairs.toggle_reminders(self.pair_id))
        elif action == "delete":

            async def notify(text: str) -> None:
                await reply(interaction, text)

            await pairs.delete_now(self.pair_id, notify=notify)


class CheckinAnswerButton(PersistentButton, template=specs.CHECKIN_ANSWER):
    """One answer to a check-in. Either member may answer; a new click replaces their answer."""

    defer = Defer.PRIVATE

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        pairs = self.services(interaction).pairs
        return await pairs.may_answer_checkin(int(self.match["checkin_id"]), interaction.user.id)

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        text = await self.services(interaction).pairs.answer_checkin(
            int(self.match["checkin_id"]), interaction.user.id, self.match["answer"]
        )
        await reply(interaction, text)


class CaseButton(PersistentButton, template=specs.CASE):
    """Acknowledge or Resolve a report or call for help: moderators only, re-checked on click."""

    defer = Defer.PRIVATE

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return isinstance(interaction.user, discord.Member) and await is_moderator(
            self.services(interaction), interaction.user
        )

    async def refuse(self, interaction: discord.Interaction[Any]) -> None:
        await send_private(interaction, "Only this server's moderators can work reports.")

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        text = await self.services(interaction).moderation.work_case(
            interaction.guild_id or 0,
            interaction.user.id,
            self.match["action"],
            self.match["kind"],
            int(self.match["id"]),
        )
        await reply(interaction, text)


class AnytimeAnswerButton(discord.ui.Button["AnytimeCheckinView"]):
    """One answer behind "How it's going"; "We need help" tells moderators who to reach."""

    def __init__(self, pair_id: int, answer: str, label: str) -> None:
        super().__init__(label=label)
        self.pair_id = pair_id
        self.answer = answer

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        pairs = services_of(interaction).pairs
        await reply(
            interaction, await pairs.ask_help(self.pair_id, interaction.user.id, self.answer)
        )


class AnytimeCheckinView(OwnedView):
    """The private answers behind "How it's going" (not a check-in: nothing is stored)."""

    def __init__(self, owner_id: int, pair_id: int) -> None:
        super().__init__(owner_id, timeout=600, about=expired_key("checkin", pair_id))
        for answer, label in specs.CHECKIN_ANSWERS.items():
            self.add_item(AnytimeAnswerButton(pair_id, answer, label))


async def ask_end_confirmation(
    interaction: discord.Interaction[Any], pair_id: int, reason: str | None
) -> None:
    """Show the private "are you sure?" before ending."""
    await reply(
        interaction,
        d.end_question(with_note=bool(reason)),
        view=EndConfirmView(owner_id=interaction.user.id, pair_id=pair_id, reason=reason),
    )


class EndReasonModal(LanternModal):
    """The End button asks for an optional reason (moderators only see it), then confirms."""

    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="A note for moderators (optional)",
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=500,
        placeholder="Only the moderators will see this. Your partner won't.",
    )

    def __init__(self, *, owner_id: int, pair_id: int) -> None:
        super().__init__(
            title="End this mentorship", owner_id=owner_id, about=expired_key("pairend", pair_id)
        )
        self.pair_id = pair_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await ask_end_confirmation(interaction, self.pair_id, self.reason.value or None)


class EndConfirmView(OwnedView):
    """Are you sure? Ending is final for this match."""

    def __init__(self, *, owner_id: int, pair_id: int, reason: str | None) -> None:
        super().__init__(owner_id, timeout=600, about=expired_key("pairend", pair_id))
        self.pair_id = pair_id
        self.reason = reason

    @discord.ui.button(label="Yes, end the mentorship", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await services_of(interaction).pairs.member_end(
            self.pair_id, interaction.user.id, self.reason
        )
        self.stop()
        await reply(interaction, text)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await reply(interaction, "Nothing changed. 🌱")


async def expired_end(interaction: discord.Interaction[Any], key: str) -> bool:
    """An expired "are you sure?" or end form: the question again, or that it has ended."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    pair_id = int(key)
    if not await services_of(interaction).pairs.still_open(pair_id, interaction.user.id):
        await reply(interaction, f"{expired_said(interaction)}\n\n{d.ALREADY_ENDED}")
        return True
    view = EndConfirmView(owner_id=interaction.user.id, pair_id=pair_id, reason=None)
    await reply(
        interaction,
        f"{expired_said(interaction)}\n\n{d.end_question(with_note=False)}",
        view=view,
    )
    return True


async def expired_checkin(interaction: discord.Interaction[Any], key: str) -> bool:
    """Expired "How it's going" answers: the question again while the mentorship is live."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    text = await services_of(interaction).pairs.offer_checkin(int(key))
    view = AnytimeCheckinView(interaction.user.id, int(key))
    await reply(interaction, f"{expired_said(interaction)}\n\n{text}", view=view)
    return True
