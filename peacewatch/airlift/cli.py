"""``peacewatch airlift ...``: the flight log, figures at any moment, strength, rotation plans and convoys."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from fastapi.encoders import jsonable_encoder
from rich.progress import Progress
from rich.table import Table

from peacewatch.airlift import build_up, convoy_records, flight_log_csv, flight_records, flight_rules, rotation_plans
from peacewatch.airlift.charts import build_up_chart
from peacewatch.airlift.models import FlightStatus
from peacewatch.airlift.schemas import ConvoyIn, MinimumIn, RotationPlanIn, StrengthFigures
from peacewatch.core import console as base
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import STAFF

app = typer.Typer(help="Airlift: flights, figures, strength in theatre, rotation plans and convoys.", no_args_is_help=True)

At = Annotated[str | None, typer.Option(help="The moment, ISO 8601, e.g. 2020-11-14T12:00+03:00 (default: now)")]
Zone = Annotated[str | None, typer.Option(help="Time zone of an --at given without an offset, e.g. Europe/Moscow (default: UTC)")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")]


class FiguresFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"
    png = "png"


def moment(text: str | None, zone: str | None) -> datetime | None:
    """``--at`` as an aware time: its own offset, else ``--zone``, else UTC (as the API takes it)."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise base.fail(f"--at must be an ISO 8601 time such as 2020-11-14T12:00+03:00, not '{text}'") from None
    if at.tzinfo is None and zone:
        try:
            at = at.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise base.fail(f"--zone '{zone}' is not an IANA time zone such as Europe/Moscow") from None
    return at


def _ctx() -> tuple[Settings, flight_rules.Context]:
    settings = base.load_settings()
    return settings, flight_rules.Context.of(settings)


def _strength_row(s: StrengthFigures | None) -> list[str]:
    return ["-"] * 3 if s is None else [f"{s.personnel:,}", f"{s.armoured:,}", f"{s.vehicles:,}"]


@app.command("figures")
def figures(at: At = None, zone: Zone = None,
            format: Annotated[FiguresFormat, typer.Option("--format", "-f")] = FiguresFormat.text,
            output: Output = None) -> None:
    """Flights since the start and in the past 24 hours, loads delivered, per type and day, and the build-up."""
    when = moment(at, zone)
    if format is FiguresFormat.png and output is None:
        raise base.fail("a chart goes to a file: give --output")
    settings, ctx = _ctx()
    with base.open_session(settings) as session:
        result = base.guarded(lambda: build_up.figures(session, ctx, when, STAFF))  # the shell reads everything
    if format is FiguresFormat.csv:
        return base.write_out(build_up.figures_csv(result).encode(), output, "airlift figures")
    if format is FiguresFormat.png:
        return base.write_out(build_up_chart(result), output, "build-up chart")
    if format is FiguresFormat.json:
        return base.write_out(json.dumps(jsonable_encoder(result), indent=1).encode(), output, "airlift figures")
    base.console.print(f"At {result.local_time}: [bold]{result.flights}[/] flights since the start of the operation, "
                       f"[bold]{result.flights_past_24h}[/] in the past 24 hours")
    base.console.print(f"Delivered: {result.personnel_delivered:,} personnel, {result.vehicles_delivered:,} vehicles, "
                       f"{result.tonnes_delivered:,.1f} t")
    types = Table("aircraft", "flights", "personnel", "vehicles", "tonnes")
    for name, t in result.by_aircraft_type.items():
        types.add_row(name, str(t.flights), f"{t.personnel:,}", f"{t.vehicles:,}", f"{t.tonnes:,.1f}")
    base.console.print(types)
    strength = Table("strength", "personnel", "armoured", "other vehicles", title="Strength")
    strength.add_row("in theatre", *_strength_row(result.strength.in_theatre))
    strength.add_row("counting arrivals in the air", *_strength_row(result.strength.towards_ceiling))
    strength.add_row("ceilings", *_strength_row(result.strength.ceilings))
    strength.add_row("minimum", *_strength_row(result.strength.minimum))
    base.console.print(strength)


