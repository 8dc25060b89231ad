"""Identifications: proposed, confirmed on a primary identifier or by a board, revoked; the reconciliation grid."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.auth import User
from peacewatch.core.db import transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.remains import matching
from peacewatch.remains.matching_cache import Tables, ante_mortem, matching_tables, post_mortem, standing_identifications
from peacewatch.remains.missing_persons import get_missing_person
from peacewatch.remains.models import (
    Body,
    BodyKind,
    DnaResult,
    Identification,
    IdentificationBasis,
    IdentificationStatus,
    MissingPerson,
)
from peacewatch.remains.registry import Context, get_body
from peacewatch.remains.schemas import ConfirmIn, IdentificationIn, Reconciliation, ReconciliationCell, RevokeIn

BOARD_MINIMUM = 3
POSSIBLE_WEIGHT = 0.0  # a pair not blocked and weighing at least this is a "possible" cell


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
                raise Conflict("{what} already has a {status} identification ({body_number} as {person_number}): revoke it first",
                               field="body", what=what, status=held.status.value, body_number=held.body.number, person_number=held.person.number)
        tables = matching_tables(session)
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
        raise NotFound("identification {identification_id} not found", identification_id=identification_id)
    return found


def confirm_identification(session: Session, ctx: Context, user: User, identification_id: int, data: ConfirmIn) -> Identification:
    """Confirm only on a primary identifier that stands, or a board's reasoned decision."""
    with transaction(session, user.username):
        ident = get_identification(session, identification_id)
        if ident.status is not IdentificationStatus.proposed:
            raise Conflict("identification {identification_id} is {status}, not proposed",
                           identification_id=identification_id, status=ident.status.value)
        body, person = ident.body, ident.person
        if person.last_seen_on is not None and person.last_seen_on > body.recovery.recovered_on:
            raise Invalid("{person_number} was last seen on {last_seen_on}, after body {body_number} was recovered on {recovered_on}",
                          field="body.basis", person_number=person.number, last_seen_on=person.last_seen_on, body_number=body.number,
                          recovered_on=body.recovery.recovered_on)
        dna_id = None
        if data.basis is IdentificationBasis.dna:
            dna_id = _undisputed_dna(session, body, person)
        elif data.basis is IdentificationBasis.fingerprints and not body.fingerprints_taken:
            raise Invalid("no fingerprints were taken from body {body_number}", field="body.basis", body_number=body.number)
        elif data.basis is IdentificationBasis.dental:
            _dental_supports(body, person)
        elif data.basis is IdentificationBasis.board and len(set(data.board_members)) < BOARD_MINIMUM:
            raise Invalid("an identification board decision names at least {BOARD_MINIMUM} members",
                          field="body.board_members", BOARD_MINIMUM=BOARD_MINIMUM)
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
        raise Invalid("no DNA result for {body_number} against {person_number}",
                      field="body.basis", body_number=body.number, person_number=person.number)
    if pair not in matching.undisputed(ratios):
        rival = max((lr for other, lr in ratios.items() if other != pair), default=0.0)
        raise Invalid("the DNA likelihood ratio {likelihood_ratio:.3g} is not undisputed: it must be at least "
                      "{UNDISPUTED_RATIO:,.0f} and {UNDISPUTED_RATIO:,.0f} times the next ratio involving either record "
                      "({rival:.3g})", field="body.basis", likelihood_ratio=own.likelihood_ratio,
                      UNDISPUTED_RATIO=matching.UNDISPUTED_RATIO, rival=rival)
    return int(own.id)


def _dental_supports(body: Body, person: MissingPerson) -> None:
    if not body.dental or not person.dental:
        raise Invalid("a dental identification needs both a PM and an AM dental chart", field="body.basis")
    block = matching.compare(*matching.tables([ante_mortem(person)], [post_mortem(body)]))
    if int(block.discrepant[0, 0]) > 0:
        raise Invalid("the dental charts disagree on {value} teeth", field="body.basis", value=int(block.discrepant[0, 0]))
    if int(block.concordant[0, 0]) == 0:
        raise Invalid("the dental charts share no treated tooth: they cannot identify", field="body.basis")


def revoke_identification(session: Session, ctx: Context, user: User, identification_id: int, data: RevokeIn) -> Identification:
    with transaction(session, user.username):
        ident = get_identification(session, identification_id)
        if ident.status is IdentificationStatus.revoked:
            raise Conflict("identification {identification_id} is already revoked", identification_id=identification_id)
        ident.status = IdentificationStatus.revoked
        since = ident.confirmed_at or ident.proposed_at
        ident.revoked_by, ident.revoked_at, ident.revoke_reason = user.username, ctx.decided_at(data.at, since, "decision revoked"), data.reason
    return ident


def list_identifications(session: Session, status: IdentificationStatus | None, limit: int, offset: int,
                         body_id: int | None = None) -> Paged[Identification]:
    query = select(Identification).options(selectinload(Identification.body), selectinload(Identification.person))
    if status is not None:
        query = query.where(Identification.status == status)
    if body_id is not None:
        query = query.where(Identification.body_id == body_id)
    return paged(session, query.order_by(Identification.id.desc()), limit=limit, offset=offset)


DECIDABLE_PAIRS_MAX = 2_000_000  # open bodies × open persons weighed whole for the compact grid; beyond, a window
PERSONS_PER_BLOCK = 256  # persons weighed at once against every open body: bounded memory


