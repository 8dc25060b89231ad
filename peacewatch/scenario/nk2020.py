"""Nagorno-Karabakh, November 2020: the reference scenario.

Facts from the trilateral statement of 10 November 2020 and the press reports
of 14-20 November 2020 (see docs/scenario.md). The geometry is approximate and
for demonstration only; a real mission loads its own layers.

Posts follow the published counts: 16 on the first official map (14 Nov), then
9 North, 9 South and 7 temporary along the corridor (15 Nov), then 23 permanent
posts, 11 North and 12 South, from 18 Nov, when the temporary ones closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from shapely.geometry import LineString, MultiPoint, box, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.auth import Role, User, hash_password, verify_password
from peacewatch.core.db import transaction
from peacewatch.core.i18n import N_
from peacewatch.core.visibility import Side, Visibility
from peacewatch.force.models import Unit, UnitType
from peacewatch.geography.service import MarkedPlace, keep_places, upsert_features
from peacewatch.mandate.models import Mandate

ACTOR = "system:demo"
DEMO_PASSWORD = "demo"

MANDATE = {
    "name": N_("Peacekeeping operation in Nagorno-Karabakh"),
    "source": "Statement by the President of Azerbaijan, the Prime Minister of Armenia and the President of "
    "Russia, 10 November 2020, points 3-4",
    "contributing_states": [{"code": "RUS", "name": "Russian Federation"}],
    "personnel_ceiling": 1960,
    "armoured_vehicle_ceiling": 90,
    "vehicle_ceiling": 380,
    "start_date": date(2020, 11, 10),
    "term_years": 5,
    "renewal_years": 5,
    "notice_months": 6,
    "visibility": "public",
}

# name, designation, type, parent name, strength (authorised = present on completion of deployment)
UNITS: list[tuple[str, str, UnitType, str | None, int]] = [
    ("Peacekeeping Force Headquarters", "PKF HQ", UnitType.headquarters, None, 110),
    ("Military Police Battalion", "MP Bn", UnitType.military_police, "Peacekeeping Force Headquarters", 90),
    ("Military Police Company North", "MP Coy N", UnitType.military_police, "Military Police Battalion", 105),
    ("Military Police Company South", "MP Coy S", UnitType.military_police, "Military Police Battalion", 105),
    ("15th Separate Motor Rifle Brigade (detachment)", "15 MRB", UnitType.motor_rifle, "Peacekeeping Force Headquarters", 1180),
    ("Engineer and Demining Company", "Eng Coy", UnitType.engineers, "Peacekeeping Force Headquarters", 120),
    ("Medical Detachment", "Med Det", UnitType.medical, "Peacekeeping Force Headquarters", 70),
    ("Logistics Battalion", "Log Bn", UnitType.logistics, "Peacekeeping Force Headquarters", 120),
    ("Aviation Group", "Avn Gp", UnitType.aviation, "Peacekeeping Force Headquarters", 60),
]

DEMO_USERS: list[tuple[str, Role, Side | None, str]] = [
    ("admin", Role.admin, None, "Administrator"),
    ("ops", Role.operations, None, "Duty officer, operations centre"),
    ("patrol", Role.patrol, None, "Military police patrol commander"),
    ("humanitarian", Role.humanitarian, None, "Humanitarian cell"),
    ("air", Role.air, None, "Air-movement cell"),
    ("press", Role.press, None, "Press office"),
    ("liaison-a", Role.liaison, Side.A, "Liaison officer, side A"),
    ("liaison-b", Role.liaison, Side.B, "Liaison officer, side B"),
    ("observer", Role.observer, None, "Observer (read only)"),
]

NORTH = [(46.40, 39.90), (46.95, 39.90), (46.95, 40.10), (46.90, 40.30), (46.65, 40.38), (46.40, 40.28), (46.40, 39.90)]
SOUTH = [(46.55, 39.62), (46.90, 39.62), (47.20, 39.70), (47.22, 39.90), (46.55, 39.90), (46.55, 39.62)]
LINE_OF_CONTACT = [
    (46.55, 40.42), (46.92, 40.33), (46.98, 40.10), (46.97, 39.93), (47.25, 39.88), (47.24, 39.68),
    (46.95, 39.60), (46.80, 39.70), (46.74, 39.78),
]
# Stepanakert - Shusha road - Lachin - Goris (Armenia)
LACHIN_ROAD = [(46.752, 39.815), (46.72, 39.77), (46.62, 39.70), (46.547, 39.639), (46.45, 39.57), (46.339, 39.511)]
NORTH_POST_LINE = [(46.60, 40.33), (46.88, 40.26), (46.92, 40.05), (46.90, 39.92)]
SOUTH_POST_LINE = [(46.60, 39.88), (46.95, 39.88), (47.18, 39.86), (47.18, 39.72), (46.90, 39.66), (46.70, 39.70)]
CORRIDOR_POST_LINE = LACHIN_ROAD[1:]

# District seats: districts are drawn as the Voronoi cells of their seats inside DISTRICT_FRAME, a rough
# stand-in for real administrative boundaries that lets figures be given "by district".
DISTRICT_SEATS = {
    "Martakert": (46.810, 40.213), "Askeran": (46.833, 39.933), "Stepanakert": (46.752, 39.815),
    "Shusha": (46.748, 39.758), "Martuni": (47.113, 39.795), "Lachin": (46.547, 39.639), "Hadrut": (47.030, 39.520),
}
DISTRICT_FRAME = (46.2, 39.4, 47.4, 40.5)
# names a report may print: marked so the catalogs carry their translations
DISTRICT_NAMES = {
    "Martakert": N_("Martakert district"), "Askeran": N_("Askeran district"), "Stepanakert": N_("Stepanakert district"),
    "Shusha": N_("Shusha district"), "Martuni": N_("Martuni district"), "Lachin": N_("Lachin district"),
    "Hadrut": N_("Hadrut district"),
}

# the gazetteer the maps label: towns and villages of the area and the corridor's far end, as (lon, lat)
GAZETTEER = {
    "Stepanakert": (46.752, 39.815), "Shusha": (46.748, 39.758), "Lachin": (46.547, 39.639),
    "Martakert": (46.810, 40.213), "Askeran": (46.833, 39.933), "Martuni": (47.113, 39.795),
    "Hadrut": (47.030, 39.520), "Goris": (46.339, 39.511), "Agdam": (46.927, 39.991), "Kalbajar": (46.038, 40.107),
    "Fuzuli": (47.145, 39.600), "Karmir Shuka": (47.030, 39.720), "Chartar": (47.010, 39.850),
    "Mataghis": (46.750, 40.230), "Sarsang reservoir": (46.530, 40.140),
}

# the names in Russian: the force's own language, and the one both sides' officers read
RUSSIAN = {
    "Stepanakert": "Степанакерт", "Shusha": "Шуша", "Lachin": "Лачин", "Martakert": "Мартакерт", "Askeran": "Аскеран",
    "Martuni": "Мартуни", "Hadrut": "Гадрут", "Goris": "Горис", "Agdam": "Агдам", "Kalbajar": "Кельбаджар",
    "Fuzuli": "Физули", "Karmir Shuka": "Кармир Шука", "Chartar": "Чартар", "Mataghis": "Матагис",
    "Sarsang reservoir": "Сарсангское водохранилище",
    "North area of responsibility": "Северная зона ответственности", "South area of responsibility": "Южная зона ответственности",
    "Lachin corridor": "Лачинский коридор", "Line of contact, 10 November 2020": "Линия соприкосновения, 10 ноября 2020 г.",
    "Martakert district": "Мартакертский район", "Askeran district": "Аскеранский район",
    "Stepanakert district": "Степанакертский район", "Shusha district": "Шушинский район",
    "Martuni district": "Мартунинский район", "Lachin district": "Лачинский район", "Hadrut district": "Гадрутский район",
    "Peacekeeping Force Headquarters": "Штаб миротворческих сил", "Military Police Battalion": "Батальон военной полиции",
    "Military Police Company North": "Рота военной полиции «Север»", "Military Police Company South": "Рота военной полиции «Юг»",
    "15th Separate Motor Rifle Brigade (detachment)": "15-я отдельная мотострелковая бригада (отряд)",
    "Engineer and Demining Company": "Инженерно-сапёрная рота", "Medical Detachment": "Медицинский отряд",
    "Logistics Battalion": "Батальон материального обеспечения", "Aviation Group": "Авиационная группа",
}

FIRST_MAP, SECOND_WAVE, PERMANENT = date(2020, 11, 13), date(2020, 11, 15), date(2020, 11, 18)


def _along(path: list[tuple[float, float]], count: int) -> list[tuple[float, float]]:
    line = LineString(path)
    return [
        (round(p.x, 5), round(p.y, 5))
        for p in (line.interpolate(i / (count - 1), normalized=True) for i in range(count))
    ]


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    named = {"name_ru": RUSSIAN[properties["name"]]} if properties.get("name") in RUSSIAN else {}
    return {"type": "Feature", "geometry": geometry, "properties": properties | named}


def _polygon(ring: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def zone_layers() -> dict[str, list[dict[str, Any]]]:
    start = MANDATE["start_date"].isoformat()
    return {
        "areas": [
            _feature(_polygon(NORTH), code="north", name=N_("North area of responsibility"), visibility="public", valid_from=start),
            _feature(_polygon(SOUTH), code="south", name=N_("South area of responsibility"), visibility="public", valid_from=start),
        ],
        "corridors": [
            _feature(
                {"type": "LineString", "coordinates": LACHIN_ROAD}, code="lachin", name=N_("Lachin corridor"),
                width_m=5000, visibility="public", valid_from=start,
                notes="5 km wide, along the Stepanakert - Goris road (statement of 10 November 2020, point 6)",
            )
        ],
        "lines-of-contact": [
            _feature(
                {"type": "LineString", "coordinates": LINE_OF_CONTACT}, code="loc-2020-11-10",
                name="Line of contact, 10 November 2020", visibility="public", valid_from=start,
            )
        ],
        "districts": district_layer(),
    }


def district_layer() -> list[dict[str, Any]]:
    frame = box(*DISTRICT_FRAME)
    cells = shapely.voronoi_polygons(MultiPoint(list(DISTRICT_SEATS.values())), extend_to=frame).geoms
    features = []
    for name, seat in DISTRICT_SEATS.items():
        cell = next(c for c in cells if c.contains(shapely.Point(seat)))
        geometry = shapely.set_precision(cell.intersection(frame), 0.0001)
        features.append(_feature(mapping(geometry), code=f"district-{name.lower()}", name=DISTRICT_NAMES[name],
                                 visibility="public", valid_from=MANDATE["start_date"].isoformat()))
    return features


def post_layer() -> list[dict[str, Any]]:
    posts = []
    for prefix, zone, line, count, waves in (
        ("N", "north", NORTH_POST_LINE, 11, (6, 9)),
        ("S", "south", SOUTH_POST_LINE, 12, (6, 9)),
    ):
        for number, (lon, lat) in enumerate(_along(line, count), start=1):
            opened = FIRST_MAP if number <= waves[0] else SECOND_WAVE if number <= waves[1] else PERMANENT
            posts.append(
                _feature(
                    {"type": "Point", "coordinates": [lon, lat]}, code=f"{prefix}-{number:02d}",
                    name=f"Observation post {prefix}-{number:02d}", name_ru=f"Наблюдательный пост {prefix}-{number:02d}", zone_code=zone,
                    opened_on=opened.isoformat(), visibility="public",
                )
            )
    for number, (lon, lat) in enumerate(_along(CORRIDOR_POST_LINE, 7), start=1):
        posts.append(
            _feature(
                {"type": "Point", "coordinates": [lon, lat]}, code=f"C-{number:02d}",
                name=f"Temporary post C-{number:02d} (Lachin corridor)", name_ru=f"Временный пост C-{number:02d} (Лачинский коридор)",
                zone_code="lachin",
                opened_on=(date(2020, 11, 14) if number <= 4 else SECOND_WAVE).isoformat(),
                closed_on=PERMANENT.isoformat(), permanent=False, visibility="public",
            )
        )
    return posts


@dataclass
class LoadReport:
    created: int
    updated: int
    users: list[str]


def load(session: Session, password: str = DEMO_PASSWORD) -> LoadReport:
    """Load the scenario in one transaction; what already exists is left as it is."""
    with transaction(session, ACTOR):
        created = _load_mandate(session) + _load_units(session)
        created += len(_load_users(session, password))
        updated = 0
        for layer, features in (*zone_layers().items(), ("posts", post_layer())):
            made, kept, _ = upsert_features(session, layer, features)
            created, updated = created + made, updated + kept
    made, _known = keep_places(session, ACTOR, [MarkedPlace(name, lat, lon, name_ru=RUSSIAN.get(name, ""))
                                                   for name, (lon, lat) in GAZETTEER.items()],
                               "reference scenario gazetteer", visibility=Visibility.public)
    return LoadReport(created=created + made, updated=updated, users=[u[0] for u in DEMO_USERS])


def _load_mandate(session: Session) -> int:
    if session.scalar(select(Mandate.id).limit(1)) is not None:
        return 0
    session.add(Mandate(**MANDATE))
    return 1


def _load_units(session: Session) -> int:
    existing = {u.name: u for u in session.scalars(select(Unit))}
    made = 0
    for name, designation, unit_type, parent, strength in UNITS:
        if name in existing:
            continue
        unit = Unit(
            name=name, name_ru=RUSSIAN.get(name, ""), designation=designation, unit_type=unit_type, parent=existing.get(parent or ""),
            authorised_strength=strength, present_strength=strength, contributing_state="RUS",
        )
        session.add(unit)
        existing[name] = unit
        made += 1
    session.flush()
    return made


def _load_users(session: Session, password: str) -> list[str]:
    """Create missing demo users; an existing one gets ``password`` only if it has another one."""
    made = []
    password_hash = hash_password(password)  # one hash for one shared demo password: argon2 is slow by design
    for username, role, side, full_name in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            session.add(User(username=username, role=role, side=side, full_name=full_name, password_hash=password_hash))
            made.append(username)
        elif not verify_password(user.password_hash, password):
            user.password_hash = password_hash
    return made
