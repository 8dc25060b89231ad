"""The exchange of the dead in the reference scenario, synthetic: recoveries from 13 November 2020,
missing-person reports of both sides, DNA results, identifications and daily handovers (about
200 bodies exchanged by 17 November, as reported then).

Every record goes through the services with the demo's humanitarian officer (and the liaisons for
the reports their sides filed), so the demo obeys the same rules as real work. Every name is
invented (see ``peacewatch.remains.synthetic``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.auth import User
from peacewatch.core.settings import Settings
from peacewatch.remains import custody_chain, handing_over, identifying, matching, matching_cache, missing_persons, recovering, registry, synthetic
from peacewatch.remains.models import Body, Recovery
from peacewatch.remains.schemas import ConfirmIn, CustodyIn, DnaResultIn, HandoverIn, IdentificationIn, MissingPersonIn, RecoveryIn

PERSONS = 420
BODIES = 330
OFFICER = "humanitarian"
LIAISON = {"A": "liaison-a", "B": "liaison-b"}
# the side whose area each place is in after the ceasefire
AREA_SIDE = {"Stepanakert": "A", "Martuni": "A", "Martakert": "A", "Karmir Shuka": "A",
             "Hadrut": "B", "Shusha": "B", "Jabrayil road": "B", "Aghdam road": "B"}
MORGUE = {"A": "Stepanakert morgue", "B": "Barda cold store"}
CROSSING = "Aghdam crossing"


def _local(settings: Settings, day: Any, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=settings.zone)


def load(session: Session, settings: Settings) -> dict[str, int]:
    """Load once: nothing is added when any recovery is already recorded."""
    if session.scalar(select(Recovery.id).limit(1)) is not None:
        return {}
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_([OFFICER, *LIAISON.values()])))}
    officer = users[OFFICER]
    ctx = registry.Context.of(settings)
    persons = synthetic.people(PERSONS, seed=11)
    bodies = synthetic.remains(persons, BODIES, seed=12, days=8)
    ratios = synthetic.dna_ratios(persons, bodies, seed=13, share=0.5)

    am_number: dict[int, str] = {}
    for p in persons:
        filer = users[LIAISON[p.side]] if p.id % 3 == 0 else officer
        record, _ = missing_persons.file_missing_person(session, filer, MissingPersonIn.model_validate(_am_fields(p)))
        am_number[p.id] = record.number

    by_site: dict[tuple[Any, str], list[synthetic.Remains]] = defaultdict(list)
    for b in bodies:
        by_site[(b.recovered_on, b.place_name)].append(b)
    pm_number: dict[int, str] = {}
    for (day, place), found in sorted(by_site.items()):
        lat, lon = found[0].found_at
        side = AREA_SIDE[place]
        parts = [{"kind": "body_part", "part_of": 0}] if len(found) >= 4 and found[0].id % 2 == 0 else []
        data = RecoveryIn.model_validate({
            "recovered_at": _local(settings, day, 8), "site": {"type": "Point", "coordinates": [lon, lat]},
            "place_name": f"{place} area", "team": "Search team with the ICRC and the emergency service", "side": side,
            "bodies_found": len(found) + (1 if found[0].id % 5 == 0 else 0), "stored_at": MORGUE[side],
            "bodies": [{"post_mortem": _pm_fields(b)} for b in found] + parts,
        })
        recovery = recovering.record_recovery(session, ctx, officer, data)
        for b, body in zip(found, sorted(recovery.bodies, key=lambda x: x.id)):
            pm_number[b.id] = body.number
            custody_chain.record_custody(session, ctx, officer, body.number, CustodyIn(
                kind="examined", at=_local(settings, day, 11), place=MORGUE[side], note="post-mortem examination"))

    recovered_on = {b.id: b.recovered_on for b in bodies}
    results = [DnaResultIn(body=pm_number[pm], missing_person=am_number[am], likelihood_ratio=lr, laboratory="Mission DNA laboratory",
                           reference=f"LAB-{pm}-{am}", reported_on=recovered_on[pm] + timedelta(days=2))
               for (pm, am), lr in sorted(ratios.items())]
    matching_cache.record_dna(session, officer, results)
    settled = dict(matching.undisputed(ratios))  # body -> person: a body settles on one person at most
    side_of = {p.id: p.side for p in persons}

    identified: dict[int, str] = {}
    for b in bodies:
        person = settled.get(b.id)
        when = _local(settings, b.recovered_on + timedelta(days=2), 10)
        if person is not None and when < _local(settings, date(2020, 11, 21), 0):
            proposal = IdentificationIn(body=pm_number[b.id], missing_person=am_number[person], at=when)
            ident = identifying.propose_identification(session, ctx, officer, proposal)
            identifying.confirm_identification(session, ctx, officer, ident.id, ConfirmIn(
                basis="dna", detail="Undisputed likelihood ratio from the mission laboratory", at=when + timedelta(hours=2)))
            identified[b.id] = side_of[person]
        elif b.person is not None and b.pm.service_number and b.id % 4 == 0:
            proposal = IdentificationIn(body=pm_number[b.id], missing_person=am_number[b.person], at=when)
            ident = identifying.propose_identification(session, ctx, officer, proposal)
            if b.id % 8 == 0:
                identifying.confirm_identification(session, ctx, officer, ident.id, ConfirmIn(
                    basis="board", detail="Identity disc, clothing and marks agree; family recognised the effects",
                    board_members=["Forensic pathologist (synthetic)", "Odontologist (synthetic)", "ICRC forensic adviser (synthetic)"],
                    at=when + timedelta(hours=4)))
                identified[b.id] = side_of[b.person]

    handed = 0
    for day in sorted({b.recovered_on for b in bodies}):
        for side in ("A", "B"):
            # kept back: every tenth body, for further examination
            batch = [b for b in bodies if b.recovered_on == day and identified.get(b.id, b.side) == side and b.id % 10 != 0]
            if not batch:
                continue
            numbers = [pm_number[b.id] for b in batch]
            numbers += _parts_of(session, numbers)
            handing_over.record_handover(session, ctx, officer, HandoverIn(
                to_side=side, at=_local(settings, day, 15), place=CROSSING, receiving_organisation=f"Side {side} forensic service",
                receiving_person=f"Duty officer of side {side} (synthetic)", witness_organisation="International Committee of the Red Cross",
                witness_person="ICRC delegate (synthetic)", released_by="Humanitarian cell duty officer", bodies=numbers,
            ))
            handed += len(batch)
    return {"missing": len(persons), "bodies": len(bodies), "identified": len(identified), "handed_over": handed}


def _parts_of(session: Session, numbers: list[str]) -> list[str]:
    wholes = select(Body.id).where(Body.number.in_(numbers))
    return list(session.scalars(select(Body.number).where(Body.part_of_id.in_(wholes))))


def _am_fields(p: synthetic.Person) -> dict[str, Any]:
    am = p.am
    return {
        "client_id": f"demo-am-{p.id}", "family_name": p.family_name, "given_names": p.given_names, "side": p.side,
        "status": "military" if p.military else "civilian", "service_number": am.service_number or "", "unit": p.unit,
        "born_on": am.born_on, "sex": am.sex.value, "height_cm": am.height_cm, "marks": list(am.marks),
        "clothing": [c for c in am.belongings if c in p.clothing], "effects": [e for e in am.belongings if e in p.effects],
        "last_seen_on": am.last_seen_on, "last_seen_place": p.place[2],
        "last_seen_lat": am.last_seen_at[0] if am.last_seen_at else None, "last_seen_lon": am.last_seen_at[1] if am.last_seen_at else None,
        "dental": {str(k): v.value for k, v in am.dental.items()}, "family_dna_reference": p.family_dna_reference,
        "medical_notes": "SYNTHETIC RECORD for the demonstration", "reported_on": p.reported_on,
        "reporter_name": f"Relative of {p.given_names} {p.family_name} (synthetic)", "reporter_contact": "via the liaison office",
    }


def _pm_fields(b: synthetic.Remains) -> dict[str, Any]:
    pm = b.pm
    return {
        "condition": b.condition, "sex": pm.sex.value,
        "age": {"min": pm.age[0], "max": pm.age[1]} if pm.age else None,
        "height_cm": {"min": pm.height_cm[0], "max": pm.height_cm[1]} if pm.height_cm else None,
        "marks": list(pm.marks), "clothing": b.clothing, "effects": b.effects, "documents": b.documents,
        "dna_sampled": b.dna_sampled, "fingerprints_taken": b.fingerprints_taken,
        "dental": {str(k): v.value for k, v in pm.dental.items()},
        "cause_of_death": "blast and fragment injuries" if b.id % 3 else "gunshot wound",
        "died_on": min(b.recovered_on, synthetic.WAR_END),
    }

