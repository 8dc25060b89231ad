"""The records as movements: the ledger of people and vehicles in theatre that every departure is checked
against, and the mandate's ceilings and the agreed minimum."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.figures import (
    Movement,
    Strength,
    StrengthBook,
)
from peacewatch.airlift.flight_rules import NOT_COUNTED, convoy_movement, flight_movement
from peacewatch.airlift.models import (
    Convoy,
    Flight,
    StrengthMinimum,
)
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.mandate.models import Mandate

FLIGHT_COLUMNS = (Flight.id, Flight.status, Flight.direction, Flight.aircraft_type, Flight.planned_departure,
                  Flight.planned_arrival, Flight.actual_departure, Flight.actual_arrival, Flight.personnel,
                  Flight.armoured, Flight.vehicles, Flight.tonnes)
CONVOY_COLUMNS = (Convoy.kind, Convoy.direction, Convoy.departed_at, Convoy.arrived_at, Convoy.personnel,
                  Convoy.armoured, Convoy.vehicles, Convoy.tonnes)


@dataclass
class Ledger:
    """Every movement on record, as flown and as planned; kept up to date while an import adds flights."""

    actual: dict[int, Movement] = field(default_factory=dict)
    planned: dict[int, Movement] = field(default_factory=dict)
    road: list[Movement] = field(default_factory=list)
    planning: bool = True  # keep the book as planned too (checks need it; figures count what was flown)
    # strength on the minimum's side of caution, as flown and as planned: what a departure is checked against;
    # made on the first check (figures never need it), then kept up to date by put
    _present: dict[bool, StrengthBook] | None = None

    @classmethod
    def load(cls, session: Session, *, until: datetime | None = None, readable: Scope,
             planning: bool = True, except_convoy: int | None = None) -> Ledger:
        """The movements on record; ``readable`` keeps those a reader may count (a public figure counts public records only);
        ``except_convoy`` leaves one convoy out (the one being corrected is checked against the others)."""
        ledger = cls(planning=planning)
        query = select(*FLIGHT_COLUMNS).where(Flight.status.not_in(NOT_COUNTED))
        convoys = select(*CONVOY_COLUMNS)
        if except_convoy is not None:
            convoys = convoys.where(Convoy.id != except_convoy)
        if until is not None:
            query = query.where(Flight.actual_departure <= until)
            convoys = convoys.where(Convoy.departed_at <= until)
        query, convoys = where_visible(query, Flight.visibility, readable), where_visible(convoys, Convoy.visibility, readable)
        for row in session.execute(query):
            ledger.put(row.id, row)
        ledger.road = [convoy_movement(c) for c in session.execute(convoys)]
        return ledger

    def _books(self) -> dict[bool, StrengthBook]:
        if self._present is None:
            self._present = {}
            for planning, book in ((False, self.actual), (True, self.planned)):
                present = StrengthBook(towards_ceiling=False)
                for movement in (*book.values(), *self.road):
                    present.add(movement)
                self._present[planning] = present
        return self._present

    def put(self, flight_id: int, flight: Any) -> None:
        for book, planning in ((self.actual, False), (self.planned, True))[:2 if self.planning else 1]:
            movement = flight_movement(flight, planning=planning)
            replaced = book.pop(flight_id, None)
            if replaced is not None and self._present is not None:
                self._present[planning].add(replaced, -1)
            if movement is not None:
                book[flight_id] = movement
                if self._present is not None:
                    self._present[planning].add(movement)

    def strength_before(self, moment: datetime, *, planning: bool, without: int | None = None) -> Strength:
        """Strength certainly in theatre at ``moment`` (the minimum's side of caution), leaving out flight ``without``."""
        found = self._books()[planning].at(moment)
        left_out = (self.planned if planning else self.actual).get(without) if without is not None else None
        if left_out is None:
            return found
        alone = StrengthBook(towards_ceiling=False)
        alone.add(left_out)
        mine = alone.at(moment)
        return Strength(found.personnel - mine.personnel, found.armoured - mine.armoured, found.vehicles - mine.vehicles)

    def movements(self, *, planning: bool, without: int | None = None) -> list[Movement]:
        book = self.planned if planning else self.actual
        return [m for k, m in book.items() if k != without] + self.road


def ceilings(session: Session) -> Strength | None:
    mandate = session.scalar(select(Mandate).order_by(Mandate.id).limit(1))
    if mandate is None:
        return None
    return Strength(mandate.personnel_ceiling, mandate.armoured_vehicle_ceiling, mandate.vehicle_ceiling)


def minimum(session: Session) -> StrengthMinimum | None:
    return session.scalar(select(StrengthMinimum).order_by(StrengthMinimum.id).limit(1))


def as_strength(row: Any) -> Strength | None:
    return None if row is None else Strength(row.personnel, row.armoured, row.vehicles)
