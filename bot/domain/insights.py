"""Program insights for moderators: the figure model, and the privacy rules every figure
passes before anyone sees it. Pure: the service counts, this decides what may be shown.

The rules (tests/unit/test_insights.py checks each):

- Every count is shown as a band (``bot.domain.onboarding.band``): 0, "fewer than 5" for 1-4,
  else "10-14"-style bands of five. No exact count is ever shown.
- No figure can be recovered by subtracting others: a group of figures that adds up to a
  whole (answers to introductions, endings by reason, the helpfulness scores) is shown as its
  parts only, never next to its total. Bands alone do not protect a part shown beside its
  total (with four other parts at the top of their bands, a hidden part is pinned), so totals
  are left out instead. Funnel and participation figures are nested (each at most the one
  before), which recovers nothing.
- Feedback is shown only once at least five members answered in the period, and words only
  from members who chose to share them, unsigned, in a fixed order that is not the order they
  were written (so a date cannot point at a person). A median wait needs five waits.
- Nobody is named: the model has no place for a name or an id.
"""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.feedback import RECOMMEND
from bot.domain.onboarding import SMALL_GROUP, band
from bot.domain.text import fit, safe_block

PERIODS: dict[str, tuple[str, int | None]] = {
    "7": ("the last 7 days", 7),
    "30": ("the last 30 days", 30),
    "90": ("the last 90 days", 90),
    "all": ("all time", None),
}
DEFAULT_PERIOD = "30"

# Why pairs ended (``PairSpace.end_cause`` / ``PairEnded.cause``), grouped for moderators.
ENDING_CATEGORIES: dict[str, str] = {
    "ended": "A member ended it",
    "moderator": "A moderator ended it",
    "member_left": "A member left the server",
    "channel_deleted": "The space was deleted",
    "inactive": "Closed after a long quiet",
}
OTHER_ENDING = "Other"
MAX_WORDS_SHOWN = 20
WORDS_LIMIT = 300


def period_start(period: str, now: datetime) -> datetime | None:
    """When ``period`` begins (``None``: all time)."""
    days = PERIODS[period][1]
    return None if days is None else now - timedelta(days=days)


def ending_category(cause: str | None) -> str:
    """The moderators' words for why a pair ended."""
    return ENDING_CATEGORIES.get(cause or "", OTHER_ENDING)


@dataclass(frozen=True)
class Counts:
    """What the service counted for one server and period (exact; never shown as is)."""

    start: datetime | None
    now: datetime
    joined: int
    joins_counted_since: datetime | None
    started: int
    consented: int
    finished: int
    waiting: int
    waits: Sequence[timedelta]
    intro_answers: Mapping[str, int]  # accepted / declined / expired
    active_pairs: int
    endings: Mapping[str, int]  # by ending category
    delivered: int
    reflected: int
    shared: int
    feedback_answers: int  # members who answered at least one question
    helpful: Mapping[int, int]  # 1-5
    recommend: Mapping[str, int]  # yes / unsure / no
    words: Sequence[str] = ()  # only words their authors chose to share


@dataclass(frozen=True)
class Cell:
    """One figure as shown: its label, its band, and a bar length for the chart."""

    label: str
    shown: str
    bar: float  # the band's middle (0 for none): the chart never draws an exact count


@dataclass(frozen=True)
class Panel:
    """One group of figures, with a note saying how to read it."""

    title: str
    cells: tuple[Cell, ...]
    note: str = ""


@dataclass(frozen=True)
class Insights:
    """Everything /insights shows: panels of banded figures, shared words, notes."""

    period: str
    panels: tuple[Panel, ...]
    words: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def cell(label: str, n: int) -> Cell:
    """A count as moderators may see it."""
    if n <= 0:
        return Cell(label, "0", 0.0)
    if n < SMALL_GROUP:
        return Cell(label, band(n), SMALL_GROUP / 2)
    low = n - n % SMALL_GROUP
    return Cell(label, band(n), low + (SMALL_GROUP - 1) / 2)


def _day(when: datetime) -> str:
    return when.strftime("%-d %b %Y")


def median_wait(waits: Sequence[timedelta]) -> str:
    """The median of at least five waits, in days (or hours under two days)."""
    if len(waits) < SMALL_GROUP:
        return f"not shown (fewer than {SMALL_GROUP} waiting)" if waits else "nobody is waiting"
    hours = statistics.median(w.total_seconds() for w in waits) / 3600
    return f"about {round(hours)} hours" if hours < 48 else f"about {round(hours / 24)} days"


