"""Noticing crisis language in a member's own reflection, and which resources to show them.

Nothing here alerts anyone: the cog shows the member, privately, the resources for their
region. The list lives in ``data/crisis_resources.toml`` so a community can adapt it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RESOURCES = Path(__file__).resolve().parents[2] / "data" / "crisis_resources.toml"

_PATTERNS = re.compile(
    r"\b(kill(ing)? myself|suicid\w*|end(ing)? (it all|my life)|want(ed)? to die|"
    r"don'?t want to (be here|live|wake up)|self[- ]?harm\w*|hurt(ing)? myself|"
    r"no reason to (live|go on)|better off without me|take my (own )?life)\b",
    re.IGNORECASE,
)


def mentions_crisis(text: str) -> bool:
    """Whether ``text`` contains words that suggest the writer may be in danger."""
    return bool(_PATTERNS.search(text.replace("’", "'")))


@dataclass(frozen=True)
class Region:
    """Crisis resources for the time zones of one region."""

    name: str
    zones: tuple[str, ...]
    lines: tuple[str, ...]


def load_resources(path: Path = DEFAULT_RESOURCES) -> list[Region]:
    """The configured regions; the one with no zones is the fallback."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    regions = []
    for entry in data.get("region", []):
        regions.append(
            Region(
                name=str(entry["name"]),
                zones=tuple(entry.get("zones", [])),
                lines=tuple(entry["lines"]),
            )
        )
    if not any(not r.zones for r in regions):
        raise ValueError(f"{path}: one region must have no zones (the fallback)")
    return regions


def resources_for(regions: Sequence[Region], timezone: str | None) -> Region:
    """The region whose zone prefixes match ``timezone`` best, else the fallback."""
    fallback = next(r for r in regions if not r.zones)
    if not timezone:
        return fallback
    best: tuple[int, Region] | None = None
    for region in regions:
        for prefix in region.zones:
            if timezone == prefix or timezone.startswith(prefix):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), region)
    return best[1] if best else fallback


def support_message(region: Region) -> str:
    """What the member alone is shown when their own words suggest they may be in danger."""
    lines = "\n".join(f"• {line}" for line in region.lines)
    return (
        "It sounds like things may be really hard right now. You don't have to carry "
        f"this alone. If you are in danger or thinking of ending your life:\n{lines}\n"
        "Nobody has been alerted; this message is only for you. If you'd like someone "
        "here to check in, you can message a moderator whenever you choose."
    )
