from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from peacewatch.core.blobs import blob_store
from peacewatch.core.i18n import request_language
from peacewatch.core.paging import counted, counted_responses
from peacewatch.core.problems import problem_responses, reader_gettext
from peacewatch.core.tabular import content_disposition
from peacewatch.core.visibility import Side
from peacewatch.core.web import MAX_ID, Humanitarian, HumanitarianOrLiaison, Limit, Offset, RecordId, SessionDep, SettingsDep
from peacewatch.remains import casualty_counts, custody_chain, handing_over, identifying, matching_cache, missing_persons, recovering, registry
from peacewatch.remains.charts import casualty_chart
from peacewatch.remains.figures import series_csv
from peacewatch.remains.models import IdentificationStatus
from peacewatch.remains.printing import handover_html, handover_pdf
from peacewatch.remains.schemas import (
    AM_NUMBER,
    BODY_NUMBER,
    BodyLink,
    BodyOut,
    CandidateOut,
    ChainReport,
    ConfirmIn,
    CustodyIn,
    CustodyOut,
    DnaResultIn,
    DnaResultOut,
    HandoverIn,
    HandoverOut,
    IdentificationIn,
    IdentificationOut,
    MissingPersonIn,
    MissingPersonOut,
    PostMortemIn,
    Reconciliation,
    RecoveryIn,
    RecoveryOut,
    RevokeIn,
)

Top = Annotated[int, Query(ge=1, le=100, description="How many candidates")]
BodyNumber = Annotated[str, Path(pattern=BODY_NUMBER, max_length=32, description="Body number, e.g. PW-2020-000123")]
AmNumber = Annotated[str, Path(pattern=AM_NUMBER, max_length=32, description="Missing-person number, e.g. AM-2020-000045")]
Search = Annotated[str | None, Query(max_length=100)]

recoveries = APIRouter(prefix="/api/v1/recoveries", tags=["remains"], responses=problem_responses(403, 404, 409))


@recoveries.get("", response_model=list[RecoveryOut], summary="Recoveries, newest first",
                responses=counted_responses())
def list_recoveries(session: SessionDep, user: Humanitarian, response: Response, since: date | None = None, until: date | None = None,
                    limit: Limit = 100, offset: Offset = 0) -> list[Any]:
    found = counted(response, recovering.list_recoveries(session, since=since, until=until, limit=limit, offset=offset))
    return [RecoveryOut.of(r) for r in found]


