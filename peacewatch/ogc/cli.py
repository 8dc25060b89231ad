"""``peacewatch features COLLECTION``: any collection as GeoJSON, KML, GPX or CSV (incidents also ACLED), filtered."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from peacewatch.core import console as base
from peacewatch.ogc.collections import COLLECTIONS
from peacewatch.ogc.exports import ExportFormat, Filters, export

CollectionName = Enum("CollectionName", {name.replace("-", "_"): name for name in COLLECTIONS}, type=str)  # type: ignore[misc]  # an Enum made from the collections' names at import; mypy wants a literal


def features(
    collection: Annotated[CollectionName, typer.Argument(help="Which collection")],  # type: ignore[valid-type]  # that Enum, made at run time, is a type to Typer but a variable to mypy
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="geojson, kml, gpx (tracks and points), csv, acled (incidents)")] = ExportFormat.geojson,
    since: Annotated[str | None, typer.Option(help="From this day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="To this day, YYYY-MM-DD, included")] = None,
    area: Annotated[str | None, typer.Option(help="Only features in this area of responsibility or corridor (its code: north)")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="Only features of this type (incidents), kind (posts, zones) or status")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
) -> None:
    """Write a collection for GIS and analysis (everything: the CLI runs with full rights); a KML is schema-valid."""
    filters = Filters(base.day_option(since, "since"), base.day_option(until, "until"), area, kind)
    settings = base.load_settings()
    with base.open_session(settings) as session:
        made = base.guarded(lambda: export(session, settings, None, collection.value, fmt.value, filters))
    if output is None:
        sys.stdout.buffer.write(made.body)
        return
    try:
        output.write_bytes(made.body)
    except OSError as exc:
        raise base.fail(f"cannot write {output}: {exc.strerror or exc}") from None
    base.err.print(f"{made.count} features written to {output}")
