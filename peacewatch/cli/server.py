"""Commands that run PeaceWatch: the schema's migrations, the web server, the cluster's periodic work."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from peacewatch.core.auth import User, verify_password
from peacewatch.core.console import console, fail, load_settings, open_session
from peacewatch.core.db import engine_for
from peacewatch.core.observability import configure_logging, log_config, logging_while
from peacewatch.core.settings import KeyNotConfigured, Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def upgrade_database(settings: Settings) -> None:
    from peacewatch.core.migrate import upgrade

    engine = engine_for(settings, "migrate", direct=True, statement_timeout=False)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise fail(f"cannot upgrade the database: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def db_upgrade() -> None:
    """Apply the migrations (SQLite or PostgreSQL, whichever PEACEWATCH_DATABASE_URL names)."""
    settings = load_settings()
    with logging_while(settings.log_format, "alembic.runtime.migration", "peacewatch"):  # each migration's line, with its time
        upgrade_database(settings)
    console.print(f"database at head: {_redacted(settings.resolved_database_url)}")


def db_current() -> None:
    """Print the schema revision the database is at."""
    from peacewatch.core.migrate import current_revision, head_revision

    settings = load_settings()
    engine = engine_for(settings, "cli")
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the database: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    console.print(f"current: {current or 'empty'}; head: {head_revision()}")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve_app(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from peacewatch.app import create_app

    _check_cluster(settings, workers)
    console.print(f"PeaceWatch serving on http://{host}:{port}  (API documentation at /docs)"
                  + (f" with {workers} worker processes" if workers > 1 else ""))
    # the client's address and scheme from X-Forwarded-For/-Proto, only when a trusted proxy sent them
    proxy = {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
    logs = {"log_config": log_config(settings.log_format), "log_level": "info"}
    if workers > 1:  # each worker builds its app from the same environment
        uvicorn.run("peacewatch.app:serving_app", factory=True, host=host, port=port, workers=workers, **logs, **proxy)
    else:
        uvicorn.run(create_app(settings, listeners=True), host=host, port=port, **logs, **proxy)


_SERVE_LOCK: list[Any] = []  # the open lock file of this process's SQLite database, held until it exits


def require_keys(settings: Settings) -> None:
    """On PostgreSQL every process must sign tokens and chain custody with the same keys: refuse to start without them.

    The database connections are asked too: a pooler nobody declared (the leader's lock would be lost in
    it), or a direct URL to another server, is refused before any process serves. A database that does not
    answer yet is no reason to refuse: the process starts and answers 503 until it does.
    """
    try:
        settings.check_keys()
    except KeyNotConfigured as exc:
        raise fail(f"refusing to start: {exc}", 2) from None
    if settings.shared_database:
        from peacewatch.core.dbcheck import probe

        found = probe(settings)
        if found.problems:
            raise fail(f"refusing to start: {found.problems[0]} ('peacewatch config check' says more)", 2)


def _check_cluster(settings: Settings, workers: int) -> None:
    """The keys are shared; SQLite takes one server process, so a second (or --workers) is refused."""
    require_keys(settings)
    if settings.shared_database:
        return
    if workers > 1:
        raise fail("--workers needs PostgreSQL (PEACEWATCH_DATABASE_URL): SQLite takes one server process", 2)
    import fcntl

    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    lock = database.with_name(database.name + ".serve-lock")
    handle = open(os.open(lock, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        raise fail(f"another 'peacewatch serve' (pid {holder}) already serves {database}: SQLite takes one server "
                   "process; for several, use PostgreSQL", 2) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    _SERVE_LOCK.append(handle)


def _demo_password_in_use(settings: Settings, password: str = "demo") -> list[str]:
    with open_session(settings) as session:
        users = session.scalars(select(User).where(User.active.is_(True))).all()
        return [u.username for u in users if verify_password(u.password_hash, password)]


HostOption = Annotated[str, typer.Option(help="Address to listen on; anything but loopback needs real passwords")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="TCP port")]


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Web processes (PostgreSQL; default PEACEWATCH_WORKERS or 1)")] = None,
) -> None:
    """Serve the API and web pages on the configured database.

    Several processes, on this machine (--workers) or on others, may serve one PostgreSQL database.
    """
    settings = load_settings()
    if not is_loopback(host):
        weak = _demo_password_in_use(settings)
        if weak:
            raise fail(f"refusing to listen on {host}: users {', '.join(weak)} still have the demo password")
    else:
        with open_session(settings):
            pass
    serve_app(settings, host, port, workers or settings.workers)


def work() -> None:
    """Run the cluster's periodic work (alert sweeper, recurring patrols, partitions ahead, retention) without
    serving HTTP: a candidate for its lead, like every 'peacewatch serve' whose PEACEWATCH_PERIODIC_WORK is on."""
    import asyncio

    from peacewatch.app import create_app

    settings = load_settings()
    require_keys(settings)
    with open_session(settings):
        pass
    configure_logging(settings.log_format)
    app = create_app(settings)
    console.print("running the cluster's periodic work: " + ", ".join(job.name for job in app.state.work.jobs))
    try:
        asyncio.run(app.state.work.run_forever())
    except KeyboardInterrupt:
        pass
    finally:
        app.state.engine.dispose()
