"""The reports' charts, in the report's language: small PNGs drawn from the day-by-day series.

Pure: series in, PNG bytes out, with no time stamp in the file, so the same figures draw the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from io import BytesIO
from itertools import accumulate

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from peacewatch.core.charts import per_day as per_day_series
from peacewatch.core.i18n import N_

Translate = Callable[[str], str]
SIDE_COLOURS = {"A": "#2166ac", "B": "#b2182b"}
SIZE = (7.5, 3.4)
DPI = 100


def _png(figure: Figure) -> bytes:
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _days_axis(axes: Axes, days: Sequence[date]) -> None:
    """About eight dates along the bottom, whatever the span (a week or a year)."""
    axes.xaxis.set_major_locator(DayLocator(interval=max(1, math.ceil(len(days) / 8))))
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))


def _axes(title: str) -> tuple[Figure, Axes]:
    """Fixed margins rather than a layout engine: a year of daily reports draws hundreds of these."""
    figure = Figure(figsize=SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.07, right=0.93, top=0.88, bottom=0.2)
    axes = figure.subplots()
    axes.set_title(title, fontsize=10)
    axes.tick_params(labelsize=7)
    axes.tick_params(axis="x", labelrotation=30)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def flights_chart(days: Sequence[date], per_day: Sequence[int], tr: Translate, before: int = 0) -> bytes:
    """Flights landed per day (bars) and since the start (line; ``before`` landed before the first day shown)."""
    figure, axes = _axes(tr(N_("Flights per day and since the start of the operation")))
    _days_axis(axes, days)
    per_day_series(axes, days, per_day, color="#9ab3d5", label=tr(N_("flights per day")))
    total = axes.twinx()
    line = total.plot(days, list(accumulate(per_day, initial=before))[1:], color="#1d4f8c", linewidth=2, label=tr(N_("since the start")))
    total.tick_params(labelsize=7)
    total.set_ylim(bottom=0)
    bars, labels = axes.get_legend_handles_labels()
    total.legend([*bars, *line], [*labels, line[0].get_label()], loc="upper left", fontsize=7, frameon=False)
    return _png(figure)


def handed_over_chart(days: Sequence[date], per_side: Mapping[str, Sequence[int]], tr: Translate, side_names: dict[str, str]) -> bytes:
    """Bodies handed over to each side, running totals."""
    figure, axes = _axes(tr(N_("Bodies handed over to each side, running total")))
    _days_axis(axes, days)
    for side, values in per_side.items():
        axes.step(days, values, where="post", color=SIDE_COLOURS.get(side, "#444444"), linewidth=2,
                  label=side_names.get(side, side))
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", fontsize=7, frameon=False)
    return _png(figure)


def strength_chart(days: Sequence[date], personnel: Sequence[int], ceiling: int | None, minimum: int | None, tr: Translate) -> bytes:
    """Personnel in theatre at the end of each day against the ceiling and the minimum."""
    figure, axes = _axes(tr(N_("Personnel in theatre against the mandate's ceiling")))
    _days_axis(axes, days)
    axes.step(days, personnel, where="post", color="#1b7837", linewidth=2, label=tr(N_("in theatre")))
    for value, label, style in ((ceiling, N_("ceiling"), "--"), (minimum, N_("minimum"), ":")):
        if value:
            axes.axhline(value, color="#1b7837", linestyle=style, linewidth=1, label=f"{tr(label)} ({value})")
    axes.set_ylim(bottom=0)
    axes.legend(loc="lower right", fontsize=7, frameon=False)
    return _png(figure)


def violations_chart(days: Sequence[date], per_status: Mapping[str, Sequence[int]], tr: Translate, labels: Translate) -> bytes:
    """Ceasefire violations per day, stacked by how far they were verified."""
    figure, axes = _axes(tr(N_("Ceasefire violations per day, by verification")))
    _days_axis(axes, days)
    colours = {"confirmed": "#b2182b", "under_investigation": "#ef8a62", "reported": "#bababa", "not_confirmed": "#67a9cf"}
    bottom: list[float] = [0.0] * len(days)
    for status, values in per_status.items():
        bottom = per_day_series(axes, days, values, bottom=bottom, color=colours.get(status, "#999999"),
                                label=labels(status))
    axes.legend(loc="upper left", fontsize=7, frameon=False)
    return _png(figure)


def warm_up() -> None:
    """One small chart drawn and thrown away: matplotlib loads its fonts and caches once, not for the first reader."""
    flights_chart([date(2020, 11, 10), date(2020, 11, 11)], [1, 2], str)
