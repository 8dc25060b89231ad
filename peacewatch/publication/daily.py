"""The figures of a reporting day, pure: records in, numbers with the ids of the records they count out.

Everything is dated by reporting day (the day that ends at the mission's reporting time, 19:30 in
Baku by default): a flight counts on the day it landed, a patrol on the day it was planned to
start, an event on the day it began, a return or a clearance on the day it is reported for. A
report for day D counts the records dated D ("in the past 24 hours") and those dated up to D ("since
the start of the operation"), so one rule answers both and every figure adds up.

What a reader may see is decided before these functions run: :class:`Records` holds only the
records of the report's scope, so a public bulletin cannot count an internal record even by accident.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from peacewatch.airlift.figures import Movement, Strength, strength_at
from peacewatch.core.calendar import reporting_day, reporting_day_ends_at
from peacewatch.duty.chain import percentile
from peacewatch.incidents.figures import EventSummary
from peacewatch.incidents.models import IncidentStatus
from peacewatch.remains.figures import Fact, casualties_on

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Mission:
    name: str
    start: date
    ceilings: Strength | None
    minimum: Strength | None
    zone: ZoneInfo
    day_end: time

    def day_of(self, at: datetime) -> date:
        return reporting_day(at, self.zone, self.day_end)

    def day_ends(self, day: date) -> datetime:
        return reporting_day_ends_at(day, self.zone, self.day_end)


@dataclass(frozen=True)
class Place:
    """An area of responsibility, a corridor or a district: what figures are split by."""

    id: int
    code: str
    name: str
    kind: str
    name_ru: str = ""  # the name in Russian where the record has one: a Russian report says it


@dataclass(frozen=True)
class MovementRecord:
    id: int
    table: str  # flights or convoys
    movement: Movement
    day: date | None  # the reporting day it arrived; None while under way


@dataclass(frozen=True)
class PostRecord:
    id: int
    code: str
    kind: str
    zone_id: int
    opened_on: date
    closed_on: date | None

    def open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)


@dataclass(frozen=True)
class PatrolRecord:
    id: int
    zone_id: int
    day: date  # the reporting day it was planned to start
    status: str
    started: bool


@dataclass(frozen=True)
class AlertRecord:
    id: int
    kind: str
    day: date
    zone_id: int | None
    closed_on: date | None  # the reporting day it was closed: a past day's report counts it open if closed later
    waited_s: float | None = None  # raised → acknowledged, seconds; None if nobody acknowledged it


@dataclass(frozen=True)
class HandoverRecord:
    id: int
    number: str
    day: date
    to_side: str
    bodies: int


@dataclass(frozen=True)
class ReturnRecord:
    id: int
    day: date
    route: str
    people: int


@dataclass(frozen=True)
class ClearanceRecord:
    id: int
    day: date
    unit: str
    place: str
    hectares: float
    road_km: float
    buildings: int
    explosive_objects: int


@dataclass(frozen=True)
class UnitRecord:
    id: int
    name: str
    unit_type: str
    present: int


@dataclass
class Coverage:
    """The H3 cells visited in each area, hour by hour, and the cells each area holds."""

    area_cells: dict[int, np.ndarray] = field(default_factory=dict)  # zone id -> sorted cell ids
    hours: dict[int, np.ndarray] = field(default_factory=dict)  # zone id -> hour (ms), sorted
    cells: dict[int, np.ndarray] = field(default_factory=dict)  # zone id -> cell, in the hours' order

    def share(self, zone_id: int, since: datetime, until: datetime) -> tuple[int, float]:
        """Cells of the area visited in [since, until), and their share of the area."""
        inside = self.area_cells.get(zone_id)
        if inside is None or len(inside) == 0:
            return 0, 0.0
        hours = self.hours.get(zone_id, np.empty(0, dtype=np.int64))
        lo = np.searchsorted(hours, int(since.timestamp() * 1000) // HOUR_MS * HOUR_MS, side="left")
        hi = np.searchsorted(hours, int(until.timestamp() * 1000), side="left")
        seen = np.unique(self.cells[zone_id][lo:hi]) if hi > lo else np.empty(0, dtype=np.int64)
        visited = int(np.isin(seen, inside, assume_unique=True).sum())
        return visited, round(visited / len(inside), 4)


@dataclass
class Records:
    """What a report may count, already limited to its readers' scope."""

    mission: Mission
    internal: bool
    places: dict[int, Place]
    movements: list[MovementRecord]
    posts: list[PostRecord]
    patrols: list[PatrolRecord]
    events: list[EventSummary]
    casualty_facts: list[Fact]
    handovers: list[HandoverRecord]
    returns: list[ReturnRecord]
    clearances: list[ClearanceRecord]
    alerts: list[AlertRecord] = field(default_factory=list)
    units: list[UnitRecord] = field(default_factory=list)
    coverage: Coverage | None = None

    @cached_property
    def event_days(self) -> dict[int, date]:
        """The reporting day each event began: asked of every event for every day of a span, so worked out once."""
        return {e.id: self.mission.day_of(e.started_at) for e in self.events}


