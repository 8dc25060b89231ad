"""The rules a flight must meet on its face, pure: order of times, status and actual times, capacity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from peacewatch.airlift.aircraft import load_problem
from peacewatch.airlift.flight_rules import flight_problems
from peacewatch.airlift.models import FlightStatus

T = datetime(2020, 11, 14, 6, tzinfo=UTC)


def values(**changes: Any) -> dict[str, Any]:
    return {"status": FlightStatus.landed, "departure": "UWLW", "arrival": "UDYE", "aircraft_type": "Il-76MD",
            "planned_departure": T, "planned_arrival": T + timedelta(hours=4), "actual_departure": T,
            "actual_arrival": T + timedelta(hours=4), "personnel": 100, "tonnes": 20.0} | changes


@pytest.mark.parametrize(("aircraft", "personnel", "tonnes", "field"), [
    ("Il-76MD", 125, 47.0, None), ("Il-76MD", 126, 0, "personnel"), ("Il-76MD", 0, 47.1, "tonnes"),
    ("An-124", 88, 120.0, None), ("An-124", 0, 120.5, "tonnes"), ("Mi-8", 25, 0, "personnel"), ("Mi-8", 24, 4, None),
])
def test_loads_are_held_to_the_aircraft_types_capacity(aircraft: str, personnel: int, tonnes: float, field: str | None) -> None:
    problem = load_problem(aircraft, personnel, tonnes)
    assert (problem[0] if problem else None) == field


@pytest.mark.parametrize(("changes", "field"), [
    ({}, None),
    ({"arrival": "UWLW"}, "arrival"),
    ({"planned_arrival": T}, "planned_arrival"),
    ({"actual_arrival": T - timedelta(minutes=1)}, "actual_arrival"),
    ({"actual_arrival": None}, "actual_arrival"),
    ({"status": FlightStatus.airborne}, "actual_arrival"),
    ({"status": FlightStatus.airborne, "actual_arrival": None}, None),
    ({"status": FlightStatus.diverted, "actual_departure": None, "actual_arrival": None}, "actual_departure"),
    ({"status": FlightStatus.planned, "actual_arrival": None}, "actual_departure"),
    ({"status": FlightStatus.cancelled, "actual_departure": None, "actual_arrival": None}, None),
    ({"tonnes": 50.0}, "tonnes"),
])
def test_a_flight_is_checked_on_its_face(changes: dict[str, Any], field: str | None) -> None:
    problems = flight_problems(values(**changes))
    assert (problems[0][0] if problems else None) == field
