from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from peacewatch.core.answers import model_answer
from peacewatch.core.db import as_utc
from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, content_disposition, csv_response
from peacewatch.core.web import (
    MAX_ID,
    AnswersDep,
    IncidentReporter,
    Limit,
    Offset,
    Operations,
    Readable,
    RecordId,
    SessionDep,
    SettingsDep,
    Staff,
)
from peacewatch.incidents import event_summaries, merge_proposals, report_records, verification
from peacewatch.incidents.charts import figures_chart
from peacewatch.incidents.figures import figures_csv
from peacewatch.incidents.models import IncidentStatus, IncidentType, ProposalStatus, SourceKind
from peacewatch.incidents.schemas import (
    DecisionIn,
    EventOut,
    FromTakIn,
    HistoryEntry,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    MatchRun,
    ProposalOut,
    SplitIn,
    VerificationIn,
    VerificationOut,
)

Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=problem_responses(403, 404, 409))


@router.get("", response_model=list[IncidentOut], summary="Incident reports, newest first (a liaison sees its side's)",
            responses=counted_responses(CSV_OR_JSON))
def list_incidents(
    request: Request,
    session: SessionDep,
    readable: Readable,
    answers: AnswersDep,
    type: IncidentType | None = None,
    status: IncidentStatus | None = None,
    source: SourceKind | None = None,
    zone_id: Id = None,
    district_id: Id = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the narrative or place name")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: ListFormat = "json",
) -> Any:
    filters = {"type": type, "status": status, "source": source, "zone_id": zone_id, "district_id": district_id,
               "since": as_utc(since, field="query.since"), "until": as_utc(until, field="query.until"), "search": q}

    def build() -> Response:
        total = report_records.count_incidents(session, readable, **filters)
        listed = report_records.list_incidents(session, readable, limit=limit, offset=offset, **filters)
        found = report_records.incidents_out(session, readable, listed)
        if format == "csv":  # the reports as recorded; events in ACLED's columns are at /incident-events/export
            return with_total(csv_response(found, "incidents.csv"), total)
        return with_total(model_answer(list[IncidentOut], found), total)

    return answers.reply(request, session, readable, ("incidents",), build)


@router.post(
    "", response_model=IncidentOut, status_code=201, summary="Report an incident",
    responses={200: {"model": IncidentOut, "description": "A resend: the report first stored under this client_id"}},
)
def report_incident(data: IncidentIn, session: SessionDep, settings: SettingsDep, user: IncidentReporter, response: Response) -> Any:
    incident, created = report_records.create_incident(session, report_records.Rules.of(settings), user, data)
    if not created:
        response.status_code = 200
    return report_records.incidents_out(session, user.readable, [incident])[0]


@router.post("/from-tak/{report_id}", response_model=IncidentOut, status_code=201,
             summary="Make an incident report of a marker or spot report a TAK user placed (GET /api/v1/cot/reports)")
def incident_from_tak(report_id: RecordId, data: FromTakIn, session: SessionDep, settings: SettingsDep, user: Operations) -> Any:
    incident = report_records.incident_from_tak(session, report_records.Rules.of(settings), user, report_id, data)
    return report_records.incidents_out(session, user.readable, [incident])[0]


@router.get("/{incident_id}", response_model=IncidentOut)
def read_incident(incident_id: RecordId, session: SessionDep, readable: Readable) -> Any:
    return report_records.incidents_out(session, readable, [report_records.get_incident(session, incident_id, readable)])[0]


@router.patch("/{incident_id}", response_model=IncidentOut, summary="Correct a report (the history keeps the old values)")
def correct_incident(incident_id: RecordId, changes: IncidentPatch, session: SessionDep, settings: SettingsDep, user: Operations) -> Any:
    corrected = report_records.update_incident(session, report_records.Rules.of(settings), user, incident_id, changes)
    return report_records.incidents_out(session, user.readable, [corrected])[0]


@router.post("/{incident_id}/verification", response_model=IncidentOut, summary="One step of verification, with who checked and why")
def verify_incident(incident_id: RecordId, data: VerificationIn, session: SessionDep, user: Operations) -> Any:
    return report_records.incidents_out(session, user.readable, [verification.verify(session, user, incident_id, data)])[0]


