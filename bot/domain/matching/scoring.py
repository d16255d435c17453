"""The compatibility score of a mentee–mentor pair, its reasons, and its vectorised encoding.

A score is a whole number of *points* (hundredths of a score point, 0–10,000), the sum of six
parts, each worth at most its share of 10,000 under the weights:

- **areas**: the mentee's priority areas the mentor offers; the first priority counts most
  (3:2:1 for three priorities, 2:1 for two). A mentor covering none of the priorities is
  *incompatible*: never proposed, never assigned, scored 0. A mentee without priorities gets
  half the areas part from every mentor (anyone can help).
- **heritage**: only when both shared their heritage with their match and the mentee asked for a
  similar or a different heritage; otherwise half the part (neutral). "Similar" rewards the
  share of the mentee's regions (and details) the mentor has too; "different" the opposite.
- **languages**: the share of the mentee's languages the mentor speaks.
- **career**: same career field.
- **timezone**: full within an hour, falling linearly to nothing at nine hours apart. Offsets
  come from zoneinfo as the mean of 15 January and 15 July (so daylight saving favours no
  hemisphere), rounded to a quarter hour: pure and deterministic.
- **cadence**: how well their preferred meeting rhythms agree.

Unknown answers (on either side) score half a part. Every part is a sum of per-item integer
contributions, which is what lets the whole score be computed as one integer-exact float32
matrix product of encoded mentees and mentors (see :class:`Encoder`): the vectorised scores are
bit-for-bit the ones :func:`score_points` gives, and optimality proofs are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from bot.domain.areas import area_label
from bot.domain.matching.weights import Weights
from bot.domain.profile import Profile

POINTS = 10_000  # a perfect score, in hundredths of a point
# Added to an incompatible pair: far below any real score yet exact in float32 (< 2**24).
INCOMPATIBLE = -(2**20)

_REFERENCE_INSTANTS = (
    datetime(2025, 1, 15, 12, tzinfo=UTC),
    datetime(2025, 7, 15, 12, tzinfo=UTC),
)
_ZERO = timedelta(0)
_FULL_TZ_MINUTES = 60  # full timezone part up to this far apart
_ZERO_TZ_MINUTES = 540  # nothing from this far apart

# Meetings per month for the cadences the questionnaire may offer; others compare by equality.
_CADENCE_RATE: dict[str, float] = {
    "weekly": 4,
    "biweekly": 2,
    "fortnightly": 2,
    "every_two_weeks": 2,
    "twice_monthly": 2,
    "monthly": 1,
    "every_month": 1,
    "bimonthly": 0.5,
    "every_two_months": 0.5,
    "quarterly": 1 / 3,
}
_FLEXIBLE = frozenset({"flexible", "any", "no_preference", "whatever_works"})


# ---------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Budget:
    """The most points each part can give under some weights (sum ≤ POINTS)."""

    areas: int
    heritage: int
    languages: int
    career: int
    timezone: int
    cadence: int

    @classmethod
    def of(cls, weights: Weights) -> Budget:
        return _budget(weights)


@lru_cache(maxsize=64)
def _budget(weights: Weights) -> Budget:
    total = weights.total
    parts = {k: int(POINTS * v // total) for k, v in weights.as_dict().items()}
    return Budget(**parts)


@lru_cache(maxsize=65_536)
def norm(value: str | None) -> str | None:
    """Case- and space-insensitive key for a free-ish answer (language, career field...)."""
    if value is None:
        return None
    key = " ".join(value.split()).casefold()
    return key or None


@lru_cache(maxsize=65_536)
def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for k in (norm(v) for v in values) if k))


def area_points(wanted: Sequence[str], offered: frozenset[str], budget: int) -> int | None:
    """Points for area coverage, or None when the mentor offers none of the priorities."""
    wanted = tuple(dict.fromkeys(wanted))
    if not wanted:
        return budget // 2
    n = len(wanted)
    triangle = n * (n + 1) // 2
    covered = [budget * (n - i) // triangle for i, a in enumerate(wanted) if a in offered]
    return sum(covered) if covered else None


def heritage_usable(mentee: Profile) -> bool:
    """Whether the mentee's heritage preference can be used at all (shared and asked for)."""
    return (
        mentee.shares("heritage")
        and mentee.heritage_preference in ("similar", "different")
        and bool(_unique(mentee.heritage_regions) or _unique(mentee.heritage_details))
    )


