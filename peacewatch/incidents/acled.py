"""Events in the ACLED data format, so analysts can load the mission's record beside ACLED's own.

One row per event (not per report), in ACLED's column order. ACLED types have no room for
"heard", so the mapping follows its codebook: shooting is an armed clash, shelling and
explosions are remote violence, what is seen but not fought (drones, flares, movements) is a
strategic development. Fatalities are the conservative figure, as ACLED records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peacewatch.core.tabular import spreadsheet_safe, table_csv
from peacewatch.incidents.figures import EventSummary
from peacewatch.incidents.models import IncidentType, SourceKind, ViolationKind

COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)

VIOLENCE, DEMONSTRATIONS, STRATEGIC = "Political violence", "Demonstrations", "Strategic developments"
CLASH = (VIOLENCE, "Battles", "Armed clash")
SHELLING = (VIOLENCE, "Explosions/Remote violence", "Shelling/artillery/missile attack")
REMOTE_EXPLOSIVE = (VIOLENCE, "Explosions/Remote violence", "Remote explosive/landmine/IED")

SUBTYPES: dict[ViolationKind | None, tuple[str, str, str]] = {
    ViolationKind.small_arms_fire: CLASH,
    ViolationKind.muzzle_flashes: CLASH,
    ViolationKind.heavy_weapons: SHELLING,
    ViolationKind.explosion: SHELLING,
    ViolationKind.drone_overflight: (STRATEGIC, "Strategic developments", "Change to group/activity"),
    ViolationKind.illumination_flares: (STRATEGIC, "Strategic developments", "Other"),
    None: CLASH,
}
TYPES: dict[IncidentType, tuple[str, str, str]] = {
    IncidentType.movement_of_forces: (STRATEGIC, "Strategic developments", "Change to group/activity"),
    IncidentType.mine_or_uxo: REMOTE_EXPLOSIVE,
    IncidentType.damage_to_civilian_objects: (STRATEGIC, "Strategic developments", "Looting/property destruction"),
    IncidentType.restriction_of_movement: (STRATEGIC, "Strategic developments", "Other"),
    IncidentType.civil_unrest: (DEMONSTRATIONS, "Protests", "Peaceful protest"),
    IncidentType.other: (STRATEGIC, "Strategic developments", "Other"),
}
# ACLED's numeric actor types: 1 state forces, 3 (unidentified) armed groups, 6 protesters, 7 civilians
INTER = {"side_a": 1, "side_b": 1, "civilians": 7, "unknown": 3, "other": 3}
SOURCE_SCALE = {
    SourceKind.patrol: "Other", SourceKind.observation_post: "Other", SourceKind.joint_monitoring_centre: "Other",
    SourceKind.side_a: "National", SourceKind.side_b: "National", SourceKind.media: "National",
}
TIME_PRECISION = {"exact": 1, "approximate": 1, "day": 1, "week": 2, "month": 3}
GEO_PRECISION = {"exact": 1, "near_place": 2, "district": 3}


@dataclass(frozen=True)
class Mission:
    """Where the mission is, in ACLED's terms, and what its actors are called."""

    country: str
    iso: int
    region: str
    id_prefix: str
    admin1: str = ""
    side_a: str = "Military Forces of Side A"
    side_b: str = "Military Forces of Side B"
    source_name: str = "Peacekeeping force"
    zone: ZoneInfo = ZoneInfo("UTC")


def event_types(event: EventSummary) -> tuple[str, str, str]:
    r = event.representative
    if r.type is IncidentType.ceasefire_violation:
        return SUBTYPES[ViolationKind(r.subtype) if r.subtype else None]
    return TYPES[r.type]


def _actor_name(actor: str, mission: Mission) -> str:
    return {"side_a": mission.side_a, "side_b": mission.side_b}.get(actor, "Unidentified Armed Group")


def acled_row(event: EventSummary, mission: Mission, names: dict[int, str]) -> dict[str, object]:
    r = event.representative
    disorder, event_type, sub_event = event_types(event)
    actors = [a for a in event.actors if a != "civilians"] or ["unknown"]
    targets_civilians = "civilians" in event.actors or r.type is IncidentType.damage_to_civilian_objects or any(
        high for kind, (_low, high) in event.casualties.items() if kind.endswith("civilian"))
    if r.type is IncidentType.civil_unrest:
        actor1, inter1 = f"Protesters ({mission.country})", 6
    else:
        actor1, inter1 = _actor_name(actors[0], mission), INTER[actors[0]]
    if len(actors) > 1:
        actor2, inter2 = _actor_name(actors[1], mission), INTER[actors[1]]
    elif targets_civilians and r.type is not IncidentType.civil_unrest:
        actor2, inter2 = f"Civilians ({mission.country})", 7
    else:
        actor2, inter2 = "", 0
    sources = "; ".join(mission.source_name if s in (SourceKind.patrol, SourceKind.observation_post) else s.value.replace("_", " ")
                        for s in event.sources)
    scales = sorted({SOURCE_SCALE[s] for s in event.sources})
    killed = event.casualties["killed_civilian"][0] + event.casualties["killed_military"][0]
    district = names.get(r.district_id or 0, "").removesuffix(" district")
    local = event.started_at.astimezone(mission.zone)
    notes = f"On {local:%d %B %Y}, {r.narrative}" if r.narrative else ""
    if event.event_count > 1:
        notes = f"{notes} [{event.event_count} events counted]".strip()
    updated = max((x.updated_at for x in event.reports if x.updated_at is not None), default=event.started_at)
    return {
        "event_id_cnty": f"{mission.id_prefix}{event.id}",
        "event_date": local.date().isoformat(),
        "year": local.year,
        "time_precision": TIME_PRECISION[r.time_precision],
        "disorder_type": disorder,
        "event_type": event_type,
        "sub_event_type": sub_event,
        "actor1": actor1, "assoc_actor_1": "", "inter1": inter1,
        "actor2": actor2, "assoc_actor_2": "", "inter2": inter2 or "",
        "interaction": int(f"{min(inter1, inter2)}{max(inter1, inter2)}") if inter2 else inter1 * 10,
        "civilian_targeting": "Civilian targeting" if targets_civilians else "",
        "iso": mission.iso, "region": mission.region, "country": mission.country,
        "admin1": mission.admin1, "admin2": district, "admin3": "",
        "location": r.place_name or district,
        "latitude": round(r.lat, 4), "longitude": round(r.lon, 4),
        "geo_precision": GEO_PRECISION[r.place_precision],
        "source": sources, "source_scale": "-".join(scales),
        "notes": notes, "fatalities": killed,
        "tags": f"reports: {len(event.reports)}; status: {event.status.value}",
        "timestamp": int(updated.timestamp()),
    }


def acled_csv(events: Iterable[EventSummary], mission: Mission, names: dict[int, str]) -> str:
    rows = (acled_row(event, mission, names) for event in events)
    return table_csv(COLUMNS, ([spreadsheet_safe(row.get(c, "")) for c in COLUMNS] for row in rows))
