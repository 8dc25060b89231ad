"""The official map as a press file (PNG or PDF): title, date, legend, scale bar, north arrow.

Pure: features in, bytes out. matplotlib's Agg backend, so it renders on a server with no screen.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
from babel.dates import format_date
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patches import Polygon as PolygonPatch
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from peacewatch.core.i18n import N_

BORDERS = Path(__file__).resolve().parent.parent / "ui" / "static" / "geo" / "borders-caucasus-ne50m.geojson"
STYLE: dict[str, dict[str, Any]] = {
    "area_of_responsibility": {"facecolor": "#4a90d9", "edgecolor": "#1d4f8c", "alpha": 0.18, "label": N_("Area of responsibility")},
    "corridor": {"facecolor": "#f0a030", "edgecolor": "#a86400", "alpha": 0.45, "label": N_("Corridor")},
}
# layers only the operations map carries: the day's events, patrol routes and cleared ground
CLEARANCE: dict[str, Any] = {"facecolor": "#8c6d31", "edgecolor": "#5c4718", "alpha": 0.6}
ROUTE_COLOUR, EVENT_COLOUR = "#1b7837", "#d7301f"
EARTH_KM_PER_DEGREE = 111.32


@cache
def borders() -> list[BaseGeometry]:
    with BORDERS.open() as handle:
        return [shape(f["geometry"]) for f in json.load(handle)["features"]]


def _rings(geometry: BaseGeometry) -> list[Any]:
    polygons = getattr(geometry, "geoms", [geometry])
    return [p.exterior for p in polygons if p.geom_type == "Polygon"]


def _lines(geometry: BaseGeometry) -> list[Any]:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return [ring for p in getattr(geometry, "geoms", [geometry]) for ring in [p.exterior, *p.interiors]]
    return list(getattr(geometry, "geoms", [geometry]))


LEGEND_LINE = 26  # characters: the legend's column is a quarter of the A4 page


def extent(features: list[dict[str, Any]], margin: float = 0.08) -> tuple[float, float, float, float]:
    """Bounds of all features with a margin, or the reference scenario's region when there are none."""
    if not features:
        return 45.8, 39.2, 47.4, 40.4
    bounds = [shape(f["geometry"]).bounds for f in features]
    west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
    east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
    dx, dy = max(east - west, 0.05) * margin, max(north - south, 0.05) * margin
    return west - dx, south - dy, east + dx, north + dy


def scale_bar_km(width_km: float) -> float:
    """A round length near a fifth of the map's width: 1, 2, 5, 10, 20, 50... km."""
    target = width_km / 5
    magnitude = 10 ** math.floor(math.log10(target))
    return max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)


