"""`python -m bot`: run Lantern, run the offline demo, check a config, manage the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, load_config
from bot.crypto import DataKeyError
from bot.db.engine import DatabaseInUse

log = logging.getLogger("lantern")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Lantern: a Discord mentorship bot for mixed Asian heritage adults.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Discord (needs DISCORD_TOKEN)")
    run.add_argument("--config", default="config.toml", help="path to config.toml")
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not upgrade the database first (run `db upgrade` once as a deploy step)",
    )
    run.add_argument(
        "--no-sync",
        action="store_true",
        help="do not sync the slash commands (run `sync-commands` once as a deploy step)",
    )

    sync = sub.add_parser(
        "sync-commands",
        help="publish the slash commands to Discord once (a deploy step; needs DISCORD_TOKEN)",
    )
    sync.add_argument("--config", default="config.toml", help="path to config.toml")

    demo = sub.add_parser(
        "demo", help="run Lantern's whole journey offline against a simulated Discord"
    )
    demo.add_argument("--database", default=None, help="SQLite file to use (default: a temp file)")
    demo.add_argument(
        "--out", default=None, help="folder for files people received, e.g. the /insights chart"
    )

    check = sub.add_parser("check-config", help="validate a config file and print a summary")
    check.add_argument("path", help="path to the TOML file to check")

    db = sub.add_parser("db", help="database schema: upgrade, check")
    db.add_argument("action", choices=["upgrade", "check", "revision"])
    db.add_argument("--config", default="config.toml", help="path to config.toml")
    db.add_argument("-m", "--message", default="schema change", help="revision message")

    rotate = sub.add_parser(
        "rotate-key", help="re-encrypt stored free text with the first key in LANTERN_DATA_KEYS"
    )
    rotate.add_argument("--config", default="config.toml", help="path to config.toml")
    return parser


def _summary(config: Config) -> str:
    from sqlalchemy.engine import make_url

    from bot.crypto import check_key_file

    url = make_url(config.database.url)
    lines = [
        f"{config.source}: OK",
        f"  database:  {url.get_backend_name()} ({url.render_as_string(hide_password=True)})",
        f"  log level: {config.bot.log_level}",
        f"  time zone: {config.bot.default_timezone}",
        f"  scheduler: {'on' if config.scheduler.enabled else 'off'}, "
        f"catch-up {config.scheduler.catch_up_minutes} min",
        f"  shards:    {_shards(config)}",
        "  rate:      "
        + (
            f"{config.ratelimit.rate_per_s:g}/s shared through Redis"
            if config.ratelimit.redis_url
            else f"{config.ratelimit.rate_per_s:g}/s in this process"
        ),
        "  metrics:   "
        + (
            f"http://{config.metrics.host}:{config.metrics.port}/metrics"
            if config.metrics.port
            else "off"
        ),
        "  data keys: "
        + (
            f"{len(config.data_keys)} from LANTERN_DATA_KEYS"
            if config.data_keys
            else check_key_file(config.security.key_file)
        ),
        "  token:     " + ("set" if config.token else "not set (needed for `run`)"),
    ]
    return "\n".join(lines)


def _shards(config: Config) -> str:
    gateway = config.gateway
    owned = ", ".join(str(s) for s in gateway.owned)
    dms = "answers DMs" if gateway.receives_dms else "no DMs (another process owns shard 0)"
    return f"{owned} of {gateway.shard_count}; {dms}"


async def _db(config: Config, action: str, message: str) -> int:
    from bot.db import migrate
    from bot.db.engine import Database, create_engine

    database = Database(create_engine(config.database.url))
    try:
        if action == "upgrade":
            await migrate.upgrade(database)
            print("database is up to date")
        elif action == "check":
            diff = await migrate.check(database)
            if diff:
                print(f"models and migrations differ: {diff}", file=sys.stderr)
                return 1
            print("migrations match the models")
        else:
            await migrate.revision(database, message)
    finally:
        await database.dispose()
    return 0


async def _rotate(config: Config) -> int:
    from bot.crypto import load_cipher
    from bot.db.engine import Database, create_engine
    from bot.db.registry import reencrypt_all

    cipher = load_cipher([k.get_secret_value() for k in config.data_keys], config.security.key_file)
    database = Database(create_engine(config.database.url))
    try:
        async with database.session() as session:
            count = await reencrypt_all(session, cipher=cipher)
    finally:
        await database.dispose()
    print(f"re-encrypted {count} stored values with the primary key")
    return 0


class ContentFileError(Exception):
    """A content file (questionnaire, prompts) that does not fit its schema or rules."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def check_content() -> list[str]:
    """Load and check the questionnaire and the prompt library (schema, then meaning); the
    summary lines, or ``ContentFileError`` listing each problem with its file and line."""
    from bot.domain.prompts import LibraryError, load_library
    from bot.domain.questionnaire import QuestionnaireError, load_questionnaire

    problems: list[str] = []
    lines: list[str] = []
    try:
        questionnaire = load_questionnaire()
        lines.append(f"  questionnaire: {len(questionnaire.pages)} pages")
    except QuestionnaireError as exc:
        problems += exc.problems
    try:
        library = load_library()
        lines.append(f"  prompts:   {len(library.prompts)} in the shipped library")
    except LibraryError as exc:
        problems += exc.problems
    if problems:
        raise ContentFileError(problems)
    return lines


