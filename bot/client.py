"""The Lantern bot: explicit extensions, one error boundary, no mass mentions."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands

from bot.config import Config
from bot.crypto import Cipher, load_cipher
from bot.db.engine import Database, create_engine
from bot.errors import ExpiredComponentError
from bot.gateway.boundary import LanternTree, send_private
from bot.gateway.channels import DiscordSpaces
from bot.gateway.components import CUSTOM_ID_PREFIX, MODAL_PREFIX, LanternModal
from bot.gateway.dm_sender import HttpDmSender
from bot.gateway.messenger import DiscordMessenger
from bot.scheduler import LanternScheduler, Sweep
from bot.services import Services, build_services
from bot.services.ports import DmSender

log = logging.getLogger("lantern")

EXTENSIONS: tuple[str, ...] = (
    "cogs.setup",
    "cogs.onboarding",
    "cogs.mydata",
    "cogs.conversation",
    "cogs.matching",
    "cogs.pairs",
    "cogs.prompts",
)


def lantern_intents() -> discord.Intents:
    """Only what Lantern needs: members (welcomes, departures) and DMs; no message content.

    DM text reaches bots without the privileged message-content intent, which is all the plain
    words conversation needs; guild message events (without content) mark pair activity.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.dm_messages = True
    intents.guild_messages = True
    return intents


class LanternBot(commands.AutoShardedBot):
    """Lantern's Bot subclass and composition root: builds ``services`` with Discord's adapters.

    It is sharded (``[gateway]``): this process connects the shards it owns and sees only their
    servers' events. Direct messages arrive on shard 0 alone, so only the process that owns
    shard 0 answers DMs; it serves members of every server, whichever process owns it.
    """

    def __init__(
        self,
        config: Config,
        *,
        database: Database,
        cipher: Cipher,
        dm_sender: DmSender | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=lantern_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=LanternTree,
            max_messages=None,
            shard_count=config.gateway.shard_count,
            shard_ids=list(config.gateway.owned),
        )
        self.config = config
        self.database = database
        self.cipher = cipher
        self.component_templates: list[re.Pattern[str]] = []
        self.extensions_to_load: tuple[str, ...] = EXTENSIONS
        self.sweeps: list[Sweep] = []
        self.scheduler = LanternScheduler(database, lease_seconds=config.scheduler.lease_seconds)
        self.messenger = DiscordMessenger(self)
        self.services: Services = build_services(
            database=database,
            cipher=cipher,
            config=config,
            clock=self.now,
            messenger=self.messenger,
            jobs=self.scheduler,
            spaces=DiscordSpaces(self),
            dm_sender=dm_sender if dm_sender is not None else HttpDmSender(self),
        )

    def register_sweep(
        self, name: str, run: Callable[[datetime], Awaitable[Any]], *, every_seconds: int
    ) -> None:
        """Register idempotent due-work ``run(now)``; the scheduler calls it on a rhythm."""
        sweep = Sweep(name=name, run=run, every_seconds=every_seconds)
        self.sweeps.append(sweep)
        self.scheduler.add_sweep(sweep)

    async def run_sweeps(self, now: datetime) -> None:
        """Run every registered sweep once at ``now`` (start-up catch-up, tests, the demo)."""
        for sweep in self.sweeps:
            await sweep.run(now)

    def register_components(self, *items: Any) -> None:
        """Register persistent DynamicItems and remember their templates."""
        self.add_dynamic_items(*items)
        for item in items:
            self.component_templates.append(item.__discord_ui_compiled_template__)

    def now(self) -> datetime:
        """The current UTC time (simulated time under simcord)."""
        return discord.utils.utcnow()

    async def setup_hook(self) -> None:
        matching = self.services.matching
        self.register_sweep("introductions-expire", matching.expire_due, every_seconds=300)
        self.register_sweep("introductions-remind", matching.remind_due, every_seconds=300)
        pairs = self.services.pairs
        self.register_sweep("pairs-open", pairs.open_pending, every_seconds=300)
        self.register_sweep("pairs-checkins", pairs.checkins_due, every_seconds=300)
        self.register_sweep("pairs-silence", pairs.nudge_quiet, every_seconds=3600)
        self.register_sweep("pairs-retention", pairs.delete_due, every_seconds=3600)
        for name in self.extensions_to_load:
            await self.load_extension(name)
        self.register_sweep("prompts", self.services.delivery.run_due, every_seconds=60)
        await self.services.delivery.arm_all()
        if self.config.gateway.sync_commands_on_start:
            await self.tree.sync()
        log.info("ready to connect extensions=%d", len(self.extensions_to_load))

    async def on_ready(self) -> None:
        """Start scheduled work once the cache is ready (sweeps need guilds and channels)."""
        if self.config.scheduler.enabled and not self.scheduler.started:
            await self.scheduler.start()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer clicks on Lantern components that no longer exist, instead of failing."""
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        custom = str(data.get("custom_id", ""))
        if interaction.type == discord.InteractionType.component:
            if not custom.startswith(CUSTOM_ID_PREFIX):
                return
            if any(p.fullmatch(custom) for p in self.component_templates):
                return
            await send_private(interaction, ExpiredComponentError().message)
        elif interaction.type == discord.InteractionType.modal_submit:
            if custom.startswith(MODAL_PREFIX) and not self._modal_is_open(custom):
                await send_private(
                    interaction,
                    "This form was open too long or Lantern restarted, so it expired. "
                    "Everything you saved before is kept: press **Continue** to pick up again.",
                )

    def _modal_is_open(self, custom: str) -> bool:
        """Whether this bot (not an earlier one in the same process) is waiting for the modal."""
        modals = getattr(getattr(self._connection, "_view_store", None), "_modals", None)
        if isinstance(modals, dict):
            return custom in modals
        return custom in LanternModal.live

    async def close(self) -> None:
        """Stop cogs and background work, then close the connection and the database."""
        try:
            await self.scheduler.stop()
            await super().close()
        finally:
            await self.database.dispose()


def create_bot(
    config: Config,
    *,
    database: Database | None = None,
    cipher: Cipher | None = None,
    extensions: Iterable[str] | None = None,
    dm_sender: DmSender | None = None,
) -> LanternBot:
    """Build an unstarted Lantern bot. Tests and the demo inject their own database (and may
    inject the DM fan-out's sender)."""
    if database is None:
        database = Database(
            create_engine(
                config.database.url,
                busy_timeout_ms=config.database.sqlite_busy_timeout_ms,
                echo=config.database.echo,
            )
        )
    if cipher is None:
        cipher = load_cipher(
            [k.get_secret_value() for k in config.data_keys], config.security.key_file
        )
    bot = LanternBot(config, database=database, cipher=cipher, dm_sender=dm_sender)
    if extensions is not None:
        bot.extensions_to_load = tuple(extensions)
    return bot
