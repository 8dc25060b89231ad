"""Engine, sessions and the declarative base shared by every capability.

SQLite is the embedded default (WAL, foreign keys on, a busy timeout so a CLI
command and the server can share the file); PostgreSQL 15 is the same schema
through the same code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import hashlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: bulk inserts touch many B-tree pages at once
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], actor: str) -> Iterator[Session]:
    """One transaction attributed to ``actor``: committed whole or rolled back whole."""
    with factory() as session:
        session.info["actor"] = actor
        with session.begin():
            yield session


@contextmanager
def transaction(session: Session, actor: str) -> Iterator[Session]:
    """Commit everything done inside as one change by ``actor``, or nothing at all.

    A constraint the database enforces but a service did not check first (a record still
    referenced elsewhere, a duplicate) becomes a 409 Conflict rather than a server error.
    """
    from peacewatch.core.problems import Conflict

    session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(_integrity_reason(exc)) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop("actor", None)


def _integrity_reason(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "foreign key" in text:
        return "the record is still referenced by other records (or refers to one that does not exist)"
    if "unique" in text or "duplicate" in text:
        return "a record with the same identifying values already exists"
    return "the change breaks a rule the database enforces"


def as_utc(value: datetime | None, *, field: str) -> datetime | None:
    """A client's datetime in UTC; one without a zone is taken as UTC, as the API documents."""
    from peacewatch.core.problems import Invalid

    if value is None:
        return None
    try:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    except OverflowError:
        raise Invalid("datetime out of range", field=field) from None


def resend_digest(data: Any) -> str:
    """What a client sent under its id (a Pydantic model), as a hash: a resend must match it."""
    return hashlib.sha256(data.model_dump_json(exclude={"client_id"}).encode()).hexdigest()


def first_copy(session: Session, query: Any, data: Any) -> Any:
    """The record a client first stored under ``data.client_id`` (``query`` finds it), or None.

    A device that got no answer sends again: the resend gets the first copy back. The same id
    with different content is refused, as the client would otherwise lose one of the two.
    """
    from peacewatch.core.problems import Conflict

    if data.client_id is None:
        return None
    first = session.scalar(query)
    if first is not None and first.client_digest != resend_digest(data):
        raise Conflict(f"client id {data.client_id} was already used for a different report", field="body.client_id")
    return first
