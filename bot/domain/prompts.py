"""The reflection prompt library: loading and validating prompts, merging moderators' edits,
and the rotation that never repeats a prompt until every eligible one has been used."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.areas import AREA_KEYS, area_label
from bot.domain.content import ContentError, PromptFileModel, validate
from bot.domain.schedule import load_zone
from bot.domain.text import (
    Safe,
    defuse_mentions,
    fit,
    fit_words,
    plain_inline,
    safe_block,
    safe_inline,
    strip_controls,
    unescape,
)

DEFAULT_LIBRARY = Path(__file__).resolve().parents[2] / "data" / "prompts.toml"

# Discord limits, checked when the library loads (a DM carries the prompt, its follow-ups and
# a short footer within 2,000 characters; a thread name is at most 100).
MAX_TEXT = 1000
MAX_FOLLOW_UP = 300
MAX_FOLLOW_UPS = 3
MAX_SUGGESTION = 500  # escaped for approval, it still fits MAX_TEXT
MIN_PER_AREA = 10
_ID = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-z]{1,12}$")


class LibraryError(ValueError):
    """The prompt library has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Prompt:
    """One reflection prompt."""

    key: str
    area: str
    text: str
    follow_ups: tuple[str, ...] = ()
    retired: bool = False
    custom: bool = False
    edited: bool = False
    suggested_by: int | None = None


@dataclass(frozen=True)
class Library:
    """Every prompt by key, shipped ones overridden by moderators' edits."""

    prompts: Mapping[str, Prompt] = field(default_factory=dict)

    def get(self, key: str) -> Prompt | None:
        """The prompt ``key`` (retired ones included), or ``None``."""
        return self.prompts.get(key)

    def active(self, areas: Iterable[str] | None = None) -> list[Prompt]:
        """Prompts that are not retired, in ``areas`` if given, in key order."""
        wanted = set(areas) if areas is not None else None
        return sorted(
            (
                p
                for p in self.prompts.values()
                if not p.retired and (wanted is None or p.area in wanted)
            ),
            key=lambda p: p.key,
        )


def check_prompt_text(text: str, follow_ups: Sequence[str] = ()) -> list[str]:
    """Problems with a prompt's text and follow-ups (empty when it is fine)."""
    problems = []
    if not text.strip():
        problems.append("the prompt text is empty")
    if len(text) > MAX_TEXT:
        problems.append(f"the prompt text is {len(text)} characters (at most {MAX_TEXT})")
    if len(follow_ups) > MAX_FOLLOW_UPS:
        problems.append(f"{len(follow_ups)} follow-ups (at most {MAX_FOLLOW_UPS})")
    for i, follow in enumerate(follow_ups, 1):
        if not follow.strip():
            problems.append(f"follow-up {i} is empty")
        if len(follow) > MAX_FOLLOW_UP:
            problems.append(f"follow-up {i} is {len(follow)} characters (at most {MAX_FOLLOW_UP})")
    return problems


