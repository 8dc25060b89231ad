from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from peacewatch.access import outbox_keys, service
from peacewatch.access.schemas import (
    ApiTokenCreated,
    ApiTokenIn,
    ApiTokenOut,
    AuditEntryOut,
    LiftedOut,
    LiftIn,
    LockoutOut,
    SessionOut,
    StaffOut,
    TokenOut,
    UserIn,
    UserListedOut,
    UserOut,
    UserUpdate,
)
from peacewatch.core.audit import AuditAction
from peacewatch.core.auth import issue_access_token
from peacewatch.core.cookies import SESSION_COOKIE, csrf_token, request_nonce, session_ended, set_nonce
from peacewatch.core.db import as_utc
from peacewatch.core.paging import counted, counted_responses
from peacewatch.core.problems import problem_responses
from peacewatch.core.web import (
    Admin,
    CurrentUser,
    Limit,
    Offset,
    Operations,
    OperationsCentre,
    RecordId,
    SessionDep,
    SettingsDep,
    client_address,
    on_hashing_threads,
    signed_in_with,
)

auth = APIRouter(prefix="/api/v1/auth", tags=["access"], responses=problem_responses(401, 422))


@auth.post("/token", response_model=TokenOut, summary="Sign in (OAuth2 password flow)", responses=problem_responses(429))
async def sign_in(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep,
) -> TokenOut:
    minutes = settings.access_token_minutes
    user = await on_hashing_threads(request, service.sign_in, session, request.app.state.sign_in_guard, form.username,
                                    form.password, client_address(request), minutes)
    return TokenOut(access_token=issue_access_token(user, settings.resolved_secret_key, minutes), expires_in=minutes * 60)


