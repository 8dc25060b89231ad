"""``peacewatch demining ...``: record what the engineers cleared, list it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peacewatch.core import console as base
from peacewatch.demining import service
from peacewatch.demining.schemas import ClearanceIn

app = typer.Typer(help="Demining: ground, roads and buildings cleared, explosive objects neutralised.", no_args_is_help=True)


@app.command("add")
def add(file: Annotated[str, typer.Argument(help="JSON clearance, or a list, as the API takes it ('-' reads stdin)")]) -> None:
    """Record clearances; each is checked (a day of the mission, a known unit, hectares that agree with the polygon)."""
    clearances = base.read_models(file, ClearanceIn)
    settings = base.load_settings()
    with base.open_session(settings) as session:
        for made in base.store_each(clearances, "clearance", lambda data: service.create_clearance(session, settings, base.cli_actor(), data)):
            base.console.print(f"clearance {made.id} recorded: {made.hectares:g} ha, {made.explosive_objects} explosive objects")


@app.command("list")
def list_clearances(since: str | None = None, until: str | None = None) -> None:
    """Clearances, latest first."""
    first, last = base.day_option(since, "since"), base.day_option(until, "until")
    with base.open_session(base.load_settings()) as session:
        rows = [service.clearance_out(session, c) for c in service.list_clearances(session, None, since=first, until=last, limit=1000).items]
    table = Table("id", "day", "unit", "place", "ha", "road km", "buildings", "objects", "visibility")
    for c in rows:
        table.add_row(str(c.id), c.cleared_on.isoformat(), c.unit_name, c.place, f"{c.hectares:g}", f"{c.road_km:g}",
                      str(c.buildings), str(c.explosive_objects), c.visibility.value)
    base.console.print(table)