def parse_library(data: Mapping[str, Any], *, source: str = "prompts.toml") -> Library:
    """Validate a parsed library; raise LibraryError listing every problem at once."""
    problems: list[str] = []
    entries = data.get("prompt")
    unknown_top = set(data) - {"prompt"}
    if unknown_top:
        problems.append(f"{source}: unknown top-level keys {sorted(unknown_top)}")
    if not isinstance(entries, list):
        raise LibraryError([f"{source}: expected [[prompt]] entries"])
    prompts: dict[str, Prompt] = {}
    for index, entry in enumerate(entries, 1):
        where = f"{source}: prompt #{index}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table")
            continue
        key = entry.get("id")
        if isinstance(key, str):
            where = f"{source}: {key}"
        extra = set(entry) - {"id", "area", "text", "follow_ups"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        if not isinstance(key, str) or not _ID.match(key):
            problems.append(f"{where}: id must look like 'identity-01', got {key!r}")
            continue
        if key in prompts:
            problems.append(f"{where}: duplicate id")
        area = entry.get("area")
        if area not in AREA_KEYS:
            problems.append(f"{where}: area must be one of {', '.join(AREA_KEYS)}, got {area!r}")
        elif not key.startswith(f"{area}-"):
            problems.append(f"{where}: id should start with its area '{area}-'")
        text = entry.get("text")
        follow_ups = entry.get("follow_ups", [])
        if not isinstance(text, str):
            problems.append(f"{where}: text must be a string")
            continue
        if not isinstance(follow_ups, list) or not all(isinstance(f, str) for f in follow_ups):
            problems.append(f"{where}: follow_ups must be a list of strings")
            continue
        problems.extend(f"{where}: {p}" for p in check_prompt_text(text, follow_ups))
        prompts[key] = Prompt(
            key=key, area=str(area), text=text.strip(), follow_ups=tuple(follow_ups)
        )
    for area in AREA_KEYS:
        count = sum(1 for p in prompts.values() if p.area == area)
        if count < MIN_PER_AREA:
            problems.append(f"{source}: area {area} has {count} prompts (at least {MIN_PER_AREA})")
    if problems:
        raise LibraryError(problems)
    return Library(prompts)


def load_library(path: Path | None = None) -> Library:
    """Read and validate the shipped library file (never written at run time)."""
    path = path or DEFAULT_LIBRARY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LibraryError([f"{path}: file not found"]) from None
    try:  # the schema first: an unknown key or a wrong type, with its line
        _, data = validate(PromptFileModel, text, path.name)
    except ContentError as exc:
        raise LibraryError(exc.problems) from None
    return parse_library(data, source=path.name)


def merge_library(shipped: Library, overrides: Iterable[Prompt]) -> Library:
    """Shipped prompts with moderators' edits and custom prompts laid over them by key."""
    merged = dict(shipped.prompts)
    for prompt in overrides:
        merged[prompt.key] = prompt
    return Library(merged)


# ----------------------------------------------------------------------------- rotation


def _rank(salt: str, cycle: int, key: str) -> str:
    return hashlib.sha256(f"{salt}:{cycle}:{key}".encode()).hexdigest()


def next_prompt(eligible: Sequence[str], history: Sequence[str], *, salt: str) -> str | None:
    """The next prompt key: never one already used in the current cycle over ``eligible``.

    ``history`` lists keys sent before, oldest first. A cycle ends once every eligible key has
    been used; the order inside a cycle is shuffled but reproducible (``salt``, cycle number).
    """
    pool = set(eligible)
    if not pool:
        return None
    used: set[str] = set()
    cycle = 0
    for key in history:
        if key not in pool:
            continue
        if key in used:  # the pool changed under us: start a fresh cycle from here
            used = set()
            cycle += 1
        used.add(key)
        if used >= pool:
            used = set()
            cycle += 1
    remaining = sorted(pool - used)
    return min(remaining, key=lambda k: _rank(salt, cycle, k))


def shared_areas(wanted: Sequence[str], offered: Sequence[str]) -> list[str]:
    """Areas a mentee wants and their mentor offers, in the mentee's order of priority."""
    return [a for a in wanted if a in set(offered)]


# ----------------------------------------------------------------------------- rendering


def render_prompt(prompt: Prompt, area_label: str, *, footer: str = "") -> str:
    """A prompt as members read it; the caller defuses mentions in moderator text."""
    lines = [f"**A reflection prompt · {area_label}**", prompt.text]
    if prompt.follow_ups:
        lines.append("")
        lines.append("*If you'd like to go further:*")
        lines.extend(f"• {f}" for f in prompt.follow_ups)
    if footer:
        lines.append("")
        lines.append(footer)
    return fit("\n".join(lines))


def render_summary(counts: Mapping[str, int]) -> str:
    """Moderators' delivery summary: numbers only, never who or what was written."""

    def n(key: str) -> int:
        return counts.get(key, 0)

    parts = []
    if any(k.startswith("channel:") for k in counts):
        posted = n("channel:sent")
        parts.append("posted in the reflections channel" if posted else "channel post failed")
    dm_total = sum(v for k, v in counts.items() if k.startswith("dm:"))
    if dm_total:
        parts.append(
            f"DMs: {n('dm:sent')} sent, {n('dm:dm_closed')} DMs closed, "
            f"{n('dm:failed') + n('dm:sending')} failed, {n('dm:retry') + n('dm:pending')} "
            "waiting to retry"
            + (f", {n('dm:member_left')} left the server" if n("dm:member_left") else "")
            + (f", {n('dm:retired')} skipped (prompt retired)" if n("dm:retired") else "")
        )
    pair_total = sum(v for k, v in counts.items() if k.startswith("pair:"))
    if pair_total:
        pair_failed = n("pair:failed") + n("pair:no_channel") + n("pair:no_access")
        parts.append(f"pair spaces: {n('pair:sent')} sent, {pair_failed} failed")
    circle_total = sum(v for k, v in counts.items() if k.startswith("circle:"))
    if circle_total:
        circle_failed = n("circle:failed") + n("circle:no_channel") + n("circle:no_access")
        parts.append(f"circle spaces: {n('circle:sent')} sent, {circle_failed} failed")
    return "; ".join(parts) if parts else "nothing to deliver (no channel, subscribers or pairs)"


# Moderators' delivery report: each recipient status as delivered, skipped, failed or waiting,
# with the reason moderators can act on.
OUTCOMES: Mapping[str, tuple[str, str | None]] = {
    "sent": ("delivered", None),
    "member_left": ("skipped", "member left"),
    "retired": ("skipped", "prompt retired"),
    "skipped": ("skipped", None),
    "dm_closed": ("failed", "DMs closed"),
    "no_channel": ("failed", "channel missing"),
    "no_access": ("failed", "no permission to post"),
    "failed": ("failed", "Discord error"),
    "pending": ("waiting", None),
    "retry": ("waiting", "retrying"),
}
REPORT_GROUPS = ("delivered", "skipped", "failed", "waiting")
RUNS_SHOWN = 3


def run_report(
    *,
    due_at: datetime,
    zone: str,
    status: str,
    manual: bool,
    counts: Mapping[str, int],
) -> str:
    """One run of a schedule in ``/prompts schedules``: numbers and reasons, never who."""
    when = f"{due_at.astimezone(load_zone(zone)):%a %d %b %H:%M}" + (
        " (send-now)" if manual else ""
    )
    if status == "skipped":
        return f"{when}: not sent (Lantern was offline; only the latest missed run is sent)"
    if status == "no_prompt":
        return f"{when}: ⚠️ nothing sent: every prompt this schedule can use is retired"
    groups: dict[str, int] = {}
    reasons: dict[str, dict[str, int]] = {}
    for key, n in counts.items():
        state = key.split(":", 1)[-1]
        if state == "sending":  # in flight, or cut off by a crash (never resent)
            group, reason = ("waiting", None) if status == "sending" else ("failed", "interrupted")
        else:
            group, reason = OUTCOMES.get(state, ("failed", state))
        groups[group] = groups.get(group, 0) + n
        if reason:
            reasons.setdefault(group, {})
            reasons[group][reason] = reasons[group].get(reason, 0) + n
    if not groups:
        return f"{when}: nothing to deliver (no channel, subscribers or pairs)"
    parts = []
    for group in REPORT_GROUPS:
        if group not in groups and group != "delivered":
            continue
        why = ", ".join(f"{r} {n}" for r, n in sorted(reasons.get(group, {}).items()))
        parts.append(f"{group} {groups.get(group, 0)}" + (f" ({why})" if why else ""))
    return f"{when}: " + " · ".join(parts)


def no_prompt_alert(schedule_id: int) -> str:
    """Moderators' alert: a schedule came due with nothing it may send."""
    return (
        f"⚠️ Prompt schedule #{schedule_id} came due but sent nothing: every prompt it can use "
        "is retired. Bring one back with `/prompts retire restore:True`, add one with "
        "`/prompts add`, or pause the schedule with `/prompts schedules`."
    )


def all_retired_warning(schedule_ids: Sequence[int]) -> str:
    """Moderators' warning when retiring a prompt leaves schedules with nothing to send."""
    numbers = ", ".join(f"#{i}" for i in schedule_ids)
    return (
        f"⚠️ Schedule{'s' if len(schedule_ids) > 1 else ''} {numbers} now "
        f"{'have' if len(schedule_ids) > 1 else 'has'} no prompt left to send: every prompt "
        "it can use is retired. Restore or add a prompt, or pause the schedule."
    )


def schedule_has_prompts(library: Library, *, prompt_key: str | None, areas: str) -> bool:
    """Whether a schedule still has a prompt it may send (a fixed one, or one in its areas)."""
    if prompt_key:
        fixed = library.get(prompt_key)
        return fixed is not None and not fixed.retired
    chosen = [a for a in areas.split(",") if a] or list(AREA_KEYS)
    return bool(library.active(chosen))


def excerpt(text: str, limit: int = 500) -> str:
    """The start of a reflection, cut at a word boundary, for the member to trim and share."""
    return fit_words(" ".join(text.split()), limit)


# ------------------------------------------------------------------------ what members read

DM_FOOTER = (
    "Reply to this message (or press **Reflect**) to write a private reflection. "
    "Only you can read it unless you choose to share it. Say `pause prompts` to pause."
)
CHANNEL_FOOTER = "Answer in the thread below, or press **Reflect** to write privately first."
PAIR_FOOTER = "A prompt for the two of you, from your shared areas."
CIRCLE_FOOTER = "A prompt for your circle, from the area you share."
SUBSCRIBED = (
    "You'll receive reflection prompts by DM. "
    "Reply to one to write a private reflection; `/reflections pause` stops them."
)
PAUSED = "Prompts by DM are paused. `/reflections resume` starts them again whenever you like."
MAX_THREAD_NAME = 100


def moderator_text(text: str) -> str:
    """Moderator-written prompt text made inert: no mass or role pings, no bidi tricks."""
    return defuse_mentions(strip_controls(text))


def prompt_message(prompt: Prompt, footer: str = "") -> str:
    """A prompt as sent to members, its moderator-written text made inert."""
    safe = Prompt(
        key=prompt.key,
        area=prompt.area,
        text=moderator_text(prompt.text),
        follow_ups=tuple(moderator_text(f) for f in prompt.follow_ups),
    )
    return render_prompt(safe, area_label(prompt.area), footer=footer)


def thread_name(prompt: Prompt) -> str:
    """The name of the community thread a prompt's answers go in."""
    return plain_inline(f"Reflections · {unescape(prompt.text)}", limit=MAX_THREAD_NAME)


def chunk_lines(lines: Sequence[str], *, size: int = 1900) -> list[str]:
    """Lines joined into as few messages as fit ``size`` characters each."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + len(line) + 1 < size:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def when_text(instant: datetime | None, zone: str) -> str:
    """A schedule's next run for moderators: local time in its zone and a relative stamp."""
    if instant is None:
        return "never"
    local = instant.astimezone(load_zone(zone))
    return f"{local:%a %d %b %Y %H:%M} {zone} (<t:{int(instant.timestamp())}:R>)"


def schedule_line(
    *,
    schedule_id: int,
    expression: str,
    zone: str,
    places: Sequence[str],
    prompt_key: str | None,
    areas: str,
    paused: bool,
    next_run_at: datetime | None,
) -> str:
    """One schedule in ``/prompts schedules``."""
    what = (
        f"prompt `{prompt_key}`"
        if prompt_key
        else ("areas: " + (areas.replace(",", ", ") or "all"))
    )
    state = "paused" if paused else f"next: {when_text(next_run_at, zone)}"
    when = safe_inline(expression, limit=100)
    return f"**#{schedule_id}** {when} ({zone}) → {', '.join(places)}; {what}; {state}"


def prompt_line(prompt: Prompt) -> str:
    """One prompt in ``/prompts list``: its id, marks and the start of its text."""
    marks = " (retired)" if prompt.retired else (" (edited)" if prompt.edited else "")
    marks += " (added here)" if prompt.custom else ""
    return f"`{prompt.key}`{marks} {safe_inline(unescape(prompt.text), limit=70)}"


def suggestion_card(
    *, suggestion_id: int, user_id: int, anonymous: bool, area: str, text: str
) -> str:
    """A member's suggestion as moderators review it."""
    who = "anonymous to members" if anonymous else "may be credited"
    return (
        f"**Suggestion #{suggestion_id}** from <@{user_id}> ({who}) · {area_label(area)}\n"
        f"> {safe_block(text, limit=900)}"
    )


# ------------------------------------------------------------------------------- the journal

JOURNAL_PAGE = 3


@dataclass(frozen=True)
class JournalEntry:
    """One reflection as its author reads it back."""

    reflection_id: int
    created_at: datetime
    area: str | None
    prompt_text: str | None
    text: str


def journal_pages(total: int, per_page: int = JOURNAL_PAGE) -> int:
    """How many pages ``total`` reflections fill."""
    return (total + per_page - 1) // per_page


def render_journal(
    entries: Sequence[JournalEntry], *, area: str | None, page: int, total: int
) -> str:
    """A page of the member's own journal (only they see it)."""
    where = f" in {area_label(area)}" if area else ""
    if not entries:
        return f"Your journal{where} is empty. Reflections you write appear here."
    lines = [
        f"**Your journal{where}** — page {page + 1} of {journal_pages(total)}, {total} "
        f"reflection{'s' if total != 1 else ''}. Only you can see this."
    ]
    for entry in entries:
        day = entry.created_at.strftime("%d %b %Y")
        lines.append(f"\n**#{entry.reflection_id} · {day} · {area_label(entry.area or '')}**")
        if entry.prompt_text:
            lines.append(f"*{safe_inline(entry.prompt_text, limit=150)}*")
        lines.append("> " + safe_block(entry.text, limit=400).replace("\n", "\n> "))
    return fit("\n".join(lines))


def shared_text(*, name: Safe, prompt_text: str | None, excerpt: str) -> str:
    """The excerpt a member chose to share, as posted in their pair space or the thread."""
    about = f" on *{safe_inline(prompt_text, limit=120)}*" if prompt_text else ""
    body = safe_block(excerpt, limit=500).replace("\n", "\n> ")
    return f"**{name}** shared from their reflection{about}:\n> {body}"


SAVED = (
    "Saved to your private journal. Only you can read it (`/journal`), unless you "
    "choose to share an excerpt below."
)