def _ids(records: Iterable[Any]) -> list[int]:
    return sorted(r.id for r in records)


def _place_name(records: Records, zone_id: int | None, fallback: str = "outside the areas") -> str:
    place = records.places.get(zone_id or 0)
    return place.name if place else fallback


# --- sections -------------------------------------------------------------------------------------

def airlift(records: Records, day: date) -> dict[str, Any]:
    """Flights landed on the day and since the start, loads delivered, convoys, strength at the day's end."""
    landed = [m for m in records.movements if m.day is not None and m.day <= day]
    flights = [m for m in landed if m.table == "flights"]
    today = [m for m in flights if m.day == day]
    inbound = [m for m in flights if m.movement.inbound]
    inbound_today = [m for m in today if m.movement.inbound]
    convoys = [m for m in landed if m.table == "convoys"]
    convoys_today = [m for m in convoys if m.day == day]
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: {"day": 0, "total": 0})
    for m in flights:
        assert m.movement.aircraft_type is not None
        by_type[m.movement.aircraft_type]["total"] += 1
        by_type[m.movement.aircraft_type]["day"] += m.day == day
    convoy_kinds: dict[str, dict[str, float]] = {}
    for kind in ("force", "humanitarian", "returnees"):
        of_kind = [m for m in convoys if m.movement.kind == kind]
        of_kind_today = [m for m in of_kind if m.day == day]
        convoy_kinds[kind] = {
            "day": len(of_kind_today), "total": len(of_kind),
            "people_day": sum(m.movement.personnel for m in of_kind_today),
            "people_total": sum(m.movement.personnel for m in of_kind),
            "tonnes_day": round(sum(m.movement.tonnes for m in of_kind_today), 1),
            "tonnes_total": round(sum(m.movement.tonnes for m in of_kind), 1),
        }
    end = records.mission.day_ends(day)
    moved = [m.movement for m in records.movements]
    in_theatre = strength_at(moved, end, towards_ceiling=False)
    return {
        "flights_total": len(flights),
        "flights_day": len(today),
        "personnel_delivered_total": sum(m.movement.personnel for m in inbound),
        "personnel_delivered_day": sum(m.movement.personnel for m in inbound_today),
        "vehicles_delivered_total": sum(m.movement.vehicles + m.movement.armoured for m in inbound),
        "vehicles_delivered_day": sum(m.movement.vehicles + m.movement.armoured for m in inbound_today),
        "tonnes_delivered_total": round(sum(m.movement.tonnes for m in inbound), 1),
        "tonnes_delivered_day": round(sum(m.movement.tonnes for m in inbound_today), 1),
        "by_aircraft_type": {k: by_type[k] for k in sorted(by_type)},
        "convoys": convoy_kinds,
        "strength": {
            "in_theatre": vars(in_theatre),
            "ceilings": None if records.mission.ceilings is None else vars(records.mission.ceilings),
            "minimum": None if records.mission.minimum is None else vars(records.mission.minimum),
        },
        "records": {
            "flights_total": _ids(flights), "flights_day": _ids(today),
            "convoys_total": _ids(convoys), "convoys_day": _ids(convoys_today),
        },
    }


def posts(records: Records, day: date) -> dict[str, Any]:
    """Posts open on the day per area or corridor, with those opened and closed that day."""
    open_today = [p for p in records.posts if p.open_on(day)]
    by_zone: dict[str, dict[str, int]] = {}
    for zone_id in sorted({p.zone_id for p in records.posts}):
        name = _place_name(records, zone_id, "unassigned")
        mine = [p for p in records.posts if p.zone_id == zone_id]
        by_zone[name] = {
            "open": sum(p.open_on(day) for p in mine),
            "opened": sum(p.opened_on == day for p in mine),
            "closed": sum(p.closed_on == day for p in mine),
        }
    kinds = Counter(p.kind for p in open_today)
    return {
        "open": len(open_today),
        "by_kind": dict(sorted(kinds.items())),
        "by_zone": by_zone,
        "opened": sum(p.opened_on == day for p in records.posts),
        "closed": sum(p.closed_on == day for p in records.posts),
        "records": {"open": _ids(open_today)},
    }


