"""Opening and closing pair spaces: placement and roll-over, the complete overwrite set in the
create call, the opening message, failures told once, endings that really revoke, retention."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.client import LanternBot
from bot.db.models import GuildSettings, Pair, PairSettings, PairStatus
from bot.db.queries import pairs as q
from bot.db.queries.members import load_profile
from bot.db.queries.setup import get_guild_settings
from bot.domain import pairs as d
from bot.domain.profile import Profile
from bot.domain.text import safe_block
from bot.gateway.messenger import find_member
from bot.services.events import PairEnded
from cogs.pairs_components import PairActionButton, opening_view

log = logging.getLogger("lantern.pairs")


class SpacePendingError(Exception):
    """The space can't be made right now; ``error`` says why (a key of SPACE_ERRORS)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def overwrite_for(grant: d.Grant) -> discord.PermissionOverwrite:
    flags: dict[str, bool] = {flag: True for flag in grant.allow}
    flags.update({flag: False for flag in grant.deny})
    return discord.PermissionOverwrite(**flags)


def read_only_overwrite() -> discord.PermissionOverwrite:
    return overwrite_for(d.Grant(allow=d.READ_ONLY_ALLOW, deny=d.READ_ONLY_DENY))


def user_mention(user_id: int) -> str:
    return f"<@{user_id}>"


