"""The humanitarian cell's rules: recovery, post-mortem and ante-mortem records, custody, matching,
identification and handover. Every write is one audited transaction.

Personal data of the missing and the dead is for the humanitarian cell (and admins); a side's
liaison reads the missing-person reports its side filed and the handovers to its side. Anything
out of a reader's scope is answered "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.audit import AuditAction, AuditEntry
from peacewatch.core.auth import PERSONAL_DATA_ROLES, Role, User
from peacewatch.core.calendar import reporting_day
from peacewatch.core.changes import versions
from peacewatch.core.db import as_utc, first_copy, resend_digest, transaction, utcnow
from peacewatch.core.geo import check_geometry, to_geojson, to_mgrs
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.core.settings import Settings
from peacewatch.remains import matching
from peacewatch.remains.custody import GENESIS, Link, chain_digest, link_hash, verify_chain
from peacewatch.remains.figures import BodyStep, Fact, SpanTooLong, attribution_facts, casualty_series
from peacewatch.remains.matching import AnteMortem, PostMortem, Tooth
from peacewatch.remains.models import (
    Body,
    BodyKind,
    CustodyEvent,
    CustodyKind,
    DnaResult,
    Handover,
    HandoverBody,
    Identification,
    IdentificationBasis,
    IdentificationStatus,
    MissingPerson,
    NumberCounter,
    Recovery,
)
from peacewatch.remains.schemas import (
    BodyOut,
    ChainBreak,
    ChainReport,
    ConfirmIn,
    CustodyIn,
    DnaResultIn,
    HandoverIn,
    IdentificationIn,
    MissingPersonIn,
    Particulars,
    PostMortemIn,
    RecoveryIn,
    RevokeIn,
)

FINAL_CUSTODY = frozenset({CustodyKind.handed_over, CustodyKind.buried})
MANUAL_CUSTODY = frozenset({CustodyKind.stored, CustodyKind.examined, CustodyKind.transferred, CustodyKind.buried})
BOARD_MINIMUM = 3
POSSIBLE_WEIGHT = 0.0  # a pair not blocked and weighing at least this is a "possible" cell
MAX_DNA_BATCH = 10_000


@dataclass(frozen=True)
class Context:
    """What the rules need from the settings."""

    zone: Any
    day_end: Any
    custody_key: bytes
    prefix: str
    clock_skew: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Context:
        return cls(zone=settings.zone, day_end=settings.reporting_day_ends, custody_key=settings.resolved_custody_key,
                   prefix=settings.body_number_prefix, clock_skew=timedelta(minutes=settings.clock_skew_minutes))

    def instant(self, value: datetime, field: str) -> datetime:
        """A client's time in UTC, refused when it is in the future (beyond the allowed clock skew)."""
        at = as_utc(value, field=field)
        assert at is not None
        if at > utcnow() + self.clock_skew:
            raise Invalid("is in the future", field=field)
        return at

    def decided_at(self, value: datetime | None, after: datetime | None, what: str) -> datetime:
        """When a decision was taken: now unless given; never in the future, never before ``after``."""
        at = utcnow() if value is None else self.instant(value, "body.at")
        if after is not None and at < after:
            raise Invalid(f"is before the {what} ({after:%Y-%m-%d %H:%M} UTC)", field="body.at")
        return at

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def day(self, at: datetime) -> date:
        return reporting_day(at, self.zone, self.day_end)


