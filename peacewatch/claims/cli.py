"""``peacewatch claims ...``: record public statements and check them against the mandate."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from rich.table import Table

from peacewatch.claims import service
from peacewatch.claims.schemas import StatementIn
from peacewatch.core import console as base

app = typer.Typer(help="The register of public claims, checked against the mandate and its arrangements.",
                  no_args_is_help=True)


@app.command("add")
def add(file: Annotated[str, typer.Argument(help="JSON statement, or a list, as the API takes it ('-' reads stdin)")]) -> None:
    """Record public statements."""
    statements = base.read_models(file, StatementIn)
    with base.open_session(base.load_settings()) as session:
        for number, data in enumerate(statements, start=1):
            made = base.guarded(partial(service.create_statement, session, base.cli_actor(), data),
                                f"statement {number}: " if len(statements) > 1 else "")
            base.console.print(f"statement {made.id} recorded")


@app.command("list")
def list_() -> None:
    """Statements with their verdict on the day they were made."""
    with base.open_session(base.load_settings()) as session:
        table = Table("id", "on", "who", "stance", "about", "verdict", "quote")
        for s in base.guarded(lambda: service.statements_with_verdicts(session, None).items):
            table.add_row(str(s.id), s.stated_on.isoformat(), f"{s.speaker} ({s.state})", s.stance.value,
                          s.subject_state_name or s.subject.value, s.verdict.value, s.quote)
    base.console.print(table)


@app.command("check")
def check(statement_id: int,
          on: Annotated[str | None, typer.Option(help="Date to check on, YYYY-MM-DD (default: the day it was made)")] = None) -> None:
    """A statement's verdict on a date, with the mandate record, arrangements and related statements it rests on."""
    day = base.day_option(on, "on")
    with base.open_session(base.load_settings()) as session:
        result = base.guarded(lambda: service.check_statement(session, None, statement_id, day))
    base.console.print(f"[bold]{result.verdict.value}[/] on {result.on.isoformat()}: {result.reason}")
    base.console.print(f"mandate {result.mandate.id}: {result.mandate.name} ({result.mandate.source}); "
                       f"contributors: {', '.join(result.mandate.contributors) or 'none'}")
    for a in result.arrangements:
        base.console.print(f"arrangement {a.id}: {a.name}, {a.place}, from {a.starts_on.isoformat()}; {a.source}")
    for r in result.related:
        base.console.print(f"{r.relation}: statement {r.id}, {r.speaker} ({r.state}), {r.stated_on.isoformat()}, "
                           f"{r.stance.value}: {r.quote}")
