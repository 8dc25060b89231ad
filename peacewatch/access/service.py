"""Users, device tokens and the audit log: the administrator's side of access control."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from peacewatch.access.schemas import ApiTokenIn, AuditEntryOut, UserIn, UserUpdate, check_side
from peacewatch.core.audit import AuditAction, AuditEntry, changed_fields, personal_entities, record
from peacewatch.core.auth import (
    PERSONAL_DATA_ROLES,
    ApiToken,
    Role,
    SignIn,
    User,
    authenticate,
    end_sessions,
    hash_api_token,
    hash_password,
    new_api_token,
)
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from peacewatch.core.throttle import LockoutState, SignInGuard

SIGN_IN_ACTOR = "system:sign-in"
LOCKOUTS = "sign_in_lockouts"


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def list_staff(session: Session, reader: User) -> list[User]:
    """The active users the reader may name in a roster or on a tracker: the mission's own people for operations
    (a side's liaison officers are not the mission's to roster or bind), everyone active for an administrator."""
    query = select(User).where(User.active.is_(True)).order_by(User.username)
    if reader.role is not Role.admin:
        query = query.where(User.role != Role.liaison)
    return list(session.scalars(query))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user {user_id} not found", user_id=user_id)
    return user


def create_user(session: Session, actor: str, data: UserIn) -> User:
    with transaction(session, actor):
        if session.scalar(select(User.id).where(User.username == data.username)) is not None:
            raise Conflict("user '{username}' already exists", field="body.username", username=data.username)
        user = User(
            username=data.username, full_name=data.full_name, email=data.email, language=data.language, role=data.role,
            side=data.side,
            password_hash=hash_password(data.password),
        )
        session.add(user)
    return user


def update_user(session: Session, actor: str, user_id: int, changes: UserUpdate) -> User:
    with transaction(session, actor):
        user = get_user(session, user_id)
        values = changes.model_dump(exclude_unset=True)
        for key in ("role", "active"):
            if key in values and values[key] is None:
                raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
        role = values.get("role", user.role)
        side = values["side"] if "side" in values else (user.side if role == user.role else None)
        try:
            check_side(role, side)
        except ValueError as exc:
            raise Invalid(str(exc), field="body.side") from None
        demoted = role is not Role.admin or values.get("active") is False
        if user.role is Role.admin and user.active and demoted and _active_admins(session) <= 1:
            raise Conflict("this is the last active administrator; make another one first")
        rescoped = role != user.role or side != user.side or values.get("active") is False
        if values.get("password"):
            user.password_hash = hash_password(values["password"])
        for key in ("full_name", "active"):
            if values.get(key) is not None:
                setattr(user, key, values[key])
        if "email" in values:
            user.email = values["email"] or None  # null: no e-mail
        if "language" in values:
            user.language = values["language"]
        user.role, user.side = role, side
        if values.get("password") or rescoped:
            end_sessions(user)  # a new password or scope: whoever held the old sign-in holds nothing now
    return user


def sign_in(session: Session, guard: SignInGuard, username: str, password: str, address: str, minutes: int) -> User:
    """The user a name and password stand for, with the sign-in noted (for the administrator's list of users).

    Wrong passwords are counted per account and address, per address and per account (core.throttle): guessing
    is refused for a while (429), each lockout audited once, but the right password from an address that has not
    been failing is never refused. Runs argon2: call it on the hashing threads."""
    wait = guard.wait_s(username, address)
    if wait is not None:
        raise TooManyRequests("too many wrong passwords for this account from this address, or from this address: "
                              "try again in {wait} s", retry_after_s=wait, wait=wait)
    user = authenticate(session, username, password)
    if user is None:
        lockouts = guard.failed(username, address)
        if lockouts:
            with transaction(session, SIGN_IN_ACTOR):
                for lockout in lockouts:
                    record(session, SIGN_IN_ACTOR, LOCKOUTS, f"{lockout.scope}:{lockout.key}"[:64],
                           {"scope": lockout.scope, "username": username[:64], "address": address, "failures": lockout.failures,
                            "window_s": lockout.window_s})
        raise Unauthorized("wrong username or password, or the account is disabled")
    now = utcnow()
    with transaction(session, SIGN_IN_ACTOR):
        session.execute(delete(SignIn).where(SignIn.user_id == user.id, SignIn.expires_at <= now))
        session.add(SignIn(user_id=user.id, at=now, expires_at=now + timedelta(minutes=minutes), token_version=user.token_version,
                           address=address[:64]))
    return user


def sign_out(session: Session, user: User) -> None:
    """End every sign-in of ``user`` (the token carries no more than the user's version: see end_sessions)."""
    with transaction(session, user.username):
        current = session.get(User, user.id)
        if current is not None:
            end_sessions(current)


@dataclass(frozen=True)
class UserSummary:
    """A user as the administrator's list shows it: who, and what they have open."""

    user: User
    last_sign_in: datetime | None
    last_address: str
    open_sessions: int  # sign-ins not expired and not ended
    api_tokens: int  # device tokens in force
    locked: list[LockoutState]


def users_overview(session: Session, guard: SignInGuard) -> list[UserSummary]:
    """Every user with their last sign-in, their open sessions and device tokens, and the lockouts on their account."""
    now = utcnow()
    users = list_users(session)
    last = _last_sign_ins(session)
    open_ = {user_id: count for user_id, count in session.execute(
        select(SignIn.user_id, func.count()).join(User, User.id == SignIn.user_id)
        .where(SignIn.expires_at > now, SignIn.token_version == User.token_version).group_by(SignIn.user_id))}
    tokens = {user_id: count for user_id, count in session.execute(
        select(ApiToken.user_id, func.count()).where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id))}
    locked: dict[str, list[LockoutState]] = {}
    for state in guard.lockouts():
        if state.username is not None:
            locked.setdefault(state.username, []).append(state)
    return [UserSummary(user, last[user.id].at if user.id in last else None, last[user.id].address if user.id in last else "",
                        open_.get(user.id, 0) if user.active else 0, tokens.get(user.id, 0), locked.get(user.username, []))
            for user in users]


def _last_sign_ins(session: Session) -> dict[int, Any]:
    newest = select(SignIn.user_id, func.max(SignIn.at).label("at")).group_by(SignIn.user_id).subquery()
    rows = session.execute(select(SignIn.user_id, SignIn.at, SignIn.address)
                           .join(newest, (SignIn.user_id == newest.c.user_id) & (SignIn.at == newest.c.at)))
    return {row.user_id: row for row in rows}


def lockouts(guard: SignInGuard) -> list[LockoutState]:
    return guard.lockouts()


def lift_lockout(session: Session, guard: SignInGuard, actor: str, username: str | None, address: str | None) -> list[LockoutState]:
    """Lift the lockouts of ``username`` (from ``address`` only, when given) or of ``address``: audited, with what was lifted."""
    if not username and not address:
        raise Invalid("name a user, an address or both", field="body.username")
    lifted = guard.lift(username, address)
    with transaction(session, actor):
        record(session, actor, LOCKOUTS, f"lift:{username or ''}@{address or ''}"[:64],
               {"lifted": [{"scope": s.scope, "username": s.username, "address": s.address, "failures": s.failures}
                           for s in lifted], "username": username, "address": address}, action=AuditAction.delete)
    return lifted


def _active_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(User.role == Role.admin, User.active.is_(True))) or 0)


