"""What a transaction changed, said once, by the database, to everyone who keeps a picture of it.

Every flush notes the tables it wrote (and the raw writes a service marks with :func:`mark_changed`):

- on PostgreSQL it queues ``pg_notify('peacewatch', 'alerts,positions')`` in the same transaction,
  which PostgreSQL delivers to every listening process when, and only if, the transaction commits;
- after the commit, the session's ``on_commit`` hook (the server's :class:`~peacewatch.core.notify.Notifier`)
  wakes this process's live streams at once;
- a table whose model is :class:`Versioned` gets a new random token in ``data_versions``, so a cache
  built from it (the OGC events, the remains matching tables) is keyed by what the database holds,
  in every process, not by a host's clock or by counts that a change can leave equal.

One place emits, after commit: no router or listener has to remember to.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from peacewatch.core.db import Base

CHANNEL = "peacewatch"
_PENDING, _NOTED = "_changes_pending", "_changes_noted"
ON_COMMIT = "on_commit"  # session.info key: a callable taking the set of tables a commit changed


class DataVersion(Base):
    """The version of a table that caches depend on: a new random token at each committed change."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class Versioned:
    """Mixin: a change to this model's table gives the table a new version (see :func:`versions`)."""

    if TYPE_CHECKING:
        __tablename__: str  # every model that mixes this in has one


class Revised(Versioned):
    """Mixin: each row also carries its own random ``revision``, new at each change of the row.

    A cache of the table compares (id, revision) pairs with those it was built from and re-reads
    only the rows that differ: the database says what changed, in every process, with no clock.
    """

    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"),
                                          comment="A new random number at each change of the row")


@event.listens_for(Session, "before_flush")
def _revise(session: Session, _context: object, _instances: object) -> None:
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Revised) and (obj in session.new or session.is_modified(obj)):
            obj.revision = secrets.randbits(62)


def mark_changed(session: Session, *tables: str) -> None:
    """Note a change made without the ORM (bulk inserts of positions): announced with the next flush."""
    session.info.setdefault(_PENDING, set()).update(tables)


_VERSIONS = select(DataVersion.name, DataVersion.token)
_READ = "_versions_read"


def versions(session: Session, *tables: str) -> tuple[int, ...]:
    """The tables' current versions (0 for one never changed): equal tuples mean equal contents.

    All versions (a row per versioned table) are read once per transaction: a request checking who
    its token stands for and then whether its answer is kept asks the database once.
    """
    known = session.info.get(_READ)
    if known is None:
        known = session.info[_READ] = dict(session.connection().execute(_VERSIONS).all())
    return tuple(known.get(name, 0) for name in tables)


@event.listens_for(Session, "after_transaction_end")
def _forget_versions(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_READ, None)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: object) -> None:
    session.info.pop(_READ, None)  # this transaction may have changed some
    written = chain(session.new, session.dirty, session.deleted)
    tables = {getattr(obj, "__tablename__", "") for obj in written} | session.info.pop(_PENDING, set())
    tables.discard("")
    noted: set[str] = session.info.setdefault(_NOTED, set())
    fresh = tables - noted
    if not fresh:
        return
    noted |= fresh
    connection = session.connection()
    bumped = sorted({obj.__tablename__ for obj in chain(session.new, session.dirty, session.deleted)
                     if isinstance(obj, Versioned)} & fresh)
    if bumped:
        connection.execute(
            text("INSERT INTO data_versions (name, token) VALUES (:name, :token) "
                 "ON CONFLICT (name) DO UPDATE SET token = excluded.token"),
            [{"name": name, "token": secrets.randbits(62)} for name in bumped],
        )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, :tables)"), {"channel": CHANNEL, "tables": ",".join(sorted(fresh))})


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    tables = session.info.pop(_NOTED, None)
    session.info.pop(_PENDING, None)
    hook: Callable[[Iterable[str]], None] | None = session.info.get(ON_COMMIT)
    if tables and hook is not None:
        hook(tables)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_NOTED, None)
    session.info.pop(_PENDING, None)
