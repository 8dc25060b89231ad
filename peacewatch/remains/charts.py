"""The casualty chart: the death toll rising as bodies are recovered, identified and handed over."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from peacewatch.core.charts import frame_days
from peacewatch.core.i18n import N_

LINES = (("missing_reported", N_("missing reported"), ":"), ("recovered", N_("bodies recovered"), "--"),
         ("handed_over", N_("handed over"), "-."), ("identified", N_("identified"), "-"),
         ("deaths_confirmed", N_("deaths confirmed"), "-"))
TITLE = N_("Remains: running totals per side")
SIDE_COLOURS = {"A": "#2166ac", "B": "#b2182b"}


def casualty_chart(series: dict[str, Any], title: str = TITLE, gettext: Callable[[str], str] = str) -> bytes:
    """A PNG (A5 landscape at 150 dpi) of :func:`casualty_series` output, one panel per side, in the language
    ``gettext`` translates to."""
    _ = gettext
    days = [row["day"] for row in series["days"]]
    figure = Figure(figsize=(8.27, 5.83), dpi=150, layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    for axes, side in zip(panels, ("A", "B")):
        for key, label, style in LINES:
            values = [row[side]["total"][key] for row in series["days"]]
            width = 2.2 if key == "deaths_confirmed" else 1.2
            axes.plot(days, values, style, color=SIDE_COLOURS[side] if key == "deaths_confirmed" else "#444444",
                      linewidth=width, label=_(label))
        axes.set_title(_(N_("Side %(side)s")) % {"side": side})
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(bottom=0)
        frame_days(axes, days)
        axes.tick_params(axis="x", labelrotation=45, labelsize=7)
        if not days:
            axes.text(0.5, 0.5, _(N_("nothing recorded in this period")), transform=axes.transAxes, ha="center")
    panels[0].set_ylabel(_(N_("running total")))
    panels[0].legend(loc="upper left", fontsize=7, frameon=False)
    figure.suptitle(_(title))
    out = BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
