"""Which missing persons a body may be, and which bodies a missing person: the matching columns kept
between a clerk's steps, re-read only where a record changed, and the laboratories' DNA ratios."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.auth import User
from peacewatch.core.changes import versions
from peacewatch.core.db import transaction
from peacewatch.core.problems import Invalid
from peacewatch.remains import matching
from peacewatch.remains.matching import AnteMortem, PostMortem, Tooth
from peacewatch.remains.missing_persons import get_missing_person
from peacewatch.remains.models import (
    Body,
    DnaResult,
    Identification,
    IdentificationStatus,
    MissingPerson,
    Recovery,
)
from peacewatch.remains.registry import get_body
from peacewatch.remains.schemas import CandidateOut, DnaResultIn, DnaResultOut, EvidenceOut

MAX_DNA_BATCH = 10_000


def ante_mortem(person: MissingPerson) -> AnteMortem:
    at = (person.last_seen_lat, person.last_seen_lon) if person.last_seen_lat is not None and person.last_seen_lon is not None else None
    return AnteMortem(
        id=person.id, number=person.number, sex=person.sex, born_on=person.born_on, height_cm=person.height_cm,
        marks=person.marks, belongings=[*person.clothing, *person.effects], service_number=person.service_number or None,
        names=[person.family_name, person.given_names, person.patronymic], last_seen_on=person.last_seen_on, last_seen_at=at,
        dental={int(k): Tooth(v) for k, v in person.dental.items()},
    )


def post_mortem(body: Body) -> PostMortem:
    documents = body.documents or []
    service = next((d.get("service_number") for d in documents if d.get("service_number")), None)
    return PostMortem(
        id=body.id, number=body.number, sex=body.sex,
        age=(body.age_min, body.age_max) if body.age_min is not None and body.age_max is not None else None,
        height_cm=(body.height_min, body.height_max) if body.height_min is not None and body.height_max is not None else None,
        marks=body.marks, belongings=[*body.clothing, *body.effects], service_number=service,
        document_names=[d["name"] for d in documents if d.get("name")], recovered_on=body.recovery.recovered_on,
        found_at=(body.recovery.lat, body.recovery.lon), dental={int(k): Tooth(v) for k, v in body.dental.items()},
    )


@dataclass
class Tables:
    """Every AM and PM record as matching columns, with the model fitted to them."""

    am: matching.AmTable
    pm: matching.PmTable
    model: matching.Model
    body_numbers: list[str]
    person_numbers: list[str]
    dna: dict[tuple[int, int], float]
    fitted_on: tuple[tuple[int, int], ...] | None = None  # the confirmed identifications the model learnt from

    def __post_init__(self) -> None:
        self._body_rows = {int(i): r for r, i in enumerate(self.pm.ids)}
        self._person_rows = {int(i): r for r, i in enumerate(self.am.ids)}

    def body_row(self, body: Body) -> int:
        return self._body_rows[body.id]

    def person_row(self, person: MissingPerson) -> int:
        return self._person_rows[person.id]


@dataclass(frozen=True)
class _Kept:
    """The records the matching columns were built from, each with the revision it was read at."""

    versions: tuple[int, ...]
    persons: dict[int, tuple[int, AnteMortem]]
    bodies: dict[int, tuple[tuple[int, int], PostMortem]]  # (the body's revision, its recovery's)
    vocabulary: matching.Vocabulary
    tables: Tables
    reread: int  # records read from the database to make it (all, the first time; then the changed ones)


_KEPT: dict[str, _Kept] = {}
READ_CHUNK = 500  # ids per "IN (...)" when re-reading changed records


def _changed(revisions: dict[int, Any], kept: dict[int, tuple[Any, Any]]) -> list[int]:
    return [record_id for record_id, revision in revisions.items() if kept.get(record_id, (None,))[0] != revision]


def _read(session: Session, query: Any, model: Any, ids: list[int]) -> list[Any]:
    return [record for k in range(0, len(ids), READ_CHUNK)
            for record in session.scalars(query.where(model.id.in_(ids[k:k + READ_CHUNK])))]


def _refreshed(session: Session, kept: _Kept | None, now: tuple[int, ...]) -> _Kept:
    """The kept records with the rows that changed since (by their revisions) read again, and their rows replaced.

    Only the (id, revision) pairs are read whole; a clerk's edit, a custody event or a new report
    re-reads one record and rebuilds one row of the columns, not ten thousand.
    """
    person_revisions = {person_id: revision for person_id, revision in session.execute(select(MissingPerson.id, MissingPerson.revision))}
    body_revisions = {body_id: (own, recovery) for body_id, own, recovery in session.execute(
        select(Body.id, Body.revision, Recovery.revision).join(Body.recovery))}
    old_persons = kept.persons if kept else {}
    old_bodies = kept.bodies if kept else {}
    stale_persons, stale_bodies = _changed(person_revisions, old_persons), _changed(body_revisions, old_bodies)
    fresh_persons = {p.id: (p.revision, ante_mortem(p)) for p in _read(session, select(MissingPerson), MissingPerson, stale_persons)}
    fresh_bodies = {b.id: ((b.revision, b.recovery.revision), post_mortem(b))
                    for b in _read(session, select(Body).options(selectinload(Body.recovery)), Body, stale_bodies)}
    persons = old_persons | fresh_persons
    bodies = old_bodies | fresh_bodies
    dna = {(b, p): lr for b, p, lr in session.execute(
        select(DnaResult.body_id, DnaResult.missing_person_id, DnaResult.likelihood_ratio))}
    if kept is None or persons.keys() - person_revisions.keys() or bodies.keys() - body_revisions.keys() \
            or not _after(fresh_persons, old_persons) or not _after(fresh_bodies, old_bodies):
        # the first time, a record gone (none is deleted in use) or one slotted between others: all from the records
        persons = {i: persons[i] for i in sorted(person_revisions) if i in persons}
        bodies = {i: bodies[i] for i in sorted(body_revisions) if i in bodies}
        vocabulary = matching.Vocabulary()
        am, pm = matching.tables([r for _, r in persons.values()], [r for _, r in bodies.values()], vocabulary)
    elif fresh_persons or fresh_bodies:
        vocabulary = kept.vocabulary.copy()
        am, pm = matching.revised(kept.tables.am, kept.tables.pm, vocabulary, [r for _, r in fresh_persons.values()],
                                  [r for _, r in fresh_bodies.values()])
    else:
        vocabulary, am, pm = kept.vocabulary, kept.tables.am, kept.tables.pm
    kept_am, kept_pm = (kept.tables.am, kept.tables.pm) if kept else (None, None)
    tables = Tables(am=am, pm=pm, model=kept.tables.model if kept else matching.Model.prior(),
                    body_numbers=[bodies[int(i)][1].number for i in pm.ids],
                    person_numbers=[persons[int(i)][1].number for i in am.ids], dna=dna,
                    fitted_on=None if am is not kept_am or pm is not kept_pm else kept.tables.fitted_on)
    return _Kept(versions=now, persons=persons, bodies=bodies, vocabulary=vocabulary, tables=tables,
                 reread=len(fresh_persons) + len(fresh_bodies))


def _after(fresh: dict[int, Any], old: dict[int, Any]) -> bool:
    """Whether the new records among ``fresh`` all come after the ``old`` ones: appended, the rows stay in id order.

    The rows' order is part of the answer (the weights are fitted on random rows), so it must be the
    order a process building everything afresh would choose.
    """
    new = [record_id for record_id in fresh if record_id not in old]
    return not new or not old or min(new) > max(old)


def matching_tables(session: Session) -> Tables:
    """All records, and weights fitted on them: u from random pairs, m from confirmed identifications.

    The columns are kept until a record they read changes, and then only the changed records are
    read again and their rows replaced (by the versions and per-row revisions the database keeps,
    so a change made through any server process counts). The weights are fitted again whenever the
    columns or the confirmed identifications change: every process, however long it has run, ranks
    the same records alike.
    Each snapshot is replaced whole, never changed in place, so a request reading it meanwhile sees
    one consistent set.
    """
    url = str(session.get_bind().url)
    now = versions(session, "bodies", "missing_persons", "dna_results", "recoveries")
    kept = _KEPT.get(url)
    if kept is None or kept.versions != now:
        kept = _refreshed(session, kept, now)
        _KEPT.clear()
        _KEPT[url] = kept
    tables = kept.tables
    confirmed_query = select(Identification.body_id, Identification.missing_person_id).where(
        Identification.status == IdentificationStatus.confirmed).order_by(Identification.id)
    confirmed_pairs = tuple((b, p) for b, p in session.execute(confirmed_query))
    if tables.fitted_on != confirmed_pairs:
        rows = [(tables._person_rows[p], tables._body_rows[b]) for b, p in confirmed_pairs]
        tables.model, tables.fitted_on = matching.Model.fit(tables.am, tables.pm, rows), confirmed_pairs
    return tables


def warm(sessions: Callable[[], Session]) -> None:
    """The matching columns built at a serving process's start, not by its first reader of the reconciliation grid
    or of a body's candidates (half a second on the demo)."""
    with sessions() as session:
        matching_tables(session)


