"""FastAPI dependencies every router states in its signature: the session, the reader, the writer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import unquote

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope as AsgiScope

from peacewatch.core.admission import StreamCaller
from peacewatch.core.answers import Answers
from peacewatch.core.audit import REASON, REASON_LENGTH
from peacewatch.core.auth import (
    ACCESS_TABLES,
    AIR_CELL_ROLES,
    AIR_MOVEMENT_ROLES,
    FIELD_STAFF_ROLES,
    HUMANITARIAN_OR_LIAISON_ROLES,
    HUMANITARIAN_ROLES,
    INCIDENT_REPORTER_ROLES,
    INTERNAL_ROLES,
    OPERATIONS_CENTRE_ROLES,
    OPERATIONS_OR_PATROL_ROLES,
    OPERATIONS_ROLES,
    PRESS_OR_OPERATIONS_ROLES,
    Role,
    User,
    admits,
)
from peacewatch.core.cookies import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, csrf_valid, session_ended
from peacewatch.core.problems import DATABASE_AWAY, AntiForgeryRefused, Forbidden, Unauthorized
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, readable_visibilities

log = logging.getLogger("peacewatch.web")
T = TypeVar("T")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function in a worker thread, and
# a few hops per request between the event loop and the threads cost as much as a small request.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


REASON_HEADER = "PeaceWatch-Reason"


def stated_reason(request: Request) -> str | None:
    """Why the user takes this step, from the ``PeaceWatch-Reason`` header (UTF-8, percent-encoded: a header
    carries only Latin-1), kept in the audit entries the request writes. The pages send it after a confirmation."""
    raw = request.headers.get(REASON_HEADER)
    if not raw:
        return None
    text = "".join(c for c in unquote(raw) if c.isprintable() or c == "\n").strip()
    return text[:REASON_LENGTH] or None


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session; it touches the database only when used (in the worker thread that runs the endpoint)."""
    session = request.app.state.sessionmaker()
    reason = stated_reason(request)
    if reason:
        session.info[REASON] = reason
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(_close, session)
        else:
            session.close()  # nothing to roll back: no I/O


def _close(session: Session) -> None:
    try:
        session.close()
    except SQLAlchemyError:  # the database went away mid-request: the pool drops that connection, the answer stands
        log.info("a session's connection was lost on closing", exc_info=True)


API_KEY_HEADER = "X-API-Key"
SessionDep = Annotated[Session, Depends(get_session)]


async def get_answers(request: Request) -> Answers:
    return request.app.state.answers


