"""The web pages: server-rendered with Jinja2, each page's data read through the same services and
visibility rules as the API, and its live parts fetched from the API by small scripts.

Sign-in sets the API's own access token in an HTTP-only cookie, so a page's scripts call the API
as the signed-in user, with the same roles and the same liaison side (``core.web``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from xstatic.pkg import leaflet

from peacewatch.access.service import sign_in, sign_out
from peacewatch.core.auth import (
    HUMANITARIAN_ROLES,
    INTERNAL_ROLES,
    OPERATIONS_CENTRE_ROLES,
    OPERATIONS_OR_PATROL_ROLES,
    PERSONAL_DATA_ROLES,
    Role,
    User,
    admits,
    issue_access_token,
    user_for_token,
)
from peacewatch.core.calendar import zone_caption
from peacewatch.core.cookies import (
    CSRF_FIELD,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    clear_session,
    csrf_token,
    csrf_valid,
    request_nonce,
    session_ended,
    set_nonce,
    set_session,
)
from peacewatch.core.i18n import LABELS, LANGUAGES, N_, request_language, translations
from peacewatch.core.problems import NotFound, TooManyRequests, Unauthorized
from peacewatch.core.web import SessionDep, SettingsDep, client_address, on_hashing_threads
from peacewatch.publication.charts import warm_up as warm_charts
from peacewatch.ui import symbols
from peacewatch.ui.basemap import Basemap
from peacewatch.ui.forms import Task, tasks

HERE = Path(__file__).parent
PER_PAGE = 25
FIELD_ROLES = OPERATIONS_OR_PATROL_ROLES | HUMANITARIAN_ROLES  # those who report from the field (/field/)
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
# pages a role opens less often than its daily work: under "More", so the top bar holds one line in Russian too
SECONDARY_PAGES = frozenset({"/claims", "/public/map", "/users", "/field/", "/records/convoys"})

JS_STRINGS = (
    N_("Basemap"), N_("Local basemap"), N_("Country borders"), N_("Graticule"), N_("Areas of responsibility"),
    N_("Corridor"), N_("Line of contact"), N_("Restricted zones"), N_("Observation posts and checkpoints"),
    N_("Patrols (live positions)"), N_("Recent tracks"), N_("Coverage, last 24 hours"), N_("Loading…"), N_("Live"),
    N_("Situation at %(at)s (%(zone)s)"), N_("Could not load the map data."), N_("The alert could not be changed."),
    N_("Acknowledge"), N_("Close"), N_("Check the route."), N_("Line %(n)s is not 'latitude, longitude'."),
    N_("Planned route"), N_("Track"), N_("Planned patrol routes"), N_("Incidents of the reporting day"), N_("%(n)s reports"),
    N_("Check the place."), N_("Give the place as 'latitude, longitude'."), N_("Say who told us."), N_("Say how it came in."),
    N_("The proposal could not be decided."),
    N_("Choose the next step."), N_("Choose what the identification rests on."), N_("Choose one."),
    N_("Point %(n)s: drag to move, right-click or Delete to remove"),
    N_("Alerts"), N_("Why close this alert?"), N_("Close the alert"), N_("Keep it open"), N_("Say why: the reason stays with the alert."),
    N_("Fill in the fields marked."), N_("%(n)s field(s) to correct: see the messages below each."),
    N_("Done: the server stored it."), N_("Open the record"), N_("The server could not be reached: nothing was stored. Try again."),
    N_("The list could not be loaded; type the number instead."),
    N_("Event %(number)s"), N_("Reports put in one event stay together; by default each report is an event of its own."),
    N_("Observation post"), N_("Checkpoint"), N_("Patrol (live position)"), N_("Place names"), N_("Legend"),
    N_("Alert, where it was raised"), N_("Incident, coloured by its status"), N_("Measure distance"),
    N_("Leg %(n)s: %(range)s at %(bearing)s°"), N_("Closed by %(who)s at %(at)s"),
    N_("Sound on"), N_("Sound off"),
    N_("%(tracker)s left its area of responsibility"),
    N_("%(tracker)s is within the buffer of the line of contact"),
    N_("%(tracker)s entered a restricted zone"),
    N_("%(tracker)s has stopped longer than allowed away from a post"),
    N_("%(tracker)s strayed from the planned route"), N_("Patrol %(patrol)s silent since %(heard)s"),
    N_("Patrol %(patrol)s not back at the end of its window"), N_("patrol %(name)s"), N_("Total %(total)s"),
    N_("Record"), N_("Number"), N_("Body numbers"), N_("Code"), N_("Name"), N_("Status"), N_("Received"), N_("Stored"),
    N_("Created"), N_("Updated"), N_("Already recorded"), N_("Already stored (sent again)"), N_("Not stored as positions"),
    N_("New places"), N_("Places already known"), N_("Alerts raised"), N_("Token"), N_("Line %(n)s"), N_("Feature %(n)s"),
    N_("Not stored, and why:"),
    N_("Incident report"), N_("Check-in"), N_("Patrol step"), N_("Positions"), N_("File"), N_("No connection"),
    N_("Emergency"), N_("Emergency called off"), N_("Emergency from %(who)s: %(what)s"), N_("CASEVAC request from %(who)s"),
    N_("who was told"), N_("Emergency button (field page)"), N_("911 Alert"), N_("Ring The Bell"), N_("In Contact"),
    N_("Geo-fence Breached"), N_("Custom"), N_("Emergency received by the operations centre (alert %(id)s)."),
    N_("Emergency kept on this device: it is sent the moment there is a connection."),
    N_("%(waiting)s waiting, %(refused)s refused, %(sent)s sent"), N_("Sign in again to send them."), N_("Waiting"),
    N_("Sent"), N_("Refused"), N_("made by %(user)s: sent when they sign in"), N_("Correct and send again"), N_("Discard"),
    N_("Discard this report? It was never stored on the server."), N_("Online"), N_("Offline"), N_("Start"),
    N_("Check in"), N_("Complete"), N_("Abort"), N_("No patrol planned today for you."),
    N_("Anything to report? (optional)"), N_("Why is the patrol aborted?"), N_("No patrol under way with a tracker: no position kept."),
    N_("The device gives no position."), N_("Position kept at %(at)s"), N_("Fill this in."), N_("Not kept on this device:"),
    N_("Click the map: each click adds a point."), N_("Change its shape or details"), N_("Play"), N_("Pause"), N_("%(n)s incidents here: zoom in"),
    N_("Files from the field"), N_("Waited on the device: %(minutes)s min"), N_("%(n)s files from the field for incident report %(id)s"),
    N_("Taken (device time)"), N_("Arrived"),
    N_("Choose your patrol or your post."),
    N_("Recovery"), N_("On the map"), N_("No patrol planned today for this unit."), N_("You are here"),
    N_("The map's layers were never kept on this device: open this page once with a connection."),
    N_("Offline: the map as kept on this device at %(at)s"), N_("Offline: the list as kept on this device at %(at)s"),
    N_("The form holds the record as it is now: change what needs changing."),
    N_("Nothing was changed: the form holds the record as it is."),
    N_("Disable %(user)s? Their sessions, streams and device tokens stop at once."), N_("Why?"), N_("Lift"),
    N_("No connection: you are still signed in on this device. Sign out again once it is back."), N_("after: %(what)s"),
    N_("Replace the file"), N_("Choose one of the list."), N_("Choose from the list."),
    N_("A whole number, please."), N_("At least %(n)s."), N_("At most %(n)s."), N_("At most %(n)s characters."),
    N_("Not a date and time."), N_("a ceasefire violation needs its subtype"),
    N_("sealed on this device: opens when you are signed in with a connection"), N_("Held"), N_("smaller copy, sent first"),
    N_("full size: waits for a faster connection"),
    N_("This is in the future: check the date and the time."),
    N_("Go to"), N_("Go to: place, MGRS, post, unit, patrol"), N_("Places found"), N_("Went to %(name)s"), N_("Coordinates"),
    N_("Not a grid reference."), N_("Nothing on the map is called “%(typed)s”."), N_("Place"), N_("Patrol"), N_("Unit"),
    N_("Tracker"), N_("not on the map at this moment"),
    N_("Area of responsibility"), N_("Restricted zone"), N_("Marker"), N_("The mission only"), N_("Side A's liaison officers too"),
    N_("Side B's liaison officers too"), N_("Everyone: the official map and both sides"), N_("Draw on the map"), N_("What"),
    N_("Name in Russian"), N_("Zone"), N_("Opens on"), N_("Shared with"), N_("Save"), N_("Clear the shape"), N_("Cancel"),
    N_("Click the map where it is; drag the point to move it."),
    N_("Click the map: each click adds a point. Drag a point to move it; right-click it to remove it."),
    N_("Draw it on the map first."), N_("Saved: %(name)s"), N_("Edit here"),
    N_("Relief"), N_("Rivers"), N_("Relief: shadedrelief.com"), N_("Rivers: WDBII (GSHHG)"),
    N_("Range rings"), N_("Clear the rings"), N_("Click the map where the rings are centred."), N_("%(km)s km"),
    N_("Heading and speed (5 minutes ahead)"), N_("identified as %(number)s"), N_("Print the handover list"),
    N_("Nothing to choose from now."), N_("The list could not be loaded."),
    N_("%(n)s min"), N_("Call for help"), N_("CASEVAC request"), N_("Ceasefire violation (shooting)"), N_("Incident, its status the bar beneath"),
    N_("A different report was stored under this report's number: this one was not. Send it again as a new report, or discard it."),
    N_("This device's clock is %(span)s ahead of the headquarters'. What you report is dated by the headquarters' clock; "
       "set the device's clock when you can."),
    N_("This device's clock is %(span)s behind the headquarters'. What you report is dated by the headquarters' clock; "
       "set the device's clock when you can."),
)


def app_tasks(app: FastAPI) -> list[Task]:
    """The application's tasks (its writes as forms), built once from its OpenAPI document, which does not change
    while it runs."""
    found: list[Task] | None = getattr(app.state, "tasks", None)
    if found is None:
        found = tasks(app.openapi())
        app.state.tasks = found
    return found


def mission_time(instant: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """An instant on the mission's clock, "2020-11-14 12:03"; a naive value is taken as UTC (as stored)."""
    if instant is None:
        return "—"
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]  # the i18n extension adds this method to the Environment at run time
    return env


