"""Reflection prompts: the moderators' library and schedules (/prompts), members' subscriptions
and suggestions (/reflections) and private reflections (/journal). Delivery lives in
``cogs.prompts_delivery``."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models.members import SubscriptionStatus
from bot.db.models.prompts import (
    DeliveryKind,
    PromptDelivery,
    PromptOccurrence,
    PromptSchedule,
    Reflection,
    SuggestionStatus,
)
from bot.db.queries import prompts as q
from bot.db.queries.members import (
    load_profile,
    set_prompt_subscription,
)
from bot.db.queries.moderation import record_audit
from bot.db.queries.setup import get_guild_settings
from bot.domain.areas import AREA_KEYS, AREAS, area_label
from bot.domain.crisis import (
    Region,
    load_resources,
    mentions_crisis,
    resources_for,
    support_message,
)
from bot.domain.prompts import (
    Library,
    Prompt,
    check_prompt_text,
    excerpt,
    load_library,
    render_prompt,
    render_summary,
)
from bot.domain.schedule import (
    ScheduleError,
    load_zone,
    next_occurrence,
    parse_schedule,
)
from bot.domain.text import clean_input, safe_block, safe_inline
from bot.errors import UserFacingError
from bot.fanout import HttpDmSender
from bot.gateway.boundary import send_private
from bot.gateway.checks import moderator_only
from bot.gateway.components import LanternModal, OwnedView, custom_id
from cogs.prompts_delivery import DM_FOOTER, PromptDeliverer, moderator_text

log = logging.getLogger("lantern.prompts")

AREA_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in AREAS.items()]
JOURNAL_PAGE = 3


def _bot(interaction: discord.Interaction[Any]) -> LanternBot:
    return interaction.client


def _cog(interaction: discord.Interaction[Any]) -> PromptsCog:
    cog = _bot(interaction).get_cog("PromptsCog")
    assert isinstance(cog, PromptsCog)
    return cog


# ----------------------------------------------------------------------------- components


class ReflectButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:prompts:reflect:(?P<id>\d+)",
):
    """Opens a private reflection form for the prompt this delivery carried."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Reflect",
                style=discord.ButtonStyle.primary,
                custom_id=custom_id("prompts", "reflect", delivery_id),
            )
        )
        self.delivery_id = delivery_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ReflectButton:
        return cls(int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        cog = _cog(interaction)
        try:
            if await cog.may_reflect(self.delivery_id, interaction.user.id):
                return True
            await send_private(
                interaction, "This prompt was sent to someone else, so nothing changed."
            )
        except Exception as error:
            from bot.gateway.boundary import report_interaction_error

            await report_interaction_error(interaction, error, where="ReflectButton")
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog = _cog(interaction)
        context = await cog.delivery_context(self.delivery_id)
        if context is None:
            raise UserFacingError("This prompt has expired, so nothing changed.")
        await interaction.response.send_modal(
            ReflectModal(owner_id=interaction.user.id, context=context)
        )


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:reflections:share:(?P<where>pair|thread):(?P<id>\d+)",
):
    """Lets the author share an excerpt of their reflection (pair space or community thread)."""

    def __init__(self, where: str, reflection_id: int) -> None:
        label = "Share an excerpt with my pair" if where == "pair" else "Post to the prompt thread"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id("reflections", "share", where, reflection_id),
            )
        )
        self.where = where
        self.reflection_id = reflection_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShareButton:
        return cls(match["where"], int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        reflection = await _cog(interaction).get_reflection(self.reflection_id)
        if reflection is not None and reflection.user_id == interaction.user.id:
            return True
        await send_private(interaction, "Only the person who wrote this can share it.")
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog = _cog(interaction)
        reflection = await cog.get_reflection(self.reflection_id)
        if reflection is None:
            raise UserFacingError("This reflection no longer exists, so nothing was shared.")
        text = cog.bot.cipher.decrypt(reflection.text_enc) or ""
        await interaction.response.send_modal(
            ShareModal(
                owner_id=interaction.user.id,
                reflection_id=self.reflection_id,
                where=self.where,
                default=excerpt(text),
            )
        )


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:prompts:suggestion:(?P<action>approve|decline):(?P<id>\d+)",
):
    """Approve or decline a member's suggested prompt (moderators only, decided once)."""

    def __init__(self, action: str, suggestion_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Approve" if action == "approve" else "Decline",
                style=discord.ButtonStyle.success
                if action == "approve"
                else discord.ButtonStyle.secondary,
                custom_id=custom_id("prompts", "suggestion", action, suggestion_id),
            )
        )
        self.action = action
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SuggestionButton:
        return cls(match["action"], int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        from bot.gateway.checks import is_moderator

        if isinstance(interaction.user, discord.Member) and await is_moderator(
            _bot(interaction), interaction.user
        ):
            return True
        await send_private(interaction, "Only this server's moderators can decide suggestions.")
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        text = await _cog(interaction).decide_suggestion(
            interaction, self.suggestion_id, self.action
        )
        await interaction.followup.send(text, ephemeral=True)


def share_view(reflection_id: int, *, pair: bool, thread: bool) -> discord.ui.View:
    """Buttons under a saved reflection: share with the pair, post to the prompt thread."""
    view = discord.ui.View(timeout=None)
    if pair:
        view.add_item(ShareButton("pair", reflection_id))
    if thread:
        view.add_item(ShareButton("thread", reflection_id))
    return view


class DeliveryContext:
    """What a reflection form needs to know about the prompt it answers."""

    def __init__(
        self, delivery: PromptDelivery, occurrence: PromptOccurrence, prompt: Prompt | None
    ) -> None:
        self.delivery = delivery
        self.occurrence = occurrence
        self.prompt = prompt


class ReflectModal(LanternModal):
    """A private reflection on a prompt."""

    def __init__(self, *, owner_id: int, context: DeliveryContext) -> None:
        super().__init__(title="Your private reflection", owner_id=owner_id)
        self.context = context
        question = context.prompt.text if context.prompt else "Your reflection"
        self.answer: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Only you can read this unless you share it",
            style=discord.TextStyle.paragraph,
            placeholder=question[:100],
            max_length=1800,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        cog = _cog(interaction)
        content, view = await cog.store_reflection(
            user_id=interaction.user.id, context=self.context, text=str(self.answer.value)
        )
        await interaction.followup.send(content, view=view, ephemeral=True)


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
            default=default[:500],
            max_length=500,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        message = await _cog(interaction).share_reflection(
            user=interaction.user,
            reflection_id=self.reflection_id,
            where=self.where,
            text=str(self.text.value),
        )
        await interaction.followup.send(message, ephemeral=True)


class JournalView(OwnedView):
    """Paging through one's own reflections."""

    def __init__(self, owner_id: int, *, guild_id: int, area: str | None, page: int) -> None:
        super().__init__(owner_id, timeout=900)
        self.guild_id = guild_id
        self.area = area
        self.page = page

    async def render(self, bot: LanternBot) -> tuple[str, discord.ui.View]:
        async with bot.database.session() as session:
            rows, total = await q.list_reflections(
                session,
                guild_id=self.guild_id,
                user_id=self.owner_id,
                area=self.area,
                offset=self.page * JOURNAL_PAGE,
                limit=JOURNAL_PAGE,
            )
            library = await _cog_of(bot).library(session, self.guild_id)
            pair = await q.pair_of_member(session, guild_id=self.guild_id, user_id=self.owner_id)
        self.clear_items()
        where = f" in {area_label(self.area)}" if self.area else ""
        if not rows:
            return (f"Your journal{where} is empty. Reflections you write appear here.", self)
        pages = (total + JOURNAL_PAGE - 1) // JOURNAL_PAGE
        lines = [
            f"**Your journal{where}** — page {self.page + 1} of {pages}, {total} "
            f"reflection{'s' if total != 1 else ''}. Only you can see this."
        ]
        for row_index, reflection in enumerate(rows):
            prompt = library.get(reflection.prompt_key or "")
            day = reflection.created_at.strftime("%d %b %Y")
            lines.append(f"\n**#{reflection.id} · {day} · {area_label(reflection.area or '')}**")
            if prompt:
                lines.append(f"*{safe_inline(prompt.text, limit=150)}*")
            text = bot.cipher.decrypt(reflection.text_enc) or ""
            lines.append("> " + safe_block(text, limit=400).replace("\n", "\n> "))
            if pair:
                button = ShareButton("pair", reflection.id or 0)
                button.item.label = f"Share #{reflection.id} with my pair"
                button.row = row_index
                self.add_item(button)
            if reflection.occurrence_id:
                button = ShareButton("thread", reflection.id or 0)
                button.item.label = f"Post #{reflection.id} to its thread"
                button.row = row_index
                self.add_item(button)
        previous: discord.ui.Button[Any] = discord.ui.Button(
            label="Newer", row=4, disabled=self.page == 0
        )
        following: discord.ui.Button[Any] = discord.ui.Button(
            label="Older", row=4, disabled=self.page + 1 >= pages
        )
        previous.callback = self._turn(-1)  # type: ignore[method-assign]
        following.callback = self._turn(1)  # type: ignore[method-assign]
        self.add_item(previous)
        self.add_item(following)
        return "\n".join(lines)[:2000], self

    def _turn(self, step: int) -> Any:
        async def turn(interaction: discord.Interaction[Any]) -> None:
            self.page = max(0, self.page + step)
            content, view = await self.render(_bot(interaction))
            await interaction.response.edit_message(content=content, view=view)

        return turn


def _cog_of(bot: LanternBot) -> PromptsCog:
    cog = bot.get_cog("PromptsCog")
    assert isinstance(cog, PromptsCog)
    return cog


# ------------------------------------------------------------------------------------ cog


class PromptsCog(commands.Cog):
    """Reflection prompts: library, schedules, delivery, reflections and the journal."""

    prompts = app_commands.Group(
        name="prompts",
        description="Moderators: the reflection prompt library and schedules",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    reflections = app_commands.Group(
        name="reflections",
        description="Reflection prompts by DM, and suggesting prompts",
        guild_only=True,
    )

    def __init__(self, bot: LanternBot, shipped: Library, regions: list[Region]) -> None:
        self.bot = bot
        self.shipped = shipped
        self.regions = regions
        self.delivery = PromptDeliverer(bot, shipped)

    async def cog_load(self) -> None:
        self.bot.register_components(ReflectButton, ShareButton, SuggestionButton)
        self.bot.register_sweep("prompts", self.run_due_prompts, every_seconds=60)
        try:
            async with self.bot.database.session() as session:
                for schedule in await q.all_live_schedules(session):
                    self._arm(schedule)
        except Exception:
            log.warning("could not rebuild prompt jobs at start-up; the sweep will catch up")

    # ---------------------------------------------------------------------- helpers

    async def library(self, session: Any, guild_id: int) -> Library:
        """This guild's library (shipped prompts with its edits)."""
        return await self.delivery.library(session, guild_id)

    def _arm(self, schedule: PromptSchedule) -> None:
        self.delivery.arm(schedule)

    @property
    def sender(self) -> HttpDmSender:
        """The DM sender (a test swaps its ``send`` to simulate a crash mid fan-out)."""
        return self.delivery.sender

    async def run_due_prompts(self, now: datetime) -> None:
        """The sweep: deliver every occurrence due at ``now``."""
        await self.delivery.run_due_prompts(now)

    async def deliver_occurrence(self, occurrence_id: int, now: datetime) -> dict[str, int]:
        """Deliver one claimed occurrence now."""
        return await self.delivery.deliver_occurrence(occurrence_id, now)

    async def _prompt_key(self, interaction: discord.Interaction[Any], key: str) -> Prompt:
        async with self.bot.database.session() as session:
            library = await self.library(session, interaction.guild_id or 0)
        prompt = library.get(key.strip())
        if prompt is None:
            raise UserFacingError(
                f"I can't find a prompt with the id `{safe_inline(key, limit=40)}`. "
                "`/prompts list` shows every id."
            )
        return prompt

    async def prompt_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        async with self.bot.database.session() as session:
            library = await self.library(session, interaction.guild_id or 0)
        current = current.lower()
        found = [
            p
            for p in sorted(library.prompts.values(), key=lambda p: p.key)
            if current in p.key or current in p.text.lower()
        ]
        return [
            app_commands.Choice(name=f"{p.key}: {p.text}"[:100], value=p.key) for p in found[:25]
        ]

    async def _audit(
        self, interaction: discord.Interaction[Any], action: str, target_id: int | None = None
    ) -> None:
        async with self.bot.database.session() as session:
            await record_audit(
                session,
                guild_id=interaction.guild_id or 0,
                actor_id=interaction.user.id,
                action=action,
                now=self.bot.now(),
                target_id=target_id,
            )

    # ------------------------------------------------------------- /prompts: library

    @prompts.command(name="add")
    @moderator_only()
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
        text: str,
        follow_up: str | None = None,
    ) -> None:
        """Add a prompt to this server's library."""
        await interaction.response.defer(ephemeral=True)
        prompt = Prompt(
            key=q.new_custom_key(),
            area=area.value,
            text=clean_input(text),
            follow_ups=(clean_input(follow_up),) if follow_up else (),
            custom=True,
        )
        self._check(prompt)
        async with self.bot.database.session() as session:
            await q.save_prompt(
                session,
                guild_id=interaction.guild_id or 0,
                prompt=prompt,
                action="add",
                now=self.bot.now(),
            )
        await self._audit(interaction, "prompts.add")
        await interaction.followup.send(
            f"Added `{prompt.key}`. Members will see:\n\n"
            + render_prompt(prompt, area_label(prompt.area)).replace(
                prompt.text, moderator_text(prompt.text)
            ),
            ephemeral=True,
        )

    @staticmethod
    def _check(prompt: Prompt) -> None:
        problems = check_prompt_text(prompt.text, prompt.follow_ups)
        if problems:
            raise UserFacingError("That prompt can't be saved yet: " + "; ".join(problems) + ".")

    @prompts.command(name="edit")
    @moderator_only()
    @app_commands.choices(area=AREA_CHOICES)
    @app_commands.describe(
        prompt="The prompt's id", text="New wording", follow_up="New follow-up ('-' removes it)"
    )
    async def prompts_edit(
        self,
        interaction: discord.Interaction[Any],
        prompt: str,
        text: str | None = None,
        area: app_commands.Choice[str] | None = None,
        follow_up: str | None = None,
    ) -> None:
        """Edit a prompt; earlier versions are kept in its history."""
        await interaction.response.defer(ephemeral=True)
        current = await self._prompt_key(interaction, prompt)
        follow_ups = current.follow_ups
        if follow_up is not None:
            follow_ups = () if follow_up.strip() == "-" else (clean_input(follow_up),)
        edited = Prompt(
            key=current.key,
            area=area.value if area else current.area,
            text=clean_input(text) if text else current.text,
            follow_ups=follow_ups,
            retired=current.retired,
            custom=current.custom,
            suggested_by=current.suggested_by,
        )
        self._check(edited)
        async with self.bot.database.session() as session:
            await q.save_prompt(
                session,
                guild_id=interaction.guild_id or 0,
                prompt=edited,
                action="edit",
                now=self.bot.now(),
            )
            versions = await q.prompt_revisions(
                session, guild_id=interaction.guild_id or 0, key=edited.key
            )
        await self._audit(interaction, "prompts.edit")
        await interaction.followup.send(
            f"Saved `{edited.key}` (version {len(versions)}; the shipped text is never changed).",
            ephemeral=True,
        )

    prompts_edit.autocomplete("prompt")(prompt_autocomplete)

    @prompts.command(name="retire")
    @moderator_only()
    @app_commands.describe(prompt="The prompt's id", restore="Bring a retired prompt back")
    async def prompts_retire(
        self, interaction: discord.Interaction[Any], prompt: str, restore: bool = False
    ) -> None:
        """Stop sending a prompt (or bring it back)."""
        await interaction.response.defer(ephemeral=True)
        current = await self._prompt_key(interaction, prompt)
        changed = Prompt(
            key=current.key,
            area=current.area,
            text=current.text,
            follow_ups=current.follow_ups,
            retired=not restore,
            custom=current.custom,
            suggested_by=current.suggested_by,
        )
        async with self.bot.database.session() as session:
            await q.save_prompt(
                session,
                guild_id=interaction.guild_id or 0,
                prompt=changed,
                action="restore" if restore else "retire",
                now=self.bot.now(),
            )
        await self._audit(interaction, "prompts.restore" if restore else "prompts.retire")
        word = "back in rotation" if restore else "retired; it won't be sent again"
        await interaction.followup.send(f"`{current.key}` is {word}.", ephemeral=True)

    prompts_retire.autocomplete("prompt")(prompt_autocomplete)

    @prompts.command(name="list")
    @moderator_only()
    @app_commands.choices(area=AREA_CHOICES)
    async def prompts_list(
        self, interaction: discord.Interaction[Any], area: app_commands.Choice[str] | None = None
    ) -> None:
        """List prompts with their ids."""
        await interaction.response.defer(ephemeral=True)
        async with self.bot.database.session() as session:
            library = await self.library(session, interaction.guild_id or 0)
        chosen = [
            p
            for p in sorted(library.prompts.values(), key=lambda p: p.key)
            if area is None or p.area == area.value
        ]
        lines = []
        for p in chosen:
            marks = " (retired)" if p.retired else (" (edited)" if p.edited else "")
            marks += " (added here)" if p.custom else ""
            lines.append(f"`{p.key}`{marks} {safe_inline(p.text, limit=70)}")
        chunks: list[str] = []
        for line in lines or ["No prompts yet."]:
            if chunks and len(chunks[-1]) + len(line) + 1 < 1900:
                chunks[-1] += "\n" + line
            else:
                chunks.append(line)
        for chunk in chunks[:10]:
            await interaction.followup.send(chunk, ephemeral=True)

    @prompts.command(name="preview")
    @moderator_only()
    async def prompts_preview(self, interaction: discord.Interaction[Any], prompt: str) -> None:
        """See a prompt exactly as members will."""
        found = await self._prompt_key(interaction, prompt)
        text = render_prompt(
            Prompt(
                key=found.key,
                area=found.area,
                text=moderator_text(found.text),
                follow_ups=tuple(moderator_text(f) for f in found.follow_ups),
            ),
            area_label(found.area),
            footer=DM_FOOTER,
        )
        await interaction.response.send_message(text, ephemeral=True)

    prompts_preview.autocomplete("prompt")(prompt_autocomplete)

    # ----------------------------------------------------------- /prompts: schedules

    @prompts.command(name="schedule")
    @moderator_only()
    @app_commands.describe(
        when="e.g. 'every Monday 09:00', 'daily 18:30', 'weekdays 08:00' or cron '0 9 * * mon'",
        timezone="IANA time zone, e.g. Europe/London (default: Lantern's configured zone)",
        areas="Comma-separated areas (identity, culture, ...); empty means all",
        prompt="Always send this prompt instead of rotating",
        channel="Post in the reflections channel with a thread for answers",
        dm="DM every member who opted in",
        pairs="Post in each active pair space (from the pair's shared areas)",
    )
    async def prompts_schedule(
        self,
        interaction: discord.Interaction[Any],
        when: str,
        timezone: str | None = None,
        areas: str | None = None,
        prompt: str | None = None,
        channel: bool = True,
        dm: bool = False,
        pairs: bool = False,
    ) -> None:
        """Create a prompt schedule."""
        await interaction.response.defer(ephemeral=True)
        timezone = (timezone or "").strip() or self.bot.config.bot.default_timezone
        try:
            recurrence = parse_schedule(when)
            load_zone(timezone)
        except ScheduleError as error:
            raise UserFacingError(str(error)) from None
        chosen = [a.strip().lower() for a in (areas or "").split(",") if a.strip()]
        unknown = [a for a in chosen if a not in AREA_KEYS]
        if unknown:
            raise UserFacingError(
                f"I don't know the area {safe_inline(unknown[0], limit=30)!r}. "
                f"Use any of: {', '.join(AREA_KEYS)}."
            )
        fixed = (await self._prompt_key(interaction, prompt)).key if prompt else None
        if not (channel or dm or pairs):
            raise UserFacingError("Choose at least one place: channel, dm or pairs.")
        now = self.bot.now()
        first = next_occurrence(recurrence, timezone, now)
        if first is None:
            raise UserFacingError("That schedule never fires. Please check the date parts.")
        async with self.bot.database.session() as session:
            settings = await get_guild_settings(session, guild_id=interaction.guild_id or 0)
            schedule = await q.create_schedule(
                session,
                guild_id=interaction.guild_id or 0,
                areas=",".join(chosen),
                prompt_key=fixed,
                expression=recurrence.expression,
                timezone=timezone,
                to_channel=channel,
                to_dm=dm,
                to_pairs=pairs,
                next_run_at=first,
                created_at=now,
                updated_at=now,
            )
        self._arm(schedule)
        await self._audit(interaction, "prompts.schedule", schedule.id)
        warn = ""
        if channel and not (settings and settings.reflections_channel_id):
            warn = "\n⚠️ No reflections channel is set yet: run `/setup` to choose one."
        await interaction.followup.send(
            f"Schedule **#{schedule.id}** created: {recurrence.expression} ({timezone}). "
            f"Next: {self._when(first, timezone)}.{warn}",
            ephemeral=True,
        )

    @staticmethod
    def _when(instant: datetime | None, zone: str) -> str:
        if instant is None:
            return "never"
        local = instant.astimezone(load_zone(zone))
        return f"{local:%a %d %b %Y %H:%M} {zone} (<t:{int(instant.timestamp())}:R>)"

    @prompts.command(name="schedules")
    @moderator_only()
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
        schedule: int | None = None,
    ) -> None:
        """List schedules with their next run; pause, resume or delete one."""
        await interaction.response.defer(ephemeral=True)
        guild_id = interaction.guild_id or 0
        verb = action.value if action else "list"
        now = self.bot.now()
        if verb != "list":
            if schedule is None:
                raise UserFacingError("Please give the schedule number (see `/prompts schedules`).")
            async with self.bot.database.session() as session:
                current = await session.get(PromptSchedule, schedule)
                next_run = None
                if verb == "resume" and current is not None:
                    next_run = next_occurrence(
                        parse_schedule(current.expression), current.timezone, now
                    )
                row = await q.update_schedule_state(
                    session,
                    guild_id=guild_id,
                    schedule_id=schedule,
                    now=now,
                    paused={"pause": True, "resume": False}.get(verb),
                    deleted=True if verb == "delete" else None,
                    next_run_at=next_run,
                )
            if row is None:
                raise UserFacingError(f"There is no schedule #{schedule} in this server.")
            self._arm(row)
            await self._audit(interaction, f"prompts.schedule.{verb}", schedule)
            done = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
            await interaction.followup.send(f"Schedule #{schedule} {done}.", ephemeral=True)
            return
        async with self.bot.database.session() as session:
            rows = await q.list_schedules(session, guild_id=guild_id)
            last = await q.last_occurrences(session, schedule_ids=[r.id or 0 for r in rows])
            summaries = {
                sid: render_summary(await q.delivery_counts(session, occurrence_id=occ.id or 0))
                for sid, occ in last.items()
            }
        if not rows:
            await interaction.followup.send(
                "No schedules yet. Create one with `/prompts schedule`.", ephemeral=True
            )
            return
        lines = []
        for row in rows:
            where = ", ".join(
                w
                for w, on in (
                    ("channel", row.to_channel),
                    ("DMs", row.to_dm),
                    ("pair spaces", row.to_pairs),
                )
                if on
            )
            what = (
                f"prompt `{row.prompt_key}`"
                if row.prompt_key
                else ("areas: " + (row.areas.replace(",", ", ") or "all"))
            )
            state = "paused" if row.paused else f"next: {self._when(row.next_run_at, row.timezone)}"
            lines.append(
                f"**#{row.id}** {row.expression} ({row.timezone}) → {where}; {what}; {state}"
            )
            if row.id in summaries:
                lines.append(f"  last delivery: {summaries[row.id or 0]}")
        await interaction.followup.send("\n".join(lines)[:2000], ephemeral=True)

    @prompts.command(name="send-now")
    @moderator_only()
    @app_commands.describe(schedule="The schedule to send now (for a test)")
    async def prompts_send_now(self, interaction: discord.Interaction[Any], schedule: int) -> None:
        """Send a schedule's next prompt right now."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.now()
        async with self.bot.database.session() as session:
            row = await session.get(PromptSchedule, schedule)
            if row is None or row.guild_id != interaction.guild_id or row.deleted:
                raise UserFacingError(f"There is no schedule #{schedule} in this server.")
            occurrence = await self.delivery.claim(session, row, now, now, manual=True)
        if occurrence is None:
            raise UserFacingError("That schedule has no prompt to send (all retired?).")
        await self._audit(interaction, "prompts.send_now", schedule)
        counts = await self.deliver_occurrence(occurrence.id or 0, now)
        await interaction.followup.send(
            f"Sent schedule #{schedule}: {render_summary(counts)}.", ephemeral=True
        )

    # --------------------------------------------------------- /prompts: suggestions

    @prompts.command(name="suggestions")
    @moderator_only()
    async def prompts_suggestions(self, interaction: discord.Interaction[Any]) -> None:
        """Review prompts members suggested."""
        await interaction.response.defer(ephemeral=True)
        async with self.bot.database.session() as session:
            rows = await q.pending_suggestions(session, guild_id=interaction.guild_id or 0)
        if not rows:
            await interaction.followup.send("No suggestions are waiting.", ephemeral=True)
            return
        for row in rows[:10]:
            text = self.bot.cipher.decrypt(row.text_enc) or ""
            who = "anonymous to members" if row.anonymous else "may be credited"
            view = discord.ui.View(timeout=None)
            view.add_item(SuggestionButton("approve", row.id or 0))
            view.add_item(SuggestionButton("decline", row.id or 0))
            await interaction.followup.send(
                f"**Suggestion #{row.id}** from <@{row.user_id}> ({who}) · {area_label(row.area)}\n"
                f"> {safe_block(text, limit=900)}",
                view=view,
                ephemeral=True,
            )

    async def decide_suggestion(
        self, interaction: discord.Interaction[Any], suggestion_id: int, action: str
    ) -> str:
        """Approve (adds the prompt) or decline a suggestion, exactly once."""
        now = self.bot.now()
        status = SuggestionStatus.APPROVED if action == "approve" else SuggestionStatus.DECLINED
        async with self.bot.database.session() as session:
            row = await q.decide_suggestion(
                session, suggestion_id=suggestion_id, status=status, now=now
            )
            if row is None:
                return "This suggestion was already decided, so nothing changed."
            if row.guild_id != interaction.guild_id:
                raise UserFacingError("This suggestion belongs to another server.")
            if status == SuggestionStatus.APPROVED:
                prompt = Prompt(
                    key=q.new_custom_key(),
                    area=row.area,
                    text=self.bot.cipher.decrypt(row.text_enc) or "",
                    custom=True,
                    suggested_by=None if row.anonymous else row.user_id,
                )
                await q.save_prompt(
                    session, guild_id=row.guild_id, prompt=prompt, action="approve", now=now
                )
                row.prompt_key = prompt.key
            await record_audit(
                session,
                guild_id=row.guild_id,
                actor_id=interaction.user.id,
                action=f"prompts.suggestion.{action}",
                now=now,
                target_id=suggestion_id,
            )
        if status == SuggestionStatus.APPROVED:
            return f"Approved: it is now prompt `{row.prompt_key}`."
        return "Declined. The member isn't notified."

    # ------------------------------------------------------------ /reflections (members)

    async def _subscription(self, interaction: discord.Interaction[Any], status: str) -> None:
        await interaction.response.defer(ephemeral=True)
        async with self.bot.database.session() as session:
            await set_prompt_subscription(
                session,
                guild_id=interaction.guild_id or 0,
                user_id=interaction.user.id,
                status=status,
                now=self.bot.now(),
            )
        text = {
            SubscriptionStatus.SUBSCRIBED: "You'll receive reflection prompts by DM. "
            "Reply to one to write a private reflection; `/reflections pause` stops them.",
            SubscriptionStatus.PAUSED: "Prompts by DM are paused. `/reflections resume` "
            "starts them again whenever you like.",
        }[status]
        await interaction.followup.send(text, ephemeral=True)

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
        text: str,
        anonymous: bool = False,
    ) -> None:
        """Suggest a reflection prompt to the moderators."""
        await interaction.response.defer(ephemeral=True)
        cleaned = clean_input(text)
        problems = check_prompt_text(cleaned)
        if problems:
            raise UserFacingError("That suggestion can't be sent yet: " + "; ".join(problems) + ".")
        async with self.bot.database.session() as session:
            await q.add_suggestion(
                session,
                guild_id=interaction.guild_id or 0,
                user_id=interaction.user.id,
                area=area.value,
                text=cleaned,
                anonymous=anonymous,
                cipher=self.bot.cipher,
                now=self.bot.now(),
            )
        name = " without your name" if anonymous else ""
        await interaction.followup.send(
            f"Thank you! Your suggestion went to the moderators{name}.", ephemeral=True
        )

    # ----------------------------------------------------------------------- /journal

    @app_commands.command(name="journal")
    @app_commands.guild_only()
    @app_commands.choices(area=AREA_CHOICES)
    async def journal(
        self, interaction: discord.Interaction[Any], area: app_commands.Choice[str] | None = None
    ) -> None:
        """Read your own private reflections."""
        await interaction.response.defer(ephemeral=True)
        view = JournalView(
            interaction.user.id,
            guild_id=interaction.guild_id or 0,
            area=area.value if area else None,
            page=0,
        )
        content, rendered = await view.render(self.bot)
        await interaction.followup.send(content, view=rendered, ephemeral=True)

    # -------------------------------------------------------------------- reflections

    async def get_reflection(self, reflection_id: int) -> Reflection | None:
        """The reflection row (its author is checked by the caller)."""
        async with self.bot.database.session() as session:
            return await session.get(Reflection, reflection_id)

    async def delivery_context(self, delivery_id: int) -> DeliveryContext | None:
        """The delivery, its occurrence and its prompt."""
        async with self.bot.database.session() as session:
            delivery = await session.get(PromptDelivery, delivery_id)
            if delivery is None:
                return None
            occurrence = await session.get(PromptOccurrence, delivery.occurrence_id)
            if occurrence is None:
                return None
            library = await self.library(session, delivery.guild_id)
        key = delivery.prompt_key or occurrence.prompt_key or ""
        return DeliveryContext(delivery, occurrence, library.get(key))

    async def may_reflect(self, delivery_id: int, user_id: int) -> bool:
        """The DM's recipient, either member of the pair, or anyone for a channel post."""
        async with self.bot.database.session() as session:
            delivery = await session.get(PromptDelivery, delivery_id)
            if delivery is None:
                return True  # the callback explains it has expired
            if delivery.kind == DeliveryKind.DM:
                return delivery.user_id == user_id
            if delivery.kind == DeliveryKind.PAIR:
                from bot.db.models.matching import Pair

                pair = await session.get(Pair, delivery.recipient_id)
                return pair is not None and user_id in (pair.mentee_id, pair.mentor_id)
        return True

    async def store_reflection(
        self, *, user_id: int, context: DeliveryContext, text: str
    ) -> tuple[str, discord.ui.View]:
        """Save a reflection encrypted; the reply offers sharing and, if needed, resources."""
        cleaned = clean_input(text)
        if not cleaned:
            raise UserFacingError("Your reflection was empty, so nothing was saved.")
        guild_id = context.delivery.guild_id
        async with self.bot.database.session() as session:
            row = await q.save_reflection(
                session,
                guild_id=guild_id,
                user_id=user_id,
                text=cleaned,
                cipher=self.bot.cipher,
                now=self.bot.now(),
                prompt_key=context.prompt.key if context.prompt else None,
                area=context.prompt.area if context.prompt else None,
                occurrence_id=context.occurrence.id,
                delivery_id=context.delivery.id,
            )
            pair = await q.pair_of_member(session, guild_id=guild_id, user_id=user_id)
            profile = None
            crisis = mentions_crisis(cleaned)
            if crisis:
                profile = await load_profile(
                    session, guild_id=guild_id, user_id=user_id, cipher=self.bot.cipher
                )
        log.info("reflection saved id=%s guild=%s", row.id, guild_id)
        parts = [
            "Saved to your private journal. Only you can read it (`/journal`), unless you "
            "choose to share an excerpt below."
        ]
        if crisis:
            region = resources_for(self.regions, profile.timezone if profile else None)
            parts.append(support_message(region))
        view = share_view(
            row.id or 0,
            pair=pair is not None,
            thread=context.occurrence.thread_id is not None,
        )
        return "\n\n".join(parts), view

    async def share_reflection(
        self, *, user: discord.abc.User, reflection_id: int, where: str, text: str
    ) -> str:
        """Post an excerpt the author chose into their pair space or the prompt's thread."""
        cleaned = clean_input(text)
        if not cleaned:
            raise UserFacingError("The excerpt was empty, so nothing was shared.")
        async with self.bot.database.session() as session:
            reflection = await session.get(Reflection, reflection_id)
            if reflection is None or reflection.user_id != user.id:
                raise UserFacingError("Only the person who wrote this can share it.")
            library = await self.library(session, reflection.guild_id)
            target_id: int | None = None
            if where == "pair":
                pair = await q.pair_of_member(
                    session, guild_id=reflection.guild_id, user_id=user.id
                )
                target_id = pair.channel_id if pair else None
                if target_id is None:
                    raise UserFacingError("You don't have an active pair space to share into.")
            else:
                occurrence = (
                    await session.get(PromptOccurrence, reflection.occurrence_id)
                    if reflection.occurrence_id
                    else None
                )
                target_id = occurrence.thread_id if occurrence else None
                if target_id is None:
                    raise UserFacingError("This prompt has no community thread to post in.")
        channel = self.bot.get_channel(target_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(target_id)
            except discord.HTTPException:
                raise UserFacingError(
                    "I can't reach that space any more, so nothing was shared."
                ) from None
        prompt = library.get(reflection.prompt_key or "")
        about = f" on *{safe_inline(prompt.text, limit=120)}*" if prompt else ""
        body = safe_block(cleaned, limit=500).replace("\n", "\n> ")
        try:
            await channel.send(  # type: ignore[union-attr]
                f"**{safe_inline(user.display_name, limit=40)}** shared from their reflection"
                f"{about}:\n> {body}"
            )
        except discord.HTTPException:
            raise UserFacingError(
                "Discord wouldn't let me post there, so nothing was shared."
            ) from None
        async with self.bot.database.session() as session:
            await q.mark_reflection_shared(
                session, reflection_id=reflection_id, where=where, now=self.bot.now()
            )
        log.info("reflection shared id=%s where=%s", reflection_id, where)
        return "Shared. Only the excerpt you chose was posted; the rest stays private."

    @commands.Cog.listener("on_message")
    async def on_dm_reply(self, message: discord.Message) -> None:
        """A reply to a prompt DM becomes a private reflection."""
        if message.guild is not None or message.author.bot:
            return
        if message.reference is None or message.reference.message_id is None:
            return
        async with self.bot.database.session() as session:
            delivery = await q.find_dm_delivery(
                session, user_id=message.author.id, message_id=message.reference.message_id
            )
        if delivery is None:
            return
        context = await self.delivery_context(delivery.id or 0)
        if context is None:
            return
        try:
            content, view = await self.store_reflection(
                user_id=message.author.id, context=context, text=message.content
            )
        except UserFacingError as error:
            content, view = error.message, discord.ui.View()
        await message.channel.send(content, view=view)


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(PromptsCog(bot, load_library(), load_resources()))