def create_api_token(session: Session, actor: str, data: ApiTokenIn) -> tuple[ApiToken, str]:
    """A new device token; the clear token is returned once and never stored."""
    with transaction(session, actor):
        user = session.scalar(select(User).where(User.username == data.username))
        if user is None:
            raise Invalid("no user '{username}'", field="body.username", username=data.username)
        secret = new_api_token()
        token = ApiToken(name=data.name, user=user, token_hash=hash_api_token(secret))
        session.add(token)
    return token, secret


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_api_token(session: Session, actor: str, token_id: int) -> ApiToken:
    with transaction(session, actor):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("API token {token_id} not found", token_id=token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    return token


def read_audit_log(
    session: Session,
    reader: User,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Paged[AuditEntryOut]:
    """Newest first, so the duty officer sees the latest change at the top.

    An entry of personal data (the remains and the missing) keeps its values for the roles that may read
    those records; any other reader gets who changed which fields and when, without the values.
    """
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    personal = frozenset() if reader.role in PERSONAL_DATA_ROLES else personal_entities()
    page = paged(session, query, limit=limit, offset=offset)
    return Paged([_as_read(entry, redacted=entry.entity in personal) for entry in page.items], page.total)


def _as_read(entry: AuditEntry, *, redacted: bool) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id, at=entry.at, actor=entry.actor, action=entry.action, entity=entry.entity,
        entity_id=entry.entity_id, fields=changed_fields(entry.before, entry.after), redacted=redacted,
        before=None if redacted else entry.before, after=None if redacted else entry.after,
        reason=None if redacted else entry.reason,
    )
