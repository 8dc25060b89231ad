"""The records that carry evidence: how each is found for a reader, and who may attach to it.

An attachment is as visible as its record, no more: it is found through the record's own rules (an
incident's visibility, the humanitarian cell's access to the remains, a liaison's own side for the
missing persons it filed), so a reader who may not see the record gets the same "not found" for its
files as for the record itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from peacewatch.core.auth import INTERNAL_ROLES, PERSONAL_DATA_ROLES, Role, User
from peacewatch.core.problems import Forbidden, NotFound
from peacewatch.core.visibility import Visibility, get_visible
from peacewatch.evidence.models import RecordKind
from peacewatch.incidents.models import Incident, Verification
from peacewatch.incidents.report_records import get_incident
from peacewatch.remains.handing_over import get_handover
from peacewatch.remains.missing_persons import get_missing_person
from peacewatch.remains.models import Body
from peacewatch.remains.recovering import get_recovery
from peacewatch.remains.registry import get_body

FIELD_REPORTERS = frozenset({Role.operations, Role.patrol, Role.admin})  # photos of incidents and of their verification
REMAINS_KEEPERS = frozenset({Role.humanitarian, Role.admin})
REMAINS_KINDS = frozenset({RecordKind.body, RecordKind.missing_person, RecordKind.recovery, RecordKind.handover})


@dataclass(frozen=True)
class Holder:
    """The record an attachment hangs on, found as the reader may see it."""

    kind: RecordKind
    key: str
    public: bool  # the record itself is public: its files may be marked public
    body: Body | None = None  # a body's files are links of its chain of custody


def _number(key: str, what: str) -> int:
    if not (key.isascii() and key.isdigit()) or not 0 < int(key) < 2**31:  # "²" is a digit, not a number
        raise NotFound("{what} {key} not found", what=what, key=key)
    return int(key)


def find_holder(session: Session, user: User, kind: RecordKind, key: str) -> Holder:
    """The record ``key`` of ``kind`` if ``user`` may read it; "not found" otherwise, as for the record itself."""
    if kind is RecordKind.incident:
        incident = get_incident(session, _number(key, "incident"), user.readable)
        return Holder(kind, str(incident.id), public=incident.visibility is Visibility.public)
    if kind is RecordKind.verification:  # the steps of verification are the mission's own, as their list is
        step = session.get(Verification, _number(key, "verification")) if user.role in INTERNAL_ROLES else None
        incident = get_visible(session, Incident, step.incident_id, user.readable, "incident") if step else None
        if step is None or incident is None:
            raise NotFound("verification {key} not found", key=key)
        return Holder(kind, str(step.id), public=incident.visibility is Visibility.public)
    if kind is RecordKind.missing_person and user.role in PERSONAL_DATA_ROLES | {Role.liaison}:
        return Holder(kind, get_missing_person(session, user, key).number, public=False)
    if kind is RecordKind.handover and user.role in PERSONAL_DATA_ROLES | {Role.liaison}:
        return Holder(kind, str(get_handover(session, user, _number(key, "handover")).id), public=False)
    if user.role not in PERSONAL_DATA_ROLES:  # the remains do not exist for the other roles, nor do their files
        raise NotFound("{what} {key} not found", what=kind.value.replace("_", " "), key=key)
    if kind is RecordKind.body:
        body = get_body(session, key)
        return Holder(kind, body.number, public=False, body=body)
    return Holder(kind, str(get_recovery(session, _number(key, "recovery")).id), public=False)


def held_publicly(session: Session, kind: RecordKind, key: str) -> bool:
    """Whether the record is public now: only an incident can be (verification steps and the remains never are)."""
    if kind is not RecordKind.incident or not (key.isascii() and key.isdigit()):
        return False
    incident = session.get(Incident, int(key))
    return incident is not None and incident.visibility is Visibility.public


def may_attach(user: User, holder: Holder) -> None:
    """Refuse a user who may read the record but not add evidence to it."""
    if holder.kind in (RecordKind.incident, RecordKind.verification):
        allowed = user.role in FIELD_REPORTERS
    elif holder.kind is RecordKind.missing_person:
        allowed = user.role in REMAINS_KEEPERS | {Role.liaison}  # the family's photos, brought by the side's liaison
    else:
        allowed = user.role in REMAINS_KEEPERS
    if not allowed:
        raise Forbidden("your role may not add evidence to a {kind}", kind=holder.kind.value.replace("_", " "))