def compile_templates() -> None:
    """Every template compiled in every language (0.6 s, once a process), before the first request rather than beside
    it: CPython 3.11 can fail one thread's compile() while another compiles ("AST constructor recursion depth
    mismatch"), and a module imported lazily by a request compiles too."""
    for language in LANGUAGES:
        env = environment(language)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)


def warm_up(app: FastAPI) -> None:
    """What the first reader after a start would otherwise wait for, done at the start: the tasks
    every page's menu asks about (the OpenAPI document built, about a second), the map's symbols drawn, matplotlib's
    fonts loaded by a small chart (about a second of work)."""
    app_tasks(app)
    symbols.icons()
    warm_charts()


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
        """Whether the reader may do what ``roles`` (the API's sets, core.auth) may: the administrator always."""
        return self.user is not None and admits(roles, self.user.role)

    def require_user(self) -> User:
        if self.user is None:
            url = self.request.url
            raise SignInRequired(url.path + (f"?{url.query}" if url.query else ""))
        return self.user

    @property
    def zone(self) -> ZoneInfo:
        """The mission's time zone: every page shows and takes times in it."""
        return cast(ZoneInfo, self.request.app.state.settings.zone)

    def task_link(self, operation_id: str, text: str, **prefill: Any) -> Markup:
        """A link to a task's form, filled in with ``prefill`` (``path_number=...`` fills ``path.number``),
        or nothing when the reader's role may not do it."""
        task = next((t for t in app_tasks(self.request.app) if t.operation_id == operation_id), None)
        if self.user is None or task is None or not task.admits(self.user.role.value):
            return Markup("")
        query = "&".join(f"{quote(k.replace('_', '.', 1))}={quote(str(v))}" for k, v in prefill.items())
        href = f"/tasks/{operation_id}" + (f"?{query}" if query else "")
        return Markup('<a class="task-link" href="{}">{}</a>').format(href, text)

    def named(self, record: Any) -> str:
        """A record's name in the reader's language: its Russian name for a Russian reader, where it has one."""
        name_ru = record.get("name_ru") if isinstance(record, dict) else getattr(record, "name_ru", "")
        name = record.get("name") if isinstance(record, dict) else record.name
        return str(name_ru if self.language == "ru" and name_ru else name)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        _ = translations(self.language).gettext
        nav = [("/map", _("Operations map")), ("/patrols", _("Patrols")), ("/incidents", _("Incidents")),
               ("/public/map", _("Official map"))]
        if self.user is not None and self.user.role in PERSONAL_DATA_ROLES:
            nav.insert(3, ("/remains", _("Remains")))
        elif self.user is not None and self.user.role is Role.liaison:  # the side's handovers and missing persons
            nav.insert(3, ("/remains", _("Handovers")))
        if self.user is not None and self.user.role in INTERNAL_ROLES:
            nav.insert(-1, ("/airlift", _("Airlift")))
        if self.user is not None:
            nav.insert(-1, ("/claims", _("Claims")))
        if self.user is not None and self.user.role in INTERNAL_ROLES:
            nav.append(("/records/convoys", _("Convoys, returns, clearances")))
        nav.append(("/reports", _("Reports")))
        if self.user is not None and admits(FIELD_ROLES, self.user.role):
            nav.append(("/field/", _("Field")))
        if self.user is not None and admits(OPERATIONS_CENTRE_ROLES, self.user.role):
            nav.append(("/duty", _("Duty")))
        if self.user is not None and self.user.role is Role.admin:
            nav.append(("/users", _("Users")))
        if self.user is not None and any(t.admits(self.user.role.value) for t in app_tasks(self.request.app)):
            nav.append(("/tasks", _("Tasks")))  # a reader whose role records nothing (the observer) is not offered it
        if self.user is None:
            nav = [("/public/map", _("Official map")), ("/reports", _("Reports"))]
        path = self.request.url.path
        body = environment(self.language).get_template(template).render(
            user=self.user, csrf=self.csrf, csrf_field=CSRF_FIELD, languages=LANGUAGES,
            language=self.language, nav=[n for n in nav if n[0] not in SECONDARY_PAGES],
            more_nav=[n for n in nav if n[0] in SECONDARY_PAGES], path=path,
            more_here=next((label for href, label in nav if href in SECONDARY_PAGES
                            and (path == href or (href.endswith("/") and path.startswith(href)))), None),
            to_json=lambda value: Markup(json.dumps(value, default=str).replace("</", "<\\/")),
            label=lambda value: _(LABELS[value]) if value in LABELS else value,
            say=lambda sentence: sentence.said_in(_),
            task_link=self.task_link, named=self.named, mission_zone=self.zone.key, zone_caption=zone_caption(self.zone, gettext=_),
            local=lambda instant, seconds=False: mission_time(instant, self.zone, seconds=seconds),
            from_epoch=lambda seconds: datetime.fromtimestamp(seconds, UTC),
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
        if user is None:
            session_ended(request)  # and the device is told so (core.cookies.SessionEnd)
    nonce, new_nonce = request_nonce(request)
    language = request_language(request)
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
                                        password, client_address(page.request), settings.access_token_minutes)
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
    set_nonce(response, page.nonce, settings.cookie_secure)  # kept as long as the session: a restart keeps the pages' tokens
    return response


