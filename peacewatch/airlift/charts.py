"""The build-up chart: strength in theatre against the ceilings and the minimum, with flights per day."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from peacewatch.airlift.schemas import AirliftFigures
from peacewatch.core.charts import per_day
from peacewatch.core.i18n import N_

PERSONNEL, ARMOURED, VEHICLES = "#1b7837", "#762a83", "#b35806"


TITLE = N_("Build-up against the mandate's ceilings")


def build_up_chart(figures: AirliftFigures, title: str = TITLE, gettext: Callable[[str], str] = str) -> bytes:
    """A PNG (A5 landscape at 150 dpi): personnel with flights per day, then armoured and other vehicles; its words
    in the language ``gettext`` translates to (the reader's)."""
    _ = gettext
    days = [d.day for d in figures.by_day]
    limits, floor = figures.strength.ceilings, figures.strength.minimum
    figure = Figure(figsize=(8.27, 5.83), dpi=150, layout="constrained")
    people, machines = figure.subplots(2, 1, sharex=True)
    flights = people.twinx()
    per_day(flights, days, [d.flights for d in figures.by_day], color="#bbbbbb", label=_(N_("flights landed per day")), width=0.6)
    flights.set_ylabel(_(N_("flights per day")), fontsize=8)
    people.set_zorder(flights.get_zorder() + 1)
    people.patch.set_visible(False)
    people.step(days, [d.strength.personnel for d in figures.by_day], where="pre", color=PERSONNEL, linewidth=2,
                label=_(N_("personnel in theatre")))
    for value, label, style in ((limits and limits.personnel, _(N_("ceiling")), "--"), (floor and floor.personnel, _(N_("minimum")), ":")):
        if value:
            people.axhline(value, color=PERSONNEL, linestyle=style, linewidth=1, label=f"{label} ({value:,})")
    people.set_ylabel(_(N_("personnel")))
    people.set_ylim(bottom=0)
    people.legend(loc="upper left", fontsize=7, frameon=False)
    for key, colour, name in (("armoured", ARMOURED, _(N_("armoured vehicles in theatre"))),
                              ("vehicles", VEHICLES, _(N_("other vehicles in theatre")))):
        machines.step(days, [getattr(d.strength, key) for d in figures.by_day], where="pre", color=colour, linewidth=2,
                      label=name)
        if limits is not None:
            value = getattr(limits, key)
            machines.axhline(value, color=colour, linestyle="--", linewidth=1, label=f"{_(N_('ceiling'))} ({value:,})")
    machines.set_ylabel(_(N_("vehicles")))
    machines.set_ylim(bottom=0)
    machines.legend(loc="upper left", fontsize=7, frameon=False)
    machines.tick_params(axis="x", labelrotation=45, labelsize=7)
    if not days:
        people.text(0.5, 0.5, _(N_("no movements recorded yet")), transform=people.transAxes, ha="center")
    figure.suptitle(f"{_(title)} — {figures.local_time}", fontsize=10)
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
