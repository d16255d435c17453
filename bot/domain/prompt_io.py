"""The prompt library as a portable file: ``/prompts export`` writes it, ``/prompts import``
reads one back, checks it (schema first, then meaning, each problem with its line) and works
out what would be added, changed, retired and restored before anything is applied.

The file is the whole library: a prompt of this server's library that the file leaves out is
retired (never deleted; ``/prompts retire restore:True`` brings it back), and the preview says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.domain.areas import AREA_KEYS
from bot.domain.content import ContentError, ImportFileModel, key_lines, locate, validate
from bot.domain.prompts import _ID, Library, Prompt, check_prompt_text
from bot.domain.text import fit, safe_inline

FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 512 * 1024
MAX_IMPORT_PROMPTS = 2000
SHOWN_PER_GROUP = 8
CUSTOM_PREFIX = "custom-"


def export_filename(guild_id: int) -> str:
    """The name of an exported library file."""
    return f"lantern-prompts-{guild_id}.toml"


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX for controls).
    return json.dumps(text, ensure_ascii=False)


def library_toml(library: Library) -> str:
    """Every prompt of a server's library (retired ones marked), as an import file."""
    lines = [
        "# Lantern prompt library. Edit and bring back with /prompts import.",
        "# Keys: id, area, text, follow_ups (up to 3), retired. A prompt left out of the file",
        "# is retired on import; nothing is deleted.",
        f"version = {FORMAT_VERSION}",
    ]
    for prompt in sorted(library.prompts.values(), key=lambda p: p.key):
        lines += [
            "",
            "[[prompt]]",
            f"id = {_toml_string(prompt.key)}",
            f"area = {_toml_string(prompt.area)}",
            f"text = {_toml_string(prompt.text)}",
            "follow_ups = [" + ", ".join(_toml_string(f) for f in prompt.follow_ups) + "]",
        ]
        if prompt.retired:
            lines.append("retired = true")
    return "\n".join(lines) + "\n"


def read_import(data: bytes, source: str) -> list[Prompt]:
    """The prompts of an import file, or a ContentError listing every problem with its line."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ContentError([f"{source}: the file is larger than {MAX_IMPORT_BYTES // 1024} KB"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ContentError([f"{source}: is not a UTF-8 text file"]) from None
    model, _ = validate(ImportFileModel, text, source)
    if model.version != FORMAT_VERSION:
        raise ContentError([f"{source}: version must be {FORMAT_VERSION}"])
    if len(model.prompt) > MAX_IMPORT_PROMPTS:
        raise ContentError([f"{source}: more than {MAX_IMPORT_PROMPTS} prompts"])
    lines = key_lines(text)
    problems: list[str] = []
    seen: set[str] = set()
    prompts: list[Prompt] = []
    for index, entry in enumerate(model.prompt):
        line = locate(lines, ("prompt", index, "id"))
        where = f"{source}:{line}" if line else source
        key = entry.id.strip()
        if not _ID.match(key):
            problems.append(f"{where}: id must look like 'identity-01', got {fit(key, 40)!r}")
            continue
        if key in seen:
            problems.append(f"{where}: id {key!r} appears twice")
        seen.add(key)
        if entry.area not in AREA_KEYS:
            at = locate(lines, ("prompt", index, "area")) or line
            problems.append(
                f"{source}:{at}: area must be one of {', '.join(AREA_KEYS)}, "
                f"got {fit(entry.area, 20)!r}"
            )
            continue
        if not (key.startswith(f"{entry.area}-") or key.startswith(CUSTOM_PREFIX)):
            problems.append(f"{where}: id should start with its area '{entry.area}-'")
        at = locate(lines, ("prompt", index, "text")) or line
        problems.extend(
            f"{source}:{at}: {p}" for p in check_prompt_text(entry.text, entry.follow_ups)
        )
        prompts.append(
            Prompt(
                key=key,
                area=entry.area,
                text=entry.text.strip(),
                follow_ups=tuple(f.strip() for f in entry.follow_ups),
                retired=entry.retired,
                custom=key.startswith(CUSTOM_PREFIX),
            )
        )
    if problems:
        raise ContentError(problems)
    return prompts


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do to a server's library."""

    added: tuple[Prompt, ...]
    changed: tuple[Prompt, ...]
    retired: tuple[Prompt, ...]
    restored: tuple[Prompt, ...]
    unchanged: int

    @property
    def changes(self) -> tuple[Prompt, ...]:
        """Every prompt to save, in its new state."""
        return (*self.added, *self.changed, *self.retired, *self.restored)


def plan_import(current: Library, incoming: Sequence[Prompt]) -> ImportPlan:
    """Compare the file with the library: added, changed (wording, area, follow-ups),
    retired (marked so, or left out of the file) and restored prompts."""
    added, changed, retired, restored = [], [], [], []
    unchanged = 0
    keys = {p.key for p in incoming}
    for prompt in incoming:
        now = current.get(prompt.key)
        if now is None:
            added.append(prompt)
            continue
        # the file's wording and state; who made the prompt stays as the library knows it
        kept = replace(prompt, custom=now.custom, suggested_by=now.suggested_by)
        same_words = (now.area, now.text, now.follow_ups) == (
            prompt.area,
            prompt.text,
            prompt.follow_ups,
        )
        if prompt.retired and not now.retired:
            retired.append(kept)
        elif not prompt.retired and now.retired:
            restored.append(kept)
        elif not same_words:
            changed.append(kept)
        else:
            unchanged += 1
    for prompt in sorted(current.prompts.values(), key=lambda p: p.key):
        if prompt.key not in keys and not prompt.retired:
            retired.append(replace(prompt, retired=True))
    return ImportPlan(tuple(added), tuple(changed), tuple(retired), tuple(restored), unchanged)


def _group(title: str, prompts: Sequence[Prompt]) -> list[str]:
    if not prompts:
        return []
    lines = [f"**{title} ({len(prompts)})**"]
    for prompt in prompts[:SHOWN_PER_GROUP]:
        lines.append(f"• `{prompt.key}` {safe_inline(prompt.text, limit=70)}")
    if len(prompts) > SHOWN_PER_GROUP:
        lines.append(f"• …and {len(prompts) - SHOWN_PER_GROUP} more")
    return lines


def import_preview(plan: ImportPlan, source: str) -> str:
    """What moderators see before they confirm an import."""
    name = safe_inline(source, limit=60)
    if not plan.changes:
        return f"`{name}` matches this server's library: nothing would change."
    lines = [f"**Import preview: {name}**. Nothing changes until you press **Apply import**."]
    lines += _group("Added", plan.added)
    lines += _group("Changed", plan.changed)
    lines += _group("Retired", plan.retired)
    lines += _group("Restored", plan.restored)
    lines.append(f"Unchanged: {plan.unchanged}.")
    if any(p for p in plan.retired):
        lines.append("Prompts left out of the file are retired, never deleted.")
    return "\n".join(lines)


def import_summary(plan: ImportPlan) -> str:
    """The moderator's confirmation once an import is applied."""
    return (
        f"Imported: {len(plan.added)} added, {len(plan.changed)} changed, "
        f"{len(plan.retired)} retired, {len(plan.restored)} restored."
    )


def import_refusal(problems: Sequence[str], *, limit: int = 10) -> str:
    """Why an import file was refused (each problem with its line), for the moderator."""
    shown = [f"• {safe_inline(p, limit=180)}" for p in problems[:limit]]
    more = len(problems) - limit
    if more > 0:
        shown.append(f"• …and {more} more")
    return "That file can't be imported; nothing changed:\n" + "\n".join(shown)