def patrols(records: Records, day: date) -> dict[str, Any]:
    """Patrols planned for the day per area and what became of them; the day each area's patrolling began."""
    today = [p for p in records.patrols if p.day == day]
    started_by_zone: dict[int, date] = {}
    for p in records.patrols:
        if p.started and p.day <= day:
            started_by_zone[p.zone_id] = min(p.day, started_by_zone.get(p.zone_id, p.day))
    by_area: dict[str, dict[str, Any]] = {}
    for zone_id in sorted({p.zone_id for p in records.patrols if p.day <= day}):
        mine = [p for p in today if p.zone_id == zone_id]
        statuses = Counter(p.status for p in mine)
        row: dict[str, Any] = {
            "planned": len(mine),
            "carried_out": sum(p.started for p in mine),
            "not_started": statuses.get("planned", 0),
            **{s: statuses.get(s, 0) for s in ("under_way", "completed", "aborted")},
            "began_on": started_by_zone[zone_id].isoformat() if zone_id in started_by_zone else None,
            "carried_out_total": sum(p.started for p in records.patrols if p.zone_id == zone_id and p.day <= day),
        }
        if records.coverage is not None:
            end = records.mission.day_ends(day)
            for key, span in (("coverage_24h", timedelta(hours=24)), ("coverage_7d", timedelta(days=7))):
                visited, share = records.coverage.share(zone_id, end - span, end)
                row[key] = {"visited_cells": visited, "share": share}
        by_area[_place_name(records, zone_id)] = row
    began = sorted(_place_name(records, z) for z, first in started_by_zone.items() if first == day)
    carried_out = [p for p in today if p.started]
    return {
        "planned": len(today),
        "carried_out": len(carried_out),
        "carried_out_total": sum(p.started for p in records.patrols if p.day <= day),
        "began_in": began,
        "by_area": by_area,
        "records": {"planned": _ids(today), "carried_out": _ids(carried_out)},
    }


def alerts(records: Records, day: date) -> dict[str, Any]:
    today = [a for a in records.alerts if a.day == day]
    still_open = [a for a in records.alerts if a.day <= day and (a.closed_on is None or a.closed_on > day)]
    return {
        "raised": len(today),
        "by_kind": dict(sorted(Counter(a.kind for a in today).items())),
        "by_area": dict(sorted(Counter(_place_name(records, a.zone_id) for a in today).items())),
        "open": len(still_open),
        "waited": _waited(today),
        "records": {"raised": _ids(today), "open": _ids(still_open)},
    }


def _waited(today: list[AlertRecord]) -> dict[str, dict[str, Any]]:
    """How long the day's alerts waited for someone, per kind: how many were acknowledged, the median and the 90th
    percentile of raised → acknowledged in seconds (none when nobody acknowledged any)."""
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({a.kind for a in today}):
        waits = [a.waited_s for a in today if a.kind == kind and a.waited_s is not None]
        out[kind] = {"acknowledged": len(waits), "median_s": percentile(waits, 50), "p90_s": percentile(waits, 90)}
    return out


def _violations(records: Records, day: date) -> list[EventSummary]:
    return [e for e in records.events if not e.is_restriction and e.status is not IncidentStatus.rejected
            and records.event_days[e.id] == day]


