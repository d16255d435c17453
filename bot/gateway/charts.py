"""The /insights chart: the domain's banded figures drawn as one PNG with matplotlib's Agg
backend. matplotlib is imported on the first chart (not at start), and drawing runs in a
thread so the event loop never waits on it."""

from __future__ import annotations

import asyncio
import io
import math
import textwrap
from typing import Any

from bot.domain.insights import Insights, Panel

COLUMNS = 2
_BAR = "#5b8def"
_SMALL = "#c9d6f5"


def _wrapped(text: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _draw_panel(ax: Any, panel: Panel) -> None:
    ax.set_title(panel.title, fontsize=10, loc="left", fontweight="bold")
    if not panel.cells:
        ax.axis("off")
        ax.text(0, 0.5, _wrapped(panel.note, 45), fontsize=8, va="center", transform=ax.transAxes)
        return
    labels = [c.label for c in panel.cells][::-1]
    bars = [c.bar for c in panel.cells][::-1]
    shown = [c.shown for c in panel.cells][::-1]
    colors = [_SMALL if s.startswith("fewer") else _BAR for s in shown]
    ax.barh(labels, bars, color=colors, hatch=None)
    top = max([*bars, 5.0])
    for y, (length, text) in enumerate(zip(bars, shown, strict=True)):
        ax.text(length + top * 0.02, y, text, va="center", fontsize=8)
    ax.set_xlim(0, top * 1.35)
    ax.set_xticks([])
    ax.tick_params(axis="y", labelsize=8)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if panel.note:
        ax.set_xlabel(_wrapped(panel.note), fontsize=6.5)


def render_png(insights: Insights) -> bytes:
    """The chart as PNG bytes (blocking: call ``chart`` from async code)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    rows = math.ceil(len(insights.panels) / COLUMNS)
    figure = Figure(figsize=(11, 2.6 * rows + 1.2), dpi=100)
    figure.suptitle(f"Program insights: {insights.period}", fontsize=13, fontweight="bold")
    axes = figure.subplots(rows, COLUMNS, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < len(insights.panels):
            _draw_panel(ax, insights.panels[index])
        else:
            ax.axis("off")
    figure.text(0.01, 0.005, "\n".join(_wrapped(n, 150) for n in insights.notes), fontsize=7)
    figure.subplots_adjust(left=0.2, right=0.97, top=0.93, bottom=0.08, wspace=0.6, hspace=0.9)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def chart(insights: Insights) -> bytes:
    """The chart as PNG bytes, drawn in a worker thread."""
    return await asyncio.to_thread(render_png, insights)
