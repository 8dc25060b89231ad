"""What the configured database connections really reach, asked of PostgreSQL itself.

Settings can be right on paper and wrong on the wire: ``PEACEWATCH_DATABASE_URL`` may go through pgbouncer
while ``PEACEWATCH_DB_POOL_MODE`` says nothing is in between (the leader's lock would then be held on a
pooled connection and lost), or the direct URL may reach another server than the pooler does. A pooler is
recognised without asking it: pgbouncer gives its clients a process id of its own, so the id the
connection was given differs from ``pg_backend_pid()`` of the server that runs the query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from peacewatch.core.notify import libpq_url
from peacewatch.core.settings import Settings


@dataclass(frozen=True)
class Endpoint:
    """One URL's connection as PostgreSQL answered it."""

    reached: bool
    error: str = ""
    pooled: bool = False
    server: str = ""  # address:port of the PostgreSQL server that ran the queries
    database_oid: int = 0
    started_at: datetime | None = None  # the postmaster's start: with the oid, which cluster and database
    primary: bool = False
    synchronous_standby_names: str = ""
    synchronous_standbys: int | None = None  # connected synchronous standbys, when this role may see them

    @property
    def identity(self) -> tuple[int, datetime | None]:
        return self.database_oid, self.started_at


@dataclass(frozen=True)
class Probe:
    """The configured URLs, reached; ``problems`` are what must be changed before serving."""

    database: Endpoint
    direct: Endpoint | None
    problems: list[str] = field(default_factory=list)


def reach(sqlalchemy_url: str, timeout_s: int = 5) -> Endpoint:
    """Connect once and ask the server who it is; an unreachable URL is an answer too."""
    try:
        with psycopg.connect(libpq_url(sqlalchemy_url), connect_timeout=timeout_s, autocommit=True,
                             prepare_threshold=None, application_name="peacewatch-config-check") as connection:
            row = connection.execute(
                "SELECT pg_backend_pid(), coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'a local socket'),"
                " (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, pg_postmaster_start_time(),"
                " NOT pg_is_in_recovery(), current_setting('synchronous_standby_names')").fetchone()
            assert row is not None
            standbys = connection.execute(
                "SELECT count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')), count(sync_state) FROM pg_stat_replication"
            ).fetchone()
            visible = standbys is not None and (standbys[1] > 0 or not row[5])
            return Endpoint(reached=True, pooled=connection.info.backend_pid != row[0], server=row[1], database_oid=row[2],
                            started_at=row[3], primary=row[4], synchronous_standby_names=row[5],
                            synchronous_standbys=standbys[0] if visible and standbys is not None else None)
    except psycopg.Error as exc:
        return Endpoint(reached=False, error=(str(exc).strip().splitlines() or [type(exc).__name__])[0])


def probe(settings: Settings) -> Probe:
    """Reach the database URL and the direct URL, and say what contradicts the settings."""
    database = reach(settings.resolved_database_url)
    direct = reach(settings.database_direct_url) if settings.database_direct_url else None
    return Probe(database, direct, contradictions(settings, database, direct))


def contradictions(settings: Settings, database: Endpoint, direct: Endpoint | None) -> list[str]:
    """What the servers' answers say the settings got wrong (pure: the endpoints are given)."""
    found = []
    if database.reached and database.pooled and settings.db_pool_mode == "none":
        found.append("PEACEWATCH_DATABASE_URL goes through a connection pooler (pgbouncer) but PEACEWATCH_DB_POOL_MODE=none: "
                     "set it to transaction (or session), with PEACEWATCH_DATABASE_DIRECT_URL to PostgreSQL itself")
    if direct is not None and direct.reached:
        if direct.pooled:
            found.append("PEACEWATCH_DATABASE_DIRECT_URL goes through a connection pooler: it must reach PostgreSQL itself "
                         "(the leader's lock and LISTEN need a session of their own)")
        if database.reached and direct.identity != database.identity:
            found.append(f"PEACEWATCH_DATABASE_DIRECT_URL reaches another database ({direct.server}) than "
                         f"PEACEWATCH_DATABASE_URL ({database.server})")
        if database.reached and database.primary and not direct.primary:
            found.append("PEACEWATCH_DATABASE_DIRECT_URL reaches a standby: add target_session_attrs=read-write "
                         "and every server's address, as in PEACEWATCH_DATABASE_URL")
    if database.reached and not database.primary:
        found.append(f"PEACEWATCH_DATABASE_URL reaches a standby ({database.server}), which takes no write: "
                     "name every server and add target_session_attrs=read-write")
    return found