def standing_identifications(session: Session) -> dict[tuple[int, int], IdentificationStatus]:
    return {(b, p): s for b, p, s in session.execute(
        select(Identification.body_id, Identification.missing_person_id, Identification.status)
        .where(Identification.status != IdentificationStatus.revoked))}


def _candidate_out(tables: Tables, am_row: int, pm_row: int, settled: set[tuple[int, int]],
                   standing: dict[tuple[int, int], IdentificationStatus]) -> CandidateOut:
    pair = (int(tables.pm.ids[pm_row]), int(tables.am.ids[am_row]))
    ratio = tables.dna.get(pair)
    cand = matching.explain(tables.am, tables.pm, am_row, pm_row, tables.model, ratio)
    return CandidateOut(body=tables.body_numbers[pm_row], missing_person=tables.person_numbers[am_row], weight=cand.weight,
                        dna_likelihood_ratio=ratio, undisputed_dna=pair in settled,
                        evidence=[EvidenceOut.model_validate(e.__dict__) for e in cand.evidence], identification=standing.get(pair))


def candidates_for_body(session: Session, number: str, top: int) -> list[CandidateOut]:
    """The missing persons this body may be, best first, with every field's evidence."""
    body = get_body(session, number)
    tables = matching_tables(session)
    column = tables.body_row(body)
    ranked = matching.rank(tables.am, tables.pm, tables.model, per_am=False, top=top, dna=tables.dna, only=[column])[0]
    settled, standing = matching.undisputed(tables.dna), standing_identifications(session)
    return [_candidate_out(tables, row, column, settled, standing) for row, _ in ranked]


