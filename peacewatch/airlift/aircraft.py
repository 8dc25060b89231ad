"""Aircraft types the air-movement cell plans with, and what each can lift.

Capacities are the planning figures of the types' manufacturers, rounded down: a load above them
is a typing error or an unsafe plan, and either way it must not reach the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from peacewatch.core.i18n import Sentence


@dataclass(frozen=True)
class AircraftType:
    name: str
    helicopter: bool
    payload_tonnes: float
    troops: int


AIRCRAFT_TYPES: dict[str, AircraftType] = {
    t.name: t
    for t in (
        AircraftType("Il-76MD", False, 47.0, 125),
        AircraftType("An-124", False, 120.0, 88),
        AircraftType("Mi-8", True, 4.0, 24),
        AircraftType("Mi-26", True, 20.0, 82),
    )
}


def load_problem(aircraft_type: str, personnel: int, tonnes: float) -> tuple[str, Sentence] | None:
    """What is wrong with a load (field, message), or None: over the payload or the seats of its type."""
    kind = AIRCRAFT_TYPES[aircraft_type]
    if tonnes > kind.payload_tonnes:
        return "tonnes", Sentence("{tonnes:g} t is over the {aircraft}'s payload of about {payload:g} t",
                                  {"tonnes": tonnes, "aircraft": kind.name, "payload": kind.payload_tonnes})
    if personnel > kind.troops:
        return "personnel", Sentence("{personnel} people is over the {aircraft}'s capacity of about {troops} troops",
                                     {"personnel": personnel, "aircraft": kind.name, "troops": kind.troops})
    return None