def heritage_visible(mentor: Profile) -> bool:
    """Whether the mentor's heritage may be used (shared, and something to compare)."""
    return mentor.shares("heritage") and bool(
        _unique(mentor.heritage_regions) or _unique(mentor.heritage_details)
    )


def heritage_items(mentee: Profile, budget: int) -> tuple[int, dict[str, int], dict[str, int]]:
    """(points for a visible mentor, points per shared region, per shared detail) for a mentee.

    Only meaningful when :func:`heritage_usable`; a hidden mentor scores ``budget // 2``.
    """
    regions, details = _unique(mentee.heritage_regions), _unique(mentee.heritage_details)
    if mentee.heritage_preference == "similar":
        if regions and details:
            half = budget // 2
            return (
                0,
                {r: half // len(regions) for r in regions},
                {d: (budget - half) // len(details) for d in details},
            )
        if regions:
            return 0, {r: budget // len(regions) for r in regions}, {}
        return 0, {}, {d: budget // len(details) for d in details}
    # "different": full unless they share roots; each shared region (or detail) takes its part.
    if regions:
        return budget, {r: -(budget // len(regions)) for r in regions}, {}
    return budget, {}, {d: -(budget // len(details)) for d in details}


def heritage_points(mentee: Profile, mentor: Profile, budget: int) -> int:
    """Points for the heritage part of one pair."""
    if not heritage_usable(mentee) or not heritage_visible(mentor):
        return budget // 2
    base, per_region, per_detail = heritage_items(mentee, budget)
    mentor_regions = set(_unique(mentor.heritage_regions))
    mentor_details = set(_unique(mentor.heritage_details))
    return (
        base
        + sum(p for r, p in per_region.items() if r in mentor_regions)
        + sum(p for d, p in per_detail.items() if d in mentor_details)
    )


def language_points(mentee: Profile, mentor: Profile, budget: int) -> int:
    """Points for the share of the mentee's languages the mentor speaks."""
    mine, theirs = _unique(mentee.languages), set(_unique(mentor.languages))
    if not mine or not theirs:
        return budget // 2
    return sum(budget // len(mine) for lang in mine if lang in theirs)


def career_points(mentee: Profile, mentor: Profile, budget: int) -> int:
    """Points for the same career field."""
    a, b = norm(mentee.career_field), norm(mentor.career_field)
    if a is None or b is None:
        return budget // 2
    return budget if a == b else 0


@lru_cache(maxsize=1024)
def utc_offset_minutes(name: str | None) -> int | None:
    """A zone's typical UTC offset in minutes (mean of January and July, nearest quarter hour)."""
    if not name:
        return None
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    seconds = [
        (instant.astimezone(zone).utcoffset() or _ZERO).total_seconds()
        for instant in _REFERENCE_INSTANTS
    ]
    return round(sum(seconds) / len(seconds) / 900) * 15


def minutes_apart(a: int, b: int) -> int:
    """Distance between two UTC offsets around the clock, in minutes (0–720)."""
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def timezone_points_between(a: int | None, b: int | None, budget: int) -> int:
    """Points for two offsets (None = unknown)."""
    if a is None or b is None:
        return budget // 2
    d = minutes_apart(a, b)
    if d <= _FULL_TZ_MINUTES:
        return budget
    if d >= _ZERO_TZ_MINUTES:
        return 0
    return budget * (_ZERO_TZ_MINUTES - d) // (_ZERO_TZ_MINUTES - _FULL_TZ_MINUTES)


def cadence_points_between(a: str | None, b: str | None, budget: int) -> int:
    """Points for two meeting rhythms (None = unknown)."""
    if a is None or b is None:
        return budget // 2
    if a == b or a in _FLEXIBLE or b in _FLEXIBLE:
        return budget
    ra, rb = _CADENCE_RATE.get(a), _CADENCE_RATE.get(b)
    if ra is None or rb is None:
        return 0
    ratio = max(ra, rb) / min(ra, rb)
    if ratio <= 2:
        return budget // 2
    if ratio <= 4:
        return budget // 4
    return 0


@lru_cache(maxsize=1024)
def _cadence_key(value: str | None) -> str | None:
    key = norm(value)
    return key.replace(" ", "_").replace("-", "_") if key else None


def score_points(mentee: Profile, mentor: Profile, weights: Weights) -> int | None:
    """The pair's score in points (0–10,000), or None when the mentor is incompatible."""
    b = Budget.of(weights)
    areas = area_points(mentee.areas_wanted, frozenset(mentor.areas_offered), b.areas)
    if areas is None:
        return None
    return (
        areas
        + heritage_points(mentee, mentor, b.heritage)
        + language_points(mentee, mentor, b.languages)
        + career_points(mentee, mentor, b.career)
        + timezone_points_between(
            utc_offset_minutes(mentee.timezone), utc_offset_minutes(mentor.timezone), b.timezone
        )
        + cadence_points_between(
            _cadence_key(mentee.cadence), _cadence_key(mentor.cadence), b.cadence
        )
    )


def is_compatible(mentee: Profile, mentor: Profile) -> bool:
    """A mentor is compatible when they offer at least one of the mentee's priorities."""
    return not mentee.areas_wanted or bool(set(mentee.areas_wanted) & set(mentor.areas_offered))


def score_pair(mentee: Profile, mentor: Profile, weights: Weights) -> float:
    """The pair's compatibility, 0–100 (0 for a mentor offering none of the priorities)."""
    points = score_points(mentee, mentor, weights)
    return 0.0 if points is None else points / 100


# ---------------------------------------------------------------------------------- reasons


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _hours(minutes: int) -> str:
    if minutes % 60 == 0:
        h = minutes // 60
        return f"{h} hour{'s' if h != 1 else ''}"
    if minutes % 30 == 0:
        return f"{minutes // 60}½ hours"
    return f"about {round(minutes / 60)} hours" if minutes > 90 else f"{minutes} minutes"


def _originals(values: Sequence[str], keys: set[str]) -> list[str]:
    """The first spelling of each value whose normalised key is in ``keys``, in order."""
    seen: dict[str, str] = {}
    for v in values:
        k = norm(v)
        if k and k in keys and k not in seen:
            seen[k] = " ".join(v.split())
    return list(seen.values())


def explain(mentee: Profile, mentor: Profile) -> tuple[str, ...]:
    """Why this pair fits, in plain words, from fields both allowed their match to see.

    The priority areas are the purpose of the match and are always shown; heritage, languages,
    career, time zone and rhythm only when both shared that field. Values a member typed
    (languages, career field) are returned as typed: echo them through ``safe_inline``.
    """
    reasons: list[str] = []
    common = [a for a in dict.fromkeys(mentee.areas_wanted) if a in set(mentor.areas_offered)]
    if common:
        reasons.append("You both chose " + _join([area_label(a).lower() for a in common]))

    def both(field: str) -> bool:
        return mentee.shares(field) and mentor.shares(field)

    if both("heritage"):
        details = _originals(mentee.heritage_details, set(_unique(mentor.heritage_details)))
        regions = _originals(mentee.heritage_regions, set(_unique(mentor.heritage_regions)))
        if mentee.heritage_preference != "different" and (details or regions):
            if details:
                reasons.append(f"Both have {_join(details[:3])} roots")
            else:
                places = [r.replace("_", " ").title() for r in regions[:3]]
                reasons.append("Both have roots in " + _join(places))
        elif (
            not (details or regions)
            and mentee.heritage_preference == "different"
            and heritage_usable(mentee)
            and heritage_visible(mentor)
        ):
            reasons.append("Different heritage backgrounds to learn from")
    if both("languages"):
        langs = _originals(mentee.languages, set(_unique(mentor.languages)))
        if langs:
            reasons.append("Both speak " + _join(langs[:3]))
    if both("career"):
        a, b = norm(mentee.career_field), norm(mentor.career_field)
        if a and a == b and mentee.career_field:
            reasons.append("Both work in " + " ".join(mentee.career_field.split()))
    if both("timezone"):
        oa, ob = utc_offset_minutes(mentee.timezone), utc_offset_minutes(mentor.timezone)
        if oa is not None and ob is not None:
            d = minutes_apart(oa, ob)
            if d == 0:
                reasons.append("Same time of day")
            elif d <= 180:
                reasons.append(f"{_hours(d)} apart")
    if both("cadence"):
        ca, cb = _cadence_key(mentee.cadence), _cadence_key(mentor.cadence)
        if ca and cb and ca == cb and ca not in _FLEXIBLE:
            reasons.append(f"Both prefer meeting {ca.replace('_', ' ')}")
    return tuple(reasons)


# ---------------------------------------------------------------------------------- encoding


class _Vocab:
    """Column numbers for the values seen among mentors."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}

    def add(self, key: Hashable) -> int:
        return self.index.setdefault(key, len(self.index))

    def __len__(self) -> int:
        return len(self.index)


_UNKNOWN = ("?",)  # vocab key for "this mentor did not answer"


class Encoder:
    """Turns mentors into columns and mentees into rows so that ``row · column`` is the score.

    Mentor side: one-hot blocks (area set, heritage visibility, career, offset, cadence, a bias
    column) stored as one absolute column index per mentor and block, plus a multi-hot block
    (heritage regions and details, languages, "no languages") as a dense 0/1 matrix. Mentee
    side: one integer row over all columns; a pair's score is exact in float32.
    """

    def __init__(self, mentors: Sequence[Profile], weights: Weights) -> None:
        self.weights = weights
        self.budget = b = Budget.of(weights)
        self._b = b
        masks, hv, career, tz, cadence = _Vocab(), _Vocab(), _Vocab(), _Vocab(), _Vocab()
        regions, details, langs = _Vocab(), _Vocab(), _Vocab()
        hv.add(False), hv.add(True)
        onehot: list[tuple[int, int, int, int, int]] = []
        # multi-hot cells as parallel lists: mentor, kind (0 region, 1 detail, 2 language,
        # 3 "no languages"), column within the kind
        cells: list[tuple[int, int, int]] = []
        for j, m in enumerate(mentors):
            mine_r, mine_d = _unique(m.heritage_regions), _unique(m.heritage_details)
            visible = m.shares("heritage") and bool(mine_r or mine_d)
            if visible:
                for r in mine_r:
                    cells.append((j, 0, regions.add(r)))
                for d in mine_d:
                    cells.append((j, 1, details.add(d)))
            mine = _unique(m.languages)
            for lang in mine:
                cells.append((j, 2, langs.add(lang)))
            if not mine:
                cells.append((j, 3, 0))
            offset = utc_offset_minutes(m.timezone)
            onehot.append(
                (
                    masks.add(frozenset(m.areas_offered)),
                    1 if visible else 0,
                    career.add(norm(m.career_field) or _UNKNOWN),
                    tz.add(_UNKNOWN if offset is None else offset),
                    cadence.add(_cadence_key(m.cadence) or _UNKNOWN),
                )
            )
        for v in (career, tz, cadence):
            v.add(_UNKNOWN)
        self._masks, self._career, self._tz, self._cadence = masks, career, tz, cadence
        self._regions, self._details, self._langs = regions, details, langs
        # Column layout: [bias | masks | hv | career | tz | cadence] one-hot, then multi-hot.
        widths = [1, len(masks), 2, len(career), len(tz), len(cadence)]
        self._starts = np.cumsum([0, *widths])[:-1].astype(np.int64)
        self.onehot_width = int(sum(widths))
        self._multi_start = {
            "r": 0,
            "d": len(regions),
            "l": len(regions) + len(details),
            "n": len(regions) + len(details) + len(langs),
        }
        self.multi_width = len(regions) + len(details) + len(langs) + 1
        self.width = self.onehot_width + self.multi_width
        n = len(mentors)
        cols = np.zeros((n, len(widths)), dtype=np.int64)
        if n:
            cols[:, 1:] = np.asarray(onehot, dtype=np.int64)
        #: absolute one-hot column of each mentor per block, shape (blocks, mentors)
        self.mentor_onehot = np.ascontiguousarray((cols + self._starts[None, :]).T)
        self.mentor_multi = np.zeros((n, self.multi_width), dtype=np.float32, order="F")
        kind_start = np.array([self._multi_start[k] for k in "rdln"], dtype=np.int64)
        at = np.asarray(cells, dtype=np.int64).reshape(-1, 3)
        self.mentor_multi[at[:, 0], kind_start[at[:, 1]] + at[:, 2]] = 1.0
        self._cache: dict[tuple[str, Hashable], np.ndarray] = {}

    def warm(self) -> None:
        """Precompute the area rows of every possible priority list (≤ 3 of the 7 areas)."""
        from itertools import permutations

        from bot.domain.areas import AREA_KEYS

        for n in range(4):
            for wanted in permutations(AREA_KEYS, n):
                self._cached("areas", wanted, lambda w=wanted: self._areas(w))  # type: ignore[misc]

    @property
    def area_columns(self) -> slice:
        """The columns of the area block (one per distinct mentor area set)."""
        start = int(self._starts[1])
        return slice(start, start + len(self._masks))

    @property
    def mentor_area_column(self) -> np.ndarray:
        """Each mentor's column within the area block."""
        return self.mentor_onehot[1] - self._starts[1]

    # -- mentor side

    def mentor_matrix(self) -> np.ndarray:
        """Dense (width × mentors) float32 matrix of the mentors' columns."""
        n = self.mentor_multi.shape[0]
        g = np.zeros((self.width, n), dtype=np.float32)
        cols = np.arange(n)
        for block in self.mentor_onehot:
            g[block, cols] = 1.0
        g[self.onehot_width :, :] = self.mentor_multi.T
        return g

    # -- mentee side

    def _cached(self, kind: str, key: Hashable, build: Callable[[], np.ndarray]) -> np.ndarray:
        hit = self._cache.get((kind, key))
        if hit is None:
            hit = self._cache[(kind, key)] = build()
        return hit

    def mentee_row(self, mentee: Profile) -> np.ndarray:
        """The mentee's float32 row (width,)."""
        row = np.zeros(self.width, dtype=np.float32)
        self.fill_row(row, mentee)
        return row

    def fill_row(self, row: np.ndarray, mentee: Profile) -> None:
        """Write the mentee's encoding into ``row`` (zeros of length ``width``)."""
        b, s = self._b, self._starts
        bias = 0
        # areas: one value per mentor area set
        wanted = tuple(dict.fromkeys(mentee.areas_wanted))
        row[s[1] : s[1] + len(self._masks)] = self._cached(
            "areas", wanted, lambda: self._areas(wanted)
        )
        # heritage
        half_h = b.heritage // 2
        if heritage_usable(mentee):
            base, per_region, per_detail = heritage_items(mentee, b.heritage)
            row[s[2]] = half_h
            row[s[2] + 1] = base
            m0 = self.onehot_width
            for r, p in per_region.items():
                c = self._regions.index.get(r)
                if c is not None:
                    row[m0 + self._multi_start["r"] + c] = p
            for d, p in per_detail.items():
                c = self._details.index.get(d)
                if c is not None:
                    row[m0 + self._multi_start["d"] + c] = p
        else:
            bias += half_h
        # languages
        mine = _unique(mentee.languages)
        m0 = self.onehot_width
        if mine:
            each = b.languages // len(mine)
            for lang in mine:
                c = self._langs.index.get(lang)
                if c is not None:
                    row[m0 + self._multi_start["l"] + c] = each
            row[m0 + self._multi_start["n"]] = b.languages // 2
        else:
            bias += b.languages // 2
        # career
        field = norm(mentee.career_field)
        if field is None:
            bias += b.career // 2
        else:
            c = self._career.index.get(field)
            if c is not None:
                row[s[3] + c] = b.career
            row[s[3] + self._career.index[_UNKNOWN]] = b.career // 2
        # timezone
        offset = utc_offset_minutes(mentee.timezone)
        if offset is None:
            bias += b.timezone // 2
        else:
            row[s[4] : s[4] + len(self._tz)] = self._cached(
                "tz", offset, lambda: self._tzrow(offset)
            )
        # cadence
        cad = _cadence_key(mentee.cadence)
        if cad is None:
            bias += b.cadence // 2
        else:
            row[s[5] : s[5] + len(self._cadence)] = self._cached(
                "cadence", cad, lambda: self._cadrow(cad)
            )
        row[0] = bias

    def mentee_matrix(self, mentees: Sequence[Profile]) -> np.ndarray:
        """Dense (mentees × width) float32 matrix of the mentees' rows."""
        f = np.zeros((len(mentees), self.width), dtype=np.float32)
        for i, mentee in enumerate(mentees):
            self.fill_row(f[i], mentee)
        return f

    def _areas(self, wanted: tuple[str, ...]) -> np.ndarray:
        # vectorised area_points over every mentor area set (same integer arithmetic)
        n = len(wanted)
        if n == 0:
            return np.full(len(self._masks), self._b.areas // 2, dtype=np.float32)
        triangle = n * (n + 1) // 2
        per = np.array([self._b.areas * (n - i) // triangle for i in range(n)], dtype=np.int64)
        mask_sets = cast(list[frozenset[str]], list(self._masks.index))
        covered = np.array(
            [[a in mask for a in wanted] for mask in mask_sets], dtype=np.int64
        ).reshape(len(mask_sets), n)
        pts = covered @ per
        return np.where(covered.any(axis=1), pts, INCOMPATIBLE).astype(np.float32)

    def _tzrow(self, offset: int) -> np.ndarray:
        out = np.empty(len(self._tz), dtype=np.float32)
        for key, c in self._tz.index.items():
            other = None if key == _UNKNOWN else key
            out[c] = timezone_points_between(offset, other, self._b.timezone)  # type: ignore[arg-type]
        return out

    def _cadrow(self, cad: str) -> np.ndarray:
        out = np.empty(len(self._cadence), dtype=np.float32)
        for key, c in self._cadence.index.items():
            other = None if key == _UNKNOWN else key
            out[c] = cadence_points_between(cad, other, self._b.cadence)  # type: ignore[arg-type]
        return out

    def score_row(self, row: np.ndarray) -> np.ndarray:
        """Points (float32; negative = incompatible) of one mentee row against every mentor."""
        blocks = self.mentor_onehot
        out = row[blocks[0]]
        for block in blocks[1:]:
            out += row[block]
        multi = row[self.onehot_width :]
        used = np.flatnonzero(multi)
        if used.size:
            out += self.mentor_multi[:, used] @ multi[used]
        return out