def _take_number(session: Session, series: str, year: int) -> int:
    """The next number of ``series`` in ``year``; the counter row stays locked until commit."""
    counter = session.scalar(
        select(NumberCounter).where(NumberCounter.series == series, NumberCounter.year == year).with_for_update()
    )
    if counter is None:
        counter = NumberCounter(series=series, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return counter.last


# --- recovery and post-mortem --------------------------------------------------------------------


def record_recovery(session: Session, ctx: Context, user: User, data: RecoveryIn) -> Recovery:
    """A recovery, a numbered body for each body or part recovered, and each one's first custody event."""
    at = ctx.instant(data.recovered_at, "body.recovered_at")
    site = shape(data.site.model_dump(exclude_none=True))
    check_geometry(site, field="body.site")
    whole = sum(1 for b in data.bodies if b.kind is BodyKind.body)
    if whole > data.bodies_found:
        raise Invalid(f"{whole} bodies listed but only {data.bodies_found} found", field="body.bodies_found")
    for i, item in enumerate(data.bodies):
        if item.part_of is not None:
            if item.kind is not BodyKind.body_part:
                raise Invalid("only a body part can belong to another body", field=f"body.bodies[{i}].part_of")
            if item.part_of >= len(data.bodies) or data.bodies[item.part_of].kind is not BodyKind.body:
                raise Invalid("must be the position of a whole body in this list", field=f"body.bodies[{i}].part_of")
    point = site.representative_point()
    with transaction(session, user.username):
        recovery = Recovery(
            recovered_at=at, recovered_on=ctx.local_date(at), site=site, lat=point.y, lon=point.x, place_name=data.place_name,
            team=data.team, side=data.side, bodies_found=data.bodies_found, bodies_recovered=whole, notes=data.notes,
            recorded_by=user.username,
        )
        session.add(recovery)
        created: list[Body] = []
        for i, item in enumerate(data.bodies):
            body = Body(number=_body_number(session, ctx, at.year), recovery=recovery, kind=item.kind,
                        part_of=created[item.part_of] if item.part_of is not None else None)
            if item.post_mortem is not None:
                _apply_post_mortem(body, item.post_mortem, f"body.bodies[{i}].post_mortem")
            session.add(body)
            created.append(body)
        session.flush()
        for body in created:
            _append_custody(session, ctx, body, user, kind=CustodyKind.recovered, at=at, place=data.place_name or "recovery site",
                            released_by="", received_by=data.team, note=f"recovery {recovery.id}")
            if data.stored_at:
                _append_custody(session, ctx, body, user, kind=CustodyKind.stored, at=at, place=data.stored_at,
                                released_by=data.team, received_by=data.stored_at, note="")
    return recovery


def _body_number(session: Session, ctx: Context, year: int) -> str:
    return f"{ctx.prefix}-{year}-{_take_number(session, 'body', year):06d}"


def _apply_post_mortem(body: Body, pm: PostMortemIn, field: str) -> None:
    if pm.died_on is not None and body.recovery is not None and pm.died_on > body.recovery.recovered_on:
        raise Invalid("the date of death is after the recovery", field=f"{field}.died_on")
    body.condition = pm.condition
    body.sex = pm.sex
    body.age_min, body.age_max = (pm.age.min, pm.age.upper) if pm.age else (None, None)
    body.height_min, body.height_max = (pm.height_cm.min, pm.height_cm.upper) if pm.height_cm else (None, None)
    body.marks, body.clothing, body.effects = list(pm.marks), list(pm.clothing), list(pm.effects)
    body.documents = [d.model_dump() for d in pm.documents]
    body.dna_sampled, body.fingerprints_taken = pm.dna_sampled, pm.fingerprints_taken
    body.dental = {k: v.value for k, v in sorted(pm.dental.items())}
    body.cause_of_death, body.died_on = pm.cause_of_death, pm.died_on
    body.examined_at = as_utc(pm.examined_at, field=f"{field}.examined_at")
    body.examined_by = pm.examined_by


def get_body(session: Session, number: str) -> Body:
    body = session.scalar(select(Body).where(Body.number == number).options(selectinload(Body.recovery)))
    if body is None:
        raise NotFound(f"body {number} not found")
    return body


def record_post_mortem(session: Session, user: User, number: str, data: PostMortemIn) -> Body:
    """Replace the body's PM record; the audit log keeps what it said before."""
    with transaction(session, user.username):
        body = get_body(session, number)
        _apply_post_mortem(body, data, "body")
    return body


def link_part(session: Session, user: User, number: str, part_of: str) -> Body:
    """Record which body a separate part belongs to (found apart, matched later)."""
    with transaction(session, user.username):
        part = get_body(session, number)
        whole = get_body(session, part_of)
        if part.kind is not BodyKind.body_part:
            raise Invalid(f"{number} is a whole body, not a body part", field="path.number")
        if whole.kind is not BodyKind.body:
            raise Invalid(f"{part_of} is a body part: link a part to a whole body", field="body.part_of")
        part.part_of = whole
    return part


def post_mortem_in(body: Body) -> PostMortemIn:
    return PostMortemIn.model_validate({
        "condition": body.condition, "sex": body.sex,
        "age": {"min": body.age_min, "max": body.age_max} if body.age_min is not None else None,
        "height_cm": {"min": body.height_min, "max": body.height_max} if body.height_min is not None else None,
        "marks": body.marks, "clothing": body.clothing, "effects": body.effects, "documents": body.documents,
        "dna_sampled": body.dna_sampled, "fingerprints_taken": body.fingerprints_taken, "dental": body.dental,
        "cause_of_death": body.cause_of_death, "died_on": body.died_on, "examined_at": body.examined_at,
        "examined_by": body.examined_by,
    })


def bodies_out(session: Session, bodies: Sequence[Body]) -> list[BodyOut]:
    """Bodies with where they are, who they are and whether they were handed over, in four queries."""
    ids = [b.id for b in bodies]
    if not ids:
        return []
    last = {e.body_id: e for e in session.scalars(
        select(CustodyEvent).join(Body, Body.id == CustodyEvent.body_id)
        .where(CustodyEvent.body_id.in_(ids), CustodyEvent.seq == Body.custody_count))}
    identified = dict(session.execute(
        select(Identification.body_id, MissingPerson.number).join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
        .where(Identification.body_id.in_(ids), Identification.status == IdentificationStatus.confirmed)).all())
    handed = dict(session.execute(
        select(HandoverBody.body_id, Handover.number).join(Handover).where(HandoverBody.body_id.in_(ids))).all())
    numbers: dict[int, str] = {}
    parts: dict[int, list[str]] = {}
    for related, number, whole_id in session.execute(select(Body.id, Body.number, Body.part_of_id).where(
            (Body.id.in_([b.part_of_id for b in bodies if b.part_of_id])) | (Body.part_of_id.in_(ids)))):
        numbers[related] = number
        if whole_id in ids:
            parts.setdefault(whole_id, []).append(number)
    out = []
    for body in bodies:
        event = last.get(body.id)
        out.append(BodyOut(
            id=body.id, number=body.number, kind=body.kind, part_of=numbers.get(body.part_of_id) if body.part_of_id else None,
            parts=sorted(parts.get(body.id, [])), recovery_id=body.recovery_id, recovered_on=body.recovery.recovered_on,
            side_of_area=body.recovery.side, post_mortem=post_mortem_in(body),
            custody=event.kind.value if event else None, custody_place=event.place if event else None,
            identified_as=identified.get(body.id), handover=handed.get(body.id),
        ))
    return out


def list_bodies(session: Session, *, recovery_id: int | None = None, q: str | None = None, unidentified: bool = False,
                limit: int = 100, offset: int = 0) -> tuple[list[Body], int]:
    query = select(Body).options(selectinload(Body.recovery))
    if recovery_id is not None:
        query = query.where(Body.recovery_id == recovery_id)
    if q:
        query = query.where(Body.number.contains(q.upper(), autoescape=True))
    if unidentified:
        query = query.where(~Body.id.in_(select(Identification.body_id).where(Identification.status == IdentificationStatus.confirmed)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Body.id).limit(limit).offset(offset))), total


