"""Wiring: every number and text option of every slash command is bounded, so Discord refuses
out-of-range input with its own clear message before it reaches a use case or the database;
and no code trims text by slicing (``fit`` and friends in ``bot/domain/text.py`` do)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from discord import AppCommandOptionType, app_commands

from bot.client import LanternBot

# Options that are bounded some other way, each with its reason.
UNBOUNDED_ALLOWED: dict[str, str] = {}


def _commands(
    commands: list[app_commands.Command | app_commands.Group],  # type: ignore[type-arg]
) -> Iterator[app_commands.Command]:  # type: ignore[type-arg]
    for command in commands:
        if isinstance(command, app_commands.Group):
            yield from _commands(list(command.commands))
        else:
            yield command


def _unbounded(parameter: app_commands.Parameter) -> bool:
    if parameter.choices or parameter.autocomplete:
        # Choices bound it; an autocompleted text still needs a length.
        if not (parameter.type is AppCommandOptionType.string and parameter.autocomplete):
            return False
    if parameter.type is AppCommandOptionType.string:
        return parameter.max_value is None  # for text, discord.py keeps max_length here
    if parameter.type in (AppCommandOptionType.integer, AppCommandOptionType.number):
        return parameter.min_value is None or parameter.max_value is None
    return False


def test_every_number_and_text_option_is_bounded(loaded_bot: LanternBot) -> None:
    found = []
    checked = 0
    for command in _commands(loaded_bot.tree.get_commands()):  # type: ignore[arg-type]
        for parameter in command.parameters:
            where = f"/{command.qualified_name} {parameter.name}"
            if parameter.type in (
                AppCommandOptionType.string,
                AppCommandOptionType.integer,
                AppCommandOptionType.number,
            ):
                checked += 1
            if _unbounded(parameter) and where not in UNBOUNDED_ALLOWED:
                found.append(where)
    assert checked > 10  # the walk really saw the commands
    assert not found, f"bound these with app_commands.Range (or choices): {found}"


# A slice that keeps the start of something: ``x[:n]`` or ``x[a:b]`` (not ``x[n:]``, ``x[:-1]``).
_SLICE = re.compile(r"[\w)\]\"']\[[^\[\]:]*:\s*(?![-:\]])[^\[\]]+\]")
ROOT = Path(__file__).resolve().parents[2]
# Matrix code: its slices are numpy arrays, never text.
NUMERIC = {
    "bot/domain/matching/assignment.py",
    "bot/domain/matching/pool.py",
    "bot/domain/matching/scoring.py",
}
# Slices of lists, arrays and identifiers, which are not text a person reads.
SLICES_ALLOWED = {
    ("bot/domain/pairs.py", "value = value[:limit].strip"): "a channel slug: ascii, no ellipsis",
    ("bot/domain/pairs.py", '"[: MAX_CHANNEL_NAME - 4]'): "a channel slug: ascii, no ellipsis",
    ("bot/scheduler.py", "uuid.uuid4().hex[:8]"): "a random id",
    ("bot/ratelimit.py", "uuid.uuid4().hex[:8]"): "a random id",
    ("bot/ratelimit.py", "hexdigest()[:16]"): "a key derived from a hash",
    ("bot/domain/pairs.py", "clean_reasons[:6]"): "a list of reasons",
    ("bot/domain/questionnaire.py", "picked[: source.max_values]"): "a list of choices",
    ("bot/domain/questionnaire.py", "chosen[: f.max_values]"): "a list of choices",
    ("bot/domain/questionnaire.py", "candidates[:5]"): "a list of time zones",
    ("bot/domain/timezones.py", "ranked[:MAX_CANDIDATES]"): "a list of time zones",
    ("bot/domain/profile.py", "[:3]"): "a tuple of areas",
    ("bot/domain/introductions.py", "skipped[:SKIPPED_SHOWN]"): "a list of names",
    ("bot/services/matching.py", "unmatched[:PREVIEW_NAMES]"): "a list of mentees",
    ("bot/services/matching.py", "waiting[:QUEUE_NAMES]"): "a list of requests",
    ("bot/services/prompts.py", "found[:limit]"): "a list of prompts",
    ("bot/services/prompts.py", "[:10]"): "a list of messages",
    ("bot/services/prompts.py", "rows[:limit]"): "a list of suggestions",
    ("cogs/conversation.py", "guilds[:MAX_SERVERS]"): "a list of servers",
    ("bot/db/queries/onboarding.py", "order[: order.index(step)]"): "a list of pages",
    ("bot/services/moderation.py", "rows[:limit]"): "a list of reports",
    ("bot/domain/pairs.py", "card.fields[:EMBED_FIELDS]"): "a list of fields",
    ("bot/demo/acts.py", 'text[:start] + text[text.index("[[prompt]]"'): "editing a TOML file",
    ("bot/domain/content.py", "loc[:cut]"): "a path of keys",
    ("bot/domain/content.py", "names[: i + 1]"): "a path of keys",
    ("bot/domain/prompt_io.py", "prompts[:SHOWN_PER_GROUP]"): "a list of prompts",
    ("bot/domain/prompt_io.py", "problems[:limit]"): "a list of problems",
    ("bot/domain/matching/batch.py", "items[i : i + size]"): "a round's rows, packed in pieces",
    ("bot/domain/circles.py", "list(dict.fromkeys(spelled))[:3]"): "a list of languages",
    ("bot/domain/circles.py", "labels[:2]"): "a list of meeting times",
    ("bot/domain/circles.py", "circles[:PREVIEW_CIRCLES]"): "a list of circles",
    ("bot/domain/circles.py", "dropped[:20]"): "a list of names",
    ("bot/services/circles.py", "grouping.circles[: d.PREVIEW_CIRCLES]"): "a list of circles",
    ("bot/services/circles.py", "grouping.waiting[: d.PREVIEW_NAMES]"): "a list of members",
}


def test_text_is_trimmed_only_by_fit() -> None:
    """Trimming text is ``fit``'s job (with "…", within Discord's limits); a ``[:N]`` elsewhere
    cuts mid-escape or past a limit without saying so."""
    found = []
    for folder in ("bot", "cogs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in NUMERIC or rel == "bot/domain/text.py" or "/migrations/" in rel:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not _SLICE.search(line):
                    continue
                if any(rel == f and snippet in line for f, snippet in SLICES_ALLOWED):
                    continue
                found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "trim text with bot.domain.text.fit, not a slice:\n" + "\n".join(found)
