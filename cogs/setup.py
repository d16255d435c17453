"""/setup: choose or create the roles and channels Lantern needs, and check its permissions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.domain.permissions import describe_missing
from bot.domain.setup import CREATABLE, LABELS, plan_setup
from bot.gateway.checks import moderator_command
from bot.gateway.messenger import InPlace
from bot.gateway.places import bot_permission_report, create_place

log = logging.getLogger("lantern.setup")


def _render_value(guild: discord.Guild, key: str, value: int | bool | None) -> str:
    if value is None:
        if key == "moderator_role_id":
            return "not set (members with Manage Server count as moderators)"
        return "not set"
    if key == "moderator_role_id":
        role = guild.get_role(int(value))
        return role.mention if role else "a role that no longer exists"
    channel = guild.get_channel(int(value))
    return channel.mention if channel else "a channel that no longer exists"


def render_settings(guild: discord.Guild, settings: Mapping[str, Any]) -> str:
    """The saved setup as a short list for moderators."""
    lines = [
        f"- {label}: {_render_value(guild, key, settings.get(key))}"
        for key, label in LABELS.items()
    ]
    see = "yes" if settings.get("moderators_see_pairs") else "no (only the two members and Lantern)"
    lines.append(f"- Moderators can see pair spaces: {see}")
    return "\n".join(lines)


class SetupCog(LanternCog):
    """Server set-up for moderators, and the start-up permission self-check."""

    def __init__(self, bot: LanternBot) -> None:
        super().__init__(bot)
        self._checked: set[int] = set()

    @moderator_command("setup")
    @app_commands.describe(
        moderator_role="Members with this role can use Lantern's moderator commands",
        intro_channel="Where mentors get introductions when their DMs are closed",
        pair_category="The category that holds private pair spaces",
        reflections_channel="Where community reflection prompts are posted",
        welcome_channel="Where new members are greeted when their DMs are closed",
        alerts_channel="Private channel where Lantern tells moderators what needs attention",
        moderators_see_pairs="Let the moderator role see pair spaces (default: no)",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction[LanternBot],
        moderator_role: discord.Role | None = None,
        intro_channel: discord.TextChannel | None = None,
        pair_category: discord.CategoryChannel | None = None,
        reflections_channel: discord.TextChannel | None = None,
        welcome_channel: discord.TextChannel | None = None,
        alerts_channel: discord.TextChannel | None = None,
        moderators_see_pairs: bool | None = None,
    ) -> None:
        """Choose or create the roles and channels Lantern uses in this server."""
        guild = interaction.guild
        assert guild is not None  # guild_only
        picked: dict[str, int | bool | None] = {
            "moderator_role_id": moderator_role.id if moderator_role else None,
            "intro_channel_id": intro_channel.id if intro_channel else None,
            "pair_category_id": pair_category.id if pair_category else None,
            "reflections_channel_id": reflections_channel.id if reflections_channel else None,
            "welcome_channel_id": welcome_channel.id if welcome_channel else None,
            "alerts_channel_id": alerts_channel.id if alerts_channel else None,
            "moderators_see_pairs": moderators_see_pairs,
        }
        current_values = await self.services.setup.current(guild.id)
        existing = frozenset([c.id for c in guild.channels] + [r.id for r in guild.roles])
        system = guild.system_channel
        by_name = {
            c.name: c.id
            for c in guild.channels
            if (c.name == CREATABLE["pair_category_id"]) == isinstance(c, discord.CategoryChannel)
            and c.name in CREATABLE.values()
        }
        plan = plan_setup(
            current_values,
            picked,
            existing_ids=existing,
            system_channel_id=system.id if system else None,
            by_name=by_name,
        )
        role_id = plan.changes.get("moderator_role_id", current_values.get("moderator_role_id"))
        mod_role = guild.get_role(int(role_id)) if isinstance(role_id, int) else None
        see_pairs = bool(
            plan.changes.get("moderators_see_pairs", current_values.get("moderators_see_pairs"))
        )
        changes = dict(plan.changes)
        problems: list[str] = []
        for key in plan.create:
            try:
                place = await create_place(guild, key, mod_role, see_pairs)
            except discord.Forbidden:
                problems.append(
                    f"I couldn't create the {LABELS[key].lower()} because I lack "
                    "**Manage Channels**. Grant it, or pick an existing one, then run `/setup` "
                    "again."
                )
                continue
            except discord.HTTPException as exc:
                reason = exc.text or exc.status
                problems.append(f"Discord refused to create the {LABELS[key].lower()} ({reason}).")
                continue
            changes[key] = place.id
            log.info("setup created guild=%s place=%s id=%s", guild.id, key, place.id)
        settings = await self.services.setup.save(guild.id, interaction.user.id, changes)
        log.info("setup saved guild=%s by=%s", guild.id, interaction.user.id)
        parts = ["**Lantern is set up in this server.**", render_settings(guild, settings)]
        progress = InPlace(interaction)
        was_seen = bool(current_values.get("moderators_see_pairs"))
        old_role = current_values.get("moderator_role_id")
        role_moved = old_role != settings.get("moderator_role_id")
        if was_seen != bool(settings.get("moderators_see_pairs")) or (was_seen and role_moved):
            parts.append(
                await self.services.pairs.apply_moderator_access(
                    guild.id,
                    previous_role_id=old_role if role_moved else None,
                    progress=progress,
                )
            )
        if problems:
            parts.append("\n".join(f"⚠️ {p}" for p in problems))
        alerts = await self.services.moderation.alerts_check(guild.id)
        if alerts:
            parts.append(alerts)
        parts.append(describe_missing(bot_permission_report(guild)))
        threads = await self.services.pairs.thread_permission_problem(guild.id)
        if threads:
            parts.append(threads)
        await progress.finish("\n\n".join(parts))

    async def _self_check(self, guild: discord.Guild) -> None:
        """Tell the moderators (alerts channel) which permissions Lantern lacks, if any
        (Manage Threads on the pair-thread channel only in thread mode)."""
        missing = bot_permission_report(guild)
        if missing:
            log.warning("missing permissions guild=%s missing=%s", guild.id, ",".join(missing))
            await self.services.moderation.alert(guild.id, describe_missing(missing))
        threads = await self.services.pairs.thread_permission_problem(guild.id)
        if threads:
            log.warning("missing permissions guild=%s missing=manage_threads", guild.id)
            await self.services.moderation.alert(guild.id, threads)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        for guild in self.bot.guilds:
            if guild.id not in self._checked:
                self._checked.add(guild.id)
                await self._self_check(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._self_check(guild)


async def setup(bot: LanternBot) -> None:
    await bot.install(SetupCog)
