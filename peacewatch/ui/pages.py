"""The web pages: server-rendered with Jinja2, each page's data read through the same services and
visibility rules as the API, and its live parts fetched from the API by small scripts.

Sign-in sets the API's own access token in an HTTP-only cookie, so a page's scripts call the API
as the signed-in user, with the same roles and the same liaison side (``core.web``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from xstatic.pkg import leaflet

from peacewatch.access.service import sign_in, sign_out
from peacewatch.core.auth import INTERNAL_ROLES, PERSONAL_DATA_ROLES, Role, User, issue_access_token, user_for_token
from peacewatch.core.cookies import (
    CSRF_FIELD,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    clear_session,
    csrf_token,
    csrf_valid,
    request_nonce,
    set_nonce,
    set_session,
)
from peacewatch.core.db import utcnow
from peacewatch.core.i18n import LABELS, LANGUAGES, N_, choose_language, translations
from peacewatch.core.problems import NotFound, TooManyRequests, Unauthorized
from peacewatch.core.web import MAX_ID, SessionDep, SettingsDep, client_address, on_hashing_threads
from peacewatch.force.service import list_units
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import list_posts, list_zones
from peacewatch.incidents import service as incidents
from peacewatch.incidents.models import (
    IncidentStatus,
    IncidentType,
    PlacePrecision,
    ProposalStatus,
    Restriction,
    SourceKind,
    ViolationKind,
)
from peacewatch.patrols import service as patrols
from peacewatch.patrols.models import PatrolStatus
from peacewatch.ui import symbols
from peacewatch.ui.basemap import Basemap

HERE = Path(__file__).parent
PER_PAGE = 25
COVERAGE_READERS = frozenset({Role.admin, Role.operations, Role.patrol, Role.observer})  # as /api/v1/coverage admits
PLANNERS = frozenset({Role.admin, Role.operations})
FIELD_ROLES = frozenset({Role.admin, Role.operations, Role.patrol})
SECURITY_HEADERS = {
    # every script, style, image and font from this server: nothing leaves an air-gapped network
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


# sentences the pages' scripts show: translated on the server, sent with the page
JS_STRINGS = (
    N_("Basemap"), N_("Local basemap"), N_("Country borders"), N_("Graticule"), N_("Areas of responsibility"),
    N_("Corridor"), N_("Line of contact"), N_("Restricted zones"), N_("Observation posts and checkpoints"),
    N_("Patrols (live positions)"), N_("Recent tracks"), N_("Coverage, last 24 hours"), N_("Loading…"), N_("Live"),
    N_("Situation at %(at)s UTC"), N_("Could not load the map data."), N_("The alert could not be changed."),
    N_("Acknowledge"), N_("Close"), N_("Check the route."), N_("Line %(n)s is not 'latitude, longitude'."),
    N_("Planned route"), N_("Track"), N_("Planned patrol routes"), N_("Incidents of the reporting day"), N_("%(n)s reports"),
    N_("Check the place."), N_("Give the place as 'latitude, longitude'."), N_("The proposal could not be decided."),
)


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def safe_next(url: str | None, default: str = "/map") -> str:
    """Only a path on this server: a sign-in link must not send the user elsewhere."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url


@dataclass
class Page:
    """What every page knows: the request, the signed-in user (or none), the language, the CSRF token."""

    request: Request
    user: User | None
    language: str
    secure_cookies: bool
    nonce: str
    csrf: str
    new_nonce: bool = False

    def has(self, roles: frozenset[Role]) -> bool:
        return self.user is not None and self.user.role in roles

    def require_user(self) -> User:
        if self.user is None:
            url = self.request.url
            raise SignInRequired(url.path + (f"?{url.query}" if url.query else ""))
        return self.user

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        _ = translations(self.language).gettext
        nav = [("/map", _("Operations map")), ("/patrols", _("Patrols")), ("/incidents", _("Incidents")),
               ("/public/map", _("Official map"))]
        if self.user is not None and self.user.role in PERSONAL_DATA_ROLES:
            nav.insert(3, ("/remains", _("Remains")))
        if self.user is not None and self.user.role in INTERNAL_ROLES:
            nav.insert(-1, ("/airlift", _("Airlift")))
        if self.user is not None:
            nav.insert(-1, ("/claims", _("Claims")))
        nav.append(("/reports", _("Reports")))
        if self.user is None:
            nav = [("/public/map", _("Official map")), ("/reports", _("Reports"))]
        body = environment(self.language).get_template(template).render(
            user=self.user, csrf=self.csrf, csrf_field=CSRF_FIELD, languages=LANGUAGES,
            language=self.language, nav=nav, path=self.request.url.path,
            to_json=lambda value: Markup(json.dumps(value, default=str).replace("</", "<\\/")),
            label=lambda value: _(LABELS[value]) if value in LABELS else value,
            js_strings=lambda: {text: _(text) for text in JS_STRINGS} | {k: _(v) for k, v in LABELS.items()}, **context,
        )
        response = HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
        if self.new_nonce:
            set_nonce(response, self.nonce, self.secure_cookies)
        return response


