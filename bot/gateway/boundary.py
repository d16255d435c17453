"""The one error boundary: every error from a command, button, select or modal ends here.

``UserFacingError`` becomes a kind private reply; check failures get fixed wording; database
trouble gets "temporarily unavailable"; anything else is logged with ids and the person gets a
short apology with a reference they can pass to moderators.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.errors import DatabaseUnavailableError, TryLaterError, UserFacingError
from bot.gateway.checks import NotInServerError

log = logging.getLogger("lantern.errors")


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return error


# lock_not_available, query_canceled (timeouts), deadlock, too many connections, shutting down.
_TRANSIENT_PG = frozenset({"55P03", "57014", "40P01", "53300", "57P01", "57P02", "57P03"})
_TRANSIENT_SQLITE = ("database is locked", "database table is locked", "unable to open database")


def _is_database_trouble(error: BaseException) -> bool:
    """A passing database problem (busy, locked, unreachable), not a bug such as a bad schema."""
    if isinstance(error, (PoolTimeoutError, ConnectionRefusedError, ConnectionResetError)):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _TRANSIENT_PG:
        return True  # PostgreSQL busy (a lock or statement timeout) or going away
    if isinstance(error, OperationalError):
        text = str(error.orig) if error.orig is not None else str(error)
        if "sqlite" in type(error.orig).__module__:
            return any(marker in text for marker in _TRANSIENT_SQLITE)
        return True
    if isinstance(error, sqlite3.OperationalError):
        # Raised as it is (not wrapped by SQLAlchemy) when the write lock a savepoint takes
        # first (bot/db/engine.py) is still busy after the busy timeout.
        return any(marker in str(error) for marker in _TRANSIENT_SQLITE)
    name = type(error).__module__
    return name.startswith("asyncpg") and "Connection" in type(error).__name__


def is_database_trouble(error: BaseException) -> bool:
    """Whether ``error`` (or what a command wrapped) is passing database trouble."""
    return _is_database_trouble(_unwrap(error))


def message_for(error: BaseException) -> tuple[str, str | None]:
    """The text to show for ``error`` and, for unexpected errors, a reference to log."""
    error = _unwrap(error)
    if isinstance(error, UserFacingError):
        return error.message, None
    if isinstance(error, app_commands.NoPrivateMessage):
        return NotInServerError().message, None
    if isinstance(error, app_commands.MissingPermissions):
        return (
            "This command is for this server's moderators, so nothing changed.",
            None,
        )
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return (
            f"Lantern is missing a permission it needs here ({missing}). "
            "Please ask a server admin to grant it.",
            None,
        )
    if isinstance(error, app_commands.CommandOnCooldown):
        return (
            f"Please wait {error.retry_after:.0f} seconds before trying that again.",
            None,
        )
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't understand {error.value!r} there. Please pick from the list.", None
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this here, so nothing changed.", None
    if _is_database_trouble(error):
        return DatabaseUnavailableError().message, None
    reference = secrets.token_hex(3).upper()
    return (
        "Sorry, something went wrong on Lantern's side and nothing was changed. "
        f"If it keeps happening, tell a moderator the reference **{reference}**.",
        reference,
    )


async def send_private(interaction: discord.Interaction[Any], content: str, **kwargs: Any) -> None:
    """Reply privately whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, **kwargs)
        else:
            await interaction.response.send_message(content, ephemeral=True, **kwargs)
    except discord.HTTPException:
        log.warning("could not deliver an error reply interaction=%s", interaction.id)


async def report_interaction_error(
    interaction: discord.Interaction[Any], error: BaseException, *, where: str
) -> None:
    """Turn ``error`` into a private reply; log what is not the person's doing."""
    text, reference = message_for(error)
    original = _unwrap(error)
    if reference is not None:
        log.error(
            "unhandled error ref=%s where=%s guild=%s user=%s",
            reference,
            where,
            interaction.guild_id,
            interaction.user.id,
            exc_info=(type(original), original, original.__traceback__),
        )
    elif _is_database_trouble(original):
        log.warning(
            "database unavailable where=%s guild=%s error=%s",
            where,
            interaction.guild_id,
            type(original).__name__,
        )
    await send_private(interaction, text)


RETRY_AFTER: Sequence[float] = (2.0, 10.0, 60.0, 300.0)
"""Seconds before each new try of an event's work after passing trouble (a quarter more or
less, so that a burst of joins does not come back all at once): about six minutes in all."""


async def retrying(what: str, work: Callable[[], Awaitable[Any]], **ids: int | None) -> None:
    """Run an event listener's ``work`` (a use case that is safe to run again whole); if the
    database is briefly unavailable or Discord asked to try later, run it again after each of
    ``RETRY_AFTER``, then give up with an error in the log. Nobody clicked anything, so nobody
    is waiting for an answer: what matters is that a join, a departure or a deleted space is
    not silently lost. ``ids`` are logged (never content). A restart meanwhile drops the
    retries; the start-up checks cover what they can."""
    described = " ".join(f"{key}={value}" for key, value in ids.items())
    for attempt, delay in enumerate((*RETRY_AFTER, None), start=1):
        try:
            await work()
            return
        except Exception as error:
            if not (isinstance(error, TryLaterError) or _is_database_trouble(error)):
                raise
            if delay is None:
                log.error(
                    "%s given up after %s tries %s error=%s",
                    what,
                    attempt,
                    described,
                    type(error).__name__,
                )
                return
            log.warning(
                "%s will be tried again try=%s %s error=%s",
                what,
                attempt,
                described,
                type(error).__name__,
            )
        await asyncio.sleep(delay * random.uniform(0.75, 1.25))


class LanternTree(app_commands.CommandTree[Any]):
    """The command tree that owns Lantern's error boundary."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        await report_interaction_error(interaction, error, where=f"/{command}")
