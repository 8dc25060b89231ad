"""``peacewatch mandate``: the mandate's state on a date."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated, Any

import typer
from rich.table import Table

from peacewatch.core.console import (
    console,
    fail,
    guarded,
    load_settings,
    open_session,
)


def mandate_state(
    on: Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD), default today")] = None,
) -> None:
    """Print the mandate's state on a date: in force, notice deadline, renewed until when."""
    from dataclasses import asdict

    from peacewatch.core.db import utcnow
    from peacewatch.mandate.service import get_mandate, state_on

    try:
        day = date.fromisoformat(on) if on else utcnow().date()
    except ValueError:
        raise fail(f"--on must be a date as YYYY-MM-DD, not '{on}'") from None
    with open_session(load_settings()) as session:
        mandate = guarded(lambda: get_mandate(session, None))
        state = state_on(mandate, day)
    table = Table("field", "value", title=mandate.name)
    for key, value in asdict(state).items():
        table.add_row(key, _text(value))
    console.print(table)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    return value.value if isinstance(value, Enum) else str(value)
