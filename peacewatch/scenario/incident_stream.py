"""A stream of incident reports from 10 to 20 November 2020, for the demo.

A few events a day, mostly along the line of contact in the evening, as the monitors of the
time reported them. Many are told by more than one source: a post hears the explosions, each
side blames the other, the media pick it up, each with its own error in place and time, so the
matcher has work to do. A patrol out on the 14th is stopped at a roadblock: a denial of access. The stream is
generated from a fixed seed, and every report carries a client id: loading it again adds nothing. The
operations centre types each in as it comes (by radio from the posts, by telephone from the sides' liaison
officers, from media monitoring), with the time it came in.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.auth import User
from peacewatch.core.settings import Settings
from peacewatch.geography.models import Post
from peacewatch.incidents import merge_proposals, report_records, verification
from peacewatch.incidents.models import ProposalStatus
from peacewatch.incidents.schemas import IncidentIn, IncidentPatch, VerificationIn
from peacewatch.patrols.models import Patrol

FIRST_DAY = datetime(2020, 11, 10, tzinfo=UTC)
DAYS = 11
REPORTER = "ops"
KINDS = [  # (type, subtype, weight, effects)
    ("ceasefire_violation", "small_arms_fire", 30, (1, 12)),
    ("ceasefire_violation", "explosion", 18, (1, 35)),
    ("ceasefire_violation", "heavy_weapons", 8, (2, 20)),
    ("ceasefire_violation", "drone_overflight", 6, (1, 3)),
    ("ceasefire_violation", "illumination_flares", 5, (1, 6)),
    ("movement_of_forces", None, 5, (1, 1)),
    ("mine_or_uxo", None, 6, (1, 4)),
    ("damage_to_civilian_objects", None, 4, (1, 3)),
]
ARRIVAL = {  # how each source's report came in, and how many minutes after the event ended (uniform between)
    "observation_post": ("radio", (2, 15)), "patrol": ("radio", (5, 30)),
    "side_a": ("telephone", (20, 120)), "side_b": ("telephone", (20, 120)),  # the side's liaison officer calls the centre
    "media": ("media_monitoring", (60, 360)),
}
PLACES = [("Martuni", 39.795, 47.113), ("Martakert", 40.213, 46.810), ("Askeran", 39.933, 46.833), ("Shusha", 39.758, 46.748),
          ("Agdam", 39.991, 46.930), ("Stepanakert", 39.815, 46.752)]


def _jitter(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    return round(lat + rng.gauss(0, metres) / 111_000, 5), round(lon + rng.gauss(0, metres) / 85_000, 5)


def reports(posts: list[Post], patrols: list[Patrol]) -> list[dict[str, Any]]:
    """The stream's reports as API bodies, in the order they arrive."""
    rng = random.Random(2020_11_10)
    late = random.Random(2020_11_11)  # how long each report took to come in: a stream of its own, so the events stay as they were
    out: list[dict[str, Any]] = []
    for day in range(DAYS):
        date0 = FIRST_DAY + timedelta(days=day)
        for number in range(rng.randint(2, 5)):
            kind, subtype, _, effects = rng.choices(KINDS, weights=[k[2] for k in KINDS])[0]
            name, lat, lon = rng.choice(PLACES)
            lat, lon = _jitter(rng, lat, lon, 2500)
            start = date0 + timedelta(hours=rng.choice([13, 14, 15, 16, 17, 18, 19, 2, 3]), minutes=rng.randrange(60))
            minutes = rng.choice([5, 10, 20, 40])
            count = rng.randint(*effects)
            manned = [p for p in posts if p.opened_on <= date0.date() and (p.closed_on is None or p.closed_on > date0.date())]
            sources = ["side_a", "side_b", "media"] + (["observation_post"] if manned else [])
            told = rng.sample(sources, k=rng.choices([1, 2, 3], weights=[45, 35, 20])[0])
            blamed = {"side_a": ["side_b"], "side_b": ["side_a"]}
            for source in told:
                y, x = _jitter(rng, lat, lon, 600)
                shift = timedelta(minutes=rng.gauss(0, 6))
                counted = max(1, count + rng.randint(-2, 2))  # each source counts for itself, and says so in its words
                body: dict[str, Any] = {
                    "client_id": f"demo-{date0:%m%d}-{number}-{source}", "type": kind, "subtype": subtype,
                    "started_at": (start + shift).isoformat(), "ended_at": (start + shift + timedelta(minutes=minutes)).isoformat(),
                    "lat": y, "lon": x, "source": source, "event_count": counted,
                    "alleged_actors": blamed.get(source, ["unknown"]),
                    "narrative": f"{_story(kind, subtype, counted)} near {name}.",
                    "place_precision": "near_place" if source in ("side_a", "side_b", "media") else "exact", "place_name": name,
                }
                if source == "observation_post":
                    post = min(manned, key=lambda p: (p.geometry.y - y) ** 2 + (p.geometry.x - x) ** 2)
                    body |= {"post_id": post.id, "observed_by": ["heard"] if kind == "ceasefire_violation" else ["seen"],
                             "alleged_actors": ["unknown"], "source_detail": post.code}
                channel, delay = ARRIVAL[source]
                body |= {"channel": channel, "received_at": (start + shift + timedelta(minutes=minutes + late.uniform(*delay))).isoformat()}
                if kind == "damage_to_civilian_objects" and source != "observation_post":
                    body["casualties"] = {"wounded_civilian": {"min": 0, "max": rng.randint(0, 2)}}
                out.append(body)
        out_that_day = [p for p in patrols if p.planned_start.date() == date0.date()]
        if out_that_day:
            patrol = rng.choice(out_that_day)
            y, x = _jitter(rng, 40.05, 46.75, 3000)
            at = date0 + timedelta(hours=9, minutes=rng.randrange(120))
            out.append({
                "client_id": f"demo-{date0:%m%d}-fom", "type": "restriction_of_movement", "started_at": at.isoformat(),
                "ended_at": (at + timedelta(minutes=rng.choice([20, 45, 90]))).isoformat(), "lat": y, "lon": x, "source": "patrol",
                "patrol_id": patrol.id, "restriction": rng.choice(["denial", "delay", "conditional_access"]),
                "denied": "passage along the road to the next post", "restricted_by": "armed men at an improvised checkpoint",
                "alleged_actors": [rng.choice(["side_a", "side_b"])], "narrative": "The patrol was stopped at a roadblock.",
                "channel": "radio", "received_at": (at + timedelta(minutes=late.uniform(*ARRIVAL["patrol"][1]))).isoformat(),
            })
    return out


