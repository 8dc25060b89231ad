"""Ceasefire monitoring's pages: the incident reports with their filters, and each report with its event."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from peacewatch.core.auth import (
    INCIDENT_REPORTER_ROLES,
    OPERATIONS_ROLES,
    PRESS_OR_OPERATIONS_ROLES,
    Role,
)
from peacewatch.core.i18n import N_, translations
from peacewatch.core.problems import NotFound
from peacewatch.core.visibility import Scope, Visibility
from peacewatch.core.web import SessionDep
from peacewatch.evidence import service as evidence
from peacewatch.evidence.models import RecordKind
from peacewatch.geography.service import list_posts
from peacewatch.incidents import event_summaries, merge_proposals, report_records, verification
from peacewatch.incidents.models import (
    Channel,
    IncidentStatus,
    IncidentType,
    PlacePrecision,
    ProposalStatus,
    Restriction,
    SourceKind,
    ViolationKind,
)
from peacewatch.patrols import service as patrol_service
from peacewatch.patrols.models import Patrol, PatrolStatus
from peacewatch.ui.pages import PER_PAGE, ListFilters, PageDep, day_after, day_start, optional_value, router

# the report's fields as its history names them: the form's words, not the columns'
HISTORY_FIELDS = {
    "status": N_("Status"), "type": N_("Type"), "subtype": N_("Kind of violation"), "visibility": N_("Visible to"),
    "narrative": N_("Narrative"), "started_at": N_("Start time"), "ended_at": N_("End time"), "lat": N_("Latitude"),
    "lon": N_("Longitude"), "place_name": N_("Near (place name)"), "place_precision": N_("Place precision"), "source": N_("Source"),
    "source_detail": N_("Source detail"), "event_count": N_("Count"), "event_id": N_("Event"), "alleged_actors": N_("Alleged actors"),
    "restriction": N_("Restriction of movement"), "denied": N_("What was denied"), "patrol_id": N_("Reporting patrol"),
    "post_id": N_("Reporting post"), "time_precision": N_("Time precision"),
}
HISTORY_ACTIONS = {"create": N_("reported"), "update": N_("changed"), "delete": N_("deleted")}

# how a report reaches the operations centre's staff, who type it in (the other channels are doors of their own)
TYPED_IN_CHANNELS = [Channel.radio, Channel.telephone, Channel.in_person, Channel.written, Channel.media_monitoring]


@dataclass
class IncidentFilters(ListFilters):
    type: IncidentType | None = None
    status: IncidentStatus | None = None
    source: SourceKind | None = None
    q: str | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1


def incident_filters(
    type: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[str, Query(max_length=6)] = "1",
) -> IncidentFilters:
    return IncidentFilters(
        type=optional_value(IncidentType, type), status=optional_value(IncidentStatus, status), source=optional_value(SourceKind, source),
        q=q or None, since=optional_value(date.fromisoformat, since), until=optional_value(date.fromisoformat, until),
        page=max(1, optional_value(int, page) or 1),
    )


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(page: PageDep, session: SessionDep, filters: Annotated[IncidentFilters, Depends(incident_filters)]) -> Response:
    user = page.require_user()
    since = day_start(filters.since)
    until = day_after(filters.until)
    criteria = {"type": filters.type, "status": filters.status, "source": filters.source, "since": since, "until": until,
                "search": filters.q}
    total = report_records.count_incidents(session, user.readable, **criteria)
    pages = max(1, math.ceil(total / PER_PAGE))
    rows = report_records.list_incidents(session, user.readable, **criteria, limit=PER_PAGE,
                                    offset=(min(filters.page, pages) - 1) * PER_PAGE)
    events = event_summaries.event_names(session, user.readable, {i.event_id for i in rows})
    files = evidence.files_on(session, RecordKind.incident, (str(i.id) for i in rows))
    internal = user.readable is None
    open_proposals = merge_proposals.list_proposals(session, ProposalStatus.open, limit=50).items if internal else []
    proposals = [merge_proposals.proposal_out(session, p) for p in open_proposals]
    posts = list_posts(session, user.readable, limit=10_000) if page.has(INCIDENT_REPORTER_ROLES) else []
    patrols = reporting_patrols(session, user.readable) if page.has(INCIDENT_REPORTER_ROLES) else ReportingPatrols([], [])
    side_source = report_records.SIDE_SOURCES[user.side].value if user.role is Role.liaison and user.side else None
    return page.render(
        "incidents.html", incidents=rows, events=events, files=files, total=total, pages=pages, filters=filters, proposals=proposals,
        types=list(IncidentType), subtypes=list(ViolationKind), statuses=list(IncidentStatus), sources=list(SourceKind),
        precisions=list(PlacePrecision), restrictions=list(Restriction), posts=posts, patrols=patrols,
        channels=TYPED_IN_CHANNELS if page.has(OPERATIONS_ROLES) else [],
        can_report=page.has(INCIDENT_REPORTER_ROLES), can_decide=page.has(OPERATIONS_ROLES), side_source=side_source,
    )


@dataclass(frozen=True)
class ReportingPatrols:
    """The patrols a report may name: those under way, and the most recent others, which the form offers
    with a warning (a patrol out of its window is rarely the one reporting)."""

    under_way: list[Patrol]
    other: list[Patrol]

    def __bool__(self) -> bool:
        return bool(self.under_way or self.other)


def reporting_patrols(session: Session, readable: Scope) -> ReportingPatrols:
    under_way = patrol_service.list_patrols(session, readable, status=PatrolStatus.under_way, sort="-planned_start", limit=50).items
    recent = patrol_service.list_patrols(session, readable, sort="-planned_start", limit=50).items
    return ReportingPatrols(under_way, [p for p in recent if p.status is not PatrolStatus.under_way])


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_detail(page: PageDep, session: SessionDep, incident_id: int) -> Response:
    user = page.require_user()
    try:
        incident = report_records.get_incident(session, incident_id, user.readable)
    except NotFound:
        _ = translations(page.language).gettext
        return page.render("not_found.html", status_code=404, what=_("Incident %(id)s") % {"id": incident_id})
    internal = user.readable is None
    steps = verification.verifications(session, incident) if internal else []
    history = verification.history(session, incident) if internal else []
    siblings = verification.same_event(session, incident) if internal else []
    next_statuses = sorted(s.value for s in report_records.NEXT_STATUS[incident.status])
    files = [(a, evidence.metres_from(a, incident.lat, incident.lon))
             for a in evidence.attachments_of(session, user, RecordKind.incident, str(incident.id))]
    return page.render("incident.html", incident=report_records.incidents_out(session, user.readable, [incident])[0], steps=steps, history=history,
                       history_fields=HISTORY_FIELDS, history_actions=HISTORY_ACTIONS,
                       files=files, clean_copies=evidence.copy_for(user),
                       can_publish=page.has(PRESS_OR_OPERATIONS_ROLES) and incident.visibility is Visibility.public,
                       siblings=siblings, can_verify=page.has(OPERATIONS_ROLES), next_statuses=next_statuses,
                       config={"incident_id": incident.id, "lat": incident.lat, "lon": incident.lon})
