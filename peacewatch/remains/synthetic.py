"""Synthetic missing persons and remains with the noise of real DVI work, for the demo and the benchmark.

Every name is invented from obviously artificial roots ("Sampleyan", "Mockov"). The noise is what
makes identification hard: ages and heights estimated from remains miss; decomposed or burned
bodies keep few features; clothing is described in other words; families misremember; brothers
share a surname, a unit, a village and nearly an age; some bodies are nobody's reported missing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from peacewatch.remains.matching import TEETH, AnteMortem, PostMortem, Sex, Tooth

ROOTS = ("Sample", "Mock", "Test", "Fictive", "Demo", "Proto", "Dummy", "Stub", "Proxy", "Model", "Pseudo", "Synth",
         "Random", "Token", "Figment", "Invent", "Decoy", "Dummie", "Placebo", "Replica")
SUFFIX = {"A": ("yan", "ants", "unts"), "B": ("ov", "li", "zade")}
GIVEN = {Sex.male: ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima",
                    "Mike", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Victor"),
         Sex.female: ("Anna-Test", "Bella-Test", "Clara-Test", "Dora-Test", "Eva-Test", "Flora-Test")}
MARK_KINDS = ("tattoo of", "scar on", "birthmark on")
MOTIFS = ("an eagle", "a cross", "a rose", "a wolf", "a star", "initials", "a mountain", "a snake", "a date", "a heart")
LOCATIONS = ("left forearm", "right forearm", "left shoulder", "right shoulder", "chest", "back", "left hand", "right hand", "neck",
             "left leg", "right leg", "abdomen")
UNIFORM = ("camouflage jacket", "camouflage trousers", "army boots", "khaki shirt", "field cap", "body armour vest", "winter jacket")
CIVIL = ("blue jeans", "black leather jacket", "grey sweater", "white shirt", "brown shoes", "tracksuit", "wool coat")
EFFECTS = ("wristwatch", "silver ring", "wedding ring", "cross pendant", "mobile phone", "wallet with photo", "prayer beads", "lighter")
REWORD = {"camouflage": "camo", "jacket": "coat", "trousers": "pants", "boots": "footwear", "wristwatch": "watch", "sweater": "jumper",
          "pendant": "necklace", "mobile": "cell"}
PLACES = ((39.82, 46.75, "Stepanakert"), (39.60, 46.55, "Hadrut"), (39.76, 46.75, "Shusha"), (39.79, 47.11, "Martuni"),
          (40.10, 46.55, "Martakert"), (39.53, 46.80, "Jabrayil road"), (39.98, 46.93, "Aghdam road"), (39.68, 47.00, "Karmir Shuka"))
WAR_START, WAR_END = date(2020, 9, 27), date(2020, 11, 9)


@dataclass
class Person:
    """The truth about a missing person, and what their AM report says."""

    id: int
    side: str
    military: bool
    sex: Sex
    family_name: str
    given_names: str
    born_on: date
    height_cm: int
    marks: list[str]
    clothing: list[str]
    effects: list[str]
    service_number: str
    unit: str
    last_seen_on: date
    place: tuple[float, float, str]
    teeth: dict[int, Tooth]
    family_dna_reference: bool
    reported_on: date
    sibling_of: int | None = None
    am: AnteMortem = field(init=False)


@dataclass
class Remains:
    """A body as found, with what the PM examination could record, and who it truly is (None: unreported)."""

    id: int
    person: int | None
    side: str
    recovered_on: date
    found_at: tuple[float, float]
    place_name: str
    condition: str
    dna_sampled: bool
    fingerprints_taken: bool
    documents: list[dict[str, str]]
    pm: PostMortem
    clothing: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)


def _teeth(rng: random.Random) -> dict[int, Tooth]:
    chart = {}
    for tooth in TEETH:
        roll = rng.random()
        chart[tooth] = Tooth.filled if roll < 0.10 else Tooth.crowned if roll < 0.13 else Tooth.extracted if roll < 0.16 else Tooth.sound
    return chart


def _later(rng: random.Random, state: Tooth) -> Tooth:
    """Treatment after the AM chart was made: a filling becomes a crown, a sound tooth a filling."""
    order = (Tooth.sound, Tooth.filled, Tooth.crowned, Tooth.extracted)
    return order[min(order.index(state) + 1, 3)] if rng.random() < 0.04 else state


def _reword(rng: random.Random, text: str) -> str:
    return " ".join(REWORD.get(w, w) if rng.random() < 0.5 else w for w in text.split())


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    return lat + rng.gauss(0, km) / 111.32, lon + rng.gauss(0, km) / (111.32 * math.cos(math.radians(lat)))


def people(count: int, *, seed: int = 2020, sibling_share: float = 0.1, first_id: int = 1) -> list[Person]:
    """``count`` missing persons of both sides; about ``sibling_share`` of them brothers of another."""
    rng = random.Random(seed)
    out: list[Person] = []
    for i in range(count):
        pid = first_id + i
        if out and rng.random() < sibling_share:
            base = rng.choice(out)
            p = Person(
                id=pid, side=base.side, military=base.military, sex=Sex.male, family_name=base.family_name,
                given_names=rng.choice(GIVEN[Sex.male]), born_on=base.born_on + timedelta(days=rng.randint(-1400, 1400)),
                height_cm=base.height_cm + rng.randint(-5, 5), marks=[], clothing=list(base.clothing), effects=[rng.choice(EFFECTS)],
                service_number=f"{base.side}{rng.randint(100000, 999999)}" if base.military else "", unit=base.unit,
                last_seen_on=base.last_seen_on + timedelta(days=rng.randint(-2, 2)), place=base.place, teeth=_teeth(rng),
                family_dna_reference=base.family_dna_reference, reported_on=base.reported_on, sibling_of=base.id,
            )
        else:
            side = rng.choice("AB")
            military = rng.random() < 0.85
            sex = Sex.male if military or rng.random() < 0.6 else Sex.female
            age = rng.randint(18, 45) if military else rng.randint(18, 80)
            seen = WAR_START + timedelta(days=rng.randint(0, (WAR_END - WAR_START).days))
            marks = [f"{rng.choice(MARK_KINDS)} {rng.choice(MOTIFS)}, {rng.choice(LOCATIONS)}" for _ in range(rng.choice((0, 0, 1, 1, 2)))]
            wear = UNIFORM if military else CIVIL
            p = Person(
                id=pid, side=side, military=military, sex=sex,
                family_name=rng.choice(ROOTS) + rng.choice(SUFFIX[side]), given_names=rng.choice(GIVEN[sex]),
                born_on=seen - timedelta(days=int(age * 365.25) + rng.randint(0, 364)),
                height_cm=round(rng.gauss(176 if sex is Sex.male else 163, 7)), marks=marks,
                clothing=rng.sample(wear, rng.randint(1, 3)), effects=rng.sample(EFFECTS, rng.randint(0, 2)),
                service_number=f"{side}{rng.randint(100000, 999999)}" if military else "",
                unit=f"{rng.randint(1, 12)} battalion" if military else "", last_seen_on=seen, place=rng.choice(PLACES),
                teeth=_teeth(rng), family_dna_reference=rng.random() < 0.7,
                reported_on=min(seen + timedelta(days=rng.randint(1, 20)), date(2020, 11, 20)),
            )
        p.am = _ante_mortem(rng, p)
        out.append(p)
    return out


def _ante_mortem(rng: random.Random, p: Person) -> AnteMortem:
    """What the family remembers: most of it, some of it wrong."""
    charted = {t: s for t, s in p.teeth.items() if rng.random() < 0.8} if rng.random() < 0.45 else {}
    return AnteMortem(
        id=p.id, number="", sex=p.sex, born_on=p.born_on if rng.random() < 0.95 else None,
        height_cm=p.height_cm + rng.randint(-3, 3) if rng.random() < 0.8 else None,
        marks=[m for m in p.marks if rng.random() < 0.85], belongings=[*p.clothing, *p.effects] if rng.random() < 0.9 else [],
        service_number=p.service_number or None if rng.random() < 0.9 else None,
        names=[p.family_name, p.given_names], last_seen_on=p.last_seen_on, last_seen_at=_jitter(rng, p.place[0], p.place[1], 2.0),
        dental=charted,
    )


def remains(persons: list[Person], count: int, *, seed: int = 2021, unreported_share: float = 0.08,
            first_recovery: date = date(2020, 11, 13), days: int = 8, first_id: int = 1) -> list[Remains]:
    """``count`` bodies: most of them persons from ``persons`` (each at most once), some of nobody reported."""
    rng = random.Random(seed)
    dead = rng.sample(persons, min(count, len(persons)))
    out: list[Remains] = []
    for i in range(count):
        truth = dead[i] if i < len(dead) and rng.random() >= unreported_share else None
        recovered_on = first_recovery + timedelta(days=rng.randrange(days))
        if truth is None:
            ghost = people(1, seed=rng.randrange(1 << 30), first_id=0)[0]
            truth_fields = ghost
        else:
            truth_fields = truth
        condition = rng.choices(("complete", "incomplete", "decomposed", "burned"), (0.4, 0.2, 0.3, 0.1))[0]
        poor = condition in ("decomposed", "burned")
        age = (recovered_on - truth_fields.born_on).days / 365.25
        spread = 10 if poor else 6
        estimate = age + rng.gauss(0, 3 if not poor else 5)
        lo, hi = max(15, int(estimate - spread)), int(estimate + spread)
        height = truth_fields.height_cm + rng.gauss(0, 2.5)
        far = rng.random() < 0.15
        lat, lon = _jitter(rng, truth_fields.place[0], truth_fields.place[1], 20.0 if far else 3.0)
        documents = []
        if truth_fields.military and rng.random() < (0.15 if poor else 0.35):
            documents.append({"kind": "identity disc", "text": "", "name": "", "service_number": truth_fields.service_number})
        if rng.random() < (0.05 if poor else 0.15):
            documents.append({"kind": "military card" if truth_fields.military else "passport", "text": "",
                              "name": f"{truth_fields.family_name} {truth_fields.given_names}", "service_number": ""})
        clothing = [_reword(rng, c) for c in truth_fields.clothing if rng.random() < (0.4 if poor else 0.75)]
        effects = [_reword(rng, e) for e in truth_fields.effects if rng.random() < 0.5]
        teeth = {t: _later(rng, s) for t, s in truth_fields.teeth.items() if rng.random() < 0.9} if rng.random() < 0.75 else {}
        sex = truth_fields.sex if not poor or rng.random() < 0.6 else Sex.unknown
        pm = PostMortem(
            id=first_id + i, number="", sex=sex, age=(lo, max(hi, lo)),
            height_cm=(round(height - 4), round(height + 4)) if condition != "incomplete" and rng.random() < 0.85 else None,
            marks=[m for m in truth_fields.marks if rng.random() < 0.8] if not poor else [],
            belongings=[*clothing, *effects], service_number=next((d["service_number"] for d in documents if d["service_number"]), None),
            document_names=[d["name"] for d in documents if d["name"]], recovered_on=recovered_on, found_at=(lat, lon), dental=teeth,
        )
        out.append(Remains(
            id=first_id + i, person=truth.id if truth else None, side=truth_fields.side, recovered_on=recovered_on, found_at=(lat, lon),
            place_name=truth_fields.place[2], condition=condition, dna_sampled=rng.random() < 0.9,
            fingerprints_taken=condition == "complete" and rng.random() < 0.5, documents=documents, pm=pm, clothing=clothing, effects=effects,
        ))
    return out


def dna_ratios(persons: list[Person], bodies: list[Remains], *, seed: int = 2022, share: float = 0.6) -> dict[tuple[int, int], float]:
    """The laboratory's likelihood ratios (PM id, AM id) for a share of the sampled bodies.

    Each tested body is compared with the references of its true family (when given) and of a few
    others; a brother's reference gives a high ratio too, which is why "undisputed" compares ratios.
    """
    rng = random.Random(seed)
    by_id = {p.id: p for p in persons}
    siblings: dict[int, list[int]] = {}
    for p in persons:
        if p.sibling_of is not None:
            siblings.setdefault(p.sibling_of, []).append(p.id)
            siblings.setdefault(p.id, []).append(p.sibling_of)
    ratios: dict[tuple[int, int], float] = {}
    references = [p.id for p in persons if p.family_dna_reference]
    for body in bodies:
        if not body.dna_sampled or rng.random() >= share:
            continue
        tested = set(rng.sample(references, min(3, len(references))))
        if body.person is not None and by_id[body.person].family_dna_reference:
            tested.add(body.person)
            tested.update(s for s in siblings.get(body.person, []) if by_id[s].family_dna_reference)
        for am in tested:
            if am == body.person:
                lr = 10 ** rng.uniform(6, 10)
            elif body.person is not None and am in siblings.get(body.person, []):
                lr = 10 ** rng.uniform(1, 4.5)
            else:
                lr = 10 ** rng.uniform(-6, 0)
            ratios[(body.id, am)] = lr
    return ratios