def get_page(request: Request, session: SessionDep, settings: SettingsDep) -> Page:
    secret = settings.resolved_secret_key
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        user = user_for_token(session, token, secret)  # an expired session reads as signed out
        session.commit()
    nonce, new_nonce = request_nonce(request)
    language = choose_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))
    return Page(request, user, language, settings.cookie_secure, nonce, csrf_token(secret, nonce), new_nonce)


PageDep = Annotated[Page, Depends(get_page)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- signing in, signing out, language --------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(page: PageDep) -> Response:
    return redirect("/map" if page.user else "/login")


@router.get("/login", response_class=HTMLResponse)
def login_form(page: PageDep, next: str | None = None) -> Response:
    return page.render("login.html", next=safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    page: PageDep,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/map",
) -> Response:
    _ = translations(page.language).gettext
    if not csrf_valid(settings.resolved_secret_key, page.request, csrf_token_):
        return page.render("login.html", status_code=403, next=safe_next(next), username=username,
                           error=_("The form has expired. Please sign in again."))
    try:
        user = await on_hashing_threads(page.request, sign_in, session, page.request.app.state.sign_in_guard, username,
                                        password, client_address(page.request))
    except TooManyRequests as refused:
        answer = page.render("login.html", status_code=429, next=safe_next(next), username=username,
                             error=_("Too many wrong passwords. Try again in %(s)s seconds.") % {"s": refused.retry_after_s})
        answer.headers["Retry-After"] = str(refused.retry_after_s)
        return answer
    except Unauthorized:
        return page.render("login.html", status_code=401, next=safe_next(next), username=username,
                           error=_("Wrong user name or password, or the account is disabled."))
    token = issue_access_token(user, settings.resolved_secret_key, settings.access_token_minutes)
    response = redirect(safe_next(next))
    set_session(response, token, settings.access_token_minutes, settings.cookie_secure)
    return response


@router.post("/logout")
def logout(page: PageDep, session: SessionDep, settings: SettingsDep, csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    if not csrf_valid(settings.resolved_secret_key, page.request, csrf_token_):
        return redirect("/map")
    if page.user is not None:
        sign_out(session, page.user)  # the cookie's token ends with it, wherever a copy of it is
    response = redirect("/login")
    clear_session(response, settings.cookie_secure)
    return response


@router.post("/language")
def choose(
    page: PageDep, settings: SettingsDep, language: Annotated[str, Form(max_length=8)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "/", csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    response = redirect(safe_next(next, "/"))
    if language in LANGUAGES and csrf_valid(settings.resolved_secret_key, page.request, csrf_token_):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, httponly=True,
                            secure=settings.cookie_secure, samesite="lax", path="/")
    return response


# --- the operations map -------------------------------------------------------------------------


def _moment(on: date | None, at: str | None) -> tuple[date, str | None]:
    """The day the map opens on and, when the user asked for a past moment, that moment (ISO)."""
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            moment = None
        if moment is not None:
            return moment.date(), moment.isoformat()
    return on or utcnow().date(), None


@router.get("/map", response_class=HTMLResponse)
def operations_map(page: PageDep, settings: SettingsDep, on: date | None = None, at: str | None = None) -> Response:
    user = page.require_user()
    day, moment = _moment(on, at)
    basemap = _basemap(settings.basemap)
    config = {
        "day": day.isoformat(),
        "at": moment,
        "live": moment is None and on is None,
        "coverage": user.role in COVERAGE_READERS,
        "incidents": user.role in INTERNAL_ROLES,  # as /api/v1/incident-events admits
        "can_handle_alerts": user.role in PLANNERS,
        "icons": symbols.icons(),
        "basemap": {"max_zoom": basemap.max_zoom, "min_zoom": basemap.min_zoom} if basemap else None,
    }
    return page.render("map.html", config=config)


# --- patrols -------------------------------------------------------------------------------------


class ListFilters:
    """A list page's filters (a dataclass), written back as the query of its sort and page links."""

    def query(self, **changes: Any) -> str:
        values = asdict(self) | changes  # type: ignore[call-overload]
        return "&".join(f"{k}={quote(str(v.value if isinstance(v, Enum) else v))}" for k, v in values.items() if v not in (None, ""))


@dataclass
class PatrolFilters(ListFilters):
    status: PatrolStatus | None = None
    zone_id: int | None = None
    q: str | None = None
    since: date | None = None
    until: date | None = None
    sort: patrols.Sort = "-planned_start"
    page: int = 1


def _optional(kind: Any, value: str | None) -> Any:
    """A filter field as typed in a form: empty means no filter, nonsense means no filter either."""
    if value is None or not value.strip():
        return None
    try:
        return kind(value.strip())
    except ValueError:
        return None


def patrol_filters(
    status: Annotated[str | None, Query(max_length=20)] = None,
    zone_id: Annotated[str | None, Query(max_length=12)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str, Query(max_length=20)] = "-planned_start",
    page: Annotated[str, Query(max_length=6)] = "1",
) -> PatrolFilters:
    zone = _optional(int, zone_id)
    return PatrolFilters(
        status=_optional(PatrolStatus, status), zone_id=zone if zone and 0 < zone <= MAX_ID else None, q=q or None,
        since=_optional(date.fromisoformat, since), until=_optional(date.fromisoformat, until),
        sort=sort if sort in patrols.SORTS else "-planned_start",  # type: ignore[arg-type]
        page=max(1, _optional(int, page) or 1),
    )


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def _day_after(day: date | None) -> datetime | None:
    """Where a filter "until ``day``" ends: the next midnight (none after the calendar's last day)."""
    return None if day is None or day == date.max else _day_start(day + timedelta(days=1))


@router.get("/patrols", response_class=HTMLResponse)
def patrol_list(page: PageDep, session: SessionDep, filters: Annotated[PatrolFilters, Depends(patrol_filters)]) -> Response:
    user = page.require_user()
    readable = user.readable
    since = _day_start(filters.since)
    until = _day_after(filters.until)
    criteria = {"status": filters.status, "zone_id": filters.zone_id, "since": since, "until": until, "search": filters.q}
    total = patrols.count_patrols(session, readable, **criteria)
    pages = max(1, math.ceil(total / PER_PAGE))
    rows = patrols.list_patrols(session, readable, **criteria, sort=filters.sort,
                                limit=PER_PAGE, offset=(min(filters.page, pages) - 1) * PER_PAGE)
    zones = list_zones(session, readable, kind=ZoneKind.area_of_responsibility, limit=1000)
    units = list_units(session, readable, limit=1000) if page.has(PLANNERS) else []
    return page.render(
        "patrols.html", patrols=rows, total=total, pages=pages, filters=filters, statuses=list(PatrolStatus),
        zones=zones, zone_names={z.id: z.name for z in zones}, units=units, can_plan=page.has(PLANNERS),
    )


@router.get("/patrols/{patrol_id}", response_class=HTMLResponse)
def patrol_detail(page: PageDep, session: SessionDep, patrol_id: int) -> Response:
    user = page.require_user()
    try:
        patrol = patrols.get_patrol(session, patrol_id, user.readable)
    except NotFound:  # the same answer whether it does not exist or belongs to the other side
        _ = translations(page.language).gettext
        return page.render("not_found.html", status_code=404, what=_("Patrol %(id)s") % {"id": patrol_id})
    check_ins = patrols.check_ins(session, patrol)
    zones = {z.id: z.name for z in list_zones(session, user.readable, kind=ZoneKind.area_of_responsibility, limit=1000)}
    return page.render("patrol.html", patrol=patrol, check_ins=check_ins, zone_name=zones.get(patrol.zone_id, ""),
                       can_act=page.has(FIELD_ROLES), config={"patrol_id": patrol.id})


# --- incidents -----------------------------------------------------------------------------------

REPORTERS = frozenset({Role.admin, Role.operations, Role.patrol, Role.liaison})


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
        type=_optional(IncidentType, type), status=_optional(IncidentStatus, status), source=_optional(SourceKind, source),
        q=q or None, since=_optional(date.fromisoformat, since), until=_optional(date.fromisoformat, until),
        page=max(1, _optional(int, page) or 1),
    )


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(page: PageDep, session: SessionDep, filters: Annotated[IncidentFilters, Depends(incident_filters)]) -> Response:
    user = page.require_user()
    since = _day_start(filters.since)
    until = _day_after(filters.until)
    criteria = {"type": filters.type, "status": filters.status, "source": filters.source, "since": since, "until": until,
                "search": filters.q}
    total = incidents.count_incidents(session, user.readable, **criteria)
    pages = max(1, math.ceil(total / PER_PAGE))
    rows = incidents.list_incidents(session, user.readable, **criteria, limit=PER_PAGE,
                                    offset=(min(filters.page, pages) - 1) * PER_PAGE)
    events = incidents.event_names(session, user.readable, {i.event_id for i in rows})
    internal = user.readable is None
    proposals = [incidents.proposal_out(session, p) for p in incidents.list_proposals(session, ProposalStatus.open, limit=50)] if internal else []
    posts = list_posts(session, user.readable, limit=10_000) if page.has(REPORTERS) else []
    side_source = incidents.SIDE_SOURCES[user.side].value if user.role is Role.liaison and user.side else None
    return page.render(
        "incidents.html", incidents=rows, events=events, total=total, pages=pages, filters=filters, proposals=proposals,
        types=list(IncidentType), subtypes=list(ViolationKind), statuses=list(IncidentStatus), sources=list(SourceKind),
        precisions=list(PlacePrecision), restrictions=list(Restriction), posts=posts,
        can_report=page.has(REPORTERS), can_decide=page.has(PLANNERS), side_source=side_source,
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_detail(page: PageDep, session: SessionDep, incident_id: int) -> Response:
    user = page.require_user()
    try:
        incident = incidents.get_incident(session, incident_id, user.readable)
    except NotFound:
        _ = translations(page.language).gettext
        return page.render("not_found.html", status_code=404, what=_("Incident %(id)s") % {"id": incident_id})
    internal = user.readable is None
    steps = incidents.verifications(session, incident) if internal else []
    history = incidents.history(session, incident) if internal else []
    siblings = incidents.same_event(session, incident) if internal else []
    next_statuses = sorted(s.value for s in incidents.NEXT_STATUS[incident.status])
    return page.render("incident.html", incident=incidents.incidents_out(session, user.readable, [incident])[0], steps=steps, history=history,
                       siblings=siblings, can_verify=page.has(PLANNERS), next_statuses=next_statuses,
                       config={"incident_id": incident.id, "lat": incident.lat, "lon": incident.lon})


# --- the public official map ---------------------------------------------------------------------


@router.get("/public/map", response_class=HTMLResponse)
def public_map(page: PageDep, on: date | None = None) -> Response:
    day = on or utcnow().date()
    return page.render("public_map.html", day=day, config={"day": day.isoformat(), "icons": symbols.icons()})


# --- symbols and basemap tiles -------------------------------------------------------------------


@router.get("/ui/symbols/{sidc}.svg")
def symbol(sidc: str, size: Annotated[int, Query(ge=10, le=200)] = 30) -> Response:
    try:
        svg = symbols.symbol_svg(sidc, size)
    except symbols.UnknownSymbol as exc:
        raise NotFound(str(exc)) from None
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@cache
def _open_basemap(path: Path) -> Basemap:
    return Basemap(path)


def _basemap(path: Path | None) -> Basemap | None:
    return _open_basemap(path) if path is not None else None


@router.get("/tiles/{z}/{x}/{y}")
def tile(settings: SettingsDep, z: int, x: int, y: int) -> Response:
    basemap = _basemap(settings.basemap)
    if basemap is None:
        raise NotFound("no basemap is configured (PEACEWATCH_BASEMAP)")
    found = basemap.tile(z, x, y) if 0 <= z <= 24 else None
    if found is None:
        raise NotFound(f"no tile {z}/{x}/{y} in the basemap")
    return Response(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=3600"})


# --- wiring ------------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """The pages, their static files (ours and Leaflet's, from the installed packages) and the sign-in redirect."""
    from peacewatch.ui import airlift_pages, remains_pages, report_pages  # noqa: F401 - register their pages on the router

    app.include_router(router)
    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        return redirect(f"/login?next={quote(exc.next_url)}")

