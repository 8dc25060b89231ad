"""The ``peacewatch`` command: the same settings and services as the server, for operators at a shell."""

from __future__ import annotations

import ipaddress
import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from peacewatch.access.cli import token_app as token_commands
from peacewatch.access.cli import user_app as user_commands
from peacewatch.airlift.cli import app as airlift_commands
from peacewatch.claims.cli import app as claims_commands
from peacewatch.core.auth import User, verify_password
from peacewatch.core.console import (
    console,
    fail,
    guarded,
    load_settings,
    open_session,
)
from peacewatch.core.db import make_engine
from peacewatch.core.settings import KeyNotConfigured, Settings
from peacewatch.demining.cli import app as demining_commands
from peacewatch.geography.cli import export_layer, import_layer
from peacewatch.incidents.cli import app as incidents_commands
from peacewatch.live.cli import backfill, upload_gpx
from peacewatch.live.cli import positions_app as positions_commands
from peacewatch.mandate.cli import mandate_state
from peacewatch.ogc.cli import features
from peacewatch.publication.cli import app as report_commands
from peacewatch.remains.cli import app as remains_commands
from peacewatch.remains.cli import custody_app as custody_commands
from peacewatch.returns.cli import app as returns_commands

app = typer.Typer(
    help="PeaceWatch: operations and ceasefire monitoring.", no_args_is_help=True, add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def upgrade_database(settings: Settings) -> None:
    from peacewatch.core.migrate import upgrade

    try:
        upgrade(settings.resolved_database_url)
    except SQLAlchemyError as exc:
        raise fail(f"cannot upgrade the database: {str(exc).splitlines()[0]}") from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (SQLite or PostgreSQL, whichever PEACEWATCH_DATABASE_URL names)."""
    settings = load_settings()
    upgrade_database(settings)
    console.print(f"database at head: {_redacted(settings.resolved_database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from peacewatch.core.migrate import current_revision, head_revision

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the database: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    console.print(f"current: {current or 'empty'}; head: {head_revision(settings.resolved_database_url)}")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from peacewatch.app import create_app

    _check_cluster(settings, workers)
    console.print(f"PeaceWatch serving on http://{host}:{port}  (API documentation at /docs)"
                  + (f" with {workers} worker processes" if workers > 1 else ""))
    # the client's address and scheme from X-Forwarded-For/-Proto, only when a trusted proxy sent them
    proxy = {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
    if workers > 1:  # each worker builds its app from the same environment
        uvicorn.run("peacewatch.app:serving_app", factory=True, host=host, port=port, workers=workers, log_level="info", **proxy)
    else:
        uvicorn.run(create_app(settings, listeners=True), host=host, port=port, log_level="info", **proxy)


_SERVE_LOCK: list[Any] = []  # the open lock file of this process's SQLite database, held until it exits


def _require_keys(settings: Settings) -> None:
    """On PostgreSQL every process must sign tokens and chain custody with the same keys: refuse to start without them."""
    try:
        settings.check_keys()
    except KeyNotConfigured as exc:
        raise fail(f"refusing to start: {exc}", 2) from None


def _check_cluster(settings: Settings, workers: int) -> None:
    """The keys are shared; SQLite takes one server process, so a second (or --workers) is refused."""
    _require_keys(settings)
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


@app.command()
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
    _serve(settings, host, port, workers or settings.workers)


@app.command()
def work() -> None:
    """Run the cluster's periodic work (alert sweeper, recurring patrols, partitions ahead, retention) without
    serving HTTP: a candidate for its lead, like every 'peacewatch serve' whose PEACEWATCH_PERIODIC_WORK is on."""
    import asyncio

    from peacewatch.app import create_app

    settings = load_settings()
    _require_keys(settings)
    with open_session(settings):
        pass
    app = create_app(settings)
    console.print("running the cluster's periodic work: " + ", ".join(job.name for job in app.state.work.jobs))
    try:
        asyncio.run(app.state.work.run_forever())
    except KeyboardInterrupt:
        pass
    finally:
        app.state.engine.dispose()


@app.command()
def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    serve_it: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading")] = True,
    password: Annotated[str | None, typer.Option(help="Password for the demo users (default: demo)")] = None,
) -> None:
    """Load the reference scenario (Nagorno-Karabakh, November 2020) and serve it."""
    from peacewatch.scenario import nk2020

    if serve_it and not is_loopback(host) and password in (None, nk2020.DEMO_PASSWORD):
        raise fail(f"refusing to serve the demo password on {host}: pass --password with a strong one")
    if password is not None and len(password) < 8 and password != nk2020.DEMO_PASSWORD:
        raise fail("--password must be at least 8 characters")
    settings = load_settings()
    _require_keys(settings)
    console.print(f"data directory: {settings.ensure_data_dir()}")
    upgrade_database(settings)
    from peacewatch.scenario import activity

    with open_session(settings) as session:
        report = guarded(lambda: nk2020.load(session, password or nk2020.DEMO_PASSWORD))
    console.print(f"scenario loaded: {report.created} records created, {report.updated} already present")
    steps = activity(lambda: open_session(settings), settings)
    while (said := guarded(lambda: next(steps, None))) is not None:
        console.print(said[1])
    table = Table(title="Demo users", show_lines=False)
    table.add_column("username")
    table.add_column("role")
    table.add_column("password")
    for username, role, side, _ in nk2020.DEMO_USERS:
        table.add_row(username, role.value + (f" (side {side.value})" if side else ""), password or nk2020.DEMO_PASSWORD)
    console.print(table)
    if serve_it:
        _serve(settings, host, port, settings.workers)


@app.command("backup")
def backup_command(
    destination: Annotated[Path, typer.Argument(file_okay=False, help="A new folder for the backup")],
) -> None:
    """Copy the database (while the server keeps writing), its keys and a manifest with checksums into DESTINATION."""
    from peacewatch.core.backup import BackupError, backup

    settings = load_settings()
    try:
        manifest = backup(settings, destination)
    except (BackupError, KeyNotConfigured) as exc:
        raise fail(str(exc)) from None
    size = sum(f["bytes"] for f in manifest.files.values())
    console.print(f"backup of the {manifest.database} database (schema {manifest.revision}) in {destination}: "
                  f"{len(manifest.files)} files, {size:,} bytes, checksums in manifest.json")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A folder written by 'peacewatch backup'")],
) -> None:
    """Bring a backup up in an empty data directory (SQLite) or an empty database (PostgreSQL)."""
    from peacewatch.core.backup import BackupError, restore

    settings = load_settings()
    try:
        manifest = restore(settings, source)
    except BackupError as exc:
        raise fail(str(exc)) from None
    console.print(f"restored the backup of {manifest.data['started_at']} (schema {manifest.revision})")
    if manifest.database == "postgresql":
        console.print(f"every server needs its keys: PEACEWATCH_SECRET_KEY_FILE={source / 'secret_key'} and "
                      f"PEACEWATCH_CUSTODY_KEY_FILE={source / 'custody_key'} (or copies of them)")
    console.print("then 'peacewatch db upgrade' (if this version is newer) and 'peacewatch serve'")


@app.command("keys")
def keys_create(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Where to write secret_key and custody_key")],
) -> None:
    """Write a new secret key and custody key, readable by their owner only, for every server to share.

    Point each server at them with PEACEWATCH_SECRET_KEY_FILE and PEACEWATCH_CUSTODY_KEY_FILE (or copy
    them, by a safe channel, to each machine). Existing keys are never overwritten: a new custody key
    would make every recorded custody event fail verification.
    """
    import secrets

    from peacewatch.core.settings import CUSTODY_KEY_FILE, SECRET_KEY_FILE

    directory.mkdir(parents=True, exist_ok=True)
    for name in (SECRET_KEY_FILE, CUSTODY_KEY_FILE):
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise fail(f"{path} exists: keys are never overwritten") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        console.print(f"wrote {path}")
    console.print(f"export PEACEWATCH_SECRET_KEY_FILE={directory / SECRET_KEY_FILE} "
                  f"PEACEWATCH_CUSTODY_KEY_FILE={directory / CUSTODY_KEY_FILE}", highlight=False, soft_wrap=True)


class Via(str, Enum):
    http = "http"
    cot = "cot"


@app.command()
def simulate(
    url: Annotated[str, typer.Option(help="The running server")] = "http://127.0.0.1:8000",
    via: Annotated[Via, typer.Option(help="Send positions as HTTP batches or as Cursor-on-Target over TCP")] = Via.http,
    cot: Annotated[str, typer.Option(help="The CoT listener, with --via cot")] = "tcp://127.0.0.1:8087",
    user: Annotated[str, typer.Option(help="A user with the operations role (plans and starts the patrols)")] = "ops",
    password: Annotated[str, typer.Option(envvar="PEACEWATCH_SIMULATE_PASSWORD", help="Its password")] = "demo",
    minutes: Annotated[float, typer.Option(min=0.05, max=24 * 60, help="Stop after this long")] = 5.0,
    speed: Annotated[float, typer.Option(min=1, max=3600, help="Simulated seconds per real second")] = 10.0,
    interval: Annotated[float, typer.Option(min=0.1, max=300, help="Seconds between sends")] = 5.0,
) -> None:
    """Drive the demo's four patrols live against a running server, starting now, time compressed."""
    from peacewatch.scenario.simulate import SimulationError, run

    try:
        sent = run(url, user, password, via=via.value, cot_url=cot, minutes=minutes, speed=speed, interval=interval,
                   say=lambda line: console.print(line))
    except SimulationError as exc:
        raise fail(str(exc)) from None
    console.print(f"simulation over: {sent:,} positions sent via {via.value}")


# the capabilities' own commands, registered here: they import the shared helpers (core.console), never this module
app.add_typer(user_commands, name="user")
app.add_typer(token_commands, name="token")
app.add_typer(positions_commands, name="positions")
app.command("import")(import_layer)
app.command("export")(export_layer)
app.command("gpx")(upload_gpx)
app.command("backfill")(backfill)
app.command("mandate")(mandate_state)
for _name, _commands in (("incident", incidents_commands), ("airlift", airlift_commands), ("claims", claims_commands),
                         ("remains", remains_commands), ("custody", custody_commands), ("report", report_commands),
                         ("demining", demining_commands), ("returns", returns_commands)):
    app.add_typer(_commands, name=_name)
app.command("features")(features)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
