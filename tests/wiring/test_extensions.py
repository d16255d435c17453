"""Wiring: every extension loads on an unconnected bot, names are unique, limits respected,
and every table declares how it holds member data."""

from __future__ import annotations

import logging

from discord import app_commands
from sqlalchemy import BigInteger
from sqlmodel import SQLModel

from bot.client import EXTENSIONS, LanternBot, lantern_intents
from bot.db.registry import MemberData, declared_tables, undeclared_columns
from bot.logging_setup import configure_logging


def _walk(commands: list[app_commands.Command | app_commands.Group]):  # type: ignore[no-untyped-def]
    for command in commands:
        yield command
        if isinstance(command, app_commands.Group):
            yield from _walk(list(command.commands))


def test_every_extension_loads_and_command_names_are_unique(loaded_bot: LanternBot) -> None:
    bot = loaded_bot
    assert set(bot.extensions) == set(EXTENSIONS)
    top = bot.tree.get_commands()
    names = [c.name for c in top]
    assert len(names) == len(set(names)), names
    for command in _walk(top):  # type: ignore[arg-type]
        assert command.name == command.name.lower()
        assert 1 <= len(command.description) <= 100, command.qualified_name
        if isinstance(command, app_commands.Group):
            sub = [c.name for c in command.commands]
            assert len(sub) == len(set(sub)), command.qualified_name


def test_client_never_allows_mass_mentions_and_asks_only_needed_intents(
    unconnected_bot: LanternBot,
) -> None:
    mentions = unconnected_bot.allowed_mentions
    assert mentions is not None
    assert not mentions.everyone and not mentions.roles and not mentions.users
    intents = lantern_intents()
    assert intents.members
    assert not intents.message_content
    assert not intents.presences


def test_every_table_declares_its_member_data() -> None:
    undeclared = [cls.__name__ for cls, spec in declared_tables() if spec is None]
    assert not undeclared, f"declare __member_data__ on: {undeclared}"
    tables = {cls.__table__.name for cls, _ in declared_tables()}  # type: ignore[attr-defined]
    assert tables == set(SQLModel.metadata.tables)


def test_every_two_party_table_says_whose_each_column_is() -> None:
    """A row naming two people is exported one side at a time: every column of such a table
    is declared shared, one person's, or withheld, with a sentence on what is left out."""
    incomplete = {
        cls.__name__: problems
        for cls, spec in declared_tables()
        if spec is not None and (problems := undeclared_columns(cls, spec))
    }
    assert not incomplete, f"say whose each column is: {incomplete}"
    two_party = {cls.__name__ for cls, spec in declared_tables() if spec and spec.two_party}
    assert {"AuditEntry", "Block", "Introduction", "Pair", "PairReport"} <= two_party


def test_a_two_party_table_that_does_not_say_is_caught() -> None:
    from bot.db.models import Block

    bare = MemberData(user_columns=("blocker_id", "blocked_id"), label="blocks")
    assert set(undeclared_columns(Block, bare)) >= {"id", "guild_id", "created_at", "blocked_key"}
    assert "left_out (say what an export leaves out)" in undeclared_columns(Block, bare)
    assert Block.__member_data__ is not bare and not undeclared_columns(
        Block, Block.__member_data__
    )


def test_every_discord_id_column_is_bigint() -> None:
    """Discord ids overflow PostgreSQL INTEGER; columns pointing at our own rows are exempt."""
    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            if not column.name.endswith("_id") or column.foreign_keys:
                continue
            assert isinstance(column.type, BigInteger), f"{table.name}.{column.name}"


def test_production_logging_keeps_discord_at_info_or_above() -> None:
    configure_logging("DEBUG")
    try:
        assert logging.getLogger("discord").getEffectiveLevel() >= logging.INFO
        assert logging.getLogger("discord.gateway").getEffectiveLevel() >= logging.INFO
        assert logging.getLogger("discord.http").getEffectiveLevel() >= logging.INFO
    finally:
        configure_logging("WARNING")