AnswersDep = Annotated[Answers, Depends(get_answers)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _credential(request: Request, secret: str, token: str | None) -> tuple[str, str] | None:
    """The caller's token, by bearer token (API clients), X-API-Key (GIS clients that can set a header but not
    a bearer token) or session cookie (the web pages' scripts), and what to say if it is refused; None: anonymous.

    A cookie alone never authorises an unsafe request: it must come with the page's CSRF token.
    """
    if token is not None:
        return token, "the bearer token is invalid, expired or revoked"
    if request.headers.get(API_KEY_HEADER):
        return request.headers[API_KEY_HEADER], f"the {API_KEY_HEADER} is invalid, expired or revoked"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    if request.method not in SAFE_METHODS and not csrf_valid(secret, request, request.headers.get(CSRF_HEADER)):
        raise AntiForgeryRefused("a request signed in by cookie needs the page's CSRF token in the X-CSRF-Token header")
    return cookie, "your session has expired or was revoked: sign in again"


async def get_optional_user(
    request: Request, session: SessionDep, settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The caller; an anonymous request is answered without a look at the database. The look is made in
    the request's session and transaction, which the endpoint goes on with."""
    if hasattr(request.state, "caller"):  # looked up before the body was read (core.bodies)
        return request.state.caller
    found = _credential(request, settings.resolved_secret_key, token)
    if found is None:
        return None
    identities = request.app.state.identities
    user = await run_in_threadpool(identities.user_for, session, found[0], settings.resolved_secret_key)
    if user is None:
        _refused(request, found)
    request.state.credential = found[0]
    return user


def _refused(request: Request, found: tuple[str, str]) -> NoReturn:
    """401 for a credential that stands for no one; a session cookie's device is told its session ended (SessionEnd)."""
    if found[0] == request.cookies.get(SESSION_COOKIE):
        session_ended(request)
    raise Unauthorized(found[1])


async def _user_alone(request: Request, found: tuple[str, str]) -> User:
    """Who the credential ``found`` stands for, looked up in a session of its own, closed at once; 401 if no one."""
    secret = request.app.state.settings.resolved_secret_key

    def look_up() -> User | None:
        with request.app.state.sessionmaker() as session:
            return request.app.state.identities.user_for(session, found[0], secret)

    user = await run_in_threadpool(look_up)
    if user is None:
        _refused(request, found)
    return user


async def caller_before_body(request: Request) -> User | None:
    """The caller of a write, from its headers alone: the body is still unread (core.bodies). Kept on the
    request, so the endpoint's dependencies do not look again."""
    found = _credential(request, request.app.state.settings.resolved_secret_key, await oauth2_scheme(request))
    request.state.caller = None if found is None else await _user_alone(request, found)
    request.state.credential = None if found is None else found[0]
    return request.state.caller


async def get_streaming_user(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The caller of a live stream, looked up in a session of its own: a stream stays open for hours and
    must hold no database connection meanwhile. Its credential is kept to look again (while_signed_in)."""
    if hasattr(request.state, "caller"):  # looked up by the admission of streams (stream_caller)
        return request.state.caller
    found = _credential(request, settings.resolved_secret_key, token)
    if found is None:
        return None
    user = await _user_alone(request, found)
    request.state.stream_credential = found[0]
    return user


async def stream_caller(scope: AsgiScope) -> StreamCaller | None:
    """Who opens a live stream, for the admission of streams (core.admission): anonymous, or the user its credential
    stands for (kept on the request, so the endpoint does not look again); None when the credential stands for
    no one (the endpoint then answers 401, holding no stream)."""
    request = Request(scope)
    address = client_address(request)
    try:
        found = _credential(request, request.app.state.settings.resolved_secret_key, await oauth2_scheme(request))
    except Forbidden:
        return None
    if found is None:
        return StreamCaller(address=address)
    try:
        user = await _user_alone(request, found)
    except Unauthorized:
        return None  # the endpoint says 401 (and tells a cookie's device its session ended)
    request.state.caller, request.state.stream_credential = user, found[0]
    return StreamCaller(identity=user.username, address=address, reserved=admits(OPERATIONS_CENTRE_ROLES, user.role))


def signed_in_with(request: Request) -> str | None:
    """The credential the caller was found by (a sign-in token, a device API token, a session cookie's token),
    for a rule that names one device's token."""
    return getattr(request.state, "credential", None)


def client_address(request: Request) -> str:
    """The caller's address (behind a reverse proxy, uvicorn takes it from X-Forwarded-For if the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


async def on_hashing_threads(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run ``work`` (argon2: tens of milliseconds of CPU) on the few threads kept for password hashing, so a
    burst of sign-ins waits its turn there instead of taking every request thread from the other users."""
    return await asyncio.get_running_loop().run_in_executor(request.app.state.hashing, partial(work, *args))


RECHECK_S = 30.0  # a stream also looks again this often: a token expires, a tool in another process changes a user


async def while_signed_in(request: Request, events: AsyncIterator[T]) -> AsyncIterator[T]:
    """``events`` for as long as the stream's caller stays signed in: disabling the user, a new password, a
    sign-out or revoking the API token, by any server process, ends the stream within a moment (the commit
    wakes it); an anonymous stream has no sign-in to lose."""
    credential = getattr(request.state, "stream_credential", None)
    if credential is None:
        async for event in events:
            yield event
        return
    app = request.app
    secret = app.state.settings.resolved_secret_key

    def still_signed_in() -> bool:
        with app.state.sessionmaker() as session:
            return app.state.identities.user_for(session, credential, secret) is not None

    following: asyncio.Future[T] | None = None
    watching: asyncio.Future[bool] | None = None
    try:
        while True:
            following = following or asyncio.ensure_future(anext(events))
            watching = watching or asyncio.ensure_future(app.state.notifier.wait(RECHECK_S, ACCESS_TABLES))
            done, _ = await asyncio.wait({following, watching}, return_when=asyncio.FIRST_COMPLETED)
            if watching in done:
                watching = None
                try:
                    signed_in = await run_in_threadpool(still_signed_in)
                except DATABASE_AWAY:
                    log.info("a live stream ended: its sign-in could not be checked (database away)")
                    return  # the client reconnects, and is answered 503 until the database is back
                if not signed_in:
                    log.info("a live stream ended: its sign-in was ended")
                    return
            if following in done:
                try:
                    event = following.result()
                except StopAsyncIteration:
                    return
                following = None
                yield event
    finally:
        pending = [task for task in (following, watching) if task is not None]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)  # the stream's generator stops at its await before it is closed
        await events.aclose()  # type: ignore[attr-defined]  # the streams passed here are async generators, which have aclose


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthorized("sign in first: POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def readable(user: OptionalUser) -> Scope:
    """What the caller may read: anonymous callers see public records only."""
    if user is None:
        return readable_visibilities(internal=False, side=None)
    return user.readable


Readable = Annotated[Scope, Depends(readable)]


async def streaming_readable(user: Annotated[User | None, Depends(get_streaming_user)]) -> Scope:
    """What the caller of a live stream may read (see :func:`get_streaming_user`)."""
    return await readable(user)


StreamReadable = Annotated[Scope, Depends(streaming_readable)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency admitting only ``roles`` (admin always): every write states who may make it."""
    allowed = frozenset(roles) | {Role.admin}

    async def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden("role '{role}' may not do this; allowed roles: {names}", role=user.role.value, names=names)
        return user

    dependency.roles = allowed  # type: ignore[attr-defined]  # read by document_roles: the OpenAPI document says who may call
    return dependency


ROLES_EXTENSION = "x-roles"


def _roles_required(dependant: Any) -> frozenset[Role] | None:
    """The roles a route's dependencies admit (the first require_roles found), or None when any caller may."""
    for dependency in dependant.dependencies:
        roles = getattr(dependency.call, "roles", None)
        if roles is not None:
            return frozenset(roles)
        found = _roles_required(dependency)
        if found is not None:
            return found
    return None


def document_roles(app: FastAPI) -> None:
    """Write into each operation of the OpenAPI document the roles that may call it (``x-roles``), read from the
    route's own ``require_roles`` dependency: a client, and the pages' forms, learn who may do what from one place."""
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = plain_openapi()
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            roles = _roles_required(route.dependant)
            operations = document.get("paths", {}).get(context.path_format or route.path_format, {})
            for method in route.methods or ():
                if roles is not None and method.lower() in operations:
                    operations[method.lower()][ROLES_EXTENSION] = sorted(r.value for r in roles)
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the generated document


MAX_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="Record id")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Records to skip, for paging")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Records per page")]
LongLimit = Annotated[int, Query(ge=1, le=10_000, description="Records per page (small records: trackers, places, layers)")]


# --- who may do what: one name per set of roles, the same in every router (admin is always admitted) ---

Admin = Annotated[User, Depends(require_roles(Role.admin))]
Operations = Annotated[User, Depends(require_roles(*OPERATIONS_ROLES))]
OperationsCentre = Annotated[User, Depends(require_roles(*OPERATIONS_CENTRE_ROLES))]
FieldStaff = Annotated[User, Depends(require_roles(*FIELD_STAFF_ROLES))]
OperationsOrPatrol = Annotated[User, Depends(require_roles(*OPERATIONS_OR_PATROL_ROLES))]
IncidentReporter = Annotated[User, Depends(require_roles(*INCIDENT_REPORTER_ROLES))]
Staff = Annotated[User, Depends(require_roles(*INTERNAL_ROLES))]  # the mission's own people: every role but a side's liaison
Humanitarian = Annotated[User, Depends(require_roles(*HUMANITARIAN_ROLES))]
HumanitarianOrLiaison = Annotated[User, Depends(require_roles(*HUMANITARIAN_OR_LIAISON_ROLES))]
AirCell = Annotated[User, Depends(require_roles(*AIR_CELL_ROLES))]
AirMovements = Annotated[User, Depends(require_roles(*AIR_MOVEMENT_ROLES))]
PressOrOperations = Annotated[User, Depends(require_roles(*PRESS_OR_OPERATIONS_ROLES))]