def recovery_out(recovery: Recovery) -> dict[str, Any]:
    return {
        **{k: getattr(recovery, k) for k in ("id", "recovered_at", "recovered_on", "place_name", "team", "side", "bodies_found",
                                             "bodies_recovered", "notes", "recorded_by")},
        "site": to_geojson(recovery.site), "mgrs": to_mgrs(recovery.lat, recovery.lon),
        "body_numbers": [b.number for b in recovery.bodies],
    }


def get_recovery(session: Session, recovery_id: int) -> Recovery:
    recovery = session.get(Recovery, recovery_id, options=[selectinload(Recovery.bodies)])
    if recovery is None:
        raise NotFound(f"recovery {recovery_id} not found")
    return recovery


def list_recoveries(session: Session, *, since: date | None, until: date | None, limit: int, offset: int) -> tuple[list[Recovery], int]:
    query = select(Recovery).options(selectinload(Recovery.bodies))
    if since is not None:
        query = query.where(Recovery.recovered_on >= since)
    if until is not None:
        query = query.where(Recovery.recovered_on <= until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Recovery.recovered_at.desc(), Recovery.id.desc()).limit(limit).offset(offset))), total


# --- chain of custody ------------------------------------------------------------------------------


def _link(body: Body, event: CustodyEvent) -> Link:
    return Link(body=body.number, seq=event.seq, kind=event.kind.value, at=event.at, place=event.place,
                released_by=event.released_by, received_by=event.received_by, note=event.note, recorded_by=event.recorded_by,
                handover_id=event.handover_id, prev_hash=event.prev_hash, hash=event.hash)


def _last_event(session: Session, body: Body) -> CustodyEvent | None:
    if body.custody_count == 0:
        return None
    return session.scalar(select(CustodyEvent).where(CustodyEvent.body_id == body.id, CustodyEvent.seq == body.custody_count))


def _append_custody(
    session: Session, ctx: Context, body: Body, user: User, *, kind: CustodyKind, at: datetime, place: str, released_by: str,
    received_by: str, note: str, handover_id: int | None = None, field: str = "body",
) -> CustodyEvent:
    """Chain one event to the body's custody, refusing what cannot have happened.

    At the very time of the last event the body can be somewhere else only when its holder hands it on.
    """
    last = _last_event(session, body)
    if last is not None:
        if last.kind in FINAL_CUSTODY:
            raise Conflict(f"body {body.number} was {last.kind.value.replace('_', ' ')} on {last.at:%Y-%m-%d %H:%M} UTC: "
                           "the mission no longer holds it")
        if at < last.at:
            raise Invalid(f"custody events out of time order: body {body.number}'s last event ({last.kind.value}) "
                          f"is at {last.at:%Y-%m-%d %H:%M} UTC", field=f"{field}.at")
        hand_off = released_by == last.received_by and received_by != last.received_by
        if at == last.at and place != last.place and not hand_off:
            raise Invalid(f"body {body.number} would be in two places at once: at {last.place} at that very time",
                          field=f"{field}.place")
    event = CustodyEvent(body_id=body.id, seq=body.custody_count + 1, kind=kind, at=at, place=place, released_by=released_by,
                         received_by=received_by, note=note, recorded_by=user.username, handover_id=handover_id,
                         prev_hash=body.custody_head or GENESIS)
    event.hash = link_hash(ctx.custody_key, _link(body, event))
    body.custody_count = event.seq
    body.custody_head = event.hash
    session.add(event)
    session.flush()
    return event


def record_custody(session: Session, ctx: Context, user: User, number: str, data: CustodyIn) -> CustodyEvent:
    if data.kind not in MANUAL_CUSTODY:
        raise Invalid(f"'{data.kind.value}' is recorded by a {'recovery' if data.kind is CustodyKind.recovered else 'handover'}, "
                      "not directly", field="body.kind")
    at = ctx.instant(data.at, "body.at")
    if data.kind is CustodyKind.transferred and not data.received_by:
        raise Invalid("a transfer names who received the body", field="body.received_by")
    with transaction(session, user.username):
        body = get_body(session, number)
        last = _last_event(session, body)
        released = data.released_by or (last.received_by if last else "")
        if data.kind is CustodyKind.transferred and last is not None and last.received_by and released != last.received_by:
            raise Invalid(f"body {number} is in the custody of {last.received_by}, not {released}", field="body.released_by")
        event = _append_custody(session, ctx, body, user, kind=data.kind, at=at, place=data.place, released_by=released,
                                received_by=data.received_by or (last.received_by if last else ""), note=data.note)
    return event