def render(features: list[dict[str, Any]], on: date | None, fmt: Literal["png", "pdf"], title: str = N_("Official deployment map"),
           tr: Callable[[str], str] = str, subtitle: str | None = None, locale: str = "en") -> bytes:
    """The map on ``on`` (undated when None: a report's caption dates it); ``tr`` translates its words, ``locale``
    writes its date ("18 ноября 2020 г.")."""
    date_text = "" if on is None else format_date(on, format="long", locale=locale)
    west, south, east, north = extent(features)
    mid_lat = (south + north) / 2
    fig = Figure(figsize=(11.69, 8.27), dpi=150)  # A4 landscape
    box = (0.04, 0.08, 0.70, 0.80)
    ax = fig.add_axes(box)
    # widen the shorter side so the map fills its frame instead of floating in it
    frame = (box[2] * 11.69) / (box[3] * 8.27)
    shrink = math.cos(math.radians(mid_lat))
    data = (east - west) * shrink / (north - south)
    if data < frame:
        grow = (north - south) * frame / shrink - (east - west)
        west, east = west - grow / 2, east + grow / 2
    else:
        grow = (east - west) * shrink / frame - (north - south)
        south, north = south - grow / 2, north + grow / 2
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / math.cos(math.radians(mid_lat)))  # degrees of longitude shrink with latitude
    ax.set_facecolor("#f4f1ea")
    ax.tick_params(labelsize=7)
    ax.grid(color="#c8c2b4", linewidth=0.4, linestyle=":")
    for border in borders():
        for line in _lines(border):
            xs, ys = line.xy
            ax.plot(xs, ys, color="#8a8478", linewidth=0.8, zorder=1)

    posts = {"observation_post": 0, "checkpoint": 0}
    extra: set[str] = set()
    for feature in features:
        props, geometry = feature["properties"], shape(feature["geometry"])
        kind = props["kind"]
        if kind in STYLE:
            style = STYLE[kind]
            for ring in _rings(geometry):
                ax.add_patch(PolygonPatch(list(ring.coords), closed=True, facecolor=style["facecolor"], alpha=style["alpha"],
                                          edgecolor="none", zorder=2))
                ax.add_patch(PolygonPatch(list(ring.coords), closed=True, fill=False, edgecolor=style["edgecolor"],
                                          linewidth=1.2, zorder=3))
            if kind == "area_of_responsibility":
                centre = geometry.representative_point()
                # in the map's language: its Russian name where the area has one, else the catalogs' words
                name = props.get("name_ru") if locale == "ru" and props.get("name_ru") else tr(props["name"])
                ax.text(centre.x, centre.y, name, fontsize=9, color="#1d4f8c", ha="center", va="center",
                        fontweight="bold", zorder=6, alpha=0.8)
        elif kind == "line_of_contact":
            for line in _lines(geometry):
                xs, ys = line.xy
                ax.plot(xs, ys, color="#c0182a", linewidth=1.8, linestyle=(0, (6, 3)), zorder=4)
        elif kind == "clearance":
            for ring in _rings(geometry):
                ax.add_patch(PolygonPatch(list(ring.coords), closed=True, facecolor=CLEARANCE["facecolor"], alpha=CLEARANCE["alpha"],
                                          edgecolor=CLEARANCE["edgecolor"], linewidth=0.8, zorder=4))
            extra.add(kind)
        elif kind == "patrol_route":
            for line in _lines(geometry):
                xs, ys = line.xy
                ax.plot(xs, ys, color=ROUTE_COLOUR, linewidth=1.4, zorder=5)
            extra.add(kind)
        elif kind == "incident":
            ax.plot(geometry.x, geometry.y, marker="X", markersize=7, markerfacecolor=EVENT_COLOUR, markeredgecolor="black",
                    markeredgewidth=0.6, zorder=8)
            extra.add(kind)
        elif kind in posts:
            posts[kind] += 1
            marker = "^" if kind == "observation_post" else "s"
            ax.plot(geometry.x, geometry.y, marker=marker, markersize=7, markerfacecolor="#80e0ff",
                    markeredgecolor="black", markeredgewidth=0.9, zorder=7)
            ax.annotate(props["code"], (geometry.x, geometry.y), xytext=(4, 4), textcoords="offset points", fontsize=5.5, zorder=8)

    # scale bar, bottom left, measured at the map's middle latitude
    width_km = (east - west) * EARTH_KM_PER_DEGREE * math.cos(math.radians(mid_lat))
    bar_km = scale_bar_km(width_km)
    bar_deg = bar_km / (EARTH_KM_PER_DEGREE * math.cos(math.radians(mid_lat)))
    x0, y0 = west + (east - west) * 0.04, south + (north - south) * 0.04
    ax.plot([x0, x0 + bar_deg], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.plot([x0, x0 + bar_deg / 2], [y0, y0], color="white", linewidth=1.5, solid_capstyle="butt", zorder=10)
    ax.text(x0 + bar_deg / 2, y0 + (north - south) * 0.015, tr(N_("%(km)s km")) % {"km": f"{bar_km:g}"}, ha="center", va="bottom",
            fontsize=8, zorder=9)
    # north arrow, top right
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.85), xycoords="axes fraction", ha="center", va="center",
                fontsize=12, fontweight="bold", arrowprops={"facecolor": "black", "width": 4, "headwidth": 12}, zorder=11)

    fig.text(0.04, 0.95, tr(title), fontsize=18, fontweight="bold")
    fig.text(0.04, 0.915, subtitle or tr(N_("Situation on %(date)s · public records only")) % {"date": date_text}, fontsize=11)
    handles: list[Artist] = [Patch(facecolor=s["facecolor"], edgecolor=s["edgecolor"], alpha=max(s["alpha"], 0.4), label=tr(s["label"]))
                             for s in STYLE.values()]
    handles += [Line2D([], [], color="#c0182a", linewidth=1.8, linestyle=(0, (6, 3)), label=tr(N_("Line of contact"))),
                Line2D([], [], marker="^", linestyle="none", markerfacecolor="#80e0ff", markeredgecolor="black",
                       markersize=8, label=tr(N_("Observation post (%(n)s open)")) % {"n": posts["observation_post"]}),
                Line2D([], [], marker="s", linestyle="none", markerfacecolor="#80e0ff", markeredgecolor="black",
                       markersize=7, label=tr(N_("Checkpoint (%(n)s open)")) % {"n": posts["checkpoint"]}),
                Line2D([], [], color="#8a8478", linewidth=0.8, label=tr(N_("International border")))]
    if "patrol_route" in extra:
        handles.append(Line2D([], [], color=ROUTE_COLOUR, linewidth=1.4, label=tr(N_("Patrol routes of the day"))))
    if "incident" in extra:
        handles.append(Line2D([], [], marker="X", linestyle="none", markerfacecolor=EVENT_COLOUR, markeredgecolor="black",
                              markersize=7, label=tr(N_("Ceasefire violations of the day"))))
    if "clearance" in extra:
        handles.append(Patch(facecolor=CLEARANCE["facecolor"], edgecolor=CLEARANCE["edgecolor"], alpha=CLEARANCE["alpha"],
                             label=tr(N_("Ground cleared of mines"))))
    for handle in handles:  # a long label (Russian ones are) wraps inside the page instead of running off its edge
        handle.set_label(textwrap.fill(str(handle.get_label()), LEGEND_LINE))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.76, 0.88), fontsize=9, title=tr(N_("Legend")),
               title_fontsize=10, frameon=True)
    published = "" if on is None else tr(N_("Published %(date)s")) % {"date": on.isoformat()} + "\n"
    fig.text(0.76, 0.10, published + "WGS 84 (EPSG:4326)\n" + tr(N_("Borders: Natural Earth 1:50m")), fontsize=8, color="#444444",
             va="bottom")
    buffer = BytesIO()
    dated = title if on is None else f"{title}, {on.isoformat()}"
    fig.savefig(buffer, format=fmt, metadata={"Title": dated} if fmt == "pdf" else {"Software": None})
    return buffer.getvalue()
