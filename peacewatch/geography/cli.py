"""``peacewatch import`` and ``peacewatch export``: layers of zones and posts as GeoJSON or KML files."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from peacewatch.core.console import (
    cli_actor,
    console,
    err,
    fail,
    guarded,
    load_settings,
    open_session,
)


class Layer(str, Enum):
    areas = "areas"
    corridors = "corridors"
    lines_of_contact = "lines-of-contact"
    restricted_zones = "restricted-zones"
    districts = "districts"
    posts = "posts"


class LayerFormat(str, Enum):
    geojson = "geojson"
    kml = "kml"


def import_layer(
    layer: Annotated[Layer, typer.Argument(help="Which layer the file holds")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="GeoJSON, KML or KMZ file")],
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="Import nothing if any feature is refused")] = False,
) -> None:
    """Import a layer from GeoJSON, KML or KMZ: features are matched by code; each one is imported or refused with its reason."""
    from peacewatch.geography.service import import_layer_file

    data = file.read_bytes()
    with open_session(load_settings()) as session, Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"importing {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        outcome = guarded(
            lambda: import_layer_file(session, cli_actor(), layer.value, data, filename=file.name, progress=advance,
                                      all_or_nothing=all_or_nothing)
        )
    console.print(f"{layer.value}: {outcome.created} created, {outcome.updated} updated, {len(outcome.refused)} refused")
    for refused in outcome.refused:
        console.print(f"  features[{refused.index}] {refused.name or '(unnamed)'}: {refused.reason}", highlight=False)
    if outcome.ignored_properties:
        console.print(f"  properties ignored (not in the layer): {', '.join(outcome.ignored_properties)}", highlight=False)


def export_layer(
    layer: Annotated[Layer, typer.Argument(help="Which layer to export")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
    fmt: Annotated[LayerFormat, typer.Option("--format", help="geojson or kml")] = LayerFormat.geojson,
    on: Annotated[str | None, typer.Option(help="Only what was in force or open on this date (YYYY-MM-DD)")] = None,
) -> None:
    """Export a layer as GeoJSON or KML (everything, as the CLI runs with full rights)."""
    from fastapi.encoders import jsonable_encoder

    from peacewatch.geography.features import collection
    from peacewatch.geography.formats import write_kml
    from peacewatch.geography.service import layer_features

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise fail(f"--on must be a date as YYYY-MM-DD, not '{on}'") from None
    with open_session(load_settings()) as session:
        features = guarded(lambda: layer_features(session, None, layer.value, day))
    if fmt is LayerFormat.kml:
        text = write_kml(features, f"PeaceWatch {layer.value}")
    else:
        text = json.dumps(jsonable_encoder(collection(features)), indent=1)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text)
        err.print(f"{len(features)} features written to {output}")
