"""Commands of the demonstration: load the reference scenario and serve it, drive its patrols live."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from peacewatch.cli.server import HostOption, PortOption, is_loopback, require_keys, serve_app, upgrade_database
from peacewatch.core.console import console, fail, guarded, load_settings, open_session


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
    require_keys(settings)
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
        serve_app(settings, host, port, settings.workers)


class Via(str, Enum):
    http = "http"
    cot = "cot"


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
