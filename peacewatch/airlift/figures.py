"""Airlift figures and strength in theatre at any moment, pure: computed from movements, never stored.

A flight counts once it has landed: "the planes have made 95 flights, 22 of them in the past
twenty-four hours" counts flights landed since the start of the operation, and in the window
(at - 24 h, at]: a flight that landed exactly 24 hours before is yesterday's.

Strength follows movements. People in the air are counted on the cautious side of each check:
towards a ceiling, inbound people count from take-off and outbound people until landing (they may
yet turn back); towards the minimum, inbound people count only once landed and outbound people
are gone from take-off.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from peacewatch.core.db import moment_before

WINDOW = timedelta(hours=24)


class Movement(NamedTuple):
    """People and vehicles entering (inbound) or leaving (outbound) the theatre, by air or road.

    A named tuple, not a frozen dataclass: the figures of a year's airlift build tens of thousands.
    """

    inbound: bool
    left_at: datetime  # take-off, or the convoy leaving
    arrived_at: datetime | None  # landing, or the convoy arriving; None while under way
    personnel: int = 0
    armoured: int = 0
    vehicles: int = 0
    tonnes: float = 0.0
    aircraft_type: str | None = None  # None for a road movement
    kind: str = "force"  # a convoy's kind: only the force's own people and vehicles count in strength

    @property
    def is_flight(self) -> bool:
        return self.aircraft_type is not None

    @property
    def counts_in_strength(self) -> bool:
        return self.kind == "force"


def landed_by(movements: Iterable[Movement], at: datetime) -> list[Movement]:
    return [m for m in movements if m.arrived_at is not None and m.arrived_at <= at]


def _tally() -> dict[str, float]:
    return {"flights": 0, "personnel": 0, "vehicles": 0, "tonnes": 0.0}


def airlift_figures(movements: Sequence[Movement], at: datetime, day_of: Callable[[datetime], date]) -> dict[str, Any]:
    """The airlift at ``at``: flights landed since the start and in the past 24 hours, loads delivered, per type and day.

    Loads delivered are the inbound ones; road convoys are counted per day beside the flights.
    """
    arrived = landed_by(movements, at)
    flights = [m for m in arrived if m.is_flight]
    recent = [m for m in flights if m.arrived_at is not None and m.arrived_at > moment_before(at, WINDOW)]
    inbound = [m for m in flights if m.inbound]
    by_type: dict[str, dict[str, float]] = defaultdict(_tally)
    by_day: dict[date, dict[str, float]] = defaultdict(
        lambda: _tally() | {"convoys": 0, "convoy_personnel": 0, "returnees": 0, "convoy_tonnes": 0.0}
    )
    for m in arrived:
        assert m.arrived_at is not None
        day = by_day[day_of(m.arrived_at)]
        if not m.is_flight:
            day["convoys"] += 1
            day["returnees" if m.kind == "returnees" else "convoy_personnel"] += m.personnel
            day["convoy_tonnes"] = round(day["convoy_tonnes"] + m.tonnes, 3)
            continue
        assert m.aircraft_type is not None
        for bucket in (by_type[m.aircraft_type], day):
            bucket["flights"] += 1
            if m.inbound:
                bucket["personnel"] += m.personnel
                bucket["vehicles"] += m.vehicles + m.armoured
                bucket["tonnes"] = round(bucket["tonnes"] + m.tonnes, 3)
    return {
        "at": at,
        "flights": len(flights),
        "flights_past_24h": len(recent),
        "inbound_flights": len(inbound),
        "personnel_delivered": sum(m.personnel for m in inbound),
        "vehicles_delivered": sum(m.vehicles + m.armoured for m in inbound),
        "tonnes_delivered": round(sum(m.tonnes for m in inbound), 3),
        "by_aircraft_type": {k: by_type[k] for k in sorted(by_type)},
        "by_day": [{"day": d, **by_day[d]} for d in sorted(by_day)],
    }


@dataclass(frozen=True)
class Strength:
    personnel: int
    armoured: int
    vehicles: int


def _counted_from(m: Movement, *, towards_ceiling: bool) -> datetime | None:
    """When a movement changes strength on the chosen side of caution: inbound for a ceiling and
    outbound for the minimum count from departure, the others from arrival (never, while under way)."""
    return m.left_at if m.inbound == towards_ceiling else m.arrived_at


def _steps(movements: Iterable[Movement], *, towards_ceiling: bool) -> list[tuple[datetime, int, int, int]]:
    """Signed changes in theatre, in time order."""
    steps = []
    for m in movements:
        when = _counted_from(m, towards_ceiling=towards_ceiling) if m.counts_in_strength else None
        if when is not None:
            sign = 1 if m.inbound else -1
            steps.append((when, sign * m.personnel, sign * m.armoured, sign * m.vehicles))
    return sorted(steps, key=lambda s: s[0])


def strength_at(movements: Iterable[Movement], at: datetime, *, towards_ceiling: bool = True) -> Strength:
    personnel = armoured = vehicles = 0
    for m in movements:
        when = _counted_from(m, towards_ceiling=towards_ceiling) if m.counts_in_strength else None
        if when is not None and when <= at:
            sign = 1 if m.inbound else -1
            personnel, armoured, vehicles = personnel + sign * m.personnel, armoured + sign * m.armoured, vehicles + sign * m.vehicles
    return Strength(personnel, armoured, vehicles)


def strength_series(movements: Iterable[Movement], moments: Sequence[datetime], *, towards_ceiling: bool = False) -> list[Strength]:
    """Strength at each of ``moments`` (in order) in one pass; by default people in the air are not yet, or no longer, there."""
    steps = _steps(movements, towards_ceiling=towards_ceiling)
    total, i, series = [0, 0, 0], 0, []
    for moment in moments:
        while i < len(steps) and steps[i][0] <= moment:
            total = [t + d for t, d in zip(total, steps[i][1:])]
            i += 1
        series.append(Strength(*total))
    return series


@dataclass(frozen=True)
class Breach:
    at: datetime
    measure: str  # personnel, armoured or vehicles
    value: int
    limit: int
    above: bool  # True: over a ceiling; False: under the minimum


def first_breach(movements: Iterable[Movement], *, ceilings: Strength, minimum: Strength | None = None,
                 since: datetime | None = None) -> Breach | None:
    """The first moment (from ``since``, if given) strength would pass a ceiling or fall below the minimum,
    counting people in transit cautiously.

    The minimum applies only once the build-up has reached it: a force still arriving is not under strength.
    """
    movements = list(movements)
    found: list[Breach] = []
    for towards_ceiling, limits in ((True, ceilings), (False, minimum)):
        if limits is not None:
            breach = _first_crossing(_steps(movements, towards_ceiling=towards_ceiling), limits, above=towards_ceiling,
                                     since=since)
            if breach is not None:
                found.append(breach)
    return min(found, key=lambda b: b.at) if found else None


MEASURES = ("personnel", "armoured", "vehicles")


def _first_crossing(steps: Sequence[tuple[datetime, int, int, int]], limits: Strength, *, above: bool,
                    since: datetime | None = None) -> Breach | None:
    total = [0, 0, 0]
    reached = [False, False, False]
    times = [s[0] for s in steps]
    i = 0
    while i < len(steps):
        moment = steps[i][0]
        j = bisect_right(times, moment)  # every change at one moment applies together
        for _, *delta in steps[i:j]:
            total = [t + d for t, d in zip(total, delta)]
        i = j
        if since is not None and moment < since:  # history before the moment asked about is only summed
            reached = [r or value >= getattr(limits, name) for r, name, value in zip(reached, MEASURES, total)]
            continue
        for k, (name, value) in enumerate(zip(MEASURES, total)):
            limit = getattr(limits, name)
            if above and value > limit:
                return Breach(moment, name, value, limit, True)
            if not above:
                if reached[k] and value < limit:
                    return Breach(moment, name, value, limit, False)
                reached[k] = reached[k] or value >= limit
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _key(moment: datetime) -> int:
    """A moment as whole microseconds, exactly (a float timestamp would round them)."""
    return (moment - _EPOCH) // _MICROSECOND


class StrengthBook:
    """Strength in theatre at any moment, kept while movements are added or withdrawn one at a time.

    Why: an import checks each departure against the strength at its take-off, and adds the flight
    before the next row. Summing every movement for each row made a year's log quadratic (27-33 s for
    14,600 flights). Here the steps are kept sorted with their running totals (NumPy), so a moment is
    one binary search; steps added since are held apart and summed directly until there are enough of
    them to be worth merging (about the square root of the book), which keeps both costs small.
    """

    def __init__(self, *, towards_ceiling: bool) -> None:
        self.towards_ceiling = towards_ceiling
        self._keys = np.empty(0, dtype=np.int64)
        self._deltas = np.empty((0, 3), dtype=np.int64)
        self._totals = np.empty((0, 3), dtype=np.int64)
        self._pending: list[tuple[int, int, int, int]] = []

    def add(self, movement: Movement, sign: int = 1) -> None:
        """Count ``movement`` (or, with ``sign`` -1, stop counting it)."""
        when = _counted_from(movement, towards_ceiling=self.towards_ceiling) if movement.counts_in_strength else None
        if when is None:
            return
        direction = sign if movement.inbound else -sign
        self._pending.append((_key(when), direction * movement.personnel, direction * movement.armoured,
                              direction * movement.vehicles))
        if len(self._pending) > max(64, int(len(self._keys) ** 0.5)):
            self._merge()

    def _merge(self) -> None:
        pending = np.array(self._pending, dtype=np.int64).reshape(-1, 4)
        keys = np.concatenate([self._keys, pending[:, 0]])
        deltas = np.concatenate([self._deltas, pending[:, 1:]])
        order = np.argsort(keys, kind="stable")
        self._keys, self._deltas = keys[order], deltas[order]
        self._totals = np.cumsum(self._deltas, axis=0)
        self._pending = []

    def at(self, moment: datetime) -> Strength:
        """Strength with every change counted up to and including ``moment``."""
        key = _key(moment)
        i = int(np.searchsorted(self._keys, key, side="right"))
        total = [int(v) for v in self._totals[i - 1]] if i else [0, 0, 0]
        for when, personnel, armoured, vehicles in self._pending:
            if when <= key:
                total[0] += personnel
                total[1] += armoured
                total[2] += vehicles
        return Strength(*total)


_LANDED_FIELDS = ("flights", "personnel", "vehicles", "tonnes", "convoys", "convoy_personnel", "returnees", "convoy_tonnes",
                  "inbound_flights")


class AirliftBook:
    """The movements on record arranged once, so the figures at any moment are a few binary searches.

    Why: a daily bulletin, the dashboard and a GIS client each ask for the figures at some moment, and
    summing every movement up to it cost about 230 ms at a year's 14,600 flights. Here the landed
    movements are sorted by landing with running totals of every figure (overall, per aircraft type and
    per day), and the strength steps by time with their running totals: the figures at a moment are the
    totals at its place in each. Built once per version of the records (see ``service.figures``); it
    answers exactly as ``airlift_figures``, ``strength_series`` and ``strength_at`` (tests compare them).
    """

    def __init__(self, movements: Sequence[Movement], day_of: Callable[[datetime], date]) -> None:
        movements = list(movements)
        # a movement landed before it left would count before its departure is on record: the slow path decides then
        self.regular = all(m.arrived_at is None or m.arrived_at >= m.left_at for m in movements)
        self.first_left = min((m.left_at for m in movements), default=None)
        landed = sorted((m for m in movements if m.arrived_at is not None), key=lambda m: m.arrived_at)  # type: ignore[arg-type, return-value]  # arrived_at is not None after the filter on this line; mypy does not narrow inside a generator
        self._arrived = np.array([_key(m.arrived_at) for m in landed], dtype=np.int64)  # type: ignore[arg-type]  # landed holds only movements that arrived (line above)
        flight = np.array([m.is_flight for m in landed], dtype=bool)
        inbound = np.array([m.inbound for m in landed], dtype=bool) & flight
        convoy = ~flight
        returnees = np.array([m.kind == "returnees" for m in landed], dtype=bool) & convoy
        personnel = np.array([m.personnel for m in landed], dtype=np.int64)
        vehicles = np.array([m.vehicles + m.armoured for m in landed], dtype=np.int64)
        tonnes = np.array([m.tonnes for m in landed], dtype=float)
        columns = {
            "flights": flight.astype(np.int64), "personnel": np.where(inbound, personnel, 0),
            "vehicles": np.where(inbound, vehicles, 0), "tonnes": np.where(inbound, tonnes, 0.0),
            "convoys": convoy.astype(np.int64), "convoy_personnel": np.where(convoy & ~returnees, personnel, 0),
            "returnees": np.where(returnees, personnel, 0), "convoy_tonnes": np.where(convoy, tonnes, 0.0),
            "inbound_flights": inbound.astype(np.int64),
        }
        self._totals = {name: _running(values) for name, values in columns.items()}
        types = [m.aircraft_type for m in landed]
        self._types = {kind: {name: _running(np.where(np.array([t == kind for t in types]), columns[name], 0))
                              for name in ("flights", "personnel", "vehicles", "tonnes")}
                       for kind in sorted({t for t in types if t is not None})}
        days = [day_of(m.arrived_at) for m in landed]  # type: ignore[arg-type]  # landed holds only movements that arrived
        self._days = sorted(set(days))
        self._day_starts = np.searchsorted(np.array([d.toordinal() for d in days], dtype=np.int64),
                                           np.array([d.toordinal() for d in self._days], dtype=np.int64))
        self._steps = {side: self._strength_steps(movements, towards_ceiling=side) for side in (False, True)}

    @staticmethod
    def _strength_steps(movements: Sequence[Movement], *, towards_ceiling: bool) -> tuple[np.ndarray, np.ndarray]:
        steps = _steps(movements, towards_ceiling=towards_ceiling)
        keys = np.array([_key(s[0]) for s in steps], dtype=np.int64)
        return keys, _running(np.array([s[1:] for s in steps], dtype=np.int64).reshape(-1, 3))

    def figures(self, at: datetime) -> dict[str, Any]:
        """As ``airlift_figures`` of the movements left by ``at``."""
        n = int(np.searchsorted(self._arrived, _key(at), side="right"))
        since = int(np.searchsorted(self._arrived, _key(moment_before(at, WINDOW)), side="right"))
        total = {name: _at(values, n) for name, values in self._totals.items()}
        by_type = {kind: {name: _plain(_at(values, n), name) for name, values in columns.items()}
                   for kind, columns in self._types.items() if _at(columns["flights"], n) > 0}
        return {
            "at": at,
            "flights": int(total["flights"]),
            "flights_past_24h": int(total["flights"] - _at(self._totals["flights"], since)),
            "inbound_flights": int(total["inbound_flights"]),
            "personnel_delivered": int(total["personnel"]),
            "vehicles_delivered": int(total["vehicles"]),
            "tonnes_delivered": round(float(total["tonnes"]), 3),
            "by_aircraft_type": by_type,
            "by_day": self._by_day(n),
        }

    def _by_day(self, n: int) -> list[dict[str, Any]]:
        """Each day with a landing among the first ``n``: its tallies, as differences of running totals."""
        count = int(np.searchsorted(self._day_starts, n, side="left"))  # days whose first landing is among them
        bounds = np.append(self._day_starts[:count], n)
        rows = []
        for i in range(count):
            rows.append({"day": self._days[i], **{
                name: _plain(_at(values, int(bounds[i + 1])) - _at(values, int(bounds[i])), name)
                for name, values in self._totals.items() if name != "inbound_flights"}})
        return rows

    def strength_at(self, at: datetime, *, towards_ceiling: bool = True) -> Strength:
        keys, totals = self._steps[towards_ceiling]
        i = int(np.searchsorted(keys, _key(at), side="right"))
        return Strength(*(int(v) for v in totals[i - 1])) if i else Strength(0, 0, 0)

    def strength_series(self, moments: Sequence[datetime], *, towards_ceiling: bool = False) -> list[Strength]:
        return [self.strength_at(moment, towards_ceiling=towards_ceiling) for moment in moments]


def _running(values: np.ndarray) -> np.ndarray:
    return np.cumsum(values, axis=0)


def _at(running: np.ndarray, n: int) -> Any:
    """The running total over the first ``n`` entries."""
    return running[n - 1] if n else running.dtype.type(0)


def _plain(value: Any, name: str) -> int | float:
    """A tally as the slow path writes it: tonnes rounded to the kilogram, counts as whole numbers."""
    return round(float(value), 3) if name.endswith("tonnes") else int(value)