@app.command("import")
def import_log(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Flight log, CSV with the API's field names as columns")],
    all_or_nothing: Annotated[bool, typer.Option(help="Store nothing if any row is rejected")] = False,
) -> None:
    """Import a flight log; rows that repeat a recorded flight are skipped, rejected rows are listed (exit 1)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise base.fail(f"{file}: not UTF-8 text (byte {exc.start})") from None
    settings, ctx = _ctx()
    with base.open_session(settings) as session, Progress(console=base.err, transient=True) as progress:
        task = progress.add_task(f"importing {file.name}", total=None)
        report = base.guarded(lambda: flight_log_csv.import_flights(
            session, ctx, base.cli_actor(), text, all_or_nothing=all_or_nothing,
            progress=lambda done, total: progress.update(task, completed=done, total=total)))
    base.console.print(f"{report.stored} flights stored, {report.already_recorded} already recorded, "
                       f"{len(report.rejected)} rejected" + (" (nothing stored)" if all_or_nothing and report.rejected else ""))
    if report.rejected:
        table = Table("line", "field", "why", title=f"Rejected rows of {file.name}")
        for row in report.rejected:
            table.add_row(str(row.line), row.field, row.message)
        base.err.print(table)
        raise typer.Exit(1)


@app.command("flights")
def flights(status: Annotated[FlightStatus | None, typer.Option(help="Only in this status")] = None,
            limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """The latest flights by planned departure, times in the mission's zone."""
    settings, ctx = _ctx()
    with base.open_session(settings) as session:
        table = Table("id", "type", "tail", "dir", "status", "from", "to", "departure", "arrival", "pers", "veh", "t")
        for f in flight_records.list_flights(session, None, status=status, limit=limit).items:
            dep, arr = f.actual_departure or f.planned_departure, f.actual_arrival or f.planned_arrival
            table.add_row(str(f.id), f.aircraft_type, f.tail_number, f.direction.value, f.status.value, f.departure.code,
                          f.arrival.code, ctx.local(dep), ctx.local(arr), str(f.personnel), str(f.armoured + f.vehicles),
                          f"{f.tonnes:g}")
    base.console.print(table)


@app.command("strength")
def strength(at: At = None, zone: Zone = None) -> None:
    """Personnel, armoured and other vehicles in theatre at a moment, against the ceilings and the minimum."""
    when = moment(at, zone)
    settings, ctx = _ctx()
    with base.open_session(settings) as session:
        result = base.guarded(lambda: build_up.strength(session, ctx, when, STAFF))
    base.write_out(json.dumps(jsonable_encoder(result), indent=1).encode(), None, "strength")


@app.command("plan")
def plan(
    file: Annotated[str, typer.Argument(help="JSON rotation plan as the API takes it ('-' reads stdin)")],
    check_only: Annotated[bool, typer.Option("--check", help="Only check it; store nothing")] = False,
) -> None:
    """Check a rotation plan, and accept it unless --check: refused (exit 1) with the first breach."""
    data = base.read_models(file, RotationPlanIn)
    if len(data) != 1:
        raise base.fail("give one rotation plan per file")
    settings, ctx = _ctx()
    with base.open_session(settings) as session:
        if check_only:
            verdict = base.guarded(lambda: rotation_plans.check_plan(session, ctx, data[0]))
            if verdict.breach is not None:
                raise base.fail(f"plan not acceptable: {verdict.breach.message}")
            base.console.print(f"acceptable: personnel stays between {verdict.lowest_personnel:,} and {verdict.highest_personnel:,}")
            return
        accepted = base.guarded(lambda: rotation_plans.create_plan(session, ctx, base.cli_actor(), data[0]))
        base.console.print(f"rotation plan {accepted.id} accepted: flights {', '.join(str(f.id) for f in accepted.flights)}")


@app.command("convoy")
def convoy(file: Annotated[str, typer.Argument(help="JSON convoy, or a list, as the API takes it ('-' reads stdin)")]) -> None:
    """Log road movements through the corridor."""
    convoys = base.read_models(file, ConvoyIn)
    settings, ctx = _ctx()
    with base.open_session(settings) as session:
        for made in base.store_each(convoys, "convoy", lambda data: convoy_records.create_convoy(session, ctx, base.cli_actor(), data)):
            base.console.print(f"convoy {made.id} logged")


@app.command("minimum")
def set_minimum(personnel: Annotated[int, typer.Option(min=0)], armoured: Annotated[int, typer.Option(min=0)],
                vehicles: Annotated[int, typer.Option(min=0)], reason: str = "") -> None:
    """Set the strength below which rotations may not take the force."""
    data = base.checked(MinimumIn, personnel=personnel, armoured=armoured, vehicles=vehicles, reason=reason)
    with base.open_session(base.load_settings()) as session:
        base.guarded(lambda: build_up.set_minimum(session, base.cli_actor(), data))
    base.console.print(f"minimum set: {personnel:,} personnel, {armoured:,} armoured, {vehicles:,} other vehicles")
