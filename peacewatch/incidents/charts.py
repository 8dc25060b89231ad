"""The bulletin's ceasefire chart: events per reporting day by kind, with the running total."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from io import BytesIO
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from peacewatch.core.charts import frame_days, per_day

COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#67a9cf", "#2166ac", "#999999", "#4d4d4d", "#1b7837")


def _kind(type_key: str) -> str:
    return type_key.split("/")[-1].replace("_", " ")


def figures_chart(figures: dict[str, Any], title: str = "Ceasefire violations per reporting day") -> bytes:
    """A PNG (A5 landscape at 150 dpi) from :func:`daily_figures` output."""
    days = [date.fromisoformat(d["day"]) for d in figures["days"]]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for k, day in enumerate(figures["days"]):
        for type_key, tally in day["by_type"].items():
            by_kind[_kind(type_key)][k] += tally["events"]
    kinds = sorted(by_kind, key=lambda kind: -sum(by_kind[kind]))
    figure = Figure(figsize=(8.27, 5.83), dpi=150, layout="constrained")
    axes = figure.add_subplot()
    shown = kinds[:len(COLOURS) * 2]
    bottom: list[float] = [0.0] * len(days)
    for colour, kind in zip(COLOURS * 2, shown):
        bottom = per_day(axes, days, by_kind[kind], bottom=bottom, color=colour, label=kind, edgecolor="white",
                         linewidth=0.5)
    restrictions = [d["restrictions"]["events"] for d in figures["days"]]
    if any(restrictions):  # a marker on the days there were some, not a row of them along the axis
        marked = [(d, n) for d, n in zip(days, restrictions, strict=True) if n]
        axes.plot([d for d, _ in marked], [n for _, n in marked], "v", color="#762a83", label="restrictions of movement", markersize=6)
    axes.set_ylabel("events")
    axes.set_title(title)
    axes.yaxis.get_major_locator().set_params(integer=True)
    running = axes.twinx()
    running.plot(days, [d["running_total"] for d in figures["days"]], color="black", linewidth=1.5, label="running total")
    running.set_ylabel("running total since the first day")
    running.set_ylim(bottom=0)
    frame_days(axes, days)
    handles, labels = axes.get_legend_handles_labels()
    more_handles, more_labels = running.get_legend_handles_labels()
    axes.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8, frameon=False)
    figure.autofmt_xdate()
    axes.text(1.0, -0.16, f"Reporting day ends {figures['reporting_day_ends']}", transform=axes.transAxes,
              ha="right", fontsize=7, color="#555555")
    if not days:
        axes.text(0.5, 0.5, "no events in this period", transform=axes.transAxes, ha="center")
    out = BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
