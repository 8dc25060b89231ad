from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.core.audit import AuditAction
from peacewatch.core.auth import Role
from peacewatch.core.throttle import LockoutState
from peacewatch.core.visibility import Side

USERNAME = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


EMAIL = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
              description="Where alerts reach this person by e-mail when the duty roster calls them; empty: none")


Language = Literal["en", "ru"]
LANGUAGE = Field(default=None, description="The language of the messages (e-mail, TAK) sent to this person; empty: English")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = USERNAME
    password: str = Field(min_length=8, max_length=256)
    full_name: str = Field(default="", max_length=200)
    email: str | None = EMAIL
    language: Language | None = LANGUAGE
    role: Role
    side: Side | None = Field(default=None, description="Required for, and only for, a liaison officer")

    @model_validator(mode="after")
    def _side_matches_role(self) -> UserIn:
        check_side(self.role, self.side)
        return self


def check_side(role: Role, side: Side | None) -> None:
    if role is Role.liaison and side is None:
        raise ValueError("a liaison officer must be bound to side A or B")
    if role is not Role.liaison and side is not None:
        raise ValueError("only a liaison officer is bound to a side")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=8, max_length=256)
    full_name: str | None = Field(default=None, max_length=200)
    email: str | None = EMAIL
    language: Language | None = LANGUAGE
    role: Role | None = None
    side: Side | None = None
    active: bool | None = None


class StaffOut(BaseModel):
    """A user as a roster or a tracker's form names them: who, not how they sign in."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str
    role: Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None = None
    language: str | None = None
    role: Role
    side: Side | None
    active: bool
    created_at: datetime


class SessionOut(BaseModel):
    """The caller's sign-in as a page's script needs it to send what waits on its device."""

    username: str
    role: Role
    csrf_token: str | None = Field(description="The token a request signed in by this browser's cookie carries in "
                                               "X-CSRF-Token; none for a bearer token or API key")
    outbox_key: dict[str, Any] = Field(description="The key (a P-256 JWK, private) that opens what a field device kept "
                                                   "for this user: never stored on the device, given while signed in")


LockoutScope = Literal["account from address", "address", "account"]


class LockoutOut(BaseModel):
    scope: LockoutScope = Field(
        description="account from address: that address may not try the account; address: it may try none; account: only "
                    "addresses that have not failed on it may try it")
    username: str | None
    address: str | None
    failures: int = Field(description="Wrong passwords counted in the window")
    until: datetime = Field(description="When the lockout ends by itself")

    @classmethod
    def of(cls, state: LockoutState) -> LockoutOut:
        return cls(scope=cast(LockoutScope, state.scope), username=state.username, address=state.address, failures=state.failures,
                   until=datetime.fromtimestamp(state.until, UTC))


class UserListedOut(UserOut):
    last_sign_in: datetime | None = Field(description="The last sign-in with a password (page or API)")
    last_address: str = Field(description="Where it came from")
    open_sessions: int = Field(description="Sign-ins not expired nor ended (sign-out, disabling, a new password end them all)")
    api_tokens: int = Field(description="Device API tokens in force")
    locked: list[LockoutOut] = Field(description="Lockouts on the account now (an administrator may lift them)")


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(default=None, min_length=1, max_length=64, description="The account whose lockouts to lift")
    address: str | None = Field(default=None, min_length=1, max_length=64,
                                description="The address whose lockouts to lift (with a user: that pair only)")


class LiftedOut(BaseModel):
    lifted: list[LockoutOut]


class ApiTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, description="What device carries it, e.g. tracker MP-07")
    username: str = USERNAME


class ApiTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    user_id: int
    created_at: datetime
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="Shown once; only its hash is kept")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: AuditAction
    entity: str
    entity_id: str
    fields: list[str] = Field(description="The fields the change wrote")
    redacted: bool = Field(description="True when the values are personal data this reader may not see: "
                                       "before and after are then null")
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None = Field(default=None, description="Why the user took the step, when they were asked "
                               "(irreversible steps from the pages); null too when redacted")