def custody_events(session: Session, body: Body) -> list[CustodyEvent]:
    return list(session.scalars(select(CustodyEvent).where(CustodyEvent.body_id == body.id).order_by(CustodyEvent.seq, CustodyEvent.id)))


def verify_custody(session: Session, ctx: Context, numbers: Sequence[str] | None = None) -> ChainReport:
    """Check every body's chain (or those named) against its hashes, its count and the audit log."""
    query = select(Body).order_by(Body.id)
    if numbers:
        query = query.where(Body.number.in_(list(numbers)))
    bodies = list(session.scalars(query))
    if numbers and len(bodies) != len(set(numbers)):
        missing = sorted(set(numbers) - {b.number for b in bodies})
        raise NotFound(f"body {', '.join(missing)} not found")
    ids = [b.id for b in bodies]
    events: dict[int, list[CustodyEvent]] = {}
    for i in range(0, len(ids), 500):
        for event in session.scalars(select(CustodyEvent).where(CustodyEvent.body_id.in_(ids[i:i + 500]))
                                     .order_by(CustodyEvent.body_id, CustodyEvent.seq, CustodyEvent.id)):
            events.setdefault(event.body_id, []).append(event)
    written = select(AuditEntry.entity_id, AuditEntry.after).where(
        AuditEntry.entity == CustodyEvent.__tablename__, AuditEntry.action == AuditAction.create)
    if numbers:  # a few bodies: read only their entries, not the whole log
        written = written.where(AuditEntry.after["body_id"].as_integer().in_(ids))
    audited: dict[int, list[int]] = {}
    for entity_id, after in session.execute(written):
        if after and after.get("body_id") is not None:
            audited.setdefault(int(after["body_id"]), []).append(int(entity_id))
    breaks: list[ChainBreak] = []
    total = 0
    for body in bodies:
        chain = events.get(body.id, [])
        total += len(chain)
        found = verify_chain(ctx.custody_key, [_link(body, e) for e in chain], count=body.custody_count, head=body.custody_head or GENESIS,
                             audited_ids=audited.get(body.id, []), ids=[e.id for e in chain])
        breaks.extend(ChainBreak(body=body.number, seq=b.seq, problem=b.problem) for b in found)
    return ChainReport(bodies=len(bodies), events=total, intact=not breaks, breaks=breaks,
                       digest=chain_digest({b.number: b.custody_head for b in bodies}))


# --- missing persons (ante-mortem) -----------------------------------------------------------------


def file_missing_person(session: Session, user: User, data: MissingPersonIn) -> tuple[MissingPerson, bool]:
    """The new report and True, or the first copy of a resent one and False. A liaison files for its own side."""
    if user.role is Role.liaison and data.side is not user.side:
        raise Invalid(f"a liaison of side {user.side.value if user.side else '?'} files reports of its own side's people",
                      field="body.side")
    with transaction(session, user.username):
        first = first_copy(session, select(MissingPerson).where(MissingPerson.filed_by == user.username,
                                                                MissingPerson.client_id == data.client_id), data,
                           lambda person: user.role in PERSONAL_DATA_ROLES or person.filed_by_side == user.side)
        if first is not None:
            return first, False
        values = data.model_dump(exclude={"client_id", "dental"})
        person = MissingPerson(
            **values, dental={k: v.value for k, v in sorted(data.dental.items())}, client_id=data.client_id,
            client_digest=resend_digest(data) if data.client_id else None,
            number=f"AM-{data.reported_on.year}-{_take_number(session, 'missing', data.reported_on.year):06d}",
            filed_by=user.username, filed_by_side=user.side if user.role is Role.liaison else None,
        )
        session.add(person)
    return person, True


def _scoped(query: Any, user: User, side: Any) -> Any:
    """``query`` as ``user`` may see it: everything for the humanitarian cell, its own side's rows for a liaison."""
    return query if user.role in PERSONAL_DATA_ROLES else query.where(side == user.side)


def get_missing_person(session: Session, user: User, number: str) -> MissingPerson:
    person = session.scalar(_scoped(select(MissingPerson).where(MissingPerson.number == number), user, MissingPerson.filed_by_side))
    if person is None:
        raise NotFound(f"missing person {number} not found")
    return person


def list_missing_persons(session: Session, user: User, *, side: Any = None, q: str | None = None, unidentified: bool = False,
                         limit: int = 100, offset: int = 0) -> tuple[list[MissingPerson], int]:
    query = _scoped(select(MissingPerson), user, MissingPerson.filed_by_side)
    if side is not None:
        query = query.where(MissingPerson.side == side)
    if q:
        pattern = q.strip()
        query = query.where(MissingPerson.family_name.icontains(pattern, autoescape=True)
                            | MissingPerson.number.contains(pattern.upper(), autoescape=True)
                            | MissingPerson.service_number.contains(pattern, autoescape=True))
    if unidentified:
        query = query.where(~MissingPerson.id.in_(
            select(Identification.missing_person_id).where(Identification.status == IdentificationStatus.confirmed)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(MissingPerson.id).limit(limit).offset(offset))), total


