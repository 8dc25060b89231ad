"""The build-up chart: strength in theatre against the ceilings and the minimum, with flights per day."""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from peacewatch.airlift.schemas import AirliftFigures
from peacewatch.core.charts import per_day

PERSONNEL, ARMOURED, VEHICLES = "#1b7837", "#762a83", "#b35806"


def build_up_chart(figures: AirliftFigures, title: str = "Build-up against the mandate's ceilings") -> bytes:
    """A PNG (A5 landscape at 150 dpi): personnel with flights per day, then armoured and other vehicles."""
    days = [d.day for d in figures.by_day]
    limits, floor = figures.strength.ceilings, figures.strength.minimum
    figure = Figure(figsize=(8.27, 5.83), dpi=150, layout="constrained")
    people, machines = figure.subplots(2, 1, sharex=True)
    flights = people.twinx()
    per_day(flights, days, [d.flights for d in figures.by_day], color="#bbbbbb", label="flights landed per day", width=0.6)
    flights.set_ylabel("flights per day", fontsize=8)
    people.set_zorder(flights.get_zorder() + 1)
    people.patch.set_visible(False)
    people.step(days, [d.strength.personnel for d in figures.by_day], where="pre", color=PERSONNEL, linewidth=2,
                label="personnel in theatre")
    for value, label, style in ((limits and limits.personnel, "ceiling", "--"), (floor and floor.personnel, "minimum", ":")):
        if value:
            people.axhline(value, color=PERSONNEL, linestyle=style, linewidth=1, label=f"{label} ({value:,})")
    people.set_ylabel("personnel")
    people.set_ylim(bottom=0)
    people.legend(loc="upper left", fontsize=7, frameon=False)
    for key, colour, name in (("armoured", ARMOURED, "armoured vehicles"), ("vehicles", VEHICLES, "other vehicles")):
        machines.step(days, [getattr(d.strength, key) for d in figures.by_day], where="pre", color=colour, linewidth=2,
                      label=f"{name} in theatre")
        if limits is not None:
            value = getattr(limits, key)
            machines.axhline(value, color=colour, linestyle="--", linewidth=1, label=f"ceiling ({value:,})")
    machines.set_ylabel("vehicles")
    machines.set_ylim(bottom=0)
    machines.legend(loc="upper left", fontsize=7, frameon=False)
    machines.tick_params(axis="x", labelrotation=45, labelsize=7)
    if not days:
        people.text(0.5, 0.5, "no movements recorded yet", transform=people.transAxes, ha="center")
    figure.suptitle(f"{title} — {figures.local_time}", fontsize=10)
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
