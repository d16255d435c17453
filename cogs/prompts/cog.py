"""/prompts: the moderators' prompt library, schedules and suggestion queue."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.client import LanternCog
from bot.domain.limits import (
    MAX_AREAS,
    MAX_PROMPT_KEY,
    MAX_ROW_ID,
    MAX_SCHEDULE_WHEN,
    MAX_ZONE,
)
from bot.domain.prompt_io import MAX_IMPORT_BYTES
from bot.domain.prompts import MAX_FOLLOW_UP, MAX_TEXT
from bot.domain.text import fit
from bot.gateway.boundary import send_private
from bot.gateway.checks import is_moderator, moderator_command, moderator_group
from bot.gateway.choices import AREA_CHOICES
from bot.gateway.components import OwnedView, expired_key, expired_said, services_of
from bot.gateway.messenger import reply

IMPORT_AGAIN = (
    "Import previews are not kept, so nothing was imported. "
    "Run `/prompts import` again with your file to see a fresh preview."
)
CHOICE_NAME = 100  # Discord's limit for an autocomplete choice's name
PromptKey = app_commands.Range[str, 1, MAX_PROMPT_KEY]
ScheduleNumber = app_commands.Range[int, 1, MAX_ROW_ID]


async def prompt_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Prompts whose id or text matches what the moderator typed."""
    found = await services_of(interaction).prompts.search(interaction.guild_id or 0, current)
    return [
        app_commands.Choice(name=fit(f"{p.key}: {p.text}", CHOICE_NAME), value=p.key) for p in found
    ]


