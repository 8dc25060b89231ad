"""Events out of reports, and the daily figures the bulletin quotes: pure functions, no database.

Figures count events, not reports. A reporting day ends at a local time (19:30 in OSCE practice)
and is named after the date it ends on. Freedom-of-movement restrictions are counted apart from
ceasefire violations; rejected events are not counted at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peacewatch.core.calendar import reporting_day
from peacewatch.core.tabular import spreadsheet_safe, table_csv
from peacewatch.incidents.models import CASUALTY_COLUMNS, IncidentStatus, IncidentType, SourceKind

CASUALTY_KINDS = tuple(c[:-4] for c in CASUALTY_COLUMNS[::2])
# which report speaks for an event: the force's own eyes first, then the joint centre, the sides, the media
SOURCE_RANK = {s: rank for rank, s in enumerate((
    SourceKind.patrol, SourceKind.observation_post, SourceKind.joint_monitoring_centre,
    SourceKind.side_a, SourceKind.side_b, SourceKind.media,
))}
# an event is as verified as its best-verified report
STATUS_RANK = {s: rank for rank, s in enumerate((
    IncidentStatus.confirmed, IncidentStatus.under_investigation, IncidentStatus.reported,
    IncidentStatus.not_confirmed, IncidentStatus.rejected,
))}


MAX_DAYS = 3660  # ten years of daily rows in one answer


class SpanTooLong(ValueError):
    """The figures would run to more days than one answer should hold."""


@dataclass(frozen=True)
class ReportRow:
    """What the figures need of one report."""

    id: int
    event_id: int
    type: IncidentType
    subtype: str | None
    status: IncidentStatus
    source: SourceKind
    started_at: datetime
    ended_at: datetime
    lat: float
    lon: float
    zone_id: int | None
    district_id: int | None
    event_count: int
    alleged_actors: tuple[str, ...]
    casualties: tuple[int, ...]  # in CASUALTY_COLUMNS order
    restriction: str | None = None
    place_precision: str = "exact"
    time_precision: str = "exact"
    place_name: str = ""
    narrative: str = ""
    source_detail: str = ""
    updated_at: datetime | None = None


@dataclass
class EventSummary:
    id: int
    reports: list[ReportRow]
    representative: ReportRow
    status: IncidentStatus
    started_at: datetime
    ended_at: datetime
    event_count: int
    actors: list[str]
    casualties: dict[str, tuple[int, int]]
    sources: list[SourceKind]

    @property
    def type_key(self) -> str:
        r = self.representative
        return r.type.value if r.subtype is None else f"{r.type.value}/{r.subtype}"

    @property
    def is_restriction(self) -> bool:
        return self.representative.type is IncidentType.restriction_of_movement


def summarise(reports: Iterable[ReportRow]) -> list[EventSummary]:
    """One summary per event.

    Counts take the largest any source gave (a post that heard 35 explosions and a side that
    reported 20 describe at least 35); casualty ranges take the largest minimum and maximum.
    """
    by_event: dict[int, list[ReportRow]] = defaultdict(list)
    for report in reports:
        by_event[report.event_id].append(report)
    events = []
    for event_id, rows in sorted(by_event.items()):
        rows.sort(key=lambda r: (SOURCE_RANK[r.source], r.id))
        counted = [r for r in rows if r.status is not IncidentStatus.rejected] or rows
        casualties = {
            kind: (max(r.casualties[2 * k] for r in counted), max(r.casualties[2 * k + 1] for r in counted))
            for k, kind in enumerate(CASUALTY_KINDS)
        }
        events.append(EventSummary(
            id=event_id, reports=rows, representative=counted[0],
            status=min((r.status for r in rows), key=STATUS_RANK.__getitem__),
            started_at=min(r.started_at for r in counted), ended_at=max(r.ended_at for r in counted),
            event_count=max(r.event_count for r in counted),
            actors=sorted({a for r in counted for a in r.alleged_actors}),
            casualties=casualties, sources=sorted({r.source for r in rows}, key=SOURCE_RANK.__getitem__),
        ))
    return events


@dataclass
class Tally:
    events: int = 0
    effects: int = 0

    def add(self, effects: int) -> None:
        self.events += 1
        self.effects += effects


@dataclass
class Day:
    day: date
    violations: Tally = field(default_factory=Tally)
    reports: int = 0
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_area: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_district: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_actor: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    casualties: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in CASUALTY_KINDS})
    restrictions: int = 0
    restrictions_by_kind: Counter[str] = field(default_factory=Counter)

    def add(self, event: EventSummary, names: dict[int, str]) -> None:
        if event.is_restriction:
            self.restrictions += 1
            self.restrictions_by_kind[event.representative.restriction or "unspecified"] += 1
            return
        r = event.representative
        self.violations.add(event.event_count)
        self.reports += len(event.reports)
        self.by_type[event.type_key].add(event.event_count)
        self.by_area[names.get(r.zone_id or 0, "outside the areas")].add(event.event_count)
        self.by_district[names.get(r.district_id or 0, "unknown")].add(event.event_count)
        for actor in event.actors or ["unknown"]:
            self.by_actor[actor].add(event.event_count)
        for kind, (low, high) in event.casualties.items():
            self.casualties[kind][0] += low
            self.casualties[kind][1] += high


def _tallies(tallies: dict[str, Tally]) -> dict[str, dict[str, int]]:
    return {key: {"events": t.events, "effects": t.effects} for key, t in sorted(tallies.items())}


def daily_figures(
    events: Iterable[EventSummary],
    *,
    zone: ZoneInfo,
    day_end: time,
    names: dict[int, str],
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """Per reporting day: events and effects by type, area, district and actor, casualty ranges,
    restrictions of movement, the change on the day before and running totals since the first day."""
    days: dict[date, Day] = {}
    for event in events:
        if event.status is IncidentStatus.rejected:
            continue
        day = reporting_day(event.started_at, zone, day_end)
        if until is not None and day > until:
            continue
        days.setdefault(day, Day(day)).add(event, names)
    first = min([*days, *([since] if since else [])], default=None)
    last = until or (max(days) if days else since)
    if first is not None and last is not None and (last - first).days >= MAX_DAYS:
        raise SpanTooLong(f"{first} to {last} is more than {MAX_DAYS} reporting days: ask for a shorter span")
    out: list[dict[str, Any]] = []
    running = restrictions_running = previous = 0
    current = first
    while current is not None and last is not None and current <= last:
        tally = days.get(current, Day(current))
        running += tally.violations.events
        restrictions_running += tally.restrictions
        if since is None or current >= since:
            out.append({
                "day": current.isoformat(),
                "events": tally.violations.events,
                "effects": tally.violations.effects,
                "reports": tally.reports,
                "change": tally.violations.events - previous,
                "running_total": running,
                "by_type": _tallies(tally.by_type),
                "by_area": _tallies(tally.by_area),
                "by_district": _tallies(tally.by_district),
                "by_actor": _tallies(tally.by_actor),
                "casualties": {k: {"min": v[0], "max": v[1]} for k, v in tally.casualties.items()},
                "restrictions": {"events": tally.restrictions, "running_total": restrictions_running,
                                 "by_kind": dict(sorted(tally.restrictions_by_kind.items()))},
            })
        previous = tally.violations.events
        current += timedelta(days=1)
    return {"reporting_day_ends": f"{day_end:%H:%M} {zone.key}", "days": out}


CSV_COLUMNS = ("day", "dimension", "key", "events", "effects", "min", "max")


def figures_csv(figures: dict[str, Any]) -> str:
    """The figures in long form, one row per day, dimension and key: easy to pivot in a spreadsheet."""
    rows: list[tuple[Any, ...]] = []
    for day in figures["days"]:
        d = day["day"]
        rows.append((d, "total", "events", day["events"], day["effects"], "", ""))
        rows.append((d, "total", "change", day["change"], "", "", ""))
        rows.append((d, "total", "running_total", day["running_total"], "", "", ""))
        for dimension in ("type", "area", "district", "actor"):
            for key, tally in day[f"by_{dimension}"].items():
                rows.append((d, dimension, spreadsheet_safe(key), tally["events"], tally["effects"], "", ""))
        for kind, bounds in day["casualties"].items():
            rows.append((d, "casualties", kind, "", "", bounds["min"], bounds["max"]))
        rows.append((d, "restrictions", "events", day["restrictions"]["events"], "", "", ""))
        rows.append((d, "restrictions", "running_total", day["restrictions"]["running_total"], "", "", ""))
        for kind, count in day["restrictions"]["by_kind"].items():
            rows.append((d, "restrictions", kind, count, "", "", ""))
    return table_csv(CSV_COLUMNS, rows)
