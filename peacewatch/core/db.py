"""Engine, sessions and the declarative base shared by every capability.

SQLite is the embedded default (WAL, foreign keys on, a busy timeout so a CLI
command and the server can share the file); PostgreSQL 15 is the same schema
through the same code.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import DateTime, Engine, Integer, MetaData, create_engine, event, make_url, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:  # the settings read the clocks, which read this module
    from peacewatch.core.settings import Settings

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
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class FixedDegrees(TypeDecorator[float]):
    """Degrees of latitude or longitude stored as a whole number of 10⁻⁷ degrees (about 1 cm).

    Half the bytes of a float in every stored fix, and no precision a GPS has is lost. ``value / 1e7``
    is the double nearest the stored decimal, so a fix sent with up to seven decimals comes back exactly.
    """

    impl = Integer
    cache_ok = True
    SCALE = 10_000_000

    def process_bind_param(self, value: float | None, dialect: object) -> int | None:
        return None if value is None else round(value * self.SCALE)

    def process_result_value(self, value: int | None, dialect: object) -> float | None:
        return None if value is None else value / self.SCALE


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # the DBAPI connection of the connect event is untyped
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes hold in a new file only: lets pruning give space back
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")  # a commit acknowledged survives a power cut, as on PostgreSQL
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: bulk inserts touch many B-tree pages at once
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _owner_only(database: Path) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite does (it would follow the umask,
    often 0644); its -wal and -shm files take the same mode from it."""
    if not database.name:
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)  # made by an older version: tightened
    except OSError:  # no such folder, another user's file: SQLite says so itself when it opens it
        pass


class ReplicaNotConfirmed(psycopg.OperationalError):
    """A commit the synchronous replica did not confirm in time: stored on the primary only, so not acknowledged."""


class CommitDeadlines:
    """One thread for every connection of a process: it cancels a commit still waiting past its deadline.

    PostgreSQL's statement timeout does not cover a commit's wait for a synchronous replica (it is
    disarmed before the transaction commits), so only a cancel request ends that wait. A timer per commit
    would cost a thread each, and waking a watcher at each commit a context switch; here a commit only
    notes itself under a lock, and the thread looks every ``TICK_S`` (so a deadline is kept within that).
    """

    TICK_S = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[float, psycopg.Connection[Any]]] = {}
        self._thread: threading.Thread | None = None

    def begin(self, connection: psycopg.Connection[Any], seconds: float) -> None:
        with self._lock:
            self._waiting[id(connection)] = (time.monotonic() + seconds, connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="commit-deadlines", daemon=True)
                self._thread.start()

    def end(self, connection: psycopg.Connection[Any]) -> None:
        with self._lock:
            self._waiting.pop(id(connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            now = time.monotonic()
            with self._lock:
                overdue = [connection for due, connection in self._waiting.values() if due <= now]
                for connection in overdue:
                    del self._waiting[id(connection)]
            for connection in overdue:
                with suppress(psycopg.Error):
                    connection.cancel_safe(timeout=2)  # a commit ended meanwhile: PostgreSQL ignores an idle cancel


COMMIT_DEADLINES = CommitDeadlines()


class ReplicaBoundConnection(psycopg.Connection[Any]):
    """A psycopg connection whose commit waits a bounded time for the synchronous replica.

    With ``synchronous_standby_names`` set, PostgreSQL holds every COMMIT until a synchronous standby has
    the transaction; with that standby gone, every write would wait without end. Here a commit still
    waiting after ``replica_wait_ms`` is cancelled: PostgreSQL stops waiting, keeps the transaction on the
    primary and says so in a warning, and this commit raises instead of returning, so the request is
    answered 503 and nothing is acknowledged that only one server holds.
    """

    replica_wait_ms = 0  # set on the subclass each engine makes

    def commit(self) -> None:
        self._unconfirmed = False
        COMMIT_DEADLINES.begin(self, self.replica_wait_ms / 1000)
        try:
            super().commit()
        finally:
            COMMIT_DEADLINES.end(self)
        if self._unconfirmed:
            raise ReplicaNotConfirmed(f"the synchronous replica did not confirm the commit within {self.replica_wait_ms / 1000:g} s")

    def watch_replica(self) -> None:
        self._unconfirmed = False
        self.add_notice_handler(self._on_notice)

    def _on_notice(self, notice: psycopg.errors.Diagnostic) -> None:
        if (notice.message_primary or "").startswith("canceling wait for synchronous replication"):
            self._unconfirmed = True


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout_s: float = 30.0,
    statement_timeout_ms: int = 0, application_name: str = "peacewatch", prepared_statements: bool = True,
    replica_wait_ms: int = 0,
) -> Engine:
    """An engine with a bounded pool: a request that finds no connection within ``pool_timeout_s`` fails
    (the server answers 503) instead of queueing without end.

    On PostgreSQL a connection attempt gives up after 5 s, and TCP keepalives notice a database host
    that vanished within about half a minute, so an outage is reported instead of hanging requests.
    After an outage the pool starts afresh by itself: no restart.
    """
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout_s}
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            _owner_only(Path(make_url(url).database or ""))
        engine = create_engine(url, connect_args={"check_same_thread": False}, **({} if memory else pool))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {"application_name": application_name, "connect_timeout": 5, "keepalives": 1,
                                    "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
    if statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={statement_timeout_ms}"
    if not prepared_statements:  # pgbouncer in transaction pooling hands each transaction another server connection
        connect_args["prepare_threshold"] = None
    # No ping before each use (a round trip per request): when the database restarts, the first request
    # on a dead connection fails (503) and the pool drops every connection opened before it.
    engine = create_engine(url, connect_args=connect_args, **pool)
    if replica_wait_ms:
        bounded: type[ReplicaBoundConnection] = type("ReplicaBound", (ReplicaBoundConnection,), {"replica_wait_ms": replica_wait_ms})

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: object, _record: object, cargs: Any, cparams: Any) -> psycopg.Connection[Any]:
            connection = bounded.connect(*cargs, **cparams)
            connection.watch_replica()
            return connection
    return engine