@router.get("/{incident_id}/verification", response_model=list[VerificationOut])
def verification_steps(incident_id: RecordId, session: SessionDep, user: Staff) -> list[VerificationOut]:
    incident = report_records.get_incident(session, incident_id, None)
    return [VerificationOut.model_validate(v) for v in verification.verifications(session, incident)]


@router.get("/{incident_id}/history", response_model=list[HistoryEntry], summary="Every change to the report, field by field")
def incident_history(incident_id: RecordId, session: SessionDep, user: Staff) -> list[Any]:
    return verification.history(session, report_records.get_incident(session, incident_id, None))


events = APIRouter(prefix="/api/v1/incident-events", tags=["incidents"], responses=problem_responses(403))


@events.get("", response_model=list[EventOut], summary="Events (reports merged), in reporting days since..until")
def list_events(session: SessionDep, settings: SettingsDep, user: Staff, since: date | None = None, until: date | None = None) -> list[Any]:
    return [event_summaries.event_out(e) for e in event_summaries.events_between(session, *event_summaries.span(settings, since, until))]


@events.get(
    "/export", response_class=Response, summary="Events as GeoJSON, or as CSV with the ACLED columns",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}},
)
def export_events(
    session: SessionDep, settings: SettingsDep, user: Staff, format: Literal["geojson", "acled"] = "geojson",
    since: date | None = None, until: date | None = None,
) -> Response:
    body, media_type = event_summaries.export_events(session, settings, format, since, until)
    headers = content_disposition("incidents-acled.csv") if format == "acled" else {}
    return Response(body, media_type=media_type, headers=headers)


figures = APIRouter(prefix="/api/v1/incident-figures", tags=["incidents"], responses=problem_responses(403))


@figures.get(
    "", summary="Daily figures: events and effects by type, area, district and actor; casualties; restrictions of movement",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def daily(
    session: SessionDep, settings: SettingsDep, user: Staff, since: date | None = None, until: date | None = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    result = event_summaries.figures(session, settings, since, until)
    if format == "csv":
        return Response(figures_csv(result), media_type="text/csv",
                        headers=content_disposition("incident-figures.csv"))
    return Response(orjson.dumps(result), media_type="application/json")


@figures.get("/chart", response_class=Response, summary="The figures as a PNG chart for the bulletin",
             responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def chart(session: SessionDep, settings: SettingsDep, user: Staff, since: date | None = None, until: date | None = None) -> Response:
    return Response(figures_chart(event_summaries.figures(session, settings, since, until)), media_type="image/png")


proposals = APIRouter(prefix="/api/v1/merge-proposals", tags=["incidents"], responses=problem_responses(403, 404, 409))


@proposals.get("", response_model=list[ProposalOut], summary="Reports the matcher believes describe one event",
               responses=counted_responses())
def list_proposals(response: Response, session: SessionDep, user: Staff, status: ProposalStatus | None = None,
                   limit: Limit = 100, offset: Offset = 0) -> list[Any]:
    page = merge_proposals.list_proposals(session, status, limit, offset)
    return [merge_proposals.proposal_out(session, p) for p in counted(response, page)]


@proposals.post("/run", response_model=MatchRun, summary="Cluster the whole history in space and time and propose merges")
def run(session: SessionDep, settings: SettingsDep, user: Operations) -> Any:
    return merge_proposals.run_matching(session, user.username, report_records.Rules.of(settings).tolerance)


@proposals.get("/{proposal_id}", response_model=ProposalOut)
def read_proposal(proposal_id: RecordId, session: SessionDep, user: Staff) -> Any:
    return merge_proposals.proposal_out(session, merge_proposals.get_proposal(session, proposal_id))


@proposals.post("/{proposal_id}/accept", response_model=ProposalOut, summary="The reports are one event")
def accept(proposal_id: RecordId, data: DecisionIn, session: SessionDep, user: Operations) -> Any:
    return merge_proposals.proposal_out(session, merge_proposals.accept(session, user.username, proposal_id, data.reason))


@proposals.post("/{proposal_id}/split", response_model=ProposalOut, summary="The reports are several events (groups, or one each)")
def split(proposal_id: RecordId, data: SplitIn, session: SessionDep, user: Operations) -> Any:
    return merge_proposals.proposal_out(session, merge_proposals.split(session, user.username, proposal_id, data))