def reconciliation(session: Session, *, bodies_offset: int, bodies_limit: int, persons_offset: int, persons_limit: int,
                   open_only: bool = False, decidable_only: bool = False) -> Reconciliation:
    """A window of the grid of missing persons against bodies: identified, proposed, possible; the rest eliminated.

    ``open_only`` leaves out the bodies and the persons already identified: the cases left to decide, a much
    smaller grid than everyone against everything. ``decidable_only`` (implies ``open_only``) also leaves out the
    bodies and persons with no candidate at all, so that the window is not a sheet of empty cells: it weighs
    every open pair, in blocks, when there are at most ``DECIDABLE_PAIRS_MAX`` of them."""
    confirmed = select(Identification).where(Identification.status == IdentificationStatus.confirmed)
    body_query = select(Body).where(Body.kind == BodyKind.body)
    person_query = select(MissingPerson)
    if open_only or decidable_only:
        body_query = body_query.where(~Body.id.in_(confirmed.with_only_columns(Identification.body_id)))
        person_query = person_query.where(~MissingPerson.id.in_(confirmed.with_only_columns(Identification.missing_person_id)))
    total_bodies = session.scalar(select(func.count()).select_from(body_query.subquery())) or 0
    total_persons = session.scalar(select(func.count()).select_from(person_query.subquery())) or 0
    body_query = body_query.options(selectinload(Body.recovery)).order_by(Body.id)
    person_query = person_query.order_by(MissingPerson.id)
    tables, standing = matching_tables(session), standing_identifications(session)
    if decidable_only and total_bodies * total_persons <= DECIDABLE_PAIRS_MAX:
        bodies, persons = list(session.scalars(body_query)), list(session.scalars(person_query))
        cells = [cell for start in range(0, len(persons), PERSONS_PER_BLOCK)
                 for cell in _grid_cells(tables, standing, persons[start:start + PERSONS_PER_BLOCK], bodies)]
        with_body = {c.body for c in cells}
        with_person = {c.missing_person for c in cells}
        bodies = [b for b in bodies if b.number in with_body]
        persons = [p for p in persons if p.number in with_person]
        total_bodies, total_persons = len(bodies), len(persons)
        bodies = bodies[bodies_offset:bodies_offset + bodies_limit]
        persons = persons[persons_offset:persons_offset + persons_limit]
        shown = {b.number for b in bodies}, {p.number for p in persons}
        cells = [c for c in cells if c.body in shown[0] and c.missing_person in shown[1]]
    else:
        bodies = list(session.scalars(body_query.limit(bodies_limit).offset(bodies_offset)))
        persons = list(session.scalars(person_query.limit(persons_limit).offset(persons_offset)))
        cells = _grid_cells(tables, standing, persons, bodies)
    return Reconciliation(bodies=[b.number for b in bodies], missing_persons=[p.number for p in persons], cells=cells,
                          total_bodies=total_bodies, total_missing_persons=total_persons)


def _grid_cells(tables: Tables, standing: dict[tuple[int, int], IdentificationStatus], persons: list[MissingPerson],
                bodies: list[Body]) -> list[ReconciliationCell]:
    """The grid's cells that are not eliminated, for these persons against these bodies.

    The pairs are weighed as one array; only the pairs that stay (a standing identification, or possible) are
    visited in Python, row by row as the grid reads, and their cells built without validation: their values are
    ours. A thousand bodies against a thousand persons is a million pairs, of which a few thousand stay."""
    if not bodies or not persons:
        return []
    taken_bodies = {b for (b, _), s in standing.items() if s is IdentificationStatus.confirmed}
    taken_persons = {p for (_, p), s in standing.items() if s is IdentificationStatus.confirmed}
    block = matching.compare(tables.am, tables.pm, np.array([tables.person_row(p) for p in persons]),
                             np.array([tables.body_row(b) for b in bodies]))
    weight = block.weight(tables.model)
    body_ids = [b.id for b in bodies]
    person_ids = [p.id for p in persons]
    column = {body_id: j for j, body_id in enumerate(body_ids)}
    row = {person_id: i for i, person_id in enumerate(person_ids)}
    dna = np.zeros(weight.shape)
    for (body_id, person_id), ratio in tables.dna.items():
        if body_id in column and person_id in row:
            dna[row[person_id], column[body_id]] = matching.dna_weight(ratio)
    total = weight + dna
    free = ~np.isin(np.array(person_ids), list(taken_persons))[:, None] & ~np.isin(np.array(body_ids), list(taken_bodies))[None, :]
    # a little below the bar: the bar is met by the weight rounded to three places, worked out exactly below
    kept = ~block.excluded & free & (total >= POSSIBLE_WEIGHT - 0.001)
    marked = {(row[p], column[b]): s for (b, p), s in standing.items() if b in column and p in row}
    for a, p in marked:
        kept[a, p] = True
    cells = []
    for a, p in zip(*np.nonzero(kept), strict=True):
        a, p = int(a), int(p)
        w = round(float(total[a, p]), 3)
        state = marked.get((a, p))
        if state is not None:
            cells.append(ReconciliationCell.model_construct(
                body=bodies[p].number, missing_person=persons[a].number, weight=w,
                state="identified" if state is IdentificationStatus.confirmed else "proposed"))
        elif w >= POSSIBLE_WEIGHT:
            cells.append(ReconciliationCell.model_construct(body=bodies[p].number, missing_person=persons[a].number,
                                                            state="possible", weight=w))
    return cells
