"""/matching: moderators run batch rounds, match by hand, see the queue and tune weights.
Never shows questionnaire answers — names, wait times and aggregate scores only."""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import LanternBot
from bot.db.models import RequestStatus
from bot.db.queries import matching as q
from bot.db.queries.moderation import record_audit
from bot.domain.introductions import format_hours
from bot.domain.matching import (
    Assignment,
    MentorPool,
    MentorSlot,
    RoundResult,
    Weights,
    WeightsError,
    assign_round,
    load_weights,
)
from bot.errors import UserFacingError
from bot.gateway.checks import moderator_only
from bot.gateway.components import OwnedView
from bot.gateway.messenger import display_name
from cogs.matching import MatchingCog, MatchingError

log = logging.getLogger("lantern.matching")

PROGRESS_EVERY = 10


def _matching(bot: LanternBot) -> MatchingCog:
    cog = bot.get_cog("MatchingCog")
    if not isinstance(cog, MatchingCog):
        raise UserFacingError("Matching isn't running right now. Please try again shortly.")
    return cog


class RoundPreview(OwnedView):
    """Publish or discard a previewed batch round."""

    def __init__(self, cog: MatchingAdminCog, owner_id: int, guild_id: int, result: RoundResult):
        super().__init__(owner_id, timeout=900)
        self.cog = cog
        self.guild_id = guild_id
        self.result = result

    @discord.ui.button(label="Send introductions", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content="Sending introductions…", view=None)
        self.stop()
        sent = await self.cog.publish_round(interaction, self.guild_id, self.result.assignments)
        await interaction.edit_original_response(
            content=f"Done: {sent} introduction{'s' if sent != 1 else ''} sent. "
            "Each mentee has been told, and each mentor has the card to accept or decline."
        )

    @discord.ui.button(label="Discard", style=discord.ButtonStyle.secondary)
    async def discard(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Discarded. Nothing was sent.", view=None)


class MatchingAdminCog(commands.Cog):
    """Moderator tools for matching."""

    matching = app_commands.Group(
        name="matching",
        description="Moderators: run and tune mentor matching",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot

    async def _name(self, guild_id: int, user_id: int) -> str:
        return await display_name(self.bot.get_guild(guild_id), user_id, f"member {user_id}")

    async def _audit(
        self, interaction: discord.Interaction[Any], action: str, target: int | None = None
    ) -> None:
        assert interaction.guild_id is not None
        async with self.bot.database.session() as session:
            await record_audit(
                session,
                guild_id=interaction.guild_id,
                actor_id=interaction.user.id,
                action=action,
                target_user_id=target,
                now=self.bot.now(),
            )

    async def plan_round(self, guild_id: int) -> RoundResult:
        """Solve a batch round for everyone waiting, without sending anything."""
        cog = _matching(self.bot)
        weights = await cog.weights_for(guild_id)
        async with self.bot.database.session() as session:
            waiting = await q.waiting_requests(session, guild_id=guild_id)
            mentees = []
            for request in waiting:
                found = await q.load_matchable_profile(
                    session, guild_id=guild_id, user_id=request.mentee_id, cipher=self.bot.cipher
                )
                if found is not None and found[1].is_mentee:
                    mentees.append(found[1])
            mentors = await q.list_available_mentors(
                session, guild_id=guild_id, cipher=self.bot.cipher
            )
            forbidden = await q.forbidden_pairs(session, guild_id=guild_id)
        return assign_round(
            mentees,
            [MentorSlot(p, free) for p, free in mentors],
            forbidden=frozenset(forbidden),
            weights=weights,
        )

    async def publish_round(
        self,
        interaction: discord.Interaction[Any],
        guild_id: int,
        assignments: tuple[Assignment, ...],
    ) -> int:
        """Create and deliver the round's introductions, re-checking each one; shows progress."""
        cog = _matching(self.bot)
        expiry = await cog.expiry_for(guild_id)
        now = self.bot.now()
        sent = 0
        for index, assignment in enumerate(assignments, start=1):
            async with self.bot.database.session() as session:
                intro = await q.create_introduction(
                    session,
                    guild_id=guild_id,
                    mentee_id=assignment.mentee_id,
                    mentor_id=assignment.mentor_id,
                    score=assignment.score,
                    reasons=assignment.reasons,
                    cipher=self.bot.cipher,
                    now=now,
                    expires_at=now + expiry,
                )
            if intro is not None:
                await cog.deliver_introduction(
                    intro, mentee_reasons=assignment.reasons, expiry=expiry
                )
                sent += 1
            if index % PROGRESS_EVERY == 0 and index < len(assignments):
                await interaction.edit_original_response(
                    content=f"Sending introductions… {index} of {len(assignments)}"
                )
        await self._audit(interaction, "matching_round")
        log.info("round published guild=%s introductions=%d", guild_id, sent)
        return sent

    @matching.command(name="round")
    @moderator_only()
    async def round_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """Preview a matching round for everyone waiting; nothing is sent until you confirm."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.plan_round(interaction.guild_id)
        if not result.assignments and not result.unmatched:
            await interaction.followup.send(
                "Nobody is waiting for a mentor right now.", ephemeral=True
            )
            return
        lines = [
            f"**Matching round preview** — {len(result.assignments)} introduction"
            f"{'s' if len(result.assignments) != 1 else ''}",
        ]
        if result.assignments:
            average = sum(a.score for a in result.assignments) / len(result.assignments)
            lines.append(f"Average compatibility: {average:.0f}/100")
        if result.unmatched:
            lines.append(f"\n**Staying on the waiting list ({len(result.unmatched)})**")
            for mentee_id, why in list(result.unmatched.items())[:15]:
                lines.append(f"- {await self._name(interaction.guild_id, mentee_id)}: {why}")
            if len(result.unmatched) > 15:
                lines.append(f"- …and {len(result.unmatched) - 15} more")
        lines.append("\nNothing is sent until you press **Send introductions**.")
        view = (
            RoundPreview(self, interaction.user.id, interaction.guild_id, result)
            if result.assignments
            else None
        )
        kwargs: dict[str, Any] = {"view": view} if view else {}
        await interaction.followup.send("\n".join(lines)[:2000], ephemeral=True, **kwargs)

    @matching.command(name="manual")
    @moderator_only()
    @app_commands.describe(
        mentee="The member looking for a mentor", mentor="The mentor to introduce"
    )
    async def manual_command(
        self,
        interaction: discord.Interaction[LanternBot],
        mentee: discord.Member,
        mentor: discord.Member,
    ) -> None:
        """Introduce a mentee to a mentor you choose; Lantern's rules still apply."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        await interaction.response.defer(ephemeral=True, thinking=True)
        cog = _matching(self.bot)
        if mentee.id == mentor.id:
            raise MatchingError("A member can't mentor themselves, so nothing changed.")
        now = self.bot.now()
        async with self.bot.database.session() as session:
            mentee_found = await q.load_matchable_profile(
                session, guild_id=guild_id, user_id=mentee.id, cipher=self.bot.cipher
            )
            if mentee_found is None or not mentee_found[1].is_mentee:
                raise MatchingError(
                    f"{mentee.display_name} hasn't finished onboarding as a mentee with consent "
                    "to matching, so they can't be introduced yet."
                )
            mentors = dict(
                (p.user_id, (p, free))
                for p, free in await q.list_available_mentors(
                    session, guild_id=guild_id, cipher=self.bot.cipher
                )
            )
            if mentor.id not in mentors:
                raise MatchingError(
                    f"{mentor.display_name} isn't available: they need a finished mentor profile "
                    "with consent, free capacity, and not be paused."
                )
            if mentor.id in await q.forbidden_mentors(
                session, guild_id=guild_id, mentee_id=mentee.id
            ):
                raise MatchingError(
                    "These two can't be introduced: one blocked the other, or this introduction "
                    "was already made before."
                )
            if await q.active_pair_for_mentee(session, guild_id=guild_id, mentee_id=mentee.id):
                raise MatchingError(f"{mentee.display_name} already has a mentor.")
            await q.open_request(session, guild_id=guild_id, mentee_id=mentee.id, now=now)
            request = await q.get_request(session, guild_id=guild_id, mentee_id=mentee.id)
            if request is None or request.status != RequestStatus.WAITING:
                raise MatchingError(
                    f"{mentee.display_name} is already waiting on an introduction; wait for that "
                    "mentor's answer first."
                )
        pool = MentorPool.build([MentorSlot(*mentors[mentor.id])], await cog.weights_for(guild_id))
        suggestion = pool.suggest(mentee_found[1], k=1)
        score = suggestion[0].score if suggestion else 0.0
        reasons = suggestion[0].reasons if suggestion else ()
        expiry = await cog.expiry_for(guild_id)
        async with self.bot.database.session() as session:
            intro = await q.create_introduction(
                session,
                guild_id=guild_id,
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                score=score,
                reasons=reasons,
                cipher=self.bot.cipher,
                now=now,
                expires_at=now + expiry,
            )
        if intro is None:
            raise MatchingError("Something changed while I was checking; please try again.")
        await cog.deliver_introduction(intro, mentee_reasons=reasons, expiry=expiry)
        await self._audit(interaction, "matching_manual", target=mentee.id)
        await interaction.followup.send(
            f"Introduced {mentee.display_name} to {mentor.display_name} "
            f"(compatibility {score:.0f}/100). {mentor.display_name} has "
            f"{format_hours(expiry)} to answer.",
            ephemeral=True,
        )

    @matching.command(name="queue")
    @moderator_only()
    async def queue_command(self, interaction: discord.Interaction[LanternBot]) -> None:
        """List mentees waiting for a mentor and how long they've waited."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.database.session() as session:
            waiting = await q.waiting_requests(session, guild_id=interaction.guild_id)
        if not waiting:
            await interaction.followup.send(
                "Nobody is waiting for a mentor right now.", ephemeral=True
            )
            return
        now = self.bot.now()
        lines = [f"**Waiting for a mentor ({len(waiting)})**"]
        for index, request in enumerate(waiting[:25], start=1):
            waited = format_hours(now - request.requested_at)
            lines.append(
                f"{index}. {await self._name(interaction.guild_id, request.mentee_id)} — {waited}"
            )
        if len(waiting) > 25:
            lines.append(f"…and {len(waiting) - 25} more")
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @matching.command(name="mode")
    @moderator_only()
    @app_commands.describe(introductions="Introduce at once when someone asks, or only in rounds")
    @app_commands.choices(
        introductions=[
            app_commands.Choice(name="at once, when someone asks (default)", value="instant"),
            app_commands.Choice(name="only in moderators' batch rounds", value="rounds"),
        ]
    )
    async def mode_command(
        self,
        interaction: discord.Interaction[LanternBot],
        introductions: app_commands.Choice[str],
    ) -> None:
        """Choose whether requests are introduced at once or gathered for batch rounds."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        rounds = introductions.value == "rounds"
        async with self.bot.database.session() as session:
            await q.save_matching_settings(
                session, guild_id=interaction.guild_id, now=self.bot.now(), rounds_only=rounds
            )
        await self._audit(interaction, "matching_mode")
        text = (
            "Requests now wait for your batch rounds: run `/matching round` to preview and send "
            "the best set of introductions for everyone waiting."
            if rounds
            else "Requests are now introduced at once, to the best available mentor."
        )
        await interaction.followup.send(text, ephemeral=True)
        if not rounds:
            await _matching(self.bot).try_waiting(interaction.guild_id)

    @matching.command(name="weights")
    @moderator_only()
    @app_commands.describe(
        areas="Weight of shared mentorship areas (0–10)",
        heritage="Weight of the heritage preference (0–10)",
        languages="Weight of shared languages (0–10)",
        career="Weight of the same career field (0–10)",
        timezone="Weight of being close in time zone (0–10)",
        cadence="Weight of a matching meeting rhythm (0–10)",
        expiry_hours="Hours a mentor has to answer an introduction (6–336)",
    )
    async def weights_command(
        self,
        interaction: discord.Interaction[LanternBot],
        areas: app_commands.Range[float, 0, 10] | None = None,
        heritage: app_commands.Range[float, 0, 10] | None = None,
        languages: app_commands.Range[float, 0, 10] | None = None,
        career: app_commands.Range[float, 0, 10] | None = None,
        timezone: app_commands.Range[float, 0, 10] | None = None,
        cadence: app_commands.Range[float, 0, 10] | None = None,
        expiry_hours: app_commands.Range[int, 6, 336] | None = None,
    ) -> None:
        """Show or tune how matching weighs each criterion for this server."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        cog = _matching(self.bot)
        current = asdict(await cog.weights_for(interaction.guild_id))
        given = {
            "areas": areas,
            "heritage": heritage,
            "languages": languages,
            "career": career,
            "timezone": timezone,
            "cadence": cadence,
        }
        changes = {k: float(v) for k, v in given.items() if v is not None}
        if changes or expiry_hours is not None:
            try:
                new = load_weights({**current, **changes})
            except WeightsError as exc:
                raise MatchingError(
                    "Those weights can't be used, so nothing changed: "
                    + "; ".join(exc.problems)
                    + "."
                ) from None
            async with self.bot.database.session() as session:
                await q.save_matching_settings(
                    session,
                    guild_id=interaction.guild_id,
                    now=self.bot.now(),
                    weights=asdict(new) if changes else None,
                    expiry_hours=expiry_hours,
                )
            await self._audit(interaction, "matching_weights")
            current = asdict(new)
        expiry = await cog.expiry_for(interaction.guild_id)
        lines = ["**Matching weights for this server**" + (" (updated)" if changes else "")]
        lines += [f"- {f.name}: {current[f.name]:g}" for f in fields(Weights)]
        lines.append(f"- introductions expire after: {format_hours(expiry)}")
        await interaction.followup.send("\n".join(lines), ephemeral=True)


async def setup(bot: LanternBot) -> None:
    await bot.add_cog(MatchingAdminCog(bot))