def persons_out(session: Session, persons: Sequence[MissingPerson]) -> list[dict[str, Any]]:
    ids = [p.id for p in persons]
    identified = dict(session.execute(
        select(Identification.missing_person_id, Body.number).join(Body, Body.id == Identification.body_id)
        .where(Identification.missing_person_id.in_(ids), Identification.status == IdentificationStatus.confirmed)).all()) if ids else {}
    return [{**{c.key: getattr(p, c.key) for c in MissingPerson.__table__.columns}, "identified_as": identified.get(p.id)}
            for p in persons]


# --- matching ----------------------------------------------------------------------------------------


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


def _tables(session: Session) -> Tables:
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


def _standing(session: Session) -> dict[tuple[int, int], IdentificationStatus]:
    return {(b, p): s for b, p, s in session.execute(
        select(Identification.body_id, Identification.missing_person_id, Identification.status)
        .where(Identification.status != IdentificationStatus.revoked))}


def _candidate_out(tables: Tables, am_row: int, pm_row: int, settled: set[tuple[int, int]],
                   standing: dict[tuple[int, int], IdentificationStatus]) -> dict[str, Any]:
    pair = (int(tables.pm.ids[pm_row]), int(tables.am.ids[am_row]))
    ratio = tables.dna.get(pair)
    cand = matching.explain(tables.am, tables.pm, am_row, pm_row, tables.model, ratio)
    return {"body": tables.body_numbers[pm_row], "missing_person": tables.person_numbers[am_row], "weight": cand.weight,
            "dna_likelihood_ratio": ratio, "undisputed_dna": pair in settled, "evidence": [e.__dict__ for e in cand.evidence],
            "identification": standing.get(pair)}


def candidates_for_body(session: Session, number: str, top: int) -> list[dict[str, Any]]:
    """The missing persons this body may be, best first, with every field's evidence."""
    body = get_body(session, number)
    tables = _tables(session)
    column = tables.body_row(body)
    ranked = matching.rank(tables.am, tables.pm, tables.model, per_am=False, top=top, dna=tables.dna, only=[column])[0]
    settled, standing = matching.undisputed(tables.dna), _standing(session)
    return [_candidate_out(tables, row, column, settled, standing) for row, _ in ranked]


def candidates_for_person(session: Session, number: str, top: int, user: User) -> list[dict[str, Any]]:
    """The bodies this missing person may be, best first."""
    person = get_missing_person(session, user, number)
    tables = _tables(session)
    row = tables.person_row(person)
    ranked = matching.rank(tables.am, tables.pm, tables.model, per_am=True, top=top, dna=tables.dna, only=[row])[0]
    settled, standing = matching.undisputed(tables.dna), _standing(session)
    return [_candidate_out(tables, row, column, settled, standing) for column, _ in ranked]


def record_dna(session: Session, user: User, results: Sequence[DnaResultIn]) -> list[DnaResult]:
    """Store a laboratory's ratios, all or none; a pair reported again replaces its earlier ratio."""
    if not results or len(results) > MAX_DNA_BATCH:
        raise Invalid(f"send between 1 and {MAX_DNA_BATCH:,} results at a time", field="body")
    bodies = {b.number: b for b in session.scalars(select(Body).where(Body.number.in_({r.body for r in results})))}
    persons = {p.number: p for p in session.scalars(select(MissingPerson).where(MissingPerson.number.in_({r.missing_person for r in results})))}
    existing = {(r.body_id, r.missing_person_id): r for r in session.scalars(
        select(DnaResult).where(DnaResult.body_id.in_([b.id for b in bodies.values()])))}
    stored = []
    with transaction(session, user.username):
        for i, result in enumerate(results):
            body, person = bodies.get(result.body), persons.get(result.missing_person)
            if body is None:
                raise Invalid(f"no body {result.body}", field=f"body[{i}].body")
            if person is None:
                raise Invalid(f"no missing person {result.missing_person}", field=f"body[{i}].missing_person")
            row = existing.get((body.id, person.id))
            if row is None:
                row = existing[(body.id, person.id)] = DnaResult(body_id=body.id, missing_person_id=person.id)
                session.add(row)
            row.likelihood_ratio, row.laboratory = result.likelihood_ratio, result.laboratory
            row.reference, row.reported_on = result.reference, result.reported_on
            stored.append(row)
    return stored


def dna_results(session: Session, number: str | None = None) -> list[dict[str, Any]]:
    rows = session.execute(select(DnaResult, Body.number, MissingPerson.number).join(Body, Body.id == DnaResult.body_id)
                           .join(MissingPerson, MissingPerson.id == DnaResult.missing_person_id).order_by(DnaResult.id)).all()
    settled = matching.undisputed({(r.body_id, r.missing_person_id): r.likelihood_ratio for r, _, _ in rows})
    return [{"body": b, "missing_person": p, "likelihood_ratio": r.likelihood_ratio, "laboratory": r.laboratory,
             "reference": r.reference, "reported_on": r.reported_on, "undisputed": (r.body_id, r.missing_person_id) in settled}
            for r, b, p in rows if number is None or number in (b, p)]


