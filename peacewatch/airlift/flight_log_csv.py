"""The flight log as CSV: an import that says per row what it stored and what it refused, and the export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from peacewatch.airlift.flight_records import Checker, recorded_keys, store_flight
from peacewatch.airlift.flight_rules import MAX_IMPORT_ROWS, Context
from peacewatch.airlift.models import (
    Flight,
)
from peacewatch.airlift.schemas import (
    FlightIn,
    ImportReport,
    RejectedRow,
)
from peacewatch.core.db import transaction
from peacewatch.core.i18n import N_
from peacewatch.core.plain_words import plain_message
from peacewatch.core.problems import Conflict, Invalid
from peacewatch.core.tabular import EXTRA_CELLS, read_table, spreadsheet_safe, table_csv


class _Refused(Exception):
    def __init__(self, report: ImportReport):
        self.report = report


def _csv_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    header, rows = read_table(text, max_rows=MAX_IMPORT_ROWS)
    unknown = [h for h in header if h not in FlightIn.model_fields]
    if unknown:
        raise Invalid("unknown column '{unknown}' in the header; known: {model_fields}",
                      field="body", unknown=unknown[0], model_fields=', '.join(FlightIn.model_fields))
    return header, rows


def import_flights(
    session: Session, ctx: Context, actor: str, text: str, *, all_or_nothing: bool = False,
    progress: Callable[[int, int], None] | None = None, said: Callable[[str], str] = str,
) -> ImportReport:
    """Store the acceptable rows of a flight log in one transaction and report the others with their line.

    A row that repeats a recorded flight (same tail number and planned departure) is counted, not
    stored again, so a log can be imported twice. With ``all_or_nothing`` one bad row stores nothing. Each
    refusal is said with ``said``, the reader's gettext (English by default).
    """
    _, rows = _csv_rows(text)
    report = ImportReport(stored=0, already_recorded=0, rejected=[], stored_ids=[])
    try:
        with transaction(session, actor):
            checker = Checker.of(session, ctx)
            recorded = recorded_keys(session)
            stored: list[Flight] = []
            for done, (line, row) in enumerate(rows, start=1):
                _import_row(session, checker, line, row, report, recorded, stored, said)
                if progress is not None:
                    progress(done, len(rows))
            if all_or_nothing and report.rejected:
                raise _Refused(report)
            session.flush()  # one flush for the log: its flights' ids
            report.stored_ids.extend(flight.id for flight in stored)
    except _Refused:
        return ImportReport(stored=0, already_recorded=report.already_recorded, rejected=report.rejected, stored_ids=[])
    return report


def _import_row(session: Session, checker: Checker, line: int, row: dict[str, str], report: ImportReport,
                recorded: set[tuple[str, datetime]], stored: list[Flight], said: Callable[[str], str]) -> None:
    if EXTRA_CELLS in row:
        report.rejected.append(RejectedRow(line=line, field="row", message=said(N_("has more cells than the header has columns"))))
        return
    try:
        values = FlightIn.model_validate(row).model_dump()
        checker.check(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        report.rejected.append(RejectedRow(line=line, field=".".join(map(str, first["loc"])) or "row",
                                               message=plain_message(first, said)))
        return
    except (Invalid, Conflict) as exc:
        where = exc.errors[0].field.removeprefix("body.") if exc.errors else "row"
        report.rejected.append(RejectedRow(line=line, field=where, message=exc.said_in(said)))
        return
    key = (values["tail_number"], values["planned_departure"]) if values.get("tail_number") else None
    if key is not None and key in recorded:
        report.already_recorded += 1
        return
    stored.append(store_flight(session, checker, values, key=-len(stored) - 1))  # a key of the import's own until flushed
    if key is not None:
        recorded.add(key)
    report.stored += 1


FLIGHT_CSV_COLUMNS = list(FlightIn.model_fields)
# one flight as a log writes it: the template's example line, in the import's own columns (times in UTC)
TEMPLATE_EXAMPLE = {
    "aircraft_type": "Il-76MD", "tail_number": "RA-78830", "callsign": "RFF7021", "direction": "inbound", "status": "landed",
    "departure": "UWLW", "arrival": "UDYE", "planned_departure": "2020-11-10T20:00:00Z", "planned_arrival": "2020-11-11T00:30:00Z",
    "actual_departure": "2020-11-10T20:05:00Z", "actual_arrival": "2020-11-11T00:41:00Z", "personnel": 90, "armoured": 0,
    "vehicles": 4, "tonnes": 12.5, "unit_id": "", "notes": "first wave", "visibility": "internal",
}


def flight_log_template() -> str:
    """An empty flight log to fill in a spreadsheet: the columns the import reads, and one example flight, which the
    import would store as it is (the test imports it)."""
    return table_csv(FLIGHT_CSV_COLUMNS, [[TEMPLATE_EXAMPLE.get(name, "") for name in FLIGHT_CSV_COLUMNS]])


def flights_csv(flights: Iterable[Flight]) -> str:
    """Flights in the import's own columns, so an export can be edited and imported again (formulas quoted both ways)."""
    rows = []
    for f in flights:
        row = []
        for name in FLIGHT_CSV_COLUMNS:
            value = {"departure": f.departure.code, "arrival": f.arrival.code}.get(name, getattr(f, name, ""))
            value = value.value if hasattr(value, "value") else value
            row.append("" if value is None else value.isoformat() if isinstance(value, datetime) else spreadsheet_safe(value))
        rows.append(row)
    return table_csv(FLIGHT_CSV_COLUMNS, rows)
