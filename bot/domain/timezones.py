"""Turning what a member types ("Vancouver", "São Paulo", "Pacific time") into an IANA zone.

Candidates come from the zones the system knows (``zoneinfo.available_timezones()``, passed in)
plus a small shipped alias table (``data/timezone_aliases.toml``) for common names that are not
the city in a zone name.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ALIASES_FILE = Path(__file__).resolve().parents[2] / "data" / "timezone_aliases.toml"


def normalise_place(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a place name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() or ch == "/" else " " for ch in plain)
    return " ".join(cleaned.split())


@dataclass(frozen=True)
class TimezoneMatch:
    """The zone a text resolved to, or the candidates when it was ambiguous."""

    zone: str | None
    candidates: tuple[str, ...] = ()


class TimezoneResolver:
    """Resolves place names against a fixed set of zones and aliases."""

    def __init__(self, zones: Iterable[str], aliases: Mapping[str, str]) -> None:
        self._zones = frozenset(zones)
        self._by_full: dict[str, str] = {}
        self._by_city: dict[str, set[str]] = {}
        for zone in self._zones:
            self._by_full[normalise_place(zone)] = zone
            if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/")):
                city = normalise_place(zone.rsplit("/", 1)[1].replace("_", " "))
                self._by_city.setdefault(city, set()).add(zone)
        self._aliases = {
            normalise_place(name): zone for name, zone in aliases.items() if zone in self._zones
        }

    def resolve(self, text: str) -> TimezoneMatch:
        """The single zone ``text`` names, trying the whole text then its first part."""
        key = normalise_place(text)
        attempts = [key]
        if "," in text:
            attempts.append(normalise_place(text.split(",", 1)[0]))
        for attempt in attempts:
            if not attempt:
                continue
            if attempt in self._by_full:
                return TimezoneMatch(self._by_full[attempt])
            if attempt in self._aliases:
                return TimezoneMatch(self._aliases[attempt])
            found = self._by_city.get(attempt, set())
            preferred = sorted(found, key=lambda z: (z.startswith(("Antarctica/",)), z))
            if len(found) == 1:
                return TimezoneMatch(preferred[0])
            if len(found) > 1:
                return TimezoneMatch(None, tuple(preferred))
        return TimezoneMatch(None)


def load_aliases(path: Path | None = None) -> dict[str, str]:
    """The shipped alias table (name -> IANA zone)."""
    data = tomllib.loads((path or ALIASES_FILE).read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in (data.get("aliases") or {}).items()}


def local_time(zone: str, now: datetime) -> str:
    """``now`` in ``zone`` as a short clock time (for confirming a zone with the member)."""
    return now.astimezone(ZoneInfo(zone)).strftime("%H:%M")
