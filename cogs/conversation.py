"""Plain words in DMs: the one place Lantern listens to direct messages.

Each DM gets exactly one answer. Its words become an intent (``parse_intent``) and the intent
one use case; when the intent concerns one server and the member shares several with Lantern,
they are asked which one first (``GuildPickView``), the same way for every such intent.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.client import LanternBot, LanternCog
from bot.domain import onboarding as text
from bot.domain.components import Reply, erase_buttons
from bot.domain.intents import NEEDS_SERVER, Intent, parse_intent
from bot.domain.text import fit
from bot.gateway.boundary import message_for
from bot.gateway.components import OwnedView, expired_key, services_of, view_of
from bot.gateway.messenger import find_member, reply
from bot.services import Services

log = logging.getLogger("lantern.conversation")

MAX_SERVERS = 25  # options in one Discord select


async def answer(services: Services, user_id: int, intent: Intent, guild_id: int | None) -> Reply:
    """What to say (and which buttons to offer) for a plain-words request."""
    if intent is Intent.HELP:
        return Reply(text.HELP)
    if intent is Intent.DELETE:
        return Reply(text.DELETE_QUESTION, erase_buttons(user_id))
    if intent is Intent.PAUSE_PROMPTS:
        return Reply(await services.onboarding.pause_prompts(user_id))
    if intent not in NEEDS_SERVER or guild_id is None:
        return Reply(text.NOT_UNDERSTOOD)
    if intent is Intent.MATCH:
        return Reply(await services.matching.request(guild_id, user_id))
    if intent is Intent.RESUME_PROMPTS:
        return Reply(await services.onboarding.resume_prompts(guild_id, user_id))
    if intent is Intent.PROFILE:
        shown = await services.onboarding.profile(guild_id, user_id)
        return Reply(shown.text, shown.buttons)  # exactly what /profile shows
    return await services.onboarding.where(guild_id, user_id)  # START


class GuildSelect(discord.ui.Select["GuildPickView"]):
    """The servers the member shares with Lantern."""

    def __init__(self, guilds: list[discord.Guild]) -> None:
        super().__init__(
            placeholder="Choose a server",
            options=[
                discord.SelectOption(label=fit(g.name, 100), value=str(g.id))
                for g in guilds[:MAX_SERVERS]
            ],
        )

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None
        await self.view.chosen(interaction, int(self.values[0]))


class GuildPickView(OwnedView):
    """'Which server is this about?' for members who share several servers with Lantern."""

    def __init__(
        self, services: Services, intent: Intent, guilds: list[discord.Guild], owner_id: int
    ) -> None:
        super().__init__(owner_id, timeout=900, about=expired_key("pick", intent.value))
        self.services = services
        self.intent = intent
        self.add_item(GuildSelect(guilds))

    async def chosen(self, interaction: discord.Interaction[Any], guild_id: int) -> None:
        self.stop()
        await interaction.response.defer(thinking=True)
        said = await answer(self.services, interaction.user.id, self.intent, guild_id)
        await reply(interaction, said.text, buttons=said.buttons, ephemeral=False)


async def expired_pick(interaction: discord.Interaction[Any], key: str) -> bool:
    """A server menu that timed out: say so, and offer the servers again for the same request."""
    try:
        intent = Intent(key)
    except ValueError:
        return False
    client = interaction.client
    user_id = interaction.user.id
    guilds = [g for g in client.guilds if g.get_member(user_id) is not None]
    if len(guilds) < 2:
        return False
    view = GuildPickView(services_of(interaction), intent, guilds, user_id)
    await reply(
        interaction, f"{text.CARD_EXPIRED}\n\n{text.WHICH_SERVER}", view=view, ephemeral=False
    )
    return True


class ConversationCog(LanternCog):
    """The DM router: plain words to one use case each."""

    async def shared_guilds(self, user_id: int) -> list[discord.Guild]:
        """The servers this member shares with Lantern: those of this process's shards from the
        cache, and those another process owns where Lantern knows the member (over REST)."""
        guilds = [g for g in self.bot.guilds if g.get_member(user_id) is not None]
        directory = self.bot.messenger.guilds
        if directory.owns_every_shard():
            return guilds
        seen = {g.id for g in guilds}
        for guild_id in await self.services.member_data.known_guilds(user_id):
            if guild_id in seen or directory.owns(guild_id):
                continue
            guild = await directory.guild(guild_id)
            if guild is not None and await find_member(guild, user_id) is not None:
                guilds.append(guild)
        return guilds

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot:
            return
        if not isinstance(message.channel, discord.DMChannel):
            return
        user_id = message.author.id
        try:
            said, view = await self._answer(message)
        except Exception as error:  # one answer, even when something went wrong
            said, reference = message_for(error)
            view = None
            if reference is not None:
                log.error(
                    "unhandled error ref=%s where=dm user=%s", reference, user_id, exc_info=error
                )
        if view is None:
            await message.channel.send(fit(said))
        else:
            await message.channel.send(fit(said), view=view)

    async def _answer(self, message: discord.Message) -> tuple[str, discord.ui.View | None]:
        """A reply to a prompt DM is a private reflection; anything else is plain words."""
        user_id = message.author.id
        replied_to = message.reference.message_id if message.reference else None
        if replied_to is not None:
            saved = await self.services.reflections.save_reply(
                user_id, replied_to, message.content or ""
            )
            if saved is not None:
                return saved.text, view_of(saved.buttons) if saved.buttons else None
        intent = parse_intent(message.content or "")
        log.info("dm intent user=%s intent=%s", user_id, intent)
        return await self._reply_to(user_id, intent)

    async def _reply_to(self, user_id: int, intent: Intent) -> tuple[str, discord.ui.View | None]:
        services = self.services
        if intent not in NEEDS_SERVER:
            card = await answer(services, user_id, intent, None)
            return card.text, view_of(card.buttons) if card.buttons else None
        guilds = await self.shared_guilds(user_id)
        if not guilds:
            return text.NO_SHARED_SERVER, None
        if len(guilds) > 1:
            return text.WHICH_SERVER, GuildPickView(services, intent, guilds, user_id)
        card = await answer(services, user_id, intent, guilds[0].id)
        return card.text, view_of(card.buttons) if card.buttons else None


async def setup(bot: LanternBot) -> None:
    await bot.install(ConversationCog, expired={"pick": expired_pick})
