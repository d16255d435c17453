"""Tending pair spaces: check-ins, quiet-time nudges, the opening message's buttons."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.db.queries import pairs as q
from bot.domain import pairs as d
from bot.errors import ExpiredComponentError, UserFacingError
from bot.gateway.components import OwnedView
from cogs.pairs_components import (
    CHECKIN_ANSWERS,
    EndConfirmView,
    EndReasonModal,
    checkin_view,
)
from cogs.pairs_spaces import SpacesMixin, user_mention

log = logging.getLogger("lantern.pairs")


class CareMixin(SpacesMixin):
    """Check-ins, silence and the pair's own buttons."""

    async def is_member_of(self, pair_id: int, user_id: int) -> bool:
        """Whether ``user_id`` is one of the pair's two members."""
        async with self.bot.database.session() as session:
            pair = await q.get_pair(session, pair_id=pair_id)
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

    async def run_due_checkins(self, now: datetime) -> None:
        """Sweep: post each due check-in once (claimed in the database before sending)."""
        async with self.bot.database.session() as session:
            due = await q.due_checkins(session, now=now)
        for pair in due:
            assert pair.id is not None and pair.next_checkin_at is not None
            rhythm = await self._rhythm(pair.guild_id)
            async with self.bot.database.session() as session:
                checkin = await q.claim_checkin(
                    session,
                    pair_id=pair.id,
                    due_at=pair.next_checkin_at,
                    next_at=d.following_checkin(pair.next_checkin_at, now, rhythm),
                    now=now,
                )
            if checkin is None or checkin.id is None:
                continue
            space = await self.confirm_space(pair)
            if space is None:
                log.warning("check-in skipped, no space pair=%s", pair.id)
                continue
            try:
                message = await space.send(
                    f"{user_mention(pair.mentee_id)} {user_mention(pair.mentor_id)} 🌱 "
                    "**Check-in:** how is your mentorship going? Each of you can answer. "
                    "Your answers stay with Lantern; moderators are told only if you ask "
                    "for help.",
                    view=checkin_view(checkin.id),
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(pair.mentee_id), discord.Object(pair.mentor_id)]
                    ),
                )
            except discord.HTTPException as exc:
                log.warning("check-in send failed pair=%s code=%s", pair.id, exc.code)
                continue
            async with self.bot.database.session() as session:
                await q.mark_checkin_sent(
                    session, checkin_id=checkin.id, message_id=message.id, now=now
                )
            log.info("check-in sent pair=%s checkin=%s", pair.id, checkin.id)

    async def may_answer_checkin(self, checkin_id: int, user_id: int) -> bool:
        """Only the pair's two members answer its check-ins."""
        async with self.bot.database.session() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            pair = await q.get_pair(session, pair_id=checkin.pair_id) if checkin else None
        if pair is None:
            raise ExpiredComponentError()
        return user_id in (pair.mentee_id, pair.mentor_id)

    async def on_checkin_answer(
        self, interaction: discord.Interaction[Any], checkin_id: int, answer: str
    ) -> None:
        """Record a check-in answer; "need help" tells moderators once (pair, never content)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.now()
        async with self.bot.database.session() as session:
            checkin = await q.get_checkin(session, checkin_id=checkin_id)
            if checkin is None:
                raise ExpiredComponentError()
            _first, previous = await q.record_checkin_answer(
                session, checkin_id=checkin_id, user_id=interaction.user.id, answer=answer, now=now
            )
            pair = await q.get_pair(session, pair_id=checkin.pair_id)
        assert pair is not None
        if answer == "help" and previous != "help":
            await self.alert_moderators(
                pair.guild_id,
                f"🙋 Pair **#{pair.id}** ({user_mention(pair.mentee_id)} and "
                f"{user_mention(pair.mentor_id)}) asked for help at their check-in. Please reach "
                f"out to {user_mention(interaction.user.id)} privately.",
            )
        replies = {
            "well": "Lovely to hear. Thank you for letting us know! 🌱",
            "notmet": (
                "Thanks for being honest: it happens. A short first call is enough; try "
                "suggesting two times that suit you, right here in your space."
            ),
            "help": (
                "Thank you for telling us. A moderator has been let know and will reach out to "
                "you privately. You can also use `/pair report` at any time."
            ),
        }
        await interaction.followup.send(replies[answer], ephemeral=True)

    async def run_silence(self, now: datetime) -> None:
        """Sweep: nudge quiet pairs gently; after repeated silence, tell moderators (once)."""
        async with self.bot.database.session() as session:
            quiet = await q.quiet_pairs(session, before=now - timedelta(days=1))
        for pair, space_row in quiet:
            assert pair.id is not None and pair.last_activity_at is not None
            rhythm = await self._rhythm(pair.guild_id)
            action = d.silence_action(
                last_activity=pair.last_activity_at,
                nudges_sent=space_row.nudges_sent,
                alerted=space_row.silence_alerted_at is not None,
                now=now,
                rhythm=rhythm,
            )
            if action == "nudge":
                async with self.bot.database.session() as session:
                    won = await q.claim_nudge(
                        session, pair_id=pair.id, nudges_seen=space_row.nudges_sent, now=now
                    )
                space = self._space(pair)
                if won and space is not None:
                    try:
                        await space.send(
                            "👋 It's been a little quiet here. No pressure: even a short "
                            "hello or a time that suits you this week keeps things going."
                        )
                    except discord.HTTPException as exc:
                        log.warning("nudge failed pair=%s code=%s", pair.id, exc.code)
            elif action == "alert":
                async with self.bot.database.session() as session:
                    won = await q.claim_silence_alert(session, pair_id=pair.id, now=now)
                if won:
                    days = (now - pair.last_activity_at).days
                    await self.alert_moderators(
                        pair.guild_id,
                        f"🔕 Pair **#{pair.id}** ({user_mention(pair.mentee_id)} and "
                        f"{user_mention(pair.mentor_id)}) has been quiet for {days} days after "
                        f"{space_row.nudges_sent} gentle nudges. A kind word from a moderator "
                        "may help.",
                    )

    async def on_pair_button(
        self, interaction: discord.Interaction[Any], action: str, pair_id: int
    ) -> None:
        """The opening message's buttons and the delete-now button."""
        if action == "end":
            await interaction.response.send_modal(
                EndReasonModal(owner_id=interaction.user.id, pair_id=pair_id)
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action == "checkin":
            async with self.bot.database.session() as session:
                pair = await q.get_pair(session, pair_id=pair_id)
            if pair is None or pair.status not in q.LIVE:
                raise UserFacingError("This mentorship isn't active anymore, so nothing changed.")
            await interaction.followup.send(
                "How is it going? Your answer helps Lantern look after you both.",
                view=self._ephemeral_checkin(interaction.user.id, pair_id),
                ephemeral=True,
            )
        elif action == "pause":
            async with self.bot.database.session() as session:
                space = await q.get_space(session, pair_id=pair_id)
                paused = not (space.reminders_paused if space else False)
                await q.set_reminders_paused(session, pair_id=pair_id, paused=paused)
            await interaction.followup.send(
                "Check-ins and reminders are paused. Press the button again to resume them."
                if paused
                else "Check-ins and reminders are back on.",
                ephemeral=True,
            )
        elif action == "delete":
            async with self.bot.database.session() as session:
                sooner = await q.delete_sooner(session, pair_id=pair_id, now=self.bot.now())
            if sooner:
                await interaction.followup.send(
                    "Deleting this space now. Take care! 🌱", ephemeral=True
                )
                await self.run_due_deletions(self.bot.now())
            else:
                await interaction.followup.send(
                    "This space can only be deleted after the mentorship has ended.",
                    ephemeral=True,
                )

    def _ephemeral_checkin(self, owner_id: int, pair_id: int) -> discord.ui.View:
        cog = self

        class AnytimeCheckin(OwnedView):
            pass

        view = AnytimeCheckin(owner_id, timeout=600)
        for key, label in CHECKIN_ANSWERS.items():
            button: discord.ui.Button[Any] = discord.ui.Button(label=label)

            async def callback(interaction: discord.Interaction[Any], answer: str = key) -> None:
                await interaction.response.defer(ephemeral=True, thinking=True)
                async with cog.bot.database.session() as session:
                    pair = await q.get_pair(session, pair_id=pair_id)
                assert pair is not None
                if answer == "help":
                    await cog.alert_moderators(
                        pair.guild_id,
                        f"🙋 Pair **#{pair_id}** ({user_mention(pair.mentee_id)} and "
                        f"{user_mention(pair.mentor_id)}) asked for help. Please reach out to "
                        f"{user_mention(interaction.user.id)} privately.",
                    )
                await interaction.followup.send("Thank you for letting us know. 🌱", ephemeral=True)

            button.callback = callback  # type: ignore[method-assign]
            view.add_item(button)
        return view

    async def ask_end_confirmation(
        self, interaction: discord.Interaction[Any], pair_id: int, reason: str | None
    ) -> None:
        """Show the private "are you sure?" before ending."""
        await interaction.response.send_message(
            "Do you want to end this mentorship? The space becomes read-only for you both and "
            "is deleted later. Nobody else is told except the moderators"
            + (" (who will see your note)" if reason else "")
            + ".",
            view=EndConfirmView(owner_id=interaction.user.id, pair_id=pair_id, reason=reason),
            ephemeral=True,
        )