@auth.post("/logout", status_code=204, summary="Sign out: every sign-in token of the user ends, on every device")
def sign_out(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    service.sign_out(session, user)
    if request.cookies.get(SESSION_COOKIE):
        session_ended(request)  # a browser's: it drops its cookie and what it kept for offline use
    return Response(status_code=204)


@auth.get("/me", response_model=UserOut, summary="Who the bearer token stands for")
def who_am_i(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@auth.get("/session", response_model=SessionOut, summary="Who is signed in, and the current CSRF token of this browser")
def current_session(request: Request, response: Response, user: CurrentUser, settings: SettingsDep) -> SessionOut:
    """A page kept for days (the field application's, by its service worker) may hold a CSRF token gone stale: a
    sign-out and a new sign-in in another tab made a new one. Its script asks here, and its outbox goes on."""
    token = None
    if signed_in_with(request) == request.cookies.get(SESSION_COOKIE):
        nonce, new = request_nonce(request)
        if new:
            set_nonce(response, nonce, settings.cookie_secure)
        token = csrf_token(settings.resolved_secret_key, nonce)
    response.headers["Cache-Control"] = "no-store"  # a token: never kept by a cache
    key = outbox_keys.jwk(outbox_keys.outbox_key(settings.resolved_secret_key, user.id), private=True)
    return SessionOut(username=user.username, role=user.role, csrf_token=token, outbox_key=key)


users = APIRouter(prefix="/api/v1/users", tags=["access"], responses=problem_responses(401, 403, 422))
staff = APIRouter(prefix="/api/v1/staff", tags=["access"], responses=problem_responses(401, 403, 422))


@staff.get("", response_model=list[StaffOut],
           summary="The people operations may put on duty or bind to a tracker (the mission's own; everyone for an admin)")
def list_staff(session: SessionDep, user: Operations) -> list[StaffOut]:
    return [StaffOut.model_validate(u) for u in service.list_staff(session, user)]



@users.get("", response_model=list[UserListedOut],
           summary="Users with their last sign-in, open sessions, device tokens and lockouts")
def list_users(request: Request, session: SessionDep, _admin: Admin) -> list[UserListedOut]:
    return [UserListedOut(**UserOut.model_validate(o.user).model_dump(), last_sign_in=o.last_sign_in, last_address=o.last_address,
                          open_sessions=o.open_sessions, api_tokens=o.api_tokens, locked=[LockoutOut.of(s) for s in o.locked])
            for o in service.users_overview(session, request.app.state.sign_in_guard)]


@users.post("", response_model=UserOut, status_code=201, responses=problem_responses(409), summary="Create a user account")
def create_user(data: UserIn, session: SessionDep, admin: Admin) -> UserOut:
    return UserOut.model_validate(service.create_user(session, admin.username, data))


@users.get("/{user_id}", response_model=UserOut, responses=problem_responses(404))
def read_user(user_id: RecordId, session: SessionDep, _admin: Admin) -> UserOut:
    return UserOut.model_validate(service.get_user(session, user_id))


@users.patch("/{user_id}", response_model=UserOut, responses=problem_responses(404, 409),
             summary="Change a user (role, side, password, disabled): a change of role ends their open sessions")
def update_user(user_id: RecordId, changes: UserUpdate, session: SessionDep, admin: Admin) -> UserOut:
    return UserOut.model_validate(service.update_user(session, admin.username, user_id, changes))


lockouts = APIRouter(prefix="/api/v1/sign-in-lockouts", tags=["access"], responses=problem_responses(401, 403, 422))


@lockouts.get("", response_model=list[LockoutOut], summary="Accounts and addresses refused for wrong passwords now")
def list_lockouts(request: Request, _admin: Admin) -> list[LockoutOut]:
    return [LockoutOut.of(state) for state in service.lockouts(request.app.state.sign_in_guard)]


@lockouts.post("/lift", response_model=LiftedOut,
               summary="Lift the lockouts of a user (from one address, if named) or of an address: audited")
def lift_lockout(data: LiftIn, request: Request, session: SessionDep, admin: Admin) -> LiftedOut:
    lifted = service.lift_lockout(session, request.app.state.sign_in_guard, admin.username, data.username, data.address)
    return LiftedOut(lifted=[LockoutOut.of(state) for state in lifted])


tokens = APIRouter(prefix="/api/v1/api-tokens", tags=["access"], responses=problem_responses(401, 403, 422))


@tokens.get("", response_model=list[ApiTokenOut])
def list_api_tokens(session: SessionDep, _admin: Admin) -> list[ApiTokenOut]:
    return [ApiTokenOut.model_validate(t) for t in service.list_api_tokens(session)]


@tokens.post("", response_model=ApiTokenCreated, status_code=201, summary="Issue a device API token (shown once)")
def create_api_token(data: ApiTokenIn, session: SessionDep, admin: Admin) -> ApiTokenCreated:
    token, secret = service.create_api_token(session, admin.username, data)
    return ApiTokenCreated(**ApiTokenOut.model_validate(token).model_dump(), token=secret)


@tokens.post("/{token_id}/revoke", response_model=ApiTokenOut, responses=problem_responses(404),
             summary="Revoke a device API token: what it has open ends")
def revoke_api_token(token_id: RecordId, session: SessionDep, admin: Admin) -> ApiTokenOut:
    return ApiTokenOut.model_validate(service.revoke_api_token(session, admin.username, token_id))


audit = APIRouter(prefix="/api/v1/audit", tags=["access"], responses=problem_responses(401, 403, 422))


@audit.get("", response_model=list[AuditEntryOut], summary="The audit log, newest first", responses=counted_responses())
def read_audit_log(
    response: Response,
    session: SessionDep,
    auditor: OperationsCentre,
    entity: Annotated[str | None, Query(max_length=64, description="Table name, e.g. posts")] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AuditEntryOut]:
    return counted(response, service.read_audit_log(
        session, auditor, entity=entity, entity_id=entity_id, actor=actor, action=action, since=as_utc(since, field="query.since"),
        limit=limit, offset=offset,
    ))