class ImportConfirmView(OwnedView):
    """Apply or cancel an import the moderator has just previewed (only they may press)."""

    def __init__(self, owner_id: int, *, filename: str, data: bytes) -> None:
        super().__init__(owner_id, timeout=900, about=expired_key("import", 0))
        self.filename = filename
        self.data = data

    def _close(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()

    @discord.ui.button(label="Apply import", style=discord.ButtonStyle.danger)
    async def apply(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        services = services_of(interaction)
        if not isinstance(interaction.user, discord.Member) or not await is_moderator(
            services, interaction.user
        ):
            await send_private(interaction, "Only this server's moderators can import prompts.")
            return
        self._close()
        await interaction.response.edit_message(view=self)
        answer = await services.prompts.apply_import(
            interaction.guild_id or 0, interaction.user.id, self.filename, self.data
        )
        await reply(interaction, answer)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self._close()
        await interaction.response.edit_message(view=self)
        await reply(interaction, "Import cancelled; nothing changed.")


async def expired_import(interaction: discord.Interaction[Any], key: str) -> bool:
    """An expired import preview: the file is not kept, so say how to preview it again."""
    await send_private(interaction, f"{expired_said(interaction)}\n\n{IMPORT_AGAIN}")
    return True


class PromptsCog(LanternCog):
    """Moderators: the reflection prompt library, schedules and members' suggestions."""

    prompts = moderator_group("prompts", "Moderators: the reflection prompt library and schedules")

    # ------------------------------------------------------------------------- library

    @moderator_command("add", prompts)
    @app_commands.choices(area=AREA_CHOICES)
    @app_commands.describe(
        area="Which area it belongs to",
        text="The prompt, as members will read it",
        follow_up="An optional follow-up question",
    )
    async def prompts_add(
        self,
        interaction: discord.Interaction[Any],
        area: app_commands.Choice[str],
        text: app_commands.Range[str, 1, MAX_TEXT],
        follow_up: app_commands.Range[str, 1, MAX_FOLLOW_UP] | None = None,
    ) -> None:
        """Add a prompt to this server's library."""
        answer = await self.services.prompts.add(
            interaction.guild_id or 0, interaction.user.id, area.value, text, follow_up
        )
        await reply(interaction, answer)

    @moderator_command("edit", prompts)
    @app_commands.choices(area=AREA_CHOICES)
    @app_commands.describe(
        prompt="The prompt's id", text="New wording", follow_up="New follow-up ('-' removes it)"
    )
    @app_commands.autocomplete(prompt=prompt_autocomplete)
    async def prompts_edit(
        self,
        interaction: discord.Interaction[Any],
        prompt: PromptKey,
        text: app_commands.Range[str, 1, MAX_TEXT] | None = None,
        area: app_commands.Choice[str] | None = None,
        follow_up: app_commands.Range[str, 1, MAX_FOLLOW_UP] | None = None,
    ) -> None:
        """Edit a prompt; earlier versions are kept in its history."""
        answer = await self.services.prompts.edit(
            interaction.guild_id or 0,
            interaction.user.id,
            prompt,
            text=text,
            area=area.value if area else None,
            follow_up=follow_up,
        )
        await reply(interaction, answer)

    @moderator_command("retire", prompts)
    @app_commands.describe(prompt="The prompt's id", restore="Bring a retired prompt back")
    @app_commands.autocomplete(prompt=prompt_autocomplete)
    async def prompts_retire(
        self, interaction: discord.Interaction[Any], prompt: PromptKey, restore: bool = False
    ) -> None:
        """Stop sending a prompt (or bring it back)."""
        answer = await self.services.prompts.retire(
            interaction.guild_id or 0, interaction.user.id, prompt, restore=restore
        )
        await reply(interaction, answer)

    @moderator_command("list", prompts)
    @app_commands.choices(area=AREA_CHOICES)
    async def prompts_list(
        self, interaction: discord.Interaction[Any], area: app_commands.Choice[str] | None = None
    ) -> None:
        """List prompts with their ids."""
        chunks = await self.services.prompts.list(
            interaction.guild_id or 0, area.value if area else None
        )
        for chunk in chunks:
            await reply(interaction, chunk)

    @moderator_command("preview", prompts)
    @app_commands.autocomplete(prompt=prompt_autocomplete)
    async def prompts_preview(
        self, interaction: discord.Interaction[Any], prompt: PromptKey
    ) -> None:
        """See a prompt exactly as members will."""
        text = await self.services.prompts.preview(interaction.guild_id or 0, prompt)
        await reply(interaction, text)

    @moderator_command("export", prompts)
    async def prompts_export(self, interaction: discord.Interaction[Any]) -> None:
        """Download this server's prompt library as a TOML file."""
        export = await self.services.prompts.export_library(
            interaction.guild_id or 0, interaction.user.id
        )
        await reply(interaction, export.text, file=(export.filename, export.data))

    @moderator_command("import", prompts)
    @app_commands.describe(file="A prompt library TOML file, as /prompts export makes it")
    async def prompts_import(
        self, interaction: discord.Interaction[Any], file: discord.Attachment
    ) -> None:
        """Preview a prompt library file, then apply it on confirm."""
        data = await file.read() if file.size <= MAX_IMPORT_BYTES else None
        preview = await self.services.prompts.preview_import(
            interaction.guild_id or 0, file.filename, data
        )
        if not preview.ready or data is None:
            await reply(interaction, preview.text)
            return
        view = ImportConfirmView(interaction.user.id, filename=file.filename, data=data)
        await reply(interaction, preview.text, view=view)

    # ----------------------------------------------------------------------- schedules

    @moderator_command("schedule", prompts)
    @app_commands.describe(
        when="e.g. 'every Monday 09:00', 'daily 18:30', 'weekdays 08:00' or cron '0 9 * * mon'",
        timezone="IANA time zone, e.g. Europe/London (default: Lantern's configured zone)",
        areas="Comma-separated areas (identity, culture, ...); empty means all",
        prompt="Always send this prompt instead of rotating",
        channel="Post in the reflections channel with a thread for answers",
        dm="DM every member who opted in",
        pairs="Post in each active pair space (from the pair's shared areas)",
        circles="Post in each open circle space (from the circle's area), once per circle",
    )
    async def prompts_schedule(
        self,
        interaction: discord.Interaction[Any],
        when: app_commands.Range[str, 1, MAX_SCHEDULE_WHEN],
        timezone: app_commands.Range[str, 1, MAX_ZONE] | None = None,
        areas: app_commands.Range[str, 1, MAX_AREAS] | None = None,
        prompt: PromptKey | None = None,
        channel: bool = True,
        dm: bool = False,
        pairs: bool = False,
        circles: bool = False,
    ) -> None:
        """Create a prompt schedule."""
        answer = await self.services.prompts.create_schedule(
            interaction.guild_id or 0,
            interaction.user.id,
            when,
            timezone=timezone,
            areas=areas,
            prompt=prompt,
            channel=channel,
            dm=dm,
            pairs=pairs,
            circles=circles,
        )
        await reply(interaction, answer)

    @moderator_command("schedules", prompts)
    @app_commands.describe(
        action="What to do (default: list)", schedule="The schedule number, for pause/resume/delete"
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name="list", value="list"),
            app_commands.Choice(name="pause", value="pause"),
            app_commands.Choice(name="resume", value="resume"),
            app_commands.Choice(name="delete", value="delete"),
        ]
    )
    async def prompts_schedules(
        self,
        interaction: discord.Interaction[Any],
        action: app_commands.Choice[str] | None = None,
        schedule: ScheduleNumber | None = None,
    ) -> None:
        """List schedules with their next run; pause, resume or delete one."""
        guild_id = interaction.guild_id or 0
        verb = action.value if action else "list"
        if verb == "list":
            answer = await self.services.prompts.schedules(guild_id)
        else:
            answer = await self.services.prompts.set_schedule_state(
                guild_id, interaction.user.id, schedule, verb
            )
        await reply(interaction, answer)

    @moderator_command("send-now", prompts)
    @app_commands.describe(schedule="The schedule to send now (for a test)")
    async def prompts_send_now(
        self, interaction: discord.Interaction[Any], schedule: ScheduleNumber
    ) -> None:
        """Send a schedule's next prompt right now."""
        answer = await self.services.delivery.send_now(
            interaction.guild_id or 0, interaction.user.id, schedule
        )
        await reply(interaction, answer)

    # --------------------------------------------------------------------- suggestions

    @moderator_command("suggestions", prompts)
    async def prompts_suggestions(self, interaction: discord.Interaction[Any]) -> None:
        """Review prompts members suggested."""
        cards = await self.services.prompts.pending_suggestions(interaction.guild_id or 0)
        if not cards:
            await reply(interaction, "No suggestions are waiting.")
            return
        for card in cards:
            await reply(interaction, card.text, buttons=card.buttons)
