"""Recording public statements and answering them from the mandate's records."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from peacewatch.claims.checking import Finding, Terms, Verdict, check_participation
from peacewatch.claims.models import Stance, Statement, Subject
from peacewatch.claims.schemas import ClaimCheck, MandateCited, RelatedStatement, StatementIn, StatementOut, state_name
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.i18n import N_
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid, NotFound
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.mandate.models import Arrangement, Mandate
from peacewatch.mandate.schemas import ArrangementOut
from peacewatch.mandate.service import get_mandate, list_arrangements

MAX_RELATED = 20


def create_statement(session: Session, actor: str, data: StatementIn) -> Statement:
    with transaction(session, actor):
        if data.stated_on > utcnow().date():
            raise Invalid("is in the future", field="body.stated_on")
        if data.responds_to_id is not None:
            answered = session.get(Statement, data.responds_to_id)
            if answered is None:
                raise Invalid("statement {responds_to_id} does not exist", field="body.responds_to_id", responds_to_id=data.responds_to_id)
            if answered.stated_on > data.stated_on:
                raise Invalid("statement {answered} was made later ({stated_on})",
                              field="body.responds_to_id", answered=answered.id, stated_on=answered.stated_on.isoformat())
        statement = Statement(**data.model_dump())
        session.add(statement)
    return statement


def get_statement(session: Session, statement_id: int, readable: Scope) -> Statement:
    return get_visible(session, Statement, statement_id, readable, "statement")


def list_statements(session: Session, readable: Scope, *, subject_state: str | None = None,
                    limit: int = 100, offset: int = 0) -> Paged[Statement]:
    query = select(Statement).order_by(Statement.stated_on.desc(), Statement.id.desc())
    query = where_visible(query, Statement.visibility, readable)
    if subject_state is not None:
        query = query.where(Statement.subject_state == subject_state.upper())
    return paged(session, query, limit=limit, offset=offset)


def _terms(a: Arrangement) -> Terms:
    return Terms(a.id, a.name, tuple(a.states), a.starts_on, a.ends_on, a.place, a.staff_per_state, a.means,
                 a.troops_in_areas)


NOT_CHECKABLE = N_("no rule checks this subject: read the related statements")
NO_MANDATE = N_("no mandate is configured to check it against")


def _finding(statement: Statement, on: date, mandate: Mandate | None, arrangements: list[Arrangement]) -> Finding:
    if statement.subject is not Subject.participation or statement.subject_state is None:
        return Finding(Verdict.not_checkable, NOT_CHECKABLE, False, (), NOT_CHECKABLE, {})
    if mandate is None:
        return Finding(Verdict.not_checkable, NO_MANDATE, False, (), NO_MANDATE, {})
    contributors = [c["code"] for c in mandate.contributors_on(on)]
    return check_participation(statement.subject_state, state_name(statement.subject_state), on,
                               denies=statement.stance is Stance.denies, contributors=contributors,
                               arrangements=[_terms(a) for a in arrangements])


def statement_out(statement: Statement, verdict: Verdict) -> StatementOut:
    return StatementOut.model_validate({
        **{k: getattr(statement, k) for k in StatementIn.model_fields},
        "id": statement.id, "created_at": statement.created_at, "verdict": verdict,
        "state_name": state_name(statement.state),
        "subject_state_name": None if statement.subject_state is None else state_name(statement.subject_state),
    })


def statements_with_verdicts(session: Session, readable: Scope, *, subject_state: str | None = None,
                             limit: int = 100, offset: int = 0) -> Paged[StatementOut]:
    """Statements, each checked on the day it was made."""
    statements = list_statements(session, readable, subject_state=subject_state, limit=limit, offset=offset)
    if not statements.items:
        return Paged([], statements.total)
    mandate, arrangements = _mandate_or_none(session, readable), list_arrangements(session, readable)
    return Paged([statement_out(s, _finding(s, s.stated_on, mandate, arrangements).verdict) for s in statements.items], statements.total)


def _mandate_or_none(session: Session, readable: Scope) -> Mandate | None:
    try:
        return get_mandate(session, readable)
    except NotFound:
        return None


def statement_with_verdict(session: Session, statement: Statement) -> StatementOut:
    return statement_out(statement, _finding(statement, statement.stated_on, _mandate_or_none(session, None),
                                             list_arrangements(session, None)).verdict)


def check_statement(session: Session, readable: Scope, statement_id: int, on: date | None = None) -> ClaimCheck:
    """The verdict on a statement on ``on`` (default: the day it was made), citing the records it rests on."""
    statement = get_statement(session, statement_id, readable)
    on = on or statement.stated_on
    mandate, arrangements = get_mandate(session, readable), list_arrangements(session, readable)
    found = _finding(statement, on, mandate, arrangements)
    cited = [t.id for t in found.arrangements]
    return ClaimCheck(
        statement_id=statement.id, on=on, verdict=found.verdict, reason=found.reason,
        reason_sentence=found.sentence, reason_values=found.values or {},
        mandate=MandateCited(id=mandate.id, name=mandate.name, source=mandate.source,
                             contributors=[f"{c['code']} ({c['name']})" for c in mandate.contributors_on(on)]),
        arrangements=[ArrangementOut.model_validate(a) for a in arrangements if a.id in cited],
        related=_related(session, readable, statement),
    )


def _related(session: Session, readable: Scope, statement: Statement) -> list[RelatedStatement]:
    """The statement it answers, those answering it, then others on the same state's participation."""
    links = [Statement.responds_to_id == statement.id]
    if statement.responds_to_id is not None:
        links.append(Statement.id == statement.responds_to_id)
    if statement.subject_state is not None:
        links.append((Statement.subject == statement.subject) & (Statement.subject_state == statement.subject_state))
    query = select(Statement).where(or_(*links), Statement.id != statement.id)
    query = where_visible(query, Statement.visibility, readable)
    found = session.scalars(query.order_by(Statement.stated_on, Statement.id).limit(MAX_RELATED))

    def relation(s: Statement) -> str:
        if s.id == statement.responds_to_id:
            return "responds to"
        return "answered by" if s.responds_to_id == statement.id else "same subject"

    order = {"responds to": 0, "answered by": 1, "same subject": 2}
    related = [RelatedStatement(id=s.id, relation=relation(s), speaker=s.speaker, office=s.office, state=s.state,
                                stated_on=s.stated_on, stance=s.stance, quote=s.quote, paraphrase=s.paraphrase,
                                source=s.source, link=s.link)
               for s in found]
    return sorted(related, key=lambda r: order[r.relation])