def _feedback(counts: Counts) -> tuple[list[Panel], tuple[str, ...]]:
    if counts.feedback_answers < SMALL_GROUP:
        said = "no answers yet" if counts.feedback_answers == 0 else "fewer than 5 answers"
        note = f"Feedback is shown once at least {SMALL_GROUP} members answered ({said})."
        return [Panel("Feedback: how helpful (1-5)", (), note)], ()
    helpful = Panel(
        "Feedback: how helpful (1-5)",
        tuple(cell(str(score), counts.helpful.get(score, 0)) for score in range(1, 6)),
        f"At least {SMALL_GROUP} members answered; scores only, never who gave them.",
    )
    recommend = Panel(
        "Would recommend mentoring here",
        tuple(cell(label, counts.recommend.get(key, 0)) for key, label in RECOMMEND.items()),
    )
    words = tuple(itertools.islice(sorted(counts.words, key=str.casefold), MAX_WORDS_SHOWN))
    return [helpful, recommend], words


def build(counts: Counts, period: str) -> Insights:
    """The figures moderators may see for ``counts``: banded, no totals beside their parts."""
    label = PERIODS[period][0]
    since = counts.joins_counted_since
    joined_label = "Joined" if since else "Joined (not counted yet)"
    if since and (counts.start is None or since > counts.start):
        joined_label = f"Joined (since {_day(since)})"
    funnel = Panel(
        "Onboarding",
        (
            cell(joined_label, counts.joined),
            cell("Started", counts.started),
            cell("Agreed to matching", counts.consented),
            cell("Finished", counts.finished),
        ),
        "Each step counts members who reached it in the period. Joins are counted from the "
        "day Lantern started counting them; members who erased their data are not counted.",
    )
    matching = Panel(
        "Matching now",
        (cell("Requests waiting", counts.waiting), cell("Active pairs", counts.active_pairs)),
        f"Median wait of the requests waiting now: {median_wait(counts.waits)}.",
    )
    intros = Panel(
        "Introductions answered",
        tuple(
            cell(name.capitalize(), counts.intro_answers.get(name, 0))
            for name in ("accepted", "declined", "expired")
        ),
    )
    endings = Panel(
        "Pairs ended, by reason",
        tuple(
            cell(name, counts.endings.get(name, 0))
            for name in (*ENDING_CATEGORIES.values(), OTHER_ENDING)
        ),
        "Pairs of members who erased their data are gone, so they are not counted.",
    )
    prompts = Panel(
        "Reflection prompts",
        (
            cell("Delivered", counts.delivered),
            cell("Reflected", counts.reflected),
            cell("Shared", counts.shared),
        ),
    )
    feedback, words = _feedback(counts)
    notes = (
        f"Period: {label}. Counts are shown in bands of {SMALL_GROUP}; 1 to {SMALL_GROUP - 1} "
        f"show as “fewer than {SMALL_GROUP}”. Groups are shown without their totals, so no "
        "figure can be worked out from others. Nobody is named.",
    )
    return Insights(label, (funnel, matching, intros, endings, prompts, *feedback), words, notes)


def summary_text(insights: Insights) -> str:
    """The private reply under the chart: every figure in words, then any shared words."""
    lines = [f"**Program insights: {insights.period}**"]
    for panel in insights.panels:
        shown = ", ".join(f"{c.label}: {c.shown}" for c in panel.cells)
        lines.append(f"- **{panel.title}**: {shown}" if shown else f"- **{panel.title}**")
        if panel.note:
            lines.append(f"  -# {panel.note}")
    if insights.words:
        lines.append("**Words members chose to share** (unsigned, in no particular order)")
        lines.extend(f"> {safe_block(w, limit=WORDS_LIMIT)}" for w in insights.words)
    lines.extend(f"-# {note}" for note in insights.notes)
    return fit("\n".join(lines))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is defused with '."""
    value = " ".join(value.split())
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(insights: Insights) -> str:
    """The same figures (and shared words) as CSV: section, figure, value; nothing else."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "figure", "value"])
    writer.writerow(["period", "period", csv_cell(insights.period)])
    for panel in insights.panels:
        if not panel.cells:
            writer.writerow([csv_cell(panel.title), "note", csv_cell(panel.note)])
        for c in panel.cells:
            writer.writerow([csv_cell(panel.title), csv_cell(c.label), csv_cell(c.shown)])
    for words in insights.words:
        writer.writerow(["Shared words", "words", csv_cell(fit(words, WORDS_LIMIT))])
    for note in insights.notes:
        writer.writerow(["note", "note", csv_cell(note)])
    return out.getvalue()