def candidates_for_person(session: Session, number: str, top: int, user: User) -> list[CandidateOut]:
    """The bodies this missing person may be, best first."""
    person = get_missing_person(session, user, number)
    tables = matching_tables(session)
    row = tables.person_row(person)
    ranked = matching.rank(tables.am, tables.pm, tables.model, per_am=True, top=top, dna=tables.dna, only=[row])[0]
    settled, standing = matching.undisputed(tables.dna), standing_identifications(session)
    return [_candidate_out(tables, row, column, settled, standing) for column, _ in ranked]


def record_dna(session: Session, user: User, results: Sequence[DnaResultIn]) -> list[DnaResult]:
    """Store a laboratory's ratios, all or none; a pair reported again replaces its earlier ratio."""
    if not results or len(results) > MAX_DNA_BATCH:
        raise Invalid("send between 1 and {MAX_DNA_BATCH:,} results at a time", field="body", MAX_DNA_BATCH=MAX_DNA_BATCH)
    bodies = {b.number: b for b in session.scalars(select(Body).where(Body.number.in_({r.body for r in results})))}
    persons = {p.number: p for p in session.scalars(select(MissingPerson).where(MissingPerson.number.in_({r.missing_person for r in results})))}
    existing = {(r.body_id, r.missing_person_id): r for r in session.scalars(
        select(DnaResult).where(DnaResult.body_id.in_([b.id for b in bodies.values()])))}
    stored = []
    with transaction(session, user.username):
        for i, result in enumerate(results):
            body, person = bodies.get(result.body), persons.get(result.missing_person)
            if body is None:
                raise Invalid("no body {body}", field=f"body[{i}].body", body=result.body)
            if person is None:
                raise Invalid("no missing person {missing_person}", field=f"body[{i}].missing_person", missing_person=result.missing_person)
            row = existing.get((body.id, person.id))
            if row is None:
                row = existing[(body.id, person.id)] = DnaResult(body_id=body.id, missing_person_id=person.id)
                session.add(row)
            row.likelihood_ratio, row.laboratory = result.likelihood_ratio, result.laboratory
            row.reference, row.reported_on = result.reference, result.reported_on
            stored.append(row)
    return stored


def dna_results(session: Session, number: str | None = None) -> list[DnaResultOut]:
    """The laboratories' ratios, each saying whether it settles its pair (``number`` narrows to one body or person)."""
    rows = session.execute(select(DnaResult, Body.number, MissingPerson.number).join(Body, Body.id == DnaResult.body_id)
                           .join(MissingPerson, MissingPerson.id == DnaResult.missing_person_id).order_by(DnaResult.id)).all()
    settled = matching.undisputed({(r.body_id, r.missing_person_id): r.likelihood_ratio for r, _, _ in rows})
    return [DnaResultOut(body=b, missing_person=p, likelihood_ratio=r.likelihood_ratio, laboratory=r.laboratory,
                         reference=r.reference, reported_on=r.reported_on, undisputed=(r.body_id, r.missing_person_id) in settled)
            for r, b, p in rows if number is None or number in (b, p)]
