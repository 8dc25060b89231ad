"""The append-only audit log, written by the ORM in the same transaction as the change.

Hooking the flush rather than each service means no service can forget to audit,
and a write without a named actor is refused outright.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, Index, String, Table, event, insert, inspect
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, Session, mapped_column

from peacewatch.core import changes as _changes  # noqa: F401 - every writer also announces its commits
from peacewatch.core.db import Base, UTCDateTime, utcnow
from peacewatch.core.geo import to_geojson

REASON = "reason"  # session.info key: why the user took the step (an irreversible one asks), written with its entries
REASON_LENGTH = 2000


class AuditAction(str, enum.Enum):
    create = "create"
    update = "update"
    delete = "delete"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[AuditAction] = mapped_column(SAEnum(AuditAction, native_enum=False, length=16))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True,
                                               comment="Why the user took the step, as they said it when confirming")


class Audited:
    """Mixin: every insert, update and delete of the model lands in ``audit_log``.

    ``__audit_exclude__`` names secret columns (password hashes) logged only as a fingerprint.
    ``__audit_personal__`` marks records of personal data (the remains and the missing): their entries
    are written in full, as the humanitarian cell needs their history, and read in full only by the roles
    that ``PERSONAL_DATA_READERS`` name; other readers see who changed which fields and when.
    """

    __audit_exclude__: frozenset[str] = frozenset()
    __audit_personal__: bool = False
    if TYPE_CHECKING:
        __tablename__: str  # every model that mixes this in has one


def personal_entities() -> frozenset[str]:
    """The tables whose audit entries carry personal data, as the models declare them."""
    return frozenset(
        mapper.class_.__tablename__ for mapper in Base.registry.mappers
        if issubclass(mapper.class_, Audited) and mapper.class_.__audit_personal__
    )


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Which fields an entry changed: all of a created or deleted record's, the differing ones of an update."""
    if before is None or after is None:
        return sorted((before or after or {}).keys())
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


class MissingActor(RuntimeError):
    """A write reached the database without anyone to attribute it to."""


def _plain(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return to_geojson(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


BOOKKEEPING = frozenset({"revision"})  # a cache's marker of change (core.changes.Revised), not a fact to audit


def _columns(obj: Audited) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in BOOKKEEPING]


def _fingerprint(value: Any) -> str | None:
    """Secrets are logged as a short digest: enough to see that they changed, useless to an attacker."""
    return None if value is None else "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]


def _snapshot(obj: Audited, *, before: bool = False) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for key in _columns(obj):
        value = state.dict.get(key)
        if before:
            history = state.attrs[key].history
            if history.deleted:
                value = history.deleted[0]
            elif history.added and not history.unchanged:
                value = None
        values[key] = _fingerprint(value) if key in obj.__audit_exclude__ else _plain(value)
    return values


def _changed(obj: Audited) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in _columns(obj))


@event.listens_for(Session, "before_flush")
def _remember_changes(session: Session, _context: object, _instances: object) -> None:
    """Capture the before-values now: after the flush the history is gone."""
    pending = session.info.setdefault("_audit_pending", [])
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj) and _changed(obj):
            pending.append((AuditAction.update, obj, _snapshot(obj, before=True)))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            pending.append((AuditAction.delete, obj, _snapshot(obj)))
    for obj in session.new:
        if isinstance(obj, Audited):
            pending.append((AuditAction.create, obj, None))
    if pending and not session.info.get("actor"):
        session.info.pop("_audit_pending", None)
        raise MissingActor("refusing to write audited records without an actor")


@event.listens_for(Session, "after_flush")
def _write_audit(session: Session, _context: object) -> None:
    pending = session.info.pop("_audit_pending", [])
    if not pending:
        return
    actor = session.info["actor"]
    now = utcnow()
    rows = []
    for action, obj, before in pending:
        after = None if action is AuditAction.delete else _snapshot(obj)
        if action is AuditAction.update and after == before:
            continue  # assigned the same values again: nothing changed, nothing to log
        state = inspect(obj)
        identity = [state.dict.get(column.key) for column in state.mapper.primary_key]
        rows.append(
            {
                "at": now,
                "actor": actor,
                "action": action,
                "entity": obj.__tablename__,
                "entity_id": ",".join(str(part) for part in identity),
                "before": before,
                "after": after,
                "reason": session.info.get(REASON),
            }
        )
    if rows:
        session.connection().execute(insert(cast(Table, AuditEntry.__table__)), rows)


def record(session: Session, actor: str, entity: str, entity_id: str, after: dict[str, Any], *,
           action: AuditAction = AuditAction.create) -> None:
    """An entry for something that changes no audited record (a sign-in lockout, positions pruned), in the
    session's transaction."""
    session.execute(insert(cast(Table, AuditEntry.__table__)).values(
        at=utcnow(), actor=actor, action=action, entity=entity, entity_id=entity_id, before=None, after=after))


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(*_args: object) -> None:
    raise RuntimeError("the audit log is append-only")