# --- identification --------------------------------------------------------------------------------


def _standing_for(session: Session, *, body_id: int | None = None, person_id: int | None = None) -> Identification | None:
    query = select(Identification).where(Identification.status != IdentificationStatus.revoked)
    query = query.where(Identification.body_id == body_id) if body_id is not None else query.where(Identification.missing_person_id == person_id)
    return session.scalar(query)


def propose_identification(session: Session, ctx: Context, user: User, data: IdentificationIn) -> Identification:
    with transaction(session, user.username):
        body = get_body(session, data.body)
        person = get_missing_person(session, user, data.missing_person)
        for held, what in ((_standing_for(session, body_id=body.id), f"body {body.number}"),
                           (_standing_for(session, person_id=person.id), f"missing person {person.number}")):
            if held is not None:
                raise Conflict(f"{what} already has a {held.status.value} identification ({held.body.number} as {held.person.number}): "
                               "revoke it first", field="body")
        tables = _tables(session)
        candidate = matching.explain(tables.am, tables.pm, tables.person_row(person), tables.body_row(body), tables.model,
                                     tables.dna.get((body.id, person.id)))
        identification = Identification(body_id=body.id, missing_person_id=person.id, score=candidate.weight,
                                        proposed_by=user.username, proposed_at=ctx.decided_at(data.at, body.recovery.recovered_at, "recovery"))
        session.add(identification)
        session.flush()
    return identification


def get_identification(session: Session, identification_id: int) -> Identification:
    found = session.get(Identification, identification_id)
    if found is None:
        raise NotFound(f"identification {identification_id} not found")
    return found


def confirm_identification(session: Session, ctx: Context, user: User, identification_id: int, data: ConfirmIn) -> Identification:
    """Confirm only on a primary identifier that stands, or a board's reasoned decision."""
    with transaction(session, user.username):
        ident = get_identification(session, identification_id)
        if ident.status is not IdentificationStatus.proposed:
            raise Conflict(f"identification {identification_id} is {ident.status.value}, not proposed")
        body, person = ident.body, ident.person
        if person.last_seen_on is not None and person.last_seen_on > body.recovery.recovered_on:
            raise Invalid(f"{person.number} was last seen on {person.last_seen_on}, after body {body.number} was recovered "
                          f"on {body.recovery.recovered_on}", field="body.basis")
        dna_id = None
        if data.basis is IdentificationBasis.dna:
            dna_id = _undisputed_dna(session, body, person)
        elif data.basis is IdentificationBasis.fingerprints and not body.fingerprints_taken:
            raise Invalid(f"no fingerprints were taken from body {body.number}", field="body.basis")
        elif data.basis is IdentificationBasis.dental:
            _dental_supports(body, person)
        elif data.basis is IdentificationBasis.board and len(set(data.board_members)) < BOARD_MINIMUM:
            raise Invalid(f"an identification board decision names at least {BOARD_MINIMUM} members", field="body.board_members")
        if data.basis is not IdentificationBasis.board and data.board_members:
            raise Invalid("board members are named only for a board decision", field="body.board_members")
        ident.status = IdentificationStatus.confirmed
        ident.basis, ident.basis_detail, ident.board_members = data.basis, data.detail, list(data.board_members)
        ident.dna_result_id = dna_id
        ident.confirmed_by, ident.confirmed_at = user.username, ctx.decided_at(data.at, ident.proposed_at, "proposal")
    return ident


def _undisputed_dna(session: Session, body: Body, person: MissingPerson) -> int:
    """The id of the pair's DNA result, refused unless its ratio settles the identity."""
    rows = session.execute(select(DnaResult.id, DnaResult.body_id, DnaResult.missing_person_id, DnaResult.likelihood_ratio)
                           .where((DnaResult.body_id == body.id) | (DnaResult.missing_person_id == person.id))).all()
    ratios = {(b, p): lr for _, b, p, lr in rows}
    pair = (body.id, person.id)
    own = next((row for row in rows if (row.body_id, row.missing_person_id) == pair), None)
    if own is None:
        raise Invalid(f"no DNA result for {body.number} against {person.number}", field="body.basis")
    if pair not in matching.undisputed(ratios):
        rival = max((lr for other, lr in ratios.items() if other != pair), default=0.0)
        raise Invalid(f"the DNA likelihood ratio {own.likelihood_ratio:.3g} is not undisputed: it must be at least "
                      f"{matching.UNDISPUTED_RATIO:,.0f} and {matching.UNDISPUTED_RATIO:,.0f} times the next ratio involving "
                      f"either record ({rival:.3g})", field="body.basis")
    return int(own.id)


def _dental_supports(body: Body, person: MissingPerson) -> None:
    if not body.dental or not person.dental:
        raise Invalid("a dental identification needs both a PM and an AM dental chart", field="body.basis")
    block = matching.compare(*matching.tables([ante_mortem(person)], [post_mortem(body)]))
    if int(block.discrepant[0, 0]) > 0:
        raise Invalid(f"the dental charts disagree on {int(block.discrepant[0, 0])} teeth", field="body.basis")
    if int(block.concordant[0, 0]) == 0:
        raise Invalid("the dental charts share no treated tooth: they cannot identify", field="body.basis")


