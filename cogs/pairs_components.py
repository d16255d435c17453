"""Pair-space buttons, the end form and its confirmation: every one checks who acts and
reads its state back from the database, so the persistent ones work after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.gateway.components import GuardedItem, LanternModal, OwnedView, custom_id

if TYPE_CHECKING:
    from cogs.pairs.cog import PairsCog

CHECKIN_ANSWERS = {
    "well": "Going well",
    "notmet": "We haven't met yet",
    "help": "We need help",
}


def _cog(interaction: discord.Interaction[Any]) -> PairsCog:
    cog = interaction.client.get_cog("PairsCog")
    assert cog is not None
    return cog


class PairActionButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:pairs:(?P<action>checkin|pause|end|delete):(?P<pair_id>\d+)",
):
    """Check-in, pause reminders, end, delete-now: only the pair's two members may click."""

    LABELS = {
        "checkin": ("How it's going", discord.ButtonStyle.primary),
        "pause": ("Pause reminders", discord.ButtonStyle.secondary),
        "end": ("End mentorship", discord.ButtonStyle.danger),
        "delete": ("Delete this space now", discord.ButtonStyle.danger),
    }

    def __init__(self, action: str, pair_id: int) -> None:
        label, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=custom_id("pairs", action, pair_id)
            )
        )
        self.action = action
        self.pair_id = pair_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PairActionButton:
        return cls(match["action"], int(match["pair_id"]))

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return await _cog(interaction).is_member_of(self.pair_id, interaction.user.id)

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_pair_button(interaction, self.action, self.pair_id)


class CheckinAnswerButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:pairs:answer:(?P<checkin_id>\d+):(?P<answer>well|notmet|help)",
):
    """One answer to a check-in. Either member may answer; a new click replaces their answer."""

    def __init__(self, checkin_id: int, answer: str) -> None:
        style = discord.ButtonStyle.success if answer == "well" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=CHECKIN_ANSWERS[answer],
                style=style,
                custom_id=custom_id("pairs", "answer", checkin_id, answer),
            )
        )
        self.checkin_id = checkin_id
        self.answer = answer

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CheckinAnswerButton:
        return cls(int(match["checkin_id"]), match["answer"])

    async def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        return await _cog(interaction).may_answer_checkin(self.checkin_id, interaction.user.id)

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).on_checkin_answer(interaction, self.checkin_id, self.answer)


def opening_view(pair_id: int) -> discord.ui.View:
    """The buttons under the opening message."""
    view = discord.ui.View(timeout=None)
    for action in ("checkin", "pause", "end"):
        view.add_item(PairActionButton(action, pair_id))
    return view


def checkin_view(checkin_id: int) -> discord.ui.View:
    """The three answers of a check-in."""
    view = discord.ui.View(timeout=None)
    for answer in CHECKIN_ANSWERS:
        view.add_item(CheckinAnswerButton(checkin_id, answer))
    return view


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
        super().__init__(title="End this mentorship", owner_id=owner_id)
        self.pair_id = pair_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await _cog(interaction).ask_end_confirmation(
            interaction, self.pair_id, self.reason.value or None
        )


class EndConfirmView(OwnedView):
    """Are you sure? Ending is final for this match."""

    def __init__(self, *, owner_id: int, pair_id: int, reason: str | None) -> None:
        super().__init__(owner_id, timeout=600)
        self.pair_id = pair_id
        self.reason = reason

    @discord.ui.button(label="Yes, end the mentorship", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        ended = await _cog(interaction).end_space(
            self.pair_id, actor_id=interaction.user.id, reason=self.reason, cause="ended"
        )
        self.stop()
        text = (
            "Your mentorship has ended. The space is now read-only for you both and will be "
            "deleted after the retention period (use **Delete this space now** to remove it "
            "sooner). Nothing was announced publicly. Thank you for taking part. 🌱"
            if ended
            else "This mentorship had already ended, so nothing changed."
        )
        await interaction.followup.send(text, ephemeral=True)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.send_message("Nothing changed. 🌱", ephemeral=True)