def engine_for(settings: Settings, purpose: str, *, direct: bool = False, pooled: bool = False,
               statement_timeout: bool = True) -> Engine:
    """The engine every command and process opens from the settings: the one place that reads the database
    settings, so a CLI command through pgbouncer prepares no statement, as the server does not.

    ``purpose`` names the connections in ``pg_stat_activity`` (``peacewatch-<purpose>``). ``direct``: PostgreSQL
    itself (the migrations, which need a session of their own), not the pooler. ``pooled``: the server's pool
    sizes; a command keeps the small default. Without ``statement_timeout`` a statement may run as long as it
    needs (a migration copying a table).
    """
    url = settings.session_database_url if direct else settings.resolved_database_url
    pool: dict[str, Any] = {}
    if pooled:
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
                "pool_timeout_s": settings.db_pool_timeout_s}
    return make_engine(url, statement_timeout_ms=settings.db_statement_timeout_ms if statement_timeout else 0,
                       application_name=f"peacewatch-{purpose}", replica_wait_ms=round(settings.db_replica_wait_s * 1000),
                       prepared_statements=settings.prepared_statements if url == settings.resolved_database_url else True, **pool)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise Invalid("datetime out of range", field=field) from None


def moment_before(at: datetime, span: timedelta) -> datetime:
    """``span`` before ``at``; a window reaching past the calendar's first moment (year 1) starts there."""
    try:
        return at - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def resend_digest(data: Any) -> str:
    """What a client sent under its id (a Pydantic model), as a hash: a resend must match it.

    Fields a model gained after devices began sending (named in its ``ADDED_LATER``) count only when given,
    so a report stored before an upgrade and resent after it is still the same report."""
    added_later: frozenset[str] = getattr(type(data), "ADDED_LATER", frozenset())
    unset = {name for name in added_later if getattr(data, name) is None}
    return hashlib.sha256(data.model_dump_json(exclude={"client_id"} | unset).encode()).hexdigest()


def first_copy(session: Session, query: Any, data: Any, readable: Callable[[Any], bool] = lambda _record: True) -> Any:
    """The record a client first stored under ``data.client_id`` (``query`` finds it), or None.

    A device that got no answer sends again: the resend gets the first copy back. The same id
    with different content is refused, as the client would otherwise lose one of the two. A first copy
    the sender may no longer ``readable`` (made internal since, say) is not handed back: the resend is
    told it was stored, and nothing of what the record has become.
    """
    from peacewatch.core.problems import CLIENT_ID_TAKEN, STORED_NOT_SHARED, Conflict

    if data.client_id is None:
        return None
    first = session.scalar(query)
    if first is not None and first.client_digest != resend_digest(data):
        raise Conflict("client id {client_id} was already used for a different report", field="body.client_id",
                       problem_type=CLIENT_ID_TAKEN, client_id=data.client_id)
    if first is not None and not readable(first):
        raise Conflict("client id {client_id}: this report was stored; it is no longer shared with you",
                       field="body.client_id", problem_type=STORED_NOT_SHARED, client_id=data.client_id)
    return first


def compare_and_set(session: Session, record: Any, expected: Mapping[str, Any], **changes: Any) -> bool:
    """Change ``record`` only if the database still holds ``expected`` for it (a tuple: any of its values);
    False if it does not.

    The database decides (``UPDATE ... WHERE id = ? AND status = ?``, its row count checked), so of
    two processes acknowledging the same alert or accepting the same proposal at once, one wins and
    the other learns it lost. The winner's changes are then made on the record too, so the flush
    writes them through the ORM and the audit log records them as any other change.
    """
    table = type(record).__table__
    held = [table.c[name].in_(value) if isinstance(value, tuple) else table.c[name] == value for name, value in expected.items()]
    claim = update(table).where(table.c.id == record.id, *held).values(**changes)
    if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult, which has rowcount
        return False
    for name, value in changes.items():
        setattr(record, name, value)
    return True