def revoke_identification(session: Session, ctx: Context, user: User, identification_id: int, data: RevokeIn) -> Identification:
    with transaction(session, user.username):
        ident = get_identification(session, identification_id)
        if ident.status is IdentificationStatus.revoked:
            raise Conflict(f"identification {identification_id} is already revoked")
        ident.status = IdentificationStatus.revoked
        since = ident.confirmed_at or ident.proposed_at
        ident.revoked_by, ident.revoked_at, ident.revoke_reason = user.username, ctx.decided_at(data.at, since, "decision revoked"), data.reason
    return ident


def identification_out(ident: Identification) -> dict[str, Any]:
    return {**{c.key: getattr(ident, c.key) for c in Identification.__table__.columns},
            "body": ident.body.number, "missing_person": ident.person.number}


def list_identifications(session: Session, status: IdentificationStatus | None, limit: int, offset: int,
                         body_id: int | None = None) -> tuple[list[Identification], int]:
    query = select(Identification).options(selectinload(Identification.body), selectinload(Identification.person))
    if status is not None:
        query = query.where(Identification.status == status)
    if body_id is not None:
        query = query.where(Identification.body_id == body_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Identification.id.desc()).limit(limit).offset(offset))), total


def reconciliation(session: Session, *, bodies_offset: int, bodies_limit: int, persons_offset: int, persons_limit: int) -> dict[str, Any]:
    """A window of the grid of missing persons against bodies: identified, proposed, possible; the rest eliminated."""
    bodies = list(session.scalars(select(Body).options(selectinload(Body.recovery)).where(Body.kind == BodyKind.body)
                                  .order_by(Body.id).limit(bodies_limit).offset(bodies_offset)))
    persons = list(session.scalars(select(MissingPerson).order_by(MissingPerson.id).limit(persons_limit).offset(persons_offset)))
    tables = _tables(session)
    standing = _standing(session)
    taken_bodies = {b for (b, _), s in standing.items() if s is IdentificationStatus.confirmed}
    taken_persons = {p for (_, p), s in standing.items() if s is IdentificationStatus.confirmed}
    cells = []
    if bodies and persons:
        block = matching.compare(tables.am, tables.pm, np.array([tables.person_row(p) for p in persons]),
                                 np.array([tables.body_row(b) for b in bodies]))
        weight = block.weight(tables.model)
        for a, person in enumerate(persons):
            for p, body in enumerate(bodies):
                state = standing.get((body.id, person.id))
                w = round(float(weight[a, p]) + matching.dna_weight(tables.dna.get((body.id, person.id))), 3)
                if state is not None:
                    cells.append({"body": body.number, "missing_person": person.number, "weight": w,
                                  "state": "identified" if state is IdentificationStatus.confirmed else "proposed"})
                elif block.excluded[a, p]:
                    continue
                elif w >= POSSIBLE_WEIGHT and body.id not in taken_bodies and person.id not in taken_persons:
                    cells.append({"body": body.number, "missing_person": person.number, "state": "possible", "weight": w})
    return {"bodies": [b.number for b in bodies], "missing_persons": [p.number for p in persons], "cells": cells,
            "total_bodies": session.scalar(select(func.count()).select_from(Body).where(Body.kind == BodyKind.body)) or 0,
            "total_missing_persons": session.scalar(select(func.count()).select_from(MissingPerson)) or 0}


# --- handover --------------------------------------------------------------------------------------


def record_handover(session: Session, ctx: Context, user: User, data: HandoverIn) -> Handover:
    """Hand bodies to a side before a witness: each body's custody ends here, once."""
    at = ctx.instant(data.at, "body.at")
    if len(set(data.bodies)) != len(data.bodies):
        twice = sorted({n for n in data.bodies if data.bodies.count(n) > 1})
        raise Invalid(f"listed twice: {', '.join(twice)}", field="body.bodies")
    with transaction(session, user.username):
        bodies = {b.number: b for b in session.scalars(select(Body).where(Body.number.in_(data.bodies)).options(selectinload(Body.recovery)))}
        unknown = [n for n in data.bodies if n not in bodies]
        if unknown:
            raise Invalid(f"no such body: {', '.join(unknown)}", field="body.bodies")
        done = dict(session.execute(select(Body.number, Handover.number).join(HandoverBody, HandoverBody.body_id == Body.id)
                                    .join(Handover).where(Body.number.in_(data.bodies))).all())
        if done:
            listing = "; ".join(f"{b} in {h}" for b, h in sorted(done.items()))
            raise Conflict(f"already handed over: {listing}", field="body.bodies")
        sides = dict(session.execute(
            select(Body.number, MissingPerson.side).join(Identification, Identification.body_id == Body.id)
            .join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
            .where(Body.number.in_(data.bodies), Identification.status == IdentificationStatus.confirmed)).all())
        wrong = sorted(n for n, side in sides.items() if side is not data.to_side)
        if wrong:
            raise Invalid(f"identified as people of the other side: {', '.join(wrong)}", field="body.bodies")
        handover = Handover(
            number=f"HO-{at.year}-{_take_number(session, 'handover', at.year):04d}", to_side=data.to_side, at=at, place=data.place,
            receiving_organisation=data.receiving_organisation, receiving_person=data.receiving_person,
            witness_organisation=data.witness_organisation, witness_person=data.witness_person, released_by=data.released_by,
            notes=data.notes, recorded_by=user.username,
        )
        session.add(handover)
        session.flush()
        for i, number in enumerate(data.bodies):
            body = bodies[number]
            session.add(HandoverBody(handover_id=handover.id, body_id=body.id))
            _append_custody(session, ctx, body, user, kind=CustodyKind.handed_over, at=at, place=data.place,
                            released_by=data.released_by, received_by=f"{data.receiving_person} ({data.receiving_organisation})",
                            note=f"handover {handover.number}; witness {data.witness_organisation}", handover_id=handover.id,
                            field=f"body.bodies[{i}]")
    return handover


