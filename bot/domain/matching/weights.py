"""How much each part of the compatibility score counts: shipped defaults plus validation."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULTS_PATH = Path(__file__).resolve().parents[3] / "data" / "matching.toml"

# Weights are relative, but a runaway value is almost always a typo.
MAX_WEIGHT = 1000.0
# Area coverage is what makes a pair worth making; below this share of the total it would be
# drowned out by the other parts (and the integer scoring needs a few points per priority).
MIN_AREA_SHARE = 0.05


class WeightsError(ValueError):
    """Weights that cannot be used; the message lists every problem at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Weights:
    """Relative weight of each part of the compatibility score."""

    areas: float = 40.0
    heritage: float = 15.0
    languages: float = 15.0
    career: float = 10.0
    timezone: float = 12.0
    cadence: float = 8.0

    @property
    def total(self) -> float:
        return sum(self.as_dict().values())

    def as_dict(self) -> dict[str, float]:
        """The weights by name, in declaration order."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


WEIGHT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Weights))


def load_weights(data: Mapping[str, Any], *, base: Weights | None = None) -> Weights:
    """Validate ``data`` (a mapping of weight name to number, or a ``{"weights": ...}`` table).

    Names left out keep their value from ``base`` (the shipped defaults when not given).
    Raises :class:`WeightsError` naming every problem.
    """
    if "weights" in data and isinstance(data["weights"], Mapping):
        data = data["weights"]
    values = (base or _BUILTIN).as_dict()
    problems: list[str] = []
    for name, raw in data.items():
        if name not in values:
            problems.append(f"unknown weight {name!r} (known: {', '.join(WEIGHT_NAMES)})")
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            problems.append(f"{name} must be a number, not {type(raw).__name__}")
            continue
        value = float(raw)
        if not math.isfinite(value) or value < 0 or value > MAX_WEIGHT:
            problems.append(f"{name} must be between 0 and {MAX_WEIGHT:g}, not {raw}")
            continue
        values[name] = value
    if not problems:
        total = sum(values.values())
        if values["areas"] <= 0 or values["areas"] < MIN_AREA_SHARE * total:
            problems.append(
                f"areas must be at least {MIN_AREA_SHARE:.0%} of the total weight "
                "(coverage of the mentee's priorities is what makes a match)"
            )
    if problems:
        raise WeightsError(problems)
    return Weights(**values)


def read_default_weights(path: Path = DEFAULTS_PATH) -> Weights:
    """The shipped defaults from ``data/matching.toml`` (validated)."""
    with path.open("rb") as fh:
        return load_weights(tomllib.load(fh), base=_BUILTIN)


_BUILTIN = Weights()
DEFAULT_WEIGHTS: Weights = read_default_weights() if DEFAULTS_PATH.exists() else _BUILTIN
