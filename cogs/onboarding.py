"""Onboarding: the welcome, consent, the questionnaire page by page, and plain words in DMs.

The conversation is made of cards (a message with Continue / Skip / Back buttons) and modals
(one page of questions each). Every button is a DynamicItem that carries only the server id and
the page id: the member is always ``interaction.user`` and their state is read back from the
database, so buttons keep working after a restart and nobody can act on someone else's answers.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import ConsentStatus, SubscriptionStatus
from bot.db.queries.members import (
    get_member_profile,
    read_answers,
    record_consent,
    save_answers,
    set_prompt_subscription,
)
from bot.db.queries.moderation import record_audit
from bot.db.queries.onboarding import mark_completed, onboarding_counts, set_step
from bot.db.queries.setup import get_guild_settings
from bot.domain.crisis import load_resources, mentions_crisis, resources_for, support_message
from bot.domain.intents import NEEDS_SERVER, Intent, parse_intent
from bot.domain.onboarding import (
    DONE,
    HELP,
    MENU,
    consent_card,
    counts_text,
    fallback_text,
    fit,
    page_card,
    welcome_text,
)
from bot.domain.questionnaire import (
    Field,
    Page,
    PageOutcome,
    Questionnaire,
    current_values,
    load_questionnaire,
    validate_page,
)
from bot.domain.timezones import TimezoneResolver, load_aliases, local_time
from bot.errors import UserFacingError
from bot.gateway.checks import moderator_only
from bot.gateway.components import GuardedItem, LanternModal, OwnedView, custom_id
from cogs.mydata import DELETE_QUESTION, DeleteConfirmView

log = logging.getLogger("lantern.onboarding")

DMS_CLOSED = 50007


def _private(interaction: discord.Interaction[Any]) -> bool:
    return interaction.guild is not None


async def reply(
    interaction: discord.Interaction[Any], content: str, view: discord.ui.View | None = None
) -> None:
    """Answer privately (ephemeral in a server; a DM is already private)."""
    kwargs: dict[str, Any] = {"ephemeral": _private(interaction)}
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


def onboarding_cog(bot: Any) -> OnboardingCog:
    """The loaded onboarding cog (components find their logic through it)."""
    cog = bot.get_cog("OnboardingCog")
    if cog is None:
        raise UserFacingError("Onboarding is not available right now. Please try again soon.")
    return cog


# --------------------------------------------------------------------- persistent buttons


class StartButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:onb:start:(?P<guild>\d+)",
):
    """The welcome DM's Start button: shows consent, or resumes where the member stopped."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Start",
                style=discord.ButtonStyle.primary,
                custom_id=custom_id("onb", "start", guild_id),
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> StartButton:
        return cls(int(match["guild"]))

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await onboarding_cog(interaction.client).show_where_they_are(interaction, self.guild_id)


class ConsentButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:onb:consent:(?P<guild>\d+):(?P<choice>yes|no)",
):
    """I agree / No thanks on the consent card."""

    def __init__(self, guild_id: int, choice: str) -> None:
        yes = choice == "yes"
        super().__init__(
            discord.ui.Button(
                label="I agree" if yes else "No thanks",
                style=discord.ButtonStyle.success if yes else discord.ButtonStyle.secondary,
                custom_id=custom_id("onb", "consent", guild_id, choice),
            )
        )
        self.guild_id = guild_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ConsentButton:
        return cls(int(match["guild"]), match["choice"])

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        await onboarding_cog(interaction.client).decide_consent(
            interaction, self.guild_id, accepted=self.choice == "yes"
        )


class PageButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:onb:(?P<action>answer|skip|back):(?P<guild>\d+):(?P<page>\w+)",
):
    """Continue (open the page's form), Skip (optional pages) and Back on a page card."""

    LABELS = {"answer": "Continue", "skip": "Skip", "back": "Back"}

    def __init__(self, action: str, guild_id: int, page_id: str) -> None:
        style = discord.ButtonStyle.primary if action == "answer" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[action],
                style=style,
                custom_id=custom_id("onb", action, guild_id, page_id),
            )
        )
        self.action = action
        self.guild_id = guild_id
        self.page_id = page_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PageButton:
        return cls(match["action"], int(match["guild"]), match["page"])

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        cog = onboarding_cog(interaction.client)
        if self.action == "answer":
            await cog.open_page(interaction, self.guild_id, self.page_id)
        elif self.action == "skip":
            await cog.skip_page(interaction, self.guild_id, self.page_id)
        else:
            await cog.go_back(interaction, self.guild_id, self.page_id)


class PromptsButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lantern:onb:prompts:(?P<guild>\d+):(?P<choice>on|off)",
):
    """For members who declined matching: community prompts by DM, or not."""

    def __init__(self, guild_id: int, choice: str) -> None:
        on = choice == "on"
        super().__init__(
            discord.ui.Button(
                label="Send me prompts" if on else "No prompts",
                style=discord.ButtonStyle.primary if on else discord.ButtonStyle.secondary,
                custom_id=custom_id("onb", "prompts", guild_id, choice),
            )
        )
        self.guild_id = guild_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PromptsButton:
        return cls(int(match["guild"]), match["choice"])

    async def handle(self, interaction: discord.Interaction[Any]) -> None:
        cog = onboarding_cog(interaction.client)
        await cog.require_member(self.guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        status = (
            SubscriptionStatus.SUBSCRIBED
            if self.choice == "on"
            else SubscriptionStatus.UNSUBSCRIBED
        )
        async with cog.bot.database.session() as session:
            await set_prompt_subscription(
                session,
                guild_id=self.guild_id,
                user_id=interaction.user.id,
                status=status,
                now=cog.bot.now(),
            )
        log.info(
            "prompt subscription guild=%s user=%s status=%s",
            self.guild_id,
            interaction.user.id,
            status,
        )
        text = (
            "Lovely: you'll get community reflection prompts by DM. Say **pause prompts** to me "
            "any time."
            if self.choice == "on"
            else "Okay, no prompts by DM. You can change your mind with **resume prompts**."
        )
        await reply(interaction, text)


# --------------------------------------------------------------------- modal and views


class PageModal(LanternModal):
    """One page of questions; answers always land on the person who submits it."""

    def __init__(
        self,
        cog: OnboardingCog,
        *,
        guild_id: int,
        page: Page,
        fields: list[Field],
        owner_id: int,
        title: str,
        prefill: dict[str, Any],
        editing: bool,
    ) -> None:
        super().__init__(title=title, owner_id=owner_id)
        self.cog = cog
        self.guild_id = guild_id
        self.page = page
        self.fields = fields
        self.editing = editing
        self.inputs: dict[str, discord.ui.TextInput[Any] | discord.ui.Select[Any]] = {}
        for f in fields:
            component: discord.ui.TextInput[Any] | discord.ui.Select[Any]
            if f.is_text:
                default = prefill.get(f.custom_id)
                component = discord.ui.TextInput(
                    custom_id=f.custom_id,
                    style=discord.TextStyle.paragraph
                    if f.question.kind == "paragraph"
                    else discord.TextStyle.short,
                    placeholder=f.question.placeholder,
                    default=str(default)[:4000] if default else None,
                    required=False,
                    max_length=4000,
                )
            else:
                chosen = set(prefill.get(f.custom_id) or [])
                component = discord.ui.Select(
                    custom_id=f.custom_id,
                    min_values=0,
                    max_values=f.max_values,
                    required=False,
                    placeholder="Optional" if not f.required else "Please choose",
                    options=[
                        discord.SelectOption(
                            label=o.label, value=o.value, default=o.value in chosen
                        )
                        for o in f.options
                    ],
                )
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
        await self.cog.submit_page(interaction, self, self.raw_values())


class RetryView(OwnedView):
    """After a rejected page: reopen the form with what the member typed, nothing lost."""

    def __init__(self, cog: OnboardingCog, modal_args: dict[str, Any], owner_id: int) -> None:
        super().__init__(owner_id, timeout=1800)
        self.cog = cog
        self.modal_args = modal_args

    @discord.ui.button(label="Try again", style=discord.ButtonStyle.primary)
    async def again(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(PageModal(self.cog, **self.modal_args))


class GuildPickView(OwnedView):
    """'Which server is this about?' for members who share several servers with Lantern."""

    def __init__(
        self, cog: OnboardingCog, intent: Intent, guilds: list[discord.Guild], owner_id: int
    ) -> None:
        super().__init__(owner_id, timeout=900)
        self.cog = cog
        self.intent = intent
        select: discord.ui.Select[Any] = discord.ui.Select(
            placeholder="Choose a server",
            options=[
                discord.SelectOption(label=g.name[:100], value=str(g.id)) for g in guilds[:25]
            ],
        )
        select.callback = self.chosen  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def chosen(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = int(self.select.values[0])
        self.stop()
        await self.cog.run_intent(interaction, self.intent, guild_id)


def card_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A view holding persistent buttons (they keep working after a restart)."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


# --------------------------------------------------------------------- the cog


class OnboardingCog(commands.Cog):
    """Welcome, consent, questionnaire, and the plain-words DM conversation."""

    moderators = app_commands.Group(
        name="onboarding",
        description="Onboarding totals for moderators",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: LanternBot, questionnaire: Questionnaire) -> None:
        self.crisis_regions = load_resources()
        self.bot = bot
        self.q = questionnaire
        self.zones = TimezoneResolver(available_timezones(), load_aliases())

    # ------------------------------------------------------------ helpers

    async def require_member(self, guild_id: int, user_id: int) -> discord.Guild:
        """The server, if the member is still in it (otherwise a kind refusal).

        The member cache can be cold right after a restart, so a miss is checked with Discord.
        """
        guild = self.bot.get_guild(guild_id)
        if guild is not None and guild.get_member(user_id) is None:
            try:
                await guild.fetch_member(user_id)
            except discord.NotFound:
                guild = None
        if guild is None:
            raise UserFacingError(
                "You're no longer in that server, so there's nothing to fill in there."
            )
        return guild

    async def _state(self, guild_id: int, user_id: int) -> tuple[Any, dict[str, Any]]:
        async with self.bot.database.session() as session:
            row = await get_member_profile(session, guild_id=guild_id, user_id=user_id)
        answers = read_answers(row, self.bot.cipher) if row is not None else {}
        return row, answers

    def page_view(self, guild_id: int, page: Page, role: str | None) -> discord.ui.View:
        """Continue, and Skip/Back where they apply."""
        items: list[discord.ui.Item[Any]] = [PageButton("answer", guild_id, page.id)]
        if page.skippable(role):
            items.append(PageButton("skip", guild_id, page.id))
        if self.q.previous_page_id(role, page.id) is not None:
            items.append(PageButton("back", guild_id, page.id))
        return card_view(*items)

    def consent_view(self, guild_id: int) -> discord.ui.View:
        return card_view(ConsentButton(guild_id, "yes"), ConsentButton(guild_id, "no"))

    def current_page(self, row: Any, role: str | None) -> Page:
        step = row.step if row is not None else None
        ids = [p.id for p in self.q.pages_for(role)]
        return self.q.page(step) if step in ids else self.q.first_page()

    async def show_page_card(
        self,
        interaction: discord.Interaction[Any],
        guild_id: int,
        page: Page,
        role: str | None,
        notes: list[str] | tuple[str, ...] = (),
    ) -> None:
        await reply(
            interaction,
            page_card(self.q, page, role, notes=notes),
            self.page_view(guild_id, page, role),
        )

    async def show_where_they_are(
        self, interaction: discord.Interaction[Any], guild_id: int
    ) -> None:
        """Consent first; then the page they stopped at; or the 'all done' note."""
        guild = await self.require_member(guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        row, answers = await self._state(guild_id, interaction.user.id)
        if row is None or row.consent_status != ConsentStatus.ACCEPTED:
            note = ""
            if row is not None and row.consent_status == ConsentStatus.DECLINED:
                note = "You chose community prompts only. If you've changed your mind:\n\n"
            await reply(interaction, fit(note + consent_card(self.q)), self.consent_view(guild_id))
            return
        if row.completed_at is not None:
            await reply(
                interaction,
                f"You've finished onboarding in **{discord.utils.escape_markdown(guild.name)}**. "
                "`/profile` shows your answers and lets you change any of them.",
            )
            return
        role = answers.get("role")
        await self.show_page_card(interaction, guild_id, self.current_page(row, role), role)

    # ------------------------------------------------------------ consent

    async def decide_consent(
        self, interaction: discord.Interaction[Any], guild_id: int, *, accepted: bool
    ) -> None:
        await self.require_member(guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        status = ConsentStatus.ACCEPTED if accepted else ConsentStatus.DECLINED
        async with self.bot.database.session() as session:
            row = await record_consent(
                session,
                guild_id=guild_id,
                user_id=interaction.user.id,
                status=status,
                version=self.q.consent.version,
                now=self.bot.now(),
            )
            answers = read_answers(row, self.bot.cipher)
            step, completed = row.step, row.completed_at is not None
        log.info(
            "consent recorded guild=%s user=%s status=%s version=%s",
            guild_id,
            interaction.user.id,
            status,
            self.q.consent.version,
        )
        if not accepted:
            await reply(
                interaction,
                "No problem: you won't be matched, and Lantern won't ask you anything more. "
                "Would you still like the community's reflection prompts by DM?",
                card_view(PromptsButton(guild_id, "on"), PromptsButton(guild_id, "off")),
            )
            return
        if completed:
            await reply(interaction, "Thank you! Your profile is complete; `/profile` shows it.")
            return
        role = answers.get("role")
        ids = [p.id for p in self.q.pages_for(role)]
        page = self.q.page(step) if step in ids else self.q.first_page()
        await self.show_page_card(interaction, guild_id, page, role, ["Thank you! Let's begin."])

    # ------------------------------------------------------------ pages

    def build_modal(
        self,
        *,
        guild_id: int,
        page: Page,
        role: str | None,
        answers: dict[str, Any],
        owner_id: int,
        editing: bool,
        prefill: dict[str, Any] | None = None,
    ) -> PageModal:
        fields = self.q.fields(page, role, answers)
        if prefill is None:
            prefill = {}
            for f in fields:
                values = current_values(f, answers)
                prefill[f.custom_id] = values[0] if f.is_text and values else values
        title = page.title if editing else f"{self.q.progress(role, page.id)}: {page.title}"
        return PageModal(
            self,
            guild_id=guild_id,
            page=page,
            fields=fields,
            owner_id=owner_id,
            title=title,
            prefill=prefill,
            editing=editing,
        )

    async def open_page(
        self,
        interaction: discord.Interaction[Any],
        guild_id: int,
        page_id: str,
        *,
        editing: bool = False,
    ) -> None:
        """Open the form for ``page_id`` pre-filled with the member's saved answers."""
        await self.require_member(guild_id, interaction.user.id)
        if not self.q.has_page(page_id):
            raise UserFacingError(
                "That part of the questions has changed. Run `/onboard` to carry on."
            )
        row, answers = await self._state(guild_id, interaction.user.id)
        if row is None or row.consent_status != ConsentStatus.ACCEPTED:
            await interaction.response.send_message(
                consent_card(self.q),
                view=self.consent_view(guild_id),
                ephemeral=_private(interaction),
            )
            return
        modal = self.build_modal(
            guild_id=guild_id,
            page=self.q.page(page_id),
            role=answers.get("role"),
            answers=answers,
            owner_id=interaction.user.id,
            editing=editing or row.completed_at is not None,
        )
        await interaction.response.send_modal(modal)

    async def submit_page(
        self, interaction: discord.Interaction[Any], modal: PageModal, raw: dict[str, Any]
    ) -> None:
        """Validate and save one page, then show the next one (or the end)."""
        user_id = interaction.user.id
        guild_id = modal.guild_id
        page = modal.page
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        await self.require_member(guild_id, user_id)
        row, answers = await self._state(guild_id, user_id)
        if row is None or row.consent_status != ConsentStatus.ACCEPTED:
            raise UserFacingError(
                "Lantern needs your consent before it keeps any answers. Run `/onboard` to see it."
            )
        role = answers.get("role")
        outcome: PageOutcome = validate_page(
            self.q, page, role, raw, answers=answers, zones=self.zones
        )
        if not outcome.ok:
            log.info(
                "onboarding page rejected guild=%s user=%s page=%s problems=%d",
                guild_id,
                user_id,
                page.id,
                len(outcome.errors),
            )
            text = (
                "I couldn't save that page yet, and nothing you saved before has changed:\n"
                + "\n".join(f"- {e}" for e in outcome.errors)
                + "\n\nPress **Try again**: the form keeps what you typed."
            )
            retry = RetryView(
                self,
                {
                    "guild_id": guild_id,
                    "page": page,
                    "fields": modal.fields,
                    "owner_id": user_id,
                    "title": modal.title,
                    "prefill": raw,
                    "editing": modal.editing,
                },
                user_id,
            )
            await reply(interaction, fit(text), retry)
            return
        new_role = outcome.answers.get("role", role)
        editing = modal.editing or row.completed_at is not None
        next_id = None if editing else self.q.next_page_id(new_role, page.id)
        now = self.bot.now()
        async with self.bot.database.session() as session:
            saved = await save_answers(
                session,
                guild_id=guild_id,
                user_id=user_id,
                answers=outcome.answers,
                cipher=self.bot.cipher,
                now=now,
                next_step=None if editing else (next_id or DONE),
            )
            merged = read_answers(saved, self.bot.cipher)
        log.info(
            "onboarding page saved guild=%s user=%s page=%s next=%s",
            guild_id,
            user_id,
            page.id,
            next_id or DONE,
        )
        notes = list(outcome.notes)
        if any(isinstance(v, str) and mentions_crisis(v) for v in outcome.answers.values()):
            # Only this member sees it; nobody is alerted (RELIABILITY.md promise 17).
            notes.append(
                support_message(resources_for(self.crisis_regions, merged.get("timezone")))
            )
        zone = outcome.answers.get("timezone")
        if zone:
            notes.append(
                f"I've set your time zone to **{zone}** (it's {local_time(zone, now)} there now). "
                "If that's not right, press **Back** and change it."
                if not editing
                else f"Your time zone is now **{zone}** (it's {local_time(zone, now)} there now)."
            )
        if editing:
            await self.after_edit(interaction, guild_id, merged, notes)
            return
        if next_id is None:
            await self.finish(interaction, guild_id, merged, notes)
            return
        await self.show_page_card(interaction, guild_id, self.q.page(next_id), new_role, notes)

    async def after_edit(
        self,
        interaction: discord.Interaction[Any],
        guild_id: int,
        answers: dict[str, Any],
        notes: list[str],
    ) -> None:
        role = answers.get("role")
        missing = self.missing_pages(role, answers)
        if "prompts_dm" in answers:
            await self._sync_prompts(guild_id, interaction.user.id, bool(answers["prompts_dm"]))
        if missing:
            await self.show_page_card(
                interaction,
                guild_id,
                missing[0],
                role,
                [*notes, "Saved. One more page needs an answer for your new role:"],
            )
            return
        await reply(
            interaction, fit("\n".join([*notes, "Saved. `/profile` shows your updated answers."]))
        )

    def missing_pages(self, role: str | None, answers: dict[str, Any]) -> list[Page]:
        """Pages with a required answer missing for ``role``."""
        out = []
        for page in self.q.pages_for(role):
            for question in page.questions_for(role):
                if question.required and answers.get(question.id) in (None, "", []):
                    out.append(page)
                    break
        return out

    async def _sync_prompts(self, guild_id: int, user_id: int, wanted: bool) -> None:
        async with self.bot.database.session() as session:
            await set_prompt_subscription(
                session,
                guild_id=guild_id,
                user_id=user_id,
                status=SubscriptionStatus.SUBSCRIBED if wanted else SubscriptionStatus.UNSUBSCRIBED,
                now=self.bot.now(),
            )

    async def finish(
        self,
        interaction: discord.Interaction[Any],
        guild_id: int,
        answers: dict[str, Any],
        notes: list[str],
    ) -> None:
        """Mark onboarding complete once, set prompts, tell the rest of Lantern."""
        user_id = interaction.user.id
        async with self.bot.database.session() as session:
            first = await mark_completed(
                session, guild_id=guild_id, user_id=user_id, now=self.bot.now()
            )
            await set_prompt_subscription(
                session,
                guild_id=guild_id,
                user_id=user_id,
                status=SubscriptionStatus.SUBSCRIBED
                if answers.get("prompts_dm")
                else SubscriptionStatus.UNSUBSCRIBED,
                now=self.bot.now(),
            )
        if first:
            log.info("onboarded guild=%s user=%s", guild_id, user_id)
            self.bot.dispatch("lantern_onboarding_completed", guild_id, user_id)
        prompts = (
            "You'll get reflection prompts by DM (say **pause prompts** to me any time)."
            if answers.get("prompts_dm")
            else "You won't get prompts by DM; you can change that in `/profile`."
        )
        text = "\n".join(
            [
                *notes,
                "**All done, thank you!** Your profile is saved.",
                prompts,
                "`/profile` shows your answers and lets you change any of them; "
                "`/mydata` lets you download or delete them.",
            ]
        )
        await reply(interaction, fit(text))

    async def skip_page(
        self, interaction: discord.Interaction[Any], guild_id: int, page_id: str
    ) -> None:
        await self.require_member(guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        row, answers = await self._state(guild_id, interaction.user.id)
        role = answers.get("role")
        if (
            row is None
            or row.consent_status != ConsentStatus.ACCEPTED
            or not self.q.has_page(page_id)
        ):
            raise UserFacingError("That has expired. Run `/onboard` to carry on where you were.")
        page = self.q.page(page_id)
        if not page.skippable(role):
            raise UserFacingError(
                "This page has a question that needs an answer, so it can't be skipped."
            )
        next_id = self.q.next_page_id(role, page_id)
        async with self.bot.database.session() as session:
            await set_step(
                session,
                guild_id=guild_id,
                user_id=interaction.user.id,
                step=next_id or DONE,
                now=self.bot.now(),
            )
        log.info(
            "onboarding page skipped guild=%s user=%s page=%s",
            guild_id,
            interaction.user.id,
            page_id,
        )
        if next_id is None:
            await self.finish(interaction, guild_id, answers, [])
            return
        await self.show_page_card(interaction, guild_id, self.q.page(next_id), role, ["Skipped."])

    async def go_back(
        self, interaction: discord.Interaction[Any], guild_id: int, page_id: str
    ) -> None:
        await self.require_member(guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=_private(interaction), thinking=True)
        row, answers = await self._state(guild_id, interaction.user.id)
        role = answers.get("role")
        previous = self.q.previous_page_id(role, page_id) if self.q.has_page(page_id) else None
        if row is None or previous is None:
            raise UserFacingError("There's no earlier page. Run `/onboard` to carry on.")
        async with self.bot.database.session() as session:
            await set_step(
                session,
                guild_id=guild_id,
                user_id=interaction.user.id,
                step=previous,
                now=self.bot.now(),
            )
        await self.show_page_card(interaction, guild_id, self.q.page(previous), role)

    # ------------------------------------------------------------ commands

    @app_commands.command(name="onboard")
    @app_commands.guild_only()
    async def onboard(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Start or continue your Lantern profile (only you see it)."""
        assert interaction.guild_id is not None
        row, answers = await self._state(interaction.guild_id, interaction.user.id)
        if (
            row is not None
            and row.consent_status == ConsentStatus.ACCEPTED
            and row.completed_at is None
        ):
            role = answers.get("role")
            page = self.current_page(row, role)
            modal = self.build_modal(
                guild_id=interaction.guild_id,
                page=page,
                role=role,
                answers=answers,
                owner_id=interaction.user.id,
                editing=False,
            )
            await interaction.response.send_modal(modal)
            return
        await self.show_where_they_are(interaction, interaction.guild_id)

    @moderators.command(name="status")
    @moderator_only()
    async def status(self, interaction: discord.Interaction[LanternBot]) -> None:
        """How many members started, finished and agreed to onboarding (totals only)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.database.session() as session:
            counts = await onboarding_counts(session, guild_id=interaction.guild_id)
            await record_audit(
                session,
                guild_id=interaction.guild_id,
                actor_id=interaction.user.id,
                action="onboarding_status",
                now=self.bot.now(),
            )
        await interaction.followup.send(counts_text(counts), ephemeral=True)

    # ------------------------------------------------------------ welcome

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        try:
            await member.send(
                welcome_text(member.guild.name), view=card_view(StartButton(member.guild.id))
            )
            log.info("welcome sent guild=%s user=%s", member.guild.id, member.id)
        except discord.Forbidden as exc:
            if exc.code != DMS_CLOSED:
                log.warning(
                    "welcome DM refused guild=%s user=%s code=%s",
                    member.guild.id,
                    member.id,
                    exc.code,
                )
            await self._welcome_in_channel(member)
        except discord.HTTPException as exc:
            log.warning(
                "welcome DM failed guild=%s user=%s status=%s",
                member.guild.id,
                member.id,
                exc.status,
            )

    async def _welcome_in_channel(self, member: discord.Member) -> None:
        async with self.bot.database.session() as session:
            settings = await get_guild_settings(session, guild_id=member.guild.id)
        channel = None
        if settings is not None and settings.welcome_channel_id:
            channel = member.guild.get_channel(settings.welcome_channel_id)
        if channel is None:
            channel = member.guild.system_channel
        if not isinstance(channel, discord.TextChannel):
            log.warning(
                "no welcome channel for DMs-closed member guild=%s user=%s",
                member.guild.id,
                member.id,
            )
            return
        try:
            await channel.send(
                fallback_text(member.mention),
                allowed_mentions=discord.AllowedMentions(
                    users=[member], everyone=False, roles=False
                ),
            )
            log.info(
                "welcome posted in channel guild=%s user=%s channel=%s",
                member.guild.id,
                member.id,
                channel.id,
            )
        except discord.HTTPException as exc:
            log.warning(
                "welcome fallback failed guild=%s channel=%s status=%s",
                member.guild.id,
                channel.id,
                exc.status,
            )

    # ------------------------------------------------------------ plain words in DMs

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot or message.reference is not None:
            return
        if not isinstance(message.channel, discord.DMChannel):
            return
        intent = parse_intent(message.content or "")
        log.info("dm intent user=%s intent=%s", message.author.id, intent)
        user = message.author
        if intent in NEEDS_SERVER:
            guilds = [g for g in self.bot.guilds if g.get_member(user.id) is not None]
            if not guilds:
                await message.channel.send(
                    "I can't find a server we share any more, so there's nothing to look up."
                )
                return
            if len(guilds) > 1:
                await message.channel.send(
                    "We share more than one server. Which one is this about?",
                    view=GuildPickView(self, intent, guilds, user.id),
                )
                return
            await self.run_intent_in_dm(message, intent, guilds[0].id)
            return
        await self.run_intent_in_dm(message, intent, None)

    async def run_intent_in_dm(
        self, message: discord.Message, intent: Intent, guild_id: int | None
    ) -> None:
        content, view = await self.answer_intent(message.author, intent, guild_id)
        if view is None:
            await message.channel.send(content)
        else:
            await message.channel.send(content, view=view)

    async def run_intent(
        self, interaction: discord.Interaction[Any], intent: Intent, guild_id: int
    ) -> None:
        """Carry out ``intent`` for the server picked in the chooser."""
        await interaction.response.defer(thinking=True)
        content, view = await self.answer_intent(interaction.user, intent, guild_id)
        await reply(interaction, content, view)

    async def answer_intent(
        self, user: discord.abc.User, intent: Intent, guild_id: int | None
    ) -> tuple[str, discord.ui.View | None]:
        """What to say (and which buttons to offer) for a plain-words request."""
        if intent is Intent.HELP:
            return HELP, None
        if intent is Intent.DELETE:
            return DELETE_QUESTION, DeleteConfirmView(self.bot, user.id)
        if intent is Intent.MATCH:
            matching = self.bot.get_cog("MatchingCog")
            if matching is None:
                return (
                    "Matching is paused right now. Please try `/match request` in the server "
                    "a little later.",
                    None,
                )
            if guild_id is not None:
                return await matching.request_for(guild_id, user.id), None  # type: ignore[attr-defined]
            return await matching.request_from_dm(user), None  # type: ignore[attr-defined]
        if intent is Intent.UNKNOWN or guild_id is None:
            return "I'm not sure I understood that, but I'm happy to help.\n" + MENU, None
        row, answers = await self._state(guild_id, user.id)
        if intent is Intent.PROFILE:
            from bot.domain.onboarding import profile_summary

            guild = self.bot.get_guild(guild_id)
            if row is None:
                return (
                    "You haven't started your profile yet. Press **Start** when you're ready.",
                    card_view(StartButton(guild_id)),
                )
            text = profile_summary(
                self.q,
                answers,
                consent_status=row.consent_status,
                completed=row.completed_at is not None,
                guild_name=guild.name if guild else "this server",
            )
            return fit(text + "\n-# Use `/profile` in the server to change any answer."), None
        if intent in (Intent.PAUSE_PROMPTS, Intent.RESUME_PROMPTS):
            pause = intent is Intent.PAUSE_PROMPTS
            async with self.bot.database.session() as session:
                await set_prompt_subscription(
                    session,
                    guild_id=guild_id,
                    user_id=user.id,
                    status=SubscriptionStatus.PAUSED if pause else SubscriptionStatus.SUBSCRIBED,
                    now=self.bot.now(),
                )
            log.info(
                "prompts %s guild=%s user=%s", "paused" if pause else "resumed", guild_id, user.id
            )
            if pause:
                return (
                    "Prompts paused. Say **resume prompts** whenever you'd like them again.",
                    None,
                )
            return "Prompts are back on: you'll get the next one by DM.", None
        # START: where they are.
        if row is None or row.consent_status != ConsentStatus.ACCEPTED:
            return consent_card(self.q), self.consent_view(guild_id)
        if row.completed_at is not None:
            return "You've finished onboarding already. `/profile` shows your answers.", None
        role = answers.get("role")
        page = self.current_page(row, role)
        return page_card(self.q, page, role), self.page_view(guild_id, page, role)


async def setup(bot: LanternBot) -> None:
    questionnaire = load_questionnaire()
    bot.register_components(StartButton, ConsentButton, PageButton, PromptsButton)
    await bot.add_cog(OnboardingCog(bot, questionnaire))
