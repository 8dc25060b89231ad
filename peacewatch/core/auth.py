"""Users, roles, password hashing, access tokens and device API tokens.

People sign in with the OAuth2 password flow and get a short-lived signed JWT;
devices (trackers, handhelds) carry long-lived API tokens, stored only as a
SHA-256 hash so a stolen database does not hand out working tokens.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections import OrderedDict
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned, versions
from peacewatch.core.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from peacewatch.core.visibility import Scope, Side, readable_visibilities

API_TOKEN_PREFIX = "pwk_"
JWT_ALGORITHM = "HS256"


class Role(str, enum.Enum):
    admin = "admin"
    operations = "operations"
    patrol = "patrol"
    humanitarian = "humanitarian"
    air = "air"
    press = "press"
    liaison = "liaison"
    observer = "observer"


INTERNAL_ROLES = frozenset(Role) - {Role.liaison}
ACCESS_TABLES = ("users", "api_tokens")  # a commit to one of them may end someone's sign-in
PERSONAL_DATA_ROLES = frozenset({Role.humanitarian, Role.admin})  # who may read the remains' and the missing's details

# Who may do what: the roles each action admits besides the administrator, who is admitted to all.
# The API's dependencies (core.web) and the pages (ui) read these same sets.
OPERATIONS_ROLES = frozenset({Role.operations})
OPERATIONS_CENTRE_ROLES = frozenset({Role.operations, Role.observer})
FIELD_STAFF_ROLES = frozenset({Role.operations, Role.observer, Role.patrol})
OPERATIONS_OR_PATROL_ROLES = frozenset({Role.operations, Role.patrol})
INCIDENT_REPORTER_ROLES = frozenset({Role.operations, Role.patrol, Role.liaison})
HUMANITARIAN_ROLES = frozenset({Role.humanitarian})
HUMANITARIAN_OR_LIAISON_ROLES = frozenset({Role.humanitarian, Role.liaison})
EVIDENCE_ADDER_ROLES = frozenset({Role.operations, Role.patrol, Role.humanitarian, Role.liaison})  # which records: evidence's rule
AIR_CELL_ROLES = frozenset({Role.air})
AIR_MOVEMENT_ROLES = frozenset({Role.air, Role.operations})
PRESS_OR_OPERATIONS_ROLES = frozenset({Role.press, Role.operations})


def admits(roles: frozenset[Role], role: Role) -> bool:
    """Whether an action open to ``roles`` admits ``role`` (the administrator always)."""
    return role is Role.admin or role in roles


class User(IdMixin, TimestampMixin, Audited, Versioned, Base):
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash"})
    __table_args__ = (
        CheckConstraint("(role = 'liaison') = (side IS NOT NULL)", name="liaison_has_side"),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, comment="Where alerts reach this person by e-mail (duty roster)")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, comment="The language of the messages sent to this person (en, ru)")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(SAEnum(Role, native_enum=False, length=16, validate_strings=True))
    side: Mapped[Side | None] = mapped_column(SAEnum(Side, native_enum=False, length=1), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # every sign-in token carries the version it was issued under: raising it ends them all (see end_sessions)
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def readable(self) -> Scope:
        return readable_visibilities(internal=self.role in INTERNAL_ROLES, side=self.side)


class ApiToken(IdMixin, Audited, Versioned, Base):
    __tablename__ = "api_tokens"
    __audit_exclude__ = frozenset({"token_hash"})

    name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="api_tokens")


class SignIn(Base):
    """A sign-in with a password (a page's session or an API client's token): when, from where, until when.

    Kept apart from ``users`` so that signing in changes nothing that every open stream and cached identity
    watches. A sign-in is open while it has not expired and was made under the user's current ``token_version``
    (sign-out anywhere, disabling and a new password raise it)."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    token_version: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64), default="")


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_access_token(user: User, secret: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": user.username, "role": user.role.value, "ver": user.token_version, "iat": now,
              "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def end_sessions(user: User) -> None:
    """End every sign-in of ``user``, on every device and in every server process: the tokens issued so far carry
    an older version and are refused from the next request on; open live streams and CoT feeds notice the
    change of ``users`` and close. Called on sign-out, a password change, a change of role or side, and disabling."""
    user.token_version = (user.token_version or 0) + 1


def _claims(token: str, secret: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None


def _current(user: User | None, claims: dict[str, Any] | None) -> User | None:
    """``user`` if active and, for a sign-in token, if the token was issued under the user's current version."""
    if user is None or not user.active:
        return None
    if claims is not None and claims.get("ver", 0) != user.token_version:
        return None
    return user


def user_for_token(session: Session, token: str, secret: str) -> User | None:
    """The active user a bearer token stands for, or None when it stands for no one."""
    claims = None
    if token.startswith(API_TOKEN_PREFIX):
        api_token = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None))
        )
        user = api_token.user if api_token else None
    else:
        claims = _claims(token, secret)
        if claims is None:
            return None
        user = session.scalar(select(User).where(User.username == str(claims["sub"])))
    return _current(user, claims)


def api_token_id(session: Session, token: str) -> int | None:
    """The id of the device API token ``token`` in force, or None (not an API token, unknown or revoked)."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None)))


class Identities:
    """Who each token stands for, kept by a process until the users or the API tokens change (their versions in
    the database): every request of a signed-in screen asks, and the answer seldom changes.

    A sign-in token's signature and expiry are checked at every request; a user made inactive or a
    token revoked, by any process, changes the versions, so the next request looks again.
    """

    def __init__(self, kept: int = 10_000) -> None:
        self.kept = kept
        self._known: OrderedDict[str, tuple[tuple[int, ...], User]] = OrderedDict()
        self._lock = Lock()

    def user_for(self, session: Session, token: str, secret: str) -> User | None:
        claims = None
        if token.startswith(API_TOKEN_PREFIX):
            key = "api:" + hash_api_token(token)
        else:
            claims = _claims(token, secret)
            if claims is None:
                return None
            key = "user:" + str(claims["sub"])
        now = versions(session, *ACCESS_TABLES)
        with self._lock:
            known = self._known.get(key)
        if known is not None and known[0] == now:
            return _current(known[1], claims)
        user = user_for_token(session, token, secret)
        if user is not None:
            session.expunge(user)  # shared by the requests of every thread from now on: read, never written through
            with self._lock:
                self._known[key] = (now, user)
                self._known.move_to_end(key)
                while len(self._known) > self.kept:
                    self._known.popitem(last=False)
        return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same cost either way: no user enumeration by timing
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user


_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