def _story(kind: str, subtype: str | None, count: int) -> str:
    return {
        "small_arms_fire": f"{count} bursts of small-arms fire", "explosion": f"{count} explosions",
        "heavy_weapons": f"{count} rounds of artillery", "drone_overflight": "A drone overflight",
        "illumination_flares": f"{count} illumination flares", None: {
            "movement_of_forces": "Armoured vehicles moving towards the line of contact",
            "mine_or_uxo": "Unexploded ordnance found by the roadside",
            "damage_to_civilian_objects": "A house damaged by shelling",
        }.get(kind, "An incident"),
    }[subtype]


def load(session: Session, settings: Settings) -> tuple[int, int]:
    """Record the stream (resends add nothing), verify some of it, propose merges; new reports and open proposals."""
    user = session.scalar(select(User).where(User.username == REPORTER))
    assert user is not None, "load the scenario's users first"
    posts = list(session.scalars(select(Post).order_by(Post.id)))
    patrols = list(session.scalars(select(Patrol).order_by(Patrol.id)))
    rules = report_records.Rules.of(settings)
    made = 0
    for body in reports(posts, patrols):
        incident, created = report_records.create_incident(session, rules, user, IncidentIn.model_validate(body))
        made += created
        if created and incident.source.value == "observation_post" and incident.id % 3 == 0:
            verification.verify(session, user, incident.id, VerificationIn(status="under_investigation", reason="A patrol is sent to look"))
            verification.verify(session, user, incident.id, VerificationIn(status="confirmed", reason="Fresh craters and cartridge cases found"))
            # the press office publishes what the force itself confirmed
            report_records.update_incident(session, rules, user, incident.id, IncidentPatch(visibility="public"))
        elif created and incident.source.value == "media" and incident.id % 4 == 0:
            verification.verify(session, user, incident.id, VerificationIn(status="rejected", reason="No trace found; the posts heard nothing"))
    merge_proposals.run_matching(session, "system:demo", rules.tolerance)
    return made, merge_proposals.list_proposals(session, ProposalStatus.open, limit=1).total