@recoveries.post("", response_model=RecoveryOut, status_code=201, summary="Record a recovery: each body and part gets its number")
def record_recovery(data: RecoveryIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    recovery = recovering.record_recovery(session, registry.Context.of(settings), user, data)
    return RecoveryOut.of(recovering.get_recovery(session, recovery.id))


@recoveries.get("/{recovery_id}", response_model=RecoveryOut)
def read_recovery(recovery_id: RecordId, session: SessionDep, user: Humanitarian) -> Any:
    return RecoveryOut.of(recovering.get_recovery(session, recovery_id))


bodies = APIRouter(prefix="/api/v1/bodies", tags=["remains"], responses=problem_responses(403, 404, 409))


@bodies.get("", response_model=list[BodyOut], summary="Bodies and body parts with their PM record, custody and identity",
            responses=counted_responses())
def list_bodies(session: SessionDep, user: Humanitarian, response: Response, recovery_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                q: Search = None, unidentified: bool = False,
                awaiting_handover: Annotated[bool, Query(description="Only bodies not yet handed over to a side")] = False,
                limit: Limit = 100, offset: Offset = 0) -> list[BodyOut]:
    found = counted(response, recovering.list_bodies(session, recovery_id=recovery_id, q=q, unidentified=unidentified,
                                                     awaiting_handover=awaiting_handover, limit=limit, offset=offset))
    return recovering.bodies_out(session, found)


@bodies.get("/{number}", response_model=BodyOut)
def read_body(number: BodyNumber, session: SessionDep, user: Humanitarian) -> BodyOut:
    return recovering.bodies_out(session, [registry.get_body(session, number)])[0]


@bodies.put("/{number}/post-mortem", response_model=BodyOut, summary="Record the PM examination (the history keeps earlier versions)")
def record_post_mortem(number: BodyNumber, data: PostMortemIn, session: SessionDep, user: Humanitarian) -> BodyOut:
    return recovering.bodies_out(session, [recovering.record_post_mortem(session, user, number, data)])[0]


@bodies.put("/{number}/part-of", response_model=BodyOut, summary="Link a body part to the body it belongs to")
def link_part(number: BodyNumber, data: BodyLink, session: SessionDep, user: Humanitarian) -> BodyOut:
    return recovering.bodies_out(session, [recovering.link_part(session, user, number, data.part_of)])[0]


@bodies.get("/{number}/custody", response_model=list[CustodyOut], summary="The body's chain of custody, oldest first")
def custody(number: BodyNumber, session: SessionDep, user: Humanitarian) -> list[Any]:
    return custody_chain.custody_events(session, registry.get_body(session, number))


@bodies.post("/{number}/custody", response_model=CustodyOut, status_code=201,
             summary="Add a custody event (stored, examined, transferred, buried); past events never change")
def add_custody(number: BodyNumber, data: CustodyIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    return custody_chain.record_custody(session, registry.Context.of(settings), user, number, data)


@bodies.get("/{number}/candidates", response_model=list[CandidateOut], summary="Missing persons this body may be, best first, explained")
def body_candidates(number: BodyNumber, session: SessionDep, user: Humanitarian, top: Top = 10) -> list[Any]:
    return matching_cache.candidates_for_body(session, number, top)


custody_router = APIRouter(prefix="/api/v1/custody", tags=["remains"], responses=problem_responses(403, 404))


@custody_router.get("/verify", response_model=ChainReport, summary="Check every chain of custody (or the bodies named) for tampering")
def verify_custody(session: SessionDep, settings: SettingsDep, user: Humanitarian,
                   body: Annotated[list[Annotated[str, Query(pattern=BODY_NUMBER, max_length=32)]] | None,
                                   Query(max_length=500)] = None) -> ChainReport:
    return custody_chain.verify_custody(session, registry.Context.of(settings), body, rehash=blob_store(settings).rehash)


missing = APIRouter(prefix="/api/v1/missing-persons", tags=["remains"], responses=problem_responses(403, 404, 409))


@missing.get("", response_model=list[MissingPersonOut], summary="Missing-person reports (a liaison sees those its side filed)",
             responses=counted_responses())
def list_missing(session: SessionDep, user: HumanitarianOrLiaison, response: Response, side: Side | None = None, q: Search = None,
                 unidentified: bool = False, limit: Limit = 100, offset: Offset = 0) -> list[Any]:
    found = counted(response, missing_persons.list_missing_persons(session, user, side=side, q=q, unidentified=unidentified,
                                                                   limit=limit, offset=offset))
    return missing_persons.persons_out(session, found)


@missing.post("", response_model=MissingPersonOut, status_code=201, summary="File a missing-person report with its AM record",
              responses={200: {"model": MissingPersonOut, "description": "A resend: the report first filed under this client_id"}})
def file_missing(data: MissingPersonIn, session: SessionDep, user: HumanitarianOrLiaison, response: Response) -> Any:
    person, created = missing_persons.file_missing_person(session, user, data)
    if not created:
        response.status_code = 200
    return missing_persons.persons_out(session, [person])[0]


@missing.get("/{number}", response_model=MissingPersonOut)
def read_missing(number: AmNumber, session: SessionDep, user: HumanitarianOrLiaison) -> Any:
    return missing_persons.persons_out(session, [missing_persons.get_missing_person(session, user, number)])[0]


@missing.get("/{number}/candidates", response_model=list[CandidateOut], summary="Bodies this person may be, best first, explained")
def person_candidates(number: AmNumber, session: SessionDep, user: Humanitarian, top: Top = 10) -> list[Any]:
    return matching_cache.candidates_for_person(session, number, top, user)


dna = APIRouter(prefix="/api/v1/dna-results", tags=["remains"], responses=problem_responses(403))


@dna.post("", response_model=list[DnaResultOut], status_code=201, summary="Store a laboratory's likelihood ratios, all or none")
def record_dna(data: list[DnaResultIn], session: SessionDep, user: Humanitarian) -> list[Any]:
    matching_cache.record_dna(session, user, data)
    pairs = {(d.body, d.missing_person) for d in data}
    return [r for r in matching_cache.dna_results(session) if (r.body, r.missing_person) in pairs]


@dna.get("", response_model=list[DnaResultOut], summary="Likelihood ratios, with whether each settles an identity")
def list_dna(session: SessionDep, user: Humanitarian,
             record: Annotated[str | None, Query(max_length=32, description="A body or AM number")] = None) -> list[Any]:
    return matching_cache.dna_results(session, record)


identifications = APIRouter(prefix="/api/v1/identifications", tags=["remains"], responses=problem_responses(403, 404, 409))


@identifications.get("", response_model=list[IdentificationOut],
                     responses=counted_responses())
def list_identifications(session: SessionDep, user: Humanitarian, response: Response, status: IdentificationStatus | None = None,
                         limit: Limit = 100, offset: Offset = 0) -> list[Any]:
    found = counted(response, identifying.list_identifications(session, status, limit, offset))
    return [IdentificationOut.of(i) for i in found]


@identifications.post("", response_model=IdentificationOut, status_code=201, summary="Propose that a body is a missing person")
def propose(data: IdentificationIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    return IdentificationOut.of(identifying.propose_identification(session, registry.Context.of(settings), user, data))


@identifications.post("/{identification_id}/confirmation", response_model=IdentificationOut,
                      summary="Confirm on DNA, fingerprints or dental evidence, or an identification board's decision")
def confirm(identification_id: RecordId, data: ConfirmIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    return IdentificationOut.of(identifying.confirm_identification(session, registry.Context.of(settings), user, identification_id, data))


@identifications.post("/{identification_id}/revocation", response_model=IdentificationOut, summary="Revoke, with the reason")
def revoke(identification_id: RecordId, data: RevokeIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    return IdentificationOut.of(identifying.revoke_identification(session, registry.Context.of(settings), user, identification_id, data))


reconciliation = APIRouter(prefix="/api/v1/reconciliation", tags=["remains"], responses=problem_responses(403))
Window = Annotated[int, Query(ge=1, le=200)]


@reconciliation.get("", response_model=Reconciliation, summary="Missing persons against bodies: identified, proposed, possible, eliminated")
def reconcile(session: SessionDep, user: Humanitarian, bodies_offset: Offset = 0, bodies_limit: Window = 50,
              persons_offset: Offset = 0, persons_limit: Window = 50,
              open_only: Annotated[bool, Query(description="Only the bodies and persons not yet identified: the cases "
                                                           "left to decide")] = False,
              decidable_only: Annotated[bool, Query(description="Only the open bodies and persons that have at least "
                                                                "one candidate (implies open_only)")] = False) -> Any:
    return identifying.reconciliation(session, bodies_offset=bodies_offset, bodies_limit=bodies_limit,
                                      persons_offset=persons_offset, persons_limit=persons_limit, open_only=open_only,
                                      decidable_only=decidable_only)


handovers = APIRouter(prefix="/api/v1/handovers", tags=["remains"], responses=problem_responses(403, 404, 409))


@handovers.get("", response_model=list[HandoverOut], summary="Handovers, newest first (a liaison sees those to its side)",
               responses=counted_responses())
def list_handovers(session: SessionDep, user: HumanitarianOrLiaison, response: Response, limit: Limit = 100, offset: Offset = 0) -> list[Any]:
    found = counted(response, handing_over.list_handovers(session, user, limit=limit, offset=offset))
    return [handing_over.handover_out(session, h) for h in found]


@handovers.post("", response_model=HandoverOut, status_code=201, summary="Hand bodies over to a side before a witness")
def record_handover(data: HandoverIn, session: SessionDep, settings: SettingsDep, user: Humanitarian) -> Any:
    return handing_over.handover_out(session, handing_over.record_handover(session, registry.Context.of(settings), user, data))


@handovers.get("/{handover_id}", response_model=HandoverOut)
def read_handover(handover_id: RecordId, session: SessionDep, user: HumanitarianOrLiaison) -> Any:
    return handing_over.handover_out(session, handing_over.get_handover(session, user, handover_id))


@handovers.get(
    "/{handover_id}/list", response_class=Response, summary="The printable handover list (HTML or PDF)",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}},
                                 "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
def handover_list(request: Request, handover_id: RecordId, session: SessionDep, settings: SettingsDep, user: HumanitarianOrLiaison,
                  format: Literal["html", "pdf"] = "html",
                  lang: Annotated[Literal["en", "ru"] | None, Query(description="Default: the reader's language")] = None) -> Response:
    data = handing_over.handover_out(session, handing_over.get_handover(session, user, handover_id))
    language = lang or request_language(request)
    if format == "pdf":
        return Response(handover_pdf(data, settings.zone, language), media_type="application/pdf",
                        headers=content_disposition(f"{data.number}-{language}.pdf", "inline"))
    return Response(handover_html(data, settings.zone, language), media_type="text/html; charset=utf-8",
                    headers={"Content-Language": language})


figures = APIRouter(prefix="/api/v1/casualty-figures", tags=["remains"])


@figures.get(
    "", summary="Per side and day: missing reported, recovered, identified, handed over, deaths confirmed (aggregates: public)",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}},
               **problem_responses(422)},
)
def casualty_figures(session: SessionDep, settings: SettingsDep, since: date | None = None, until: date | None = None,
                     format: Literal["json", "csv"] = "json") -> Response:
    series = casualty_counts.casualty_figures(session, registry.Context.of(settings), since, until)
    if format == "csv":
        return Response(series_csv(series), media_type="text/csv; charset=utf-8",
                        headers=content_disposition("casualty-figures.csv"))
    return Response(orjson.dumps(series), media_type="application/json")


@figures.get("/chart", response_class=Response, summary="The running totals as a PNG chart",
             responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}, **problem_responses(422)})
def casualty_figures_chart(request: Request, session: SessionDep, settings: SettingsDep, since: date | None = None,
                           until: date | None = None) -> Response:
    series = casualty_counts.casualty_figures(session, registry.Context.of(settings), since, until)
    return Response(casualty_chart(series, gettext=reader_gettext(request)), media_type="image/png")  # the reader's language


ROUTERS = (recoveries, bodies, custody_router, missing, dna, identifications, reconciliation, handovers, figures)