def get_handover(session: Session, user: User, handover_id: int) -> Handover:
    handover = session.scalar(_scoped(select(Handover).where(Handover.id == handover_id), user, Handover.to_side))
    if handover is None:
        raise NotFound(f"handover {handover_id} not found")
    return handover


def list_handovers(session: Session, user: User, *, limit: int, offset: int) -> tuple[list[Handover], int]:
    query = _scoped(select(Handover), user, Handover.to_side)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Handover.at.desc(), Handover.id.desc()).limit(limit).offset(offset))), total


def handover_out(session: Session, handover: Handover) -> dict[str, Any]:
    """The handover with, for each body, the particulars the receiving side is owed."""
    rows = session.execute(
        select(Body, MissingPerson).join(HandoverBody, HandoverBody.body_id == Body.id)
        .outerjoin(Identification, (Identification.body_id == Body.id) & (Identification.status == IdentificationStatus.confirmed))
        .outerjoin(MissingPerson, MissingPerson.id == Identification.missing_person_id)
        .where(HandoverBody.handover_id == handover.id).options(selectinload(Body.recovery)).order_by(Body.number)
    ).all()
    items = []
    for body, person in rows:
        item = Particulars(body=body.number, kind=body.kind, identified=person is not None, cause_of_death=body.cause_of_death,
                           died_on=body.died_on, place_of_death=body.recovery.place_name)
        if person is not None and person.side is handover.to_side:  # identified later as the other side's: not theirs to read
            item = item.model_copy(update={
                "side": person.side, "status": person.status, "service_number": person.service_number, "family_name": person.family_name,
                "given_names": person.given_names, "patronymic": person.patronymic, "born_on": person.born_on,
            })
        items.append(item)
    whole = sum(1 for i in items if i.kind is BodyKind.body)
    return {**{c.key: getattr(handover, c.key) for c in Handover.__table__.columns},
            "bodies": whole, "parts": len(items) - whole, "identified": sum(1 for i in items if i.identified and i.kind is BodyKind.body),
            "items": items}


# --- figures ---------------------------------------------------------------------------------------


def casualty_figures(session: Session, ctx: Context, since: date | None, until: date | None) -> dict[str, Any]:
    """Per side and day: missing reported, recovered, identified, handed over, deaths confirmed; never counting a part."""
    if since is not None and until is not None and until < since:
        raise Invalid("until is before since", field="query.until")
    try:
        return casualty_series(casualty_facts(session, ctx), since, until)
    except SpanTooLong as exc:
        raise Invalid(str(exc), field="query.since") from None


def casualty_facts(session: Session, ctx: Context) -> list[Fact]:
    """Every change to the casualty figures, dated by reporting day: the figures of any day are sums of these."""
    facts: list[Fact] = [Fact(day, side.value, "missing_reported") for day, side in session.execute(
        select(MissingPerson.reported_on, MissingPerson.side))]
    facts += [Fact(ctx.day(at), side.value, "recovered") for at, side in session.execute(
        select(Recovery.recovered_at, Recovery.side).join(Body, Body.recovery_id == Recovery.id).where(Body.kind == BodyKind.body))]
    steps: list[BodyStep] = []
    for body_id, side, at in session.execute(
            select(Body.id, Handover.to_side, Handover.at).join(HandoverBody, HandoverBody.body_id == Body.id)
            .join(Handover).where(Body.kind == BodyKind.body)):
        facts.append(Fact(ctx.day(at), side.value, "handed_over"))
        steps.append(BodyStep(ctx.day(at), 0, body_id, "handed_over", side.value))
    for body_id, side, confirmed_at, revoked_at in session.execute(
            select(Body.id, MissingPerson.side, Identification.confirmed_at, Identification.revoked_at)
            .join(Identification, Identification.body_id == Body.id).join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
            .where(Body.kind == BodyKind.body, Identification.confirmed_at.is_not(None))):
        facts.append(Fact(ctx.day(confirmed_at), side.value, "identified"))
        steps.append(BodyStep(ctx.day(confirmed_at), 1, body_id, "identified", side.value))
        if revoked_at is not None:
            facts.append(Fact(ctx.day(revoked_at), side.value, "identified", -1))
            steps.append(BodyStep(ctx.day(revoked_at), 2, body_id, "revoked", None))
    return facts + attribution_facts(steps)