@router.post("/logout")
def logout(page: PageDep, session: SessionDep, settings: SettingsDep, csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    if not csrf_valid(settings.resolved_secret_key, page.request, csrf_token_):
        return redirect("/map")
    if page.user is not None:
        sign_out(session, page.user)  # the cookie's token ends with it, wherever a copy of it is
    session_ended(page.request)  # this device drops what it kept for offline use
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



# --- what the list pages share ---------------------------------------------------------------


class ListFilters:
    """A list page's filters (a dataclass), written back as the query of its sort and page links."""

    def query(self, **changes: Any) -> str:
        values = asdict(self) | changes  # type: ignore[call-overload]  # the subclasses are dataclasses; this mixin is not
        return "&".join(f"{k}={quote(str(v.value if isinstance(v, Enum) else v))}" for k, v in values.items() if v not in (None, ""))


def optional_value(kind: Any, value: str | None) -> Any:
    """A filter field as typed in a form: empty means no filter, nonsense means no filter either."""
    if value is None or not value.strip():
        return None
    try:
        return kind(value.strip())
    except ValueError:
        return None


def day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def day_after(day: date | None) -> datetime | None:
    """Where a filter "until ``day``" ends: the next midnight (none after the calendar's last day)."""
    return None if day is None or day == date.max else day_start(day + timedelta(days=1))





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


def basemap_of(path: Path | None) -> Basemap | None:
    return _open_basemap(path) if path is not None else None


@router.get("/tiles/{z}/{x}/{y}")
def tile(settings: SettingsDep, z: int, x: int, y: int) -> Response:
    basemap = basemap_of(settings.basemap)
    if basemap is None:
        raise NotFound("no basemap is configured (PEACEWATCH_BASEMAP)")
    found = basemap.tile(z, x, y) if 0 <= z <= 24 else None
    if found is None:
        raise NotFound("no tile {z}/{x}/{y} in the basemap", z=z, x=x, y=y)
    return Response(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=3600"})


# --- wiring ------------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """The pages, their static files (ours and Leaflet's, from the installed packages) and the sign-in redirect."""
    from peacewatch.ui import (  # noqa: F401 - each registers its pages on the router
        access_pages,
        airlift_pages,
        alert_pages,
        field_pages,
        incident_pages,
        map_pages,
        patrol_pages,
        record_pages,
        remains_pages,
        report_pages,
        task_pages,
    )

    app.include_router(router)
    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        return redirect(f"/login?next={quote(exc.next_url)}")