class SpacesMixin:
    """The pair-space keeper part of ``PairsCog`` (state lives on the cog)."""

    bot: LanternBot
    starters: dict[str, tuple[str, ...]]
    spaces: dict[int, int]
    _locks: dict[int, asyncio.Lock]
    _full_categories: set[int]

    async def _settings(self, guild_id: int) -> tuple[GuildSettings | None, PairSettings | None]:
        async with self.bot.database.session() as session:
            return (
                await get_guild_settings(session, guild_id=guild_id),
                await q.get_pair_settings(session, guild_id=guild_id),
            )

    async def _rhythm(self, guild_id: int) -> d.Rhythm:
        _, pset = await self._settings(guild_id)
        return d.rhythm_from(pset.model_dump() if pset else None)

    async def alert_moderators(self, guild_id: int, text: str) -> bool:
        """Post to the server's alerts channel, pinging no one; false if there is none."""
        settings, _ = await self._settings(guild_id)
        channel = (
            self.bot.get_channel(settings.alerts_channel_id)
            if settings and settings.alerts_channel_id
            else None
        )
        if not isinstance(channel, discord.TextChannel):
            log.warning("no alerts channel guild=%s", guild_id)
            return False
        try:
            await channel.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not alert moderators guild=%s code=%s", guild_id, exc.code)
            return False
        return True

    async def dm(self, user_id: int, text: str) -> bool:
        """A private message to one person; false if their DMs are closed."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text)
        except discord.HTTPException as exc:
            log.info("could not DM user=%s code=%s", user_id, exc.code)
            return False
        return True

    def _space(self, pair: Pair) -> discord.abc.Messageable | None:
        space_id = pair.channel_id or pair.thread_id
        channel = self.bot.get_channel(space_id) if space_id else None
        if isinstance(channel, discord.TextChannel | discord.Thread):
            return channel
        return None

    async def confirm_space(self, pair: Pair) -> discord.abc.Messageable | None:
        """The pair's space, asking Discord when the cache lacks it.

        Only Discord's own "Unknown Channel" (10003) counts as gone: the match then ends as if
        the space had been deleted by hand. Any other trouble just skips this round.
        """
        space = self._space(pair)
        space_id = pair.channel_id or pair.thread_id
        if space is not None or space_id is None:
            return space
        try:
            fetched = await self.bot.fetch_channel(space_id)
        except discord.NotFound:
            await self._space_vanished(space_id)
            return None
        except discord.HTTPException:
            return None
        return fetched if isinstance(fetched, discord.TextChannel | discord.Thread) else None

    async def _set_member_access(
        self, channel: Any, user_id: int, overwrite: discord.PermissionOverwrite | None
    ) -> None:
        """Set (or remove) one member's overwrite, even for someone who left the server."""
        if isinstance(channel, discord.Thread):
            try:
                if overwrite is None or overwrite.view_channel is False:
                    await channel.remove_user(discord.Object(user_id))
                elif overwrite.send_messages is False:
                    await channel.edit(locked=True, archived=False)
                else:
                    await channel.add_user(discord.Object(user_id))
            except discord.HTTPException as exc:
                log.warning("thread access change failed thread=%s code=%s", channel.id, exc.code)
            return
        http = self.bot.http
        try:
            if overwrite is None:
                await http.delete_channel_permissions(channel.id, user_id)
            else:
                allow, deny = overwrite.pair()
                await http.edit_channel_permissions(
                    channel.id, user_id, str(allow.value), str(deny.value), 1
                )
        except discord.NotFound:
            pass

    async def open_space(self, pair_id: int) -> str:
        """Open the pair's space if nobody else is; returns ``opened``, ``busy`` or an error."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            if not await q.claim_space(session, pair_id=pair_id, now=now):
                return "busy"
            pair = await q.get_pair(session, pair_id=pair_id)
        assert pair is not None
        try:
            return await self._create(pair)
        except SpacePendingError as pending:
            return await self._space_failed(pair, pending.error)
        except discord.Forbidden:
            return await self._space_failed(pair, "missing_permissions")
        except discord.HTTPException as exc:
            if exc.code == 30013:
                return await self._space_failed(pair, "guild_full")
            if exc.code == 50035 and "CHANNEL_PARENT_MAX_CHANNELS" in str(exc.text):
                return await self._space_failed(pair, "category_full")
            return await self._space_failed(pair, f"discord_{exc.code or exc.status}")
        except Exception:
            log.exception("pair space creation failed pair=%s", pair_id)
            await self._space_failed(pair, "unexpected")
            raise

    async def _space_failed(self, pair: Pair, error: str) -> str:
        assert pair.id is not None
        async with self.bot.database.session() as session:
            await q.fail_space(session, pair_id=pair.id, error=error)
            first = await q.claim_error_alert(session, pair_id=pair.id, error=error)
        log.warning("pair space pending pair=%s error=%s", pair.id, error)
        if first:
            await self.alert_moderators(pair.guild_id, d.space_error_help(error, pair.id))
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.dm(user_id, d.PENDING_TEXT)
        return error

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def _create(self, pair: Pair) -> str:
        assert pair.id is not None
        guild = self.bot.get_guild(pair.guild_id)
        if guild is None:
            raise SpacePendingError("guild_unavailable")
        mentee = await find_member(guild, pair.mentee_id)
        mentor = await find_member(guild, pair.mentor_id)
        if mentee is None or mentor is None:
            raise SpacePendingError("member_missing")
        settings, pset = await self._settings(guild.id)
        rhythm = d.rhythm_from(pset.model_dump() if pset else None)
        moderator_role = (
            guild.get_role(settings.moderator_role_id)
            if settings and settings.moderator_role_id
            else None
        )
        moderators_see = bool(settings and settings.moderators_see_pairs)
        grants = d.space_grants(
            moderators_see=moderators_see, has_moderator_role=moderator_role is not None
        )
        targets: dict[str, Any] = {
            "everyone": guild.default_role,
            "mentee": mentee,
            "mentor": mentor,
            "bot": guild.me,
            "moderators": moderator_role,
        }
        overwrites = {targets[kind]: overwrite_for(g) for kind, g in grants.items()}
        async with self._lock(guild.id):
            space, is_thread = await self._make_space(
                guild, pair, settings, pset, overwrites, moderators_see, moderator_role
            )
        now = self.bot.now()
        async with self.bot.database.session() as session:
            done = await q.complete_space(
                session,
                pair_id=pair.id,
                channel_id=None if is_thread else space.id,
                thread_id=space.id if is_thread else None,
                now=now,
                next_checkin_at=d.first_checkin(now, rhythm),
            )
        if not done:  # a moderator ended it meanwhile: leave nothing behind
            await space.delete()
            return "busy"
        self.spaces[space.id] = pair.id
        log.info("pair space created pair=%s space=%s", pair.id, space.id)
        await self._send_opening(
            pair, space, mentee, mentor, moderators_see, moderator_role, is_thread, rhythm
        )
        return "opened"

    async def _make_space(
        self,
        guild: discord.Guild,
        pair: Pair,
        settings: GuildSettings | None,
        pset: PairSettings | None,
        overwrites: dict[Any, discord.PermissionOverwrite],
        moderators_see: bool,
        moderator_role: discord.Role | None,
    ) -> tuple[discord.TextChannel | discord.Thread, bool]:
        assert pair.id is not None
        mentee = await find_member(guild, pair.mentee_id)
        mentor = await find_member(guild, pair.mentor_id)
        assert mentee is not None and mentor is not None
        primary = (
            guild.get_channel(settings.pair_category_id)
            if settings and settings.pair_category_id
            else None
        )
        thread_parent = (
            guild.get_channel(pset.thread_channel_id) if pset and pset.thread_channel_id else None
        )
        if not isinstance(thread_parent, discord.TextChannel):
            thread_parent = None
        async with self.bot.database.session() as session:
            extra = await q.overflow_categories(session, guild_id=guild.id)
            categories: list[discord.CategoryChannel] = []
            for row in extra:
                found = guild.get_channel(row.category_id)
                if isinstance(found, discord.CategoryChannel):
                    categories.append(found)
                else:
                    await q.forget_overflow_category(session, category_id=row.category_id)
        if isinstance(primary, discord.CategoryChannel):
            categories.insert(0, primary)
        elif not (pset and pset.use_threads and thread_parent):
            raise SpacePendingError("no_category")
        for _attempt in range(3):
            counts = [
                (c.id, d.CATEGORY_CAP if c.id in self._full_categories else len(c.channels))
                for c in categories
            ]
            placement = d.place_space(
                counts,
                guild_channels=len(guild.channels),
                prefer_threads=bool(pset and pset.use_threads),
                thread_parent=thread_parent is not None,
            )
            if placement.warn_moderators:
                await self._warn_cap(guild)
            taken = {c.name for c in guild.channels}
            name = d.pair_channel_name(mentee.display_name, mentor.display_name, taken)
            if placement.kind == "full":
                raise SpacePendingError("guild_full")
            if placement.kind == "thread":
                assert thread_parent is not None
                thread = await thread_parent.create_thread(
                    name=name,
                    type=discord.ChannelType.private_thread,
                    invitable=False,
                    reason=f"Lantern pair space #{pair.id}",
                )
                for member in (mentee, mentor):
                    await thread.add_user(member)
                return thread, True
            if placement.kind == "new_category":
                base = categories[0].name if categories else "Mentorship"
                grants = d.category_grants(
                    moderators_see=moderators_see, has_moderator_role=moderator_role is not None
                )
                targets: dict[str, Any] = {
                    "everyone": guild.default_role,
                    "bot": guild.me,
                    "moderators": moderator_role,
                }
                category = await guild.create_category(
                    d.overflow_category_name(base, placement.number),
                    overwrites={targets[k]: overwrite_for(g) for k, g in grants.items()},
                    reason="Lantern: the pair category is full",
                )
                async with self.bot.database.session() as session:
                    await q.add_overflow_category(
                        session,
                        guild_id=guild.id,
                        category_id=category.id,
                        number=placement.number,
                        now=self.bot.now(),
                    )
                log.info("pair category added guild=%s number=%s", guild.id, placement.number)
                categories.append(category)
                target = category
            else:
                found = guild.get_channel(placement.category_id or 0)
                assert isinstance(found, discord.CategoryChannel)
                target = found
            try:
                channel = await guild.create_text_channel(
                    name,
                    category=target,
                    overwrites=overwrites,
                    reason=f"Lantern pair space #{pair.id}",
                )
            except discord.HTTPException as exc:
                if exc.code == 50035 and "CHANNEL_PARENT_MAX_CHANNELS" in str(exc.text):
                    self._full_categories.add(target.id)  # Discord knows better: roll over
                    continue
                raise
            return channel, False
        raise SpacePendingError("category_full")

    async def _warn_cap(self, guild: discord.Guild) -> None:
        async with self.bot.database.session() as session:
            first = await q.claim_cap_warning(session, guild_id=guild.id, now=self.bot.now())
        if first:
            await self.alert_moderators(
                guild.id,
                f"ℹ️ This server has {len(guild.channels)} channels, close to Discord's limit of "
                f"{d.GUILD_CAP}. New pair spaces can be private threads instead: "
                "`/pairs settings use_threads:True thread_channel:#a-private-channel`.",
            )

    async def _send_opening(
        self,
        pair: Pair,
        space: discord.TextChannel | discord.Thread,
        mentee: discord.Member,
        mentor: discord.Member,
        moderators_see: bool,
        moderator_role: discord.Role | None,
        is_thread: bool,
        rhythm: d.Rhythm,
    ) -> None:
        assert pair.id is not None
        async with self.bot.database.session() as session:
            mentee_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentee_id, cipher=self.bot.cipher
            )
            mentor_profile = await load_profile(
                session, guild_id=pair.guild_id, user_id=pair.mentor_id, cipher=self.bot.cipher
            )
            reasons_enc = await q.get_reasons_enc(session, introduction_id=pair.introduction_id)
        mentee_p = mentee_profile or Profile(user_id=pair.mentee_id)
        mentor_p = mentor_profile or Profile(user_id=pair.mentor_id)
        try:
            reasons = json.loads(self.bot.cipher.decrypt(reasons_enc) or "[]")
        except ValueError:
            reasons = []
        areas = d.shared_areas(mentee_p, mentor_p) or mentee_p.areas_wanted
        opening = d.render_opening(
            mentee=mentee_p,
            mentor=mentor_p,
            mentee_name=mentee.display_name,
            mentor_name=mentor.display_name,
            mentee_mention=mentee.mention,
            mentor_mention=mentor.mention,
            reasons=[str(r) for r in reasons if isinstance(r, str)],
            starters=d.pick_starters(areas, self.starters, seed=pair.id),
            notice=d.visibility_notice(
                moderators_see=moderators_see,
                moderator_role=moderator_role.name if moderator_role else None,
                thread=is_thread,
            ),
            first_checkin_days=rhythm.first_checkin_days,
        )
        embeds = []
        for card in opening.cards:
            embed = discord.Embed(title=card.title[:256], colour=discord.Colour.gold())
            for label, value in card.fields[:25]:
                embed.add_field(name=label[:256], value=value[:1024] or "—", inline=False)
            embeds.append(embed)
        try:
            message = await space.send(
                opening.content,
                embeds=embeds,
                view=opening_view(pair.id),
                allowed_mentions=discord.AllowedMentions(users=[mentee, mentor]),
            )
        except discord.HTTPException as exc:
            log.warning("opening message failed pair=%s code=%s", pair.id, exc.code)
            return
        async with self.bot.database.session() as session:
            await q.set_opening_message(session, pair_id=pair.id, message_id=message.id)

    async def run_pending_spaces(self, now: datetime) -> None:
        """Sweep: retry spaces that failed, were never started, or were interrupted."""
        async with self.bot.database.session() as session:
            waiting = await q.pairs_to_open(
                session, now=now, grace=timedelta(minutes=2), stale=timedelta(minutes=10)
            )
        for pair_id in waiting:
            await self.open_space(pair_id)

    async def end_space(
        self,
        pair_id: int,
        *,
        actor_id: int | None,
        reason: str | None,
        cause: str,
        tell_other: str | None = None,
    ) -> bool:
        """End a pair once: revoke sending for both, schedule deletion, tell matching."""
        now = self.bot.now()
        async with self.bot.database.session() as session:
            before = await q.get_pair(session, pair_id=pair_id)
            if before is None:
                return False
            rhythm = await self._rhythm(before.guild_id)
            pair = await q.end_pair(
                session,
                pair_id=pair_id,
                ended_by_id=actor_id,
                reason_enc=self.bot.cipher.encrypt(reason) if reason else None,
                now=now,
                delete_at=now + timedelta(days=rhythm.retention_days),
                cause=cause,
            )
            space_row = await q.get_space(session, pair_id=pair_id)
        if pair is None:
            return False
        log.info("pair ended pair=%s cause=%s", pair_id, cause)
        space = self._space(pair)
        for space_id in (pair.channel_id, pair.thread_id):
            if space_id is not None:
                self.spaces.pop(space_id, None)
        if space is not None:
            paused = space_row.paused_member if space_row else None
            for role, user_id in (("mentee", pair.mentee_id), ("mentor", pair.mentor_id)):
                guild = self.bot.get_guild(pair.guild_id)
                present = guild is not None and await find_member(guild, user_id) is not None
                access = read_only_overwrite() if present and paused != role else None
                try:
                    await self._set_member_access(space, user_id, access)
                except discord.HTTPException as exc:
                    log.warning("could not revoke access pair=%s code=%s", pair_id, exc.code)
            delete_day = (
                pair.delete_channel_at.strftime("%d %B %Y") if pair.delete_channel_at else "soon"
            )
            view = discord.ui.View(timeout=None)
            view.add_item(PairActionButton("delete", pair_id))
            try:
                await space.send(
                    "This mentorship has ended, so this space is now read-only. It stays here "
                    f"for you both to look back on until {delete_day}, then Lantern deletes it. "
                    "Either of you can delete it sooner. Thank you both. 🌱",
                    view=view,
                )
            except discord.HTTPException as exc:
                log.warning("closing note failed pair=%s code=%s", pair_id, exc.code)
        if reason or cause in ("moderator", "member_left", "channel_deleted"):
            note = f"Pair **#{pair_id}** ended ({cause})"
            if actor_id:
                note += f" by {user_mention(actor_id)}"
            if reason:
                note += f". Their private note:\n>>> {safe_block(reason, limit=500)}"
            await self.alert_moderators(pair.guild_id, note)
        if tell_other is not None and actor_id is not None:
            other = pair.mentor_id if actor_id == pair.mentee_id else pair.mentee_id
            await self.dm(other, tell_other)
        await self.bot.services.ctx.events.pair_ended(
            PairEnded(pair_id, pair.guild_id, pair.mentee_id, pair.mentor_id, cause)
        )
        return True

    async def run_due_deletions(self, now: datetime) -> None:
        """Sweep: delete ended spaces whose retention period is over (each exactly once)."""
        async with self.bot.database.session() as session:
            due = await q.due_deletions(session, now=now)
        for pair in due:
            assert pair.id is not None
            space_id = pair.channel_id or pair.thread_id
            assert space_id is not None
            async with self.bot.database.session() as session:
                won = await q.forget_space(session, pair_id=pair.id, space_id=space_id)
            if not won:
                continue
            channel = self.bot.get_channel(space_id)
            try:
                if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
                    await channel.delete(reason=f"Lantern: pair #{pair.id} retention ended")
            except discord.NotFound:
                pass
            except discord.HTTPException as exc:
                log.warning("space deletion failed pair=%s code=%s", pair.id, exc.code)
            log.info("pair space deleted pair=%s", pair.id)

    async def _space_vanished(self, space_id: int) -> None:
        async with self.bot.database.session() as session:
            pair = await q.pair_for_channel(session, channel_id=space_id)
            if pair is None or pair.id is None:
                return
            await q.forget_space(session, pair_id=pair.id, space_id=space_id)
        self.spaces.pop(space_id, None)
        if pair.status == PairStatus.ENDED:
            return
        if await self.end_space(pair.id, actor_id=None, reason=None, cause="channel_deleted"):
            for user_id in (pair.mentee_id, pair.mentor_id):
                await self.dm(user_id, d.kind_departure_text(left=False))
