"""What every chart of daily figures shares: how a value per day is drawn, whatever the span."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

BARS_UP_TO = 120  # days drawn as bars; beyond, a stepped area (a bar per day of a long mission takes seconds to draw)


def per_day(axes: Any, days: Sequence[date], values: Sequence[float], *, bottom: Sequence[float] | None = None,
            color: str, label: str, **bar_style: Any) -> list[float]:
    """Draw values per day stacked on ``bottom``: bars for a short span, one stepped area for a long one.

    Returns the new top, the ``bottom`` of the next series in a stack.
    """
    base = list(bottom) if bottom is not None else [0.0] * len(values)
    top = [b + v for b, v in zip(base, values, strict=True)]
    if len(days) <= BARS_UP_TO:
        axes.bar(days, values, bottom=base, color=color, label=label, **bar_style)
    else:
        axes.fill_between(days, base, top, step="mid", color=color, label=label, linewidth=0)
    return top


def frame_days(axes: Any, days: Sequence[date]) -> None:
    """Show exactly the span of ``days`` (with half a day either side, inside the calendar matplotlib can draw).

    Left to itself, matplotlib pads a span of one day by years, and a chart of year 1 or 9999 then
    fails on a date it cannot draw.
    """
    if not days:
        return
    first, last = datetime.combine(min(days), time()), datetime.combine(max(days), time())
    half_day = timedelta(hours=12)
    lower = first - half_day if first.date() > date.min else first
    upper = last + half_day if last.date() < date.max else last + timedelta(hours=23)
    axes.set_xlim(lower, upper)
