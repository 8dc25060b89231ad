"""The humanitarian cell's workspace: recoveries, bodies with their custody, candidates, the
reconciliation grid, handovers and the casualty chart.

Only the humanitarian cell and admins see it; to everyone else these pages do not exist (404),
as the personal data behind them does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import HTMLResponse, Response

from peacewatch.core.auth import PERSONAL_DATA_ROLES, Role, User
from peacewatch.core.i18n import translations
from peacewatch.core.problems import NotFound
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.remains import casualty_counts, custody_chain, handing_over, identifying, matching_cache, missing_persons, recovering, registry
from peacewatch.remains.models import Body, IdentificationBasis
from peacewatch.remains.schemas import IdentificationOut, RecoveryOut
from peacewatch.ui.pages import PER_PAGE, ListFilters, Page, PageDep, router

Search = Annotated[str | None, Query(max_length=100)]
PageNumber = Annotated[int, Query(alias="page", ge=1, le=100_000)]


@dataclass
class SearchFilters(ListFilters):
    q: str | None = None
    page: int = 1
GRID_BODIES, GRID_PERSONS = 45, 40  # as many bodies as fit across 1366 pixels


def _cell_member(page: Page) -> User | None:
    """The signed-in humanitarian officer or admin, else None (the page then answers 404)."""
    user = page.require_user()
    return user if user.role in PERSONAL_DATA_ROLES else None


def _not_found(page: Page, what: str) -> HTMLResponse:
    return page.render("not_found.html", status_code=404, what=what)


@router.get("/remains", response_class=HTMLResponse)
def remains_workspace(page: PageDep, session: SessionDep, settings: SettingsDep, q: Search = None, page_number: PageNumber = 1) -> Response:
    _ = translations(page.language).gettext
    if page.require_user().role is Role.liaison:
        return _side_remains(page, session, q, page_number)
    if _cell_member(page) is None:
        return _not_found(page, _("Remains"))
    listed = recovering.list_bodies(session, q=q, limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
    bodies, total = listed.items, listed.total
    recoveries = recovering.list_recoveries(session, since=None, until=None, limit=10, offset=0).items
    handovers = handing_over.list_handovers(session, page.require_user(), limit=20, offset=0).items
    series = casualty_counts.casualty_figures(session, registry.Context.of(settings), None, None)
    return page.render(
        "remains.html", bodies=recovering.bodies_out(session, bodies), total=total, pages=max(1, math.ceil(total / PER_PAGE)),
        filters=SearchFilters(q=q, page=page_number), recoveries=[RecoveryOut.of(r) for r in recoveries],
        handovers=[handing_over.handover_out(session, h) for h in handovers], totals=series["totals"], first_day=series["since"],
        last_day=series["until"],
    )


def _side_remains(page: Page, session: SessionDep, q: str | None, page_number: int) -> HTMLResponse:
    """A side's liaison officer's page: the handovers to the side, each with its printable list in the reader's
    language, and the missing persons the side reported with where each case stands. Nothing of a body the side
    has not received, and nothing of the other side."""
    user = page.require_user()
    handovers = handing_over.list_handovers(session, user, limit=100, offset=0).items
    listed = missing_persons.list_missing_persons(session, user, q=q, limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
    persons = missing_persons.persons_out(session, listed.items)
    received = handing_over.handed_over(session, user, [p.identified_as for p in persons if p.identified_as])
    return page.render("side_remains.html", handovers=[handing_over.handover_out(session, h) for h in handovers],
                       persons=persons, received=received, total=listed.total, filters=SearchFilters(q=q, page=page_number),
                       pages=max(1, math.ceil(listed.total / PER_PAGE)))


@router.get("/remains/bodies/{number}", response_class=HTMLResponse)
def body_page(page: PageDep, session: SessionDep, settings: SettingsDep, number: Annotated[str, Path(max_length=32)]) -> Response:
    _ = translations(page.language).gettext
    if _cell_member(page) is None:
        return _not_found(page, _("Body %(number)s") % {"number": number})
    try:
        body = registry.get_body(session, number)
    except NotFound:
        return _not_found(page, _("Body %(number)s") % {"number": number})
    chain = custody_chain.verify_custody(session, registry.Context.of(settings), [body.number])
    return page.render(
        "body.html", body=recovering.bodies_out(session, [body])[0], events=custody_chain.custody_events(session, body), chain=chain,
        candidates=matching_cache.candidates_for_body(session, number, 10), identifications=_identifications_of(session, body),
        bases=list(IdentificationBasis), config={"body": body.number},
    )


def _identifications_of(session: SessionDep, body: Body) -> list[dict[str, object]]:
    found = identifying.list_identifications(session, None, limit=1000, offset=0, body_id=body.id).items
    return [IdentificationOut.of(i) for i in found]


@router.get("/remains/missing", response_class=HTMLResponse)
def missing_list(page: PageDep, session: SessionDep, q: Search = None, page_number: PageNumber = 1) -> Response:
    _ = translations(page.language).gettext
    user = _cell_member(page)
    if user is None:
        return _not_found(page, _("Missing persons"))
    listed = missing_persons.list_missing_persons(session, user, q=q, limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
    persons, total = listed.items, listed.total
    return page.render("missing.html", persons=missing_persons.persons_out(session, persons), total=total,
                       filters=SearchFilters(q=q, page=page_number), pages=max(1, math.ceil(total / PER_PAGE)))


@router.get("/remains/missing/{number}", response_class=HTMLResponse)
def person_page(page: PageDep, session: SessionDep, number: Annotated[str, Path(max_length=32)]) -> Response:
    _ = translations(page.language).gettext
    user = _cell_member(page)
    if user is None:
        return _not_found(page, _("Missing person %(number)s") % {"number": number})
    try:
        person = missing_persons.get_missing_person(session, user, number)
    except NotFound:
        return _not_found(page, _("Missing person %(number)s") % {"number": number})
    return page.render("person.html", person=missing_persons.persons_out(session, [person])[0],
                       candidates=matching_cache.candidates_for_person(session, number, 10, user))


@router.get("/remains/reconciliation", response_class=HTMLResponse)
def reconciliation_page(page: PageDep, session: SessionDep, bodies_offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                        persons_offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                        everyone: Annotated[bool, Query(alias="all")] = False) -> Response:
    _ = translations(page.language).gettext
    if _cell_member(page) is None:
        return _not_found(page, _("Reconciliation"))
    # the cases left to decide by default (open, with a candidate): everyone against everything is mostly empty cells
    grid = identifying.reconciliation(session, bodies_offset=bodies_offset, bodies_limit=GRID_BODIES, persons_offset=persons_offset,
                                      persons_limit=GRID_PERSONS, decidable_only=not everyone)
    cells = {(c.missing_person, c.body): c for c in grid.cells}
    return page.render("reconciliation.html", grid=grid, cells=cells, bodies_offset=bodies_offset, persons_offset=persons_offset,
                       step_bodies=GRID_BODIES, step_persons=GRID_PERSONS, everyone=everyone)

