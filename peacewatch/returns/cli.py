"""``peacewatch returns ...``: record the civilians who returned home, list them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peacewatch.core import console as base
from peacewatch.returns import service
from peacewatch.returns.schemas import ReturnIn

app = typer.Typer(help="Civilian returns: people who returned home, per day and route.", no_args_is_help=True)


@app.command("add")
def add(file: Annotated[str, typer.Argument(help="JSON return, or a list, as the API takes it ('-' reads stdin)")]) -> None:
    """Record returns; one escorted by a convoy may not count more people than the convoy carried."""
    returns = base.read_models(file, ReturnIn)
    settings = base.load_settings()
    with base.open_session(settings) as session:
        for made in base.store_each(returns, "return", lambda data: service.create_return(session, settings, base.cli_actor(), data)):
            base.console.print(f"return {made.id} recorded: {made.people:,} people on {made.returned_on.isoformat()}")


@app.command("list")
def list_returns(since: str | None = None, until: str | None = None) -> None:
    """Returns, latest first."""
    first, last = base.day_option(since, "since"), base.day_option(until, "until")
    with base.open_session(base.load_settings()) as session:
        rows = service.list_returns(session, None, since=first, until=last, limit=1000).items
        table = Table("id", "day", "route", "people", "convoy", "visibility")
        for r in rows:
            table.add_row(str(r.id), r.returned_on.isoformat(), r.route, f"{r.people:,}", str(r.convoy_id or "-"), r.visibility.value)
    base.console.print(table)
