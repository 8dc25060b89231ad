"""Request bodies shaped as the API's users send them, shared by the tests of several capabilities."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient

# --- incidents ------------------------------------------------------------------------------------------

MARTUNI = (39.795, 47.113)


def report(**extra: Any) -> dict[str, Any]:
    """An incident report: three explosions heard south-east of Martuni on 14 November 2020."""
    lat, lon = MARTUNI
    return {
        "type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z",
        "ended_at": "2020-11-14T16:20:00Z", "lat": lat, "lon": lon, "source": "media", "event_count": 3,
        "observed_by": ["heard"], "alleged_actors": ["side_a"], "narrative": "Three explosions heard south-east of Martuni.",
    } | extra


# --- remains --------------------------------------------------------------------------------------------

SITE = {"type": "Point", "coordinates": [46.95, 39.75]}


def recovery(**extra: Any) -> dict[str, Any]:
    """A recovery of two bodies and a body part on the Hadrut road, with one full post-mortem record."""
    return {
        "recovered_at": "2020-11-14T08:00:00Z", "site": SITE, "place_name": "Hadrut road", "team": "ICRC and emergency service",
        "side": "A", "bodies_found": 2, "stored_at": "Stepanakert morgue",
        "bodies": [
            {"post_mortem": {"condition": "complete", "sex": "male", "age": {"min": 25, "max": 35}, "height_cm": {"min": 172, "max": 180},
                             "marks": ["tattoo of an eagle, left forearm"], "clothing": ["green camouflage jacket"],
                             "effects": ["silver ring"], "documents": [{"kind": "identity disc", "service_number": "AB-100200"}],
                             "dna_sampled": True, "dental": {"36": "crowned", "11": "sound"}, "cause_of_death": "shrapnel wounds"}},
            {"post_mortem": {"condition": "decomposed", "sex": "unknown"}},
            {"kind": "body_part", "part_of": 0},
        ],
    } | extra


def person(**extra: Any) -> dict[str, Any]:
    """A missing-person report (synthetic) that matches the first body of ``recovery()``."""
    return {
        "family_name": "Synthetic", "given_names": "Testperson", "side": "A", "status": "military", "service_number": "AB 100200",
        "born_on": "1992-03-01", "sex": "male", "height_cm": 176, "marks": ["eagle tattoo on the left forearm"],
        "clothing": ["camouflage jacket"], "effects": ["ring"], "last_seen_on": "2020-10-20", "last_seen_place": "Hadrut",
        "last_seen_lat": 39.76, "last_seen_lon": 46.94, "dental": {"36": "filled"}, "family_dna_reference": True,
        "reported_on": "2020-11-01", "reporter_name": "Family member (synthetic)",
    } | extra


def handover(bodies: list[str], **extra: Any) -> dict[str, Any]:
    """A handover of ``bodies`` to side A at the Aghdam crossing, witnessed by the ICRC."""
    return {
        "to_side": "A", "at": "2020-11-15T10:00:00Z", "place": "Aghdam crossing", "receiving_organisation": "Side A forensic service",
        "receiving_person": "Officer A (synthetic)", "witness_organisation": "ICRC", "witness_person": "Delegate (synthetic)",
        "released_by": "Humanitarian cell duty officer", "bodies": bodies,
    } | extra


# --- positions of a North patrol (the alert tests' patrol MP-07, 14 November 2020 from 08:00) -------------

INSIDE = (40.10, 46.70)        # on the route, inside North
OUTSIDE = (39.50, 45.00)       # far outside every area
OFF_ROUTE = (40.25, 46.70)     # inside North, ~16 km north of the route


def moving(start: int, count: int, base: tuple[float, float] = INSIDE) -> list[tuple[int, tuple[float, float]]]:
    """``count`` fixes a minute apart from minute ``start``, moving about 850 m a minute."""
    return [(start + i, (base[0], base[1] + (i % 2) * 0.01)) for i in range(count)]


def send(client: TestClient, auth: Any, fixes: list[tuple[int, tuple[float, float]]], tracker: str = "MP-07") -> dict[str, Any]:
    """Post fixes given as (minute after 08:00, (lat, lon)) as the patrol's device does."""
    positions = [{"tracker": tracker, "t": f"2020-11-14T{8 + m // 60:02d}:{m % 60:02d}:00Z", "lat": p[0], "lon": p[1]}
                 for m, p in fixes]
    response = client.post("/api/v1/positions", json={"positions": positions}, headers=auth("patrol"))
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- layers ---------------------------------------------------------------------------------------------

def upload(client: TestClient, auth: Any, layer: str, name: str, body: bytes, kind: str) -> Any:
    """Upload a layer file as an operator does from the layers page."""
    return client.post(f"/api/v1/layers/{layer}", files={"file": (name, io.BytesIO(body), kind)}, headers=auth("ops"))