async def _sync_commands(config: Config) -> int:
    """Log in over REST only (no gateway), load every extension, publish the commands."""
    from bot.client import create_bot
    from bot.config import GatewaySection, MetricsSection, SchedulerSection

    token = config.require_token()
    config = config.model_copy(
        update={
            "gateway": GatewaySection(shard_count=1, sync_commands_on_start=True),
            "scheduler": SchedulerSection(enabled=False),
            "metrics": MetricsSection(port=0),
        }
    )
    bot = create_bot(config)
    try:
        async with bot:
            await bot.login(token.get_secret_value())  # runs setup_hook, which syncs
            count = len(bot.tree.get_commands())
    except Exception as exc:
        return _fixable_failure(exc)
    print(f"published {count} slash commands")
    return 0


def _run(config: Config, *, migrate_first: bool = True, sync: bool = True) -> int:
    from bot.client import create_bot
    from bot.db import migrate
    from bot.db.engine import lock_single_process
    from bot.logging_setup import configure_logging

    token = config.require_token()
    check_content()  # a typo in a content file stops start-up with its file and line
    if not sync:
        config = config.model_copy(
            update={"gateway": config.gateway.model_copy(update={"sync_commands_on_start": False})}
        )
    configure_logging(config.bot.log_level)
    held = lock_single_process(config.database.url)  # noqa: F841 (kept for the process's life)
    bot = create_bot(config)
    if migrate_first and config.database.migrate_on_start:
        asyncio.run(migrate.upgrade(bot.database))
    try:
        bot.run(token.get_secret_value(), log_handler=None)
    except Exception as exc:
        return _fixable_failure(exc)
    return 0


def _fixable_failure(exc: Exception) -> int:
    """A start-up failure the person running Lantern can fix: its one line on stderr and exit
    code 2. Any other failure is raised again, with its traceback."""
    message = explain_run_failure(exc)
    if message is None:
        raise exc
    print(message, file=sys.stderr)
    return 2


def explain_run_failure(exc: BaseException) -> str | None:
    """One line for a start-up failure the person running Lantern can fix; else ``None``."""
    import aiohttp
    import discord

    if isinstance(exc, discord.LoginFailure):
        return (
            "environment: DISCORD_TOKEN: Discord rejected this token; copy it again from the "
            "Developer Portal (Bot > Reset Token)"
        )
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord Developer Portal: Bot > Privileged Gateway Intents: turn on "
            "Server Members Intent (Lantern needs it to welcome members), then start again"
        )
    if isinstance(exc, (aiohttp.ClientConnectorError, OSError)):
        return "network: cannot reach Discord; check this machine's internet connection"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            summary = _summary(load_config(args.path))
            print("\n".join([summary, *check_content()]))
            return 0
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(database_path=args.database, out_dir=args.out))
        config = load_config(args.config)
        if args.command == "db":
            return asyncio.run(_db(config, args.action, args.message))
        if args.command == "rotate-key":
            return asyncio.run(_rotate(config))
        if args.command == "sync-commands":
            return asyncio.run(_sync_commands(config))
        return _run(config, migrate_first=not args.no_migrate, sync=not args.no_sync)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except DataKeyError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except ContentFileError as exc:
        for problem in exc.problems:
            print(f"content error: {problem}", file=sys.stderr)
        return 2
    except DatabaseInUse as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
