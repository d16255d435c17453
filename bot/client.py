"""The Lantern bot: explicit extensions, one error boundary, no mass mentions."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands

from bot.compute import ProcessCompute
from bot.config import Config, DatabaseSection
from bot.crypto import Cipher, load_cipher
from bot.db.engine import Database, PoolSettings, create_engine
from bot.errors import ExpiredComponentError
from bot.gateway.boundary import LanternTree, report_interaction_error, send_private
from bot.gateway.channels import DiscordSpaces
from bot.gateway.components import LanternModal, PersistentButton, expired_about
from bot.gateway.dm_sender import HttpDmSender
from bot.gateway.messenger import DiscordMessenger
from bot.metrics import HealthServer, Metrics, RateLimitCounter
from bot.scheduler import LanternScheduler, Sweep
from bot.services import Services, build_services
from bot.services.fanout import Pacer
from bot.services.ports import DmSender

log = logging.getLogger("lantern")

ExpiredHandler = Callable[[discord.Interaction[Any], str], Awaitable[bool]]
_EXPIRED = "lantern_expired"
FORM_EXPIRED = (
    "This form was open too long or Lantern restarted, so it expired and nothing in it was "
    "saved. Everything you saved before is kept: press **Continue** to pick up again."
)

EXTENSIONS: tuple[str, ...] = (
    "cogs.setup",
    "cogs.onboarding",
    "cogs.mydata",
    "cogs.conversation",
    "cogs.matching",
    "cogs.pairs",
    "cogs.meeting",
    "cogs.prompts",
    "cogs.insights",
    "cogs.circles",
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


def settle_heap() -> None:
    """Keep what start-up made (modules, matplotlib, the guild cache) out of the garbage
    collector's full passes.

    Each full pass walks every tracked object and stops the event loop while it does: with the
    libraries Lantern loads, 90–150 ms on the project machine, long enough to push a burst of
    interactions past 100 ms before they are acknowledged (``bench/ack.py``). Frozen objects
    are never collected, which is right for what lives as long as the process.
    """
    gc.collect()
    gc.freeze()


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
        self.expired_handlers: dict[str, ExpiredHandler] = {}
        self.extensions_to_load: tuple[str, ...] = EXTENSIONS
        self.sweeps: list[Sweep] = []
        self.metrics = Metrics()
        self.health: HealthServer | None = None
        self._rate_limits = RateLimitCounter(self.metrics)
        self.scheduler = LanternScheduler(database, lease_seconds=config.scheduler.lease_seconds)
        self.scheduler.on_lag = self._sweep_started
        self.messenger = DiscordMessenger(self)
        self.compute = ProcessCompute()  # the batch round solver, off the event loop
        self.services: Services = build_services(
            database=database,
            cipher=cipher,
            config=config,
            clock=self.now,
            messenger=self.messenger,
            jobs=self.scheduler,
            spaces=DiscordSpaces(self),
            dm_sender=dm_sender
            if dm_sender is not None
            else HttpDmSender(self, observe=self._dm_outcome),
            compute=self.compute,
        )
        self.services.delivery.pacer = self._pacer()

    def _pacer(self) -> Pacer:
        """The fan-out's pace: shared by every process through Redis when configured."""
        limits = self.config.ratelimit
        if not limits.redis_url:
            return Pacer(limits.rate_per_s)
        from bot.ratelimit import SharedPacer, budget_key

        token = self.config.token.get_secret_value() if self.config.token else None
        return SharedPacer(
            limits.redis_url,
            limits.rate_per_s,
            key=budget_key(token),
            fallback_rate=limits.fallback_rate_per_s,
        )

    def _dm_outcome(self, outcome: str) -> None:
        self.metrics.deliveries.labels(outcome=outcome).inc()

    def _sweep_started(self, job_id: str, late: float) -> None:
        name = job_id.split(":")[0]  # one label per kind of job, not per schedule
        self.metrics.sweep_lag.labels(sweep=name).observe(late)
        self.metrics.sweep_runs.labels(sweep=name).inc()

    async def not_ready(self) -> list[str]:
        """Why this process is not ready to serve (empty when it is): the readiness check."""
        problems: list[str] = []
        if self.is_closed() or not self.is_ready():
            problems.append("gateway not connected")
        connected = 0
        for shard_id, shard in self.shards.items():
            if shard.is_closed():
                problems.append(f"shard {shard_id} disconnected")
            else:
                connected += 1
        self.metrics.shards_connected.set(connected)
        self.metrics.scheduler_owner.set(1 if self.scheduler.holds_lease() else 0)
        try:
            await asyncio.wait_for(self.database.ping(), timeout=2)
        except Exception as error:
            problems.append(f"database not answering ({type(error).__name__})")
        return problems

    async def start_health(self) -> None:
        """Serve /metrics, /healthz and /readyz when ``[metrics] port`` is set."""
        settings = self.config.metrics
        if not settings.port or self.health is not None:
            return
        self.health = HealthServer(
            self.metrics, self.not_ready, host=settings.host, port=settings.port
        )
        await self.health.start()
        logging.getLogger("discord.http").addHandler(self._rate_limits)

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

    async def install(
        self,
        *cogs: type[LanternCog],
        components: Iterable[type[PersistentButton]] = (),
        expired: Mapping[str, ExpiredHandler] | None = None,
    ) -> None:
        """A feature package's ``setup``: register its persistent ``components`` (their clicks
        never count as expired) and its ``expired`` handlers by kind (a click on an expired
        short-lived component about ``<kind>:<key>`` calls ``handler(interaction, key)``, which
        shows the current card or says False), then add each cog, built with this bot."""
        for item in components:
            self.add_dynamic_items(item)
            self.component_templates.append(item.__discord_ui_compiled_template__)
        self.expired_handlers.update(expired or {})
        for cog in cogs:
            await self.add_cog(cog(self))

    def now(self) -> datetime:
        """The current UTC time (simulated time under simcord)."""
        return discord.utils.utcnow()

    async def setup_hook(self) -> None:
        services, minute, hour = self.services, 60, 3600
        matching, pairs, circles = services.matching, services.pairs, services.circles
        sweeps: list[tuple[str, Callable[[datetime], Awaitable[Any]], int]] = [
            ("introductions-expire", matching.expire_due, 5 * minute),
            ("introductions-remind", matching.remind_due, 5 * minute),
            ("pairs-open", pairs.open_pending, 5 * minute),
            ("pairs-checkins", pairs.checkins_due, 5 * minute),
            ("pairs-silence", pairs.nudge_quiet, hour),
            ("pairs-close-quiet", pairs.close_quiet, hour),
            ("pairs-retention", pairs.delete_due, hour),
            ("circles-open", circles.open_pending, 5 * minute),
            ("circles-spaces", circles.find_vanished, hour),
            ("circles-close-quiet", circles.close_quiet, hour),
            ("members-departed", services.member_data.find_departed, 6 * hour),
            ("alerts-retry", services.moderation.deliver_pending, minute),
        ]
        for name, run, every in sweeps:
            self.register_sweep(name, run, every_seconds=every)
        await self.start_health()
        for name in self.extensions_to_load:
            await self.load_extension(name)
        self.register_sweep("prompts", self.services.delivery.run_due, every_seconds=60)
        await self.services.delivery.arm_all()
        if self.config.gateway.sync_commands_on_start:
            await self.tree.sync()
        settle_heap()
        log.info("ready to connect extensions=%d", len(self.extensions_to_load))

    async def on_ready(self) -> None:
        """Start scheduled work once the cache is ready (sweeps need guilds and channels)."""
        settle_heap()
        if self.config.scheduler.enabled and not self.scheduler.started:
            await self.scheduler.start()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if event_name == "interaction" and args and isinstance(args[0], discord.Interaction):
            # Decided now, before any view callback runs (a callback may stop its own view).
            args[0].extras[_EXPIRED] = self._is_expired(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[Any], command: Any
    ) -> None:
        late = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        name = getattr(command, "qualified_name", "unknown")
        self.metrics.command_seconds.labels(command=name).observe(max(late, 0.0))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer clicks on components and forms that no longer exist (a view timed out, Lantern
        restarted) with "this has expired" and the current card, instead of failing."""
        self.metrics.interactions.labels(kind=interaction.type.name).inc()
        if not interaction.extras.get(_EXPIRED):
            return
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        custom = str(data.get("custom_id", ""))
        about = expired_about(custom)
        kind = about[0] if about else "-"
        log.info("expired component kind=%s user=%s", kind, interaction.user.id)
        try:
            handler = self.expired_handlers.get(about[0]) if about else None
            if handler is not None and await handler(interaction, about[1] if about else ""):
                return
            if interaction.type == discord.InteractionType.modal_submit:
                await send_private(interaction, FORM_EXPIRED)
            else:
                await send_private(interaction, ExpiredComponentError().message)
        except Exception as error:
            await report_interaction_error(interaction, error, where="expired")

    def _is_expired(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether nothing in this bot will answer this component click or form."""
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        custom = str(data.get("custom_id", ""))
        if interaction.type == discord.InteractionType.component:
            if any(p.fullmatch(custom) for p in self.component_templates):
                return False
            kind = int(data.get("component_type", 0))
            return not self._view_is_live(kind, custom, interaction.message)
        if interaction.type == discord.InteractionType.modal_submit:
            return not self._modal_is_open(custom)
        return False

    def _view_is_live(self, kind: int, custom: str, message: discord.Message | None) -> bool:
        """Whether a live view holds this component (the lookup discord.py's view store does)."""
        store = getattr(self._connection, "_view_store", None)
        views = getattr(store, "_views", None)
        dynamic = getattr(store, "_dynamic_items", None)
        if not isinstance(views, dict) or not isinstance(dynamic, dict):
            return True  # discord.py changed: never answer twice (tests/wiring guards this)
        if any(pattern.fullmatch(custom) for pattern in dynamic):
            return True
        key = (kind, custom)
        if message is not None and key in views.get(message.id, {}):
            return True
        return key in views.get(None, {})

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
            if self.health is not None:
                await self.health.stop()
                self.health = None
            logging.getLogger("discord.http").removeHandler(self._rate_limits)
            await super().close()
        finally:
            pacer = self.services.delivery.pacer
            if hasattr(pacer, "close"):
                await pacer.close()
            await self.compute.close()
            await self.database.dispose()


class LanternCog(commands.Cog):
    """A feature's cog: it keeps the bot, and calls the use cases on ``self.services``."""

    def __init__(self, bot: LanternBot) -> None:
        self.bot = bot
        self.services: Services = bot.services


def open_database(section: DatabaseSection, **engine_options: Any) -> Database:
    """The database ``[database]`` describes (its URL, SQLite busy timeout, pool sizes)."""
    pool = PoolSettings(
        size=section.pool_size,
        max_overflow=section.pool_max_overflow,
        timeout_seconds=section.pool_timeout_seconds,
    )
    return Database(
        create_engine(
            section.url,
            busy_timeout_ms=section.sqlite_busy_timeout_ms,
            echo=section.echo,
            pool=pool,
            **engine_options,
        )
    )


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
        database = open_database(config.database)
    if cipher is None:
        cipher = load_cipher(
            [k.get_secret_value() for k in config.data_keys], config.security.key_file
        )
    bot = LanternBot(config, database=database, cipher=cipher, dm_sender=dm_sender)
    if extensions is not None:
        bot.extensions_to_load = tuple(extensions)
    return bot