def incidents(records: Records, day: date) -> dict[str, Any]:
    """Ceasefire violations that began on the day (events, not reports), by status, type, area and district;
    the change from the day before; restrictions of movement apart."""
    today = _violations(records, day)
    yesterday = _violations(records, day - timedelta(days=1))
    counted = [e for e in records.events if e.status is not IncidentStatus.rejected and records.event_days[e.id] <= day]
    violations_total = [e for e in counted if not e.is_restriction]
    restrictions = [e for e in records.events if e.is_restriction and e.status is not IncidentStatus.rejected
                    and records.event_days[e.id] == day]
    casualties: dict[str, dict[str, int]] = {}
    for event in today:
        for kind, (low, high) in event.casualties.items():
            row = casualties.setdefault(kind, {"min": 0, "max": 0})
            row["min"] += low
            row["max"] += high

    def tally(key: Any) -> dict[str, int]:
        return dict(sorted(Counter(key(e) for e in today).items()))

    return {
        "events": len(today),
        "effects": sum(e.event_count for e in today),
        "change": len(today) - len(yesterday),
        "events_total": len(violations_total),
        "by_status": tally(lambda e: e.status.value),
        "by_type": tally(lambda e: e.type_key),
        "by_area": tally(lambda e: _place_name(records, e.representative.zone_id)),
        "by_district": tally(lambda e: _place_name(records, e.representative.district_id, "unknown")),
        "casualties": {k: casualties[k] for k in sorted(casualties) if casualties[k]["max"]},
        "restrictions": [
            {"event": e.id, "kind": e.representative.restriction or "unspecified",
             "area": _place_name(records, e.representative.zone_id), "place": e.representative.place_name,
             "status": e.status.value}
            for e in sorted(restrictions, key=lambda e: (e.started_at, e.id))
        ],
        "records": {
            "events": [e.id for e in sorted(today, key=lambda e: e.id)],
            "reports": sorted(r.id for e in today for r in e.reports),
            "restrictions": sorted(e.id for e in restrictions),
            "events_total": sorted(e.id for e in violations_total),
        },
    }


def remains(records: Records, day: date) -> dict[str, Any]:
    """Casualty figures per side (aggregates, public by the mission's rule) and the handovers of the day."""
    per_side = casualties_on(records.casualty_facts, day)
    handovers = [h for h in records.handovers if h.day == day]
    so_far = [h for h in records.handovers if h.day <= day]
    first = min((h.day for h in so_far), default=None)
    return {
        "sides": per_side,
        "handovers_day": [{"number": h.number, "to_side": h.to_side, "bodies": h.bodies} for h in handovers],
        "handed_over_day": sum(h.bodies for h in handovers),
        "handed_over_total": sum(h.bodies for h in so_far),
        "exchange_began_on": first.isoformat() if first else None,
        "records": {"handovers_day": _ids(handovers), "handovers_total": _ids(so_far)},
    }


def returns(records: Records, day: date) -> dict[str, Any]:
    today = [r for r in records.returns if r.day == day]
    so_far = [r for r in records.returns if r.day <= day]
    routes: dict[str, int] = defaultdict(int)
    for r in today:
        routes[r.route] += r.people
    return {
        "people_day": sum(r.people for r in today),
        "people_total": sum(r.people for r in so_far),
        "by_route": dict(sorted(routes.items())),
        "began_on": min((r.day for r in so_far), default=date.max).isoformat() if so_far else None,
        "records": {"day": _ids(today), "total": _ids(so_far)},
    }


def _cleared(rows: Sequence[ClearanceRecord]) -> dict[str, Any]:
    return {"hectares": round(sum(r.hectares for r in rows), 2), "road_km": round(sum(r.road_km for r in rows), 2),
            "buildings": sum(r.buildings for r in rows), "explosive_objects": sum(r.explosive_objects for r in rows)}


def demining(records: Records, day: date) -> dict[str, Any]:
    today = [c for c in records.clearances if c.day == day]
    so_far = [c for c in records.clearances if c.day <= day]
    return {
        "day": _cleared(today),
        "total": _cleared(so_far),
        "units_day": sorted({c.unit for c in today}),
        "records": {"day": _ids(today), "total": _ids(so_far)},
    }


def force(records: Records) -> dict[str, Any]:
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: {"units": 0, "present": 0})
    for unit in records.units:
        by_type[unit.unit_type]["units"] += 1
        by_type[unit.unit_type]["present"] += unit.present
    return {"units": len(records.units), "by_type": {k: by_type[k] for k in sorted(by_type)},
            "records": {"units": _ids(records.units)}}


def day_figures(records: Records, day: date) -> dict[str, Any]:
    """Every figure a report of ``day`` quotes, with the ids of the records behind each."""
    mission = records.mission
    figures: dict[str, Any] = {
        "day": day.isoformat(),
        "mission_day": (day - mission.start).days + 1,
        "period": {"from": mission.day_ends(day - timedelta(days=1)).isoformat(),
                   "until": mission.day_ends(day).isoformat(), "zone": mission.zone.key},
        "airlift": airlift(records, day),
        "posts": posts(records, day),
        "patrols": patrols(records, day),
        "incidents": incidents(records, day),
        "remains": remains(records, day),
        "returns": returns(records, day),
        "demining": demining(records, day),
    }
    if records.internal:
        figures["alerts"] = alerts(records, day)
        figures["force"] = force(records)
    return figures
