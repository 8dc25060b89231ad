"""``peacewatch gpx``, ``peacewatch backfill`` and ``peacewatch positions``: positions in from files, and the store's retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from peacewatch.core.console import (
    cli_actor,
    console,
    day_option,
    err,
    fail,
    guarded,
    load_settings,
    open_session,
)

positions_app = typer.Typer(help="The position store: its size, and retention.", no_args_is_help=True)


def upload_gpx(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="GPX 1.0 or 1.1 file")],
    tracker: Annotated[str | None, typer.Option(help="Tracker code or CoT uid the points belong to")] = None,
    waypoints: Annotated[str, typer.Option(
        help="report: listed, not stored; places: kept as named places; positions: timed ones are fixes")] = "report",
    tracks: Annotated[str, typer.Option(
        help="one: every track into --tracker; by_name: each track into the tracker its name names")] = "one",
) -> None:
    """Record a GPX file's timed track points as one tracker's positions; say which points were not stored, and why."""
    from peacewatch.geography.service import keep_places
    from peacewatch.live.ingest import Ingest
    from peacewatch.tracking.gpx import gpx_columns

    if waypoints not in ("report", "places", "positions"):
        raise fail(f"--waypoints must be report, places or positions, not '{waypoints}'")
    if tracks not in ("one", "by_name"):
        raise fail(f"--tracks must be one or by_name, not '{tracks}'")
    settings = load_settings()
    with open_session(settings) as session, Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"reading {file.name}", total=3)
        progress.update(task, advance=1, description=f"checking {file.name}")
        with file.open("rb") as stream:
            points = guarded(lambda: gpx_columns(stream, tracker, waypoints=waypoints, tracks=tracks))  # type: ignore[arg-type]  # a file opened in binary mode is the BinaryIO the reader wants
        progress.update(task, advance=1, description=f"storing {len(points.columns):,} positions")
        stored, duplicates = 0, 0
        if len(points.columns):
            report = guarded(lambda: Ingest.of(settings).record(session, cli_actor(), "gpx", points.columns, where="file.points"))
            stored, duplicates = report.stored, report.duplicates
        if points.places:
            created, known = guarded(lambda: keep_places(session, cli_actor(), points.places, f"{file.name} from {cli_actor()}"))
            console.print(f"{file.name}: {created} waypoint(s) kept as places, {known} already known")
        progress.update(task, advance=1)
    console.print(f"{file.name}: {stored} positions stored, {duplicates} already known, "
                  f"{points.skipped_count} point(s) not stored")
    for point in points.skipped:
        console.print(f"  {point.where} {point.name or '(unnamed)'}: {point.reason}", highlight=False)
    if points.skipped_count > len(points.skipped):
        console.print(f"  ... and {points.skipped_count - len(points.skipped)} more", highlight=False)
    if len(points.columns) and tracks == "by_name":
        console.print(f"  tracks stored into: {', '.join(points.columns.names)}", highlight=False)
    if points.geoid_from_file:
        console.print(f"  {points.geoid_from_file} height(s) made with the file's own geoid height (<geoidheight>), the rest with EGM96",
                      highlight=False)
    if points.heights_dropped:
        console.print(f"  {points.heights_dropped} elevation(s) left unknown: no geoid grid covers those points", highlight=False)


def backfill(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV: tracker,t,lat,lon[,speed,heading,accuracy] and a height: alt (above the "
                                              "ellipsoid) or ele / alt_msl (above sea level)")],
) -> None:
    """Store a CSV export of positions (a day of history, say): checked whole first, then stored oldest first."""
    from peacewatch.live.backfill import backfill as run_backfill
    from peacewatch.live.backfill import read_csv
    from peacewatch.live.ingest import Ingest

    settings = load_settings()
    with open_session(settings) as session, Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"reading {file.name}", total=None)
        read = guarded(lambda: read_csv(file))
        columns = read.columns
        progress.update(task, total=len(columns), completed=0, description=f"storing {len(columns):,} positions")
        report = guarded(lambda: run_backfill(
            session, Ingest.of(settings), cli_actor(), columns, progress=lambda done: progress.advance(task, done),
        ))
    console.print(f"{file.name}: {report.stored:,} positions stored, {report.duplicates:,} already known, {report.alerts} alerts")
    console.print({"ellipsoid": "  heights read as above the WGS84 ellipsoid (alt)",
                   "sea level": "  heights read as above sea level (ele or alt_msl), stored above the ellipsoid (EGM96)",
                   "none": "  no heights in the file"}[read.heights], highlight=False)


@positions_app.command("prune")
def positions_prune(
    before: Annotated[str, typer.Option(help="Remove positions before this day (YYYY-MM-DD, UTC); patrols' tracks are kept first")],
) -> None:
    """Remove old positions: whole days (partitions dropped on PostgreSQL, chunked deletes on SQLite); audited."""
    from peacewatch.patrols.service import keep_tracks
    from peacewatch.tracking.retention import prune_positions

    day = day_option(before, "before")
    assert day is not None
    settings = load_settings()
    with open_session(settings) as session:
        report = guarded(lambda: prune_positions(
            session, cli_actor(), datetime(day.year, day.month, day.day, tzinfo=UTC), [keep_tracks]))
    where = f" ({len(report.partitions)} daily partition(s) dropped)" if report.partitions else ""
    console.print(f"{report.positions:,} positions before {day} pruned{where}, {report.bytes_freed / 1e6:,.1f} MB given back; "
                  f"{report.kept} patrol track(s) kept first")


@positions_app.command("stats")
def positions_stats() -> None:
    """How many positions are stored, over which days, and how many bytes each takes on disk."""
    from peacewatch.tracking.store import storage

    settings = load_settings()
    with open_session(settings) as session:
        found = storage(session)
    console.print(f"{found.positions:,} positions from {found.first or '-'} to {found.last or '-'}; "
                  f"{found.bytes / 1e6:,.1f} MB with indexes, {found.bytes_per_position:.1f} bytes a position"
                  + (f"; {found.partitions} daily partition(s)" if found.partitions else ""))
