"""Backfill: a CSV export of positions (a day of a fleet's history, say) into the store.

pyarrow's C++ reader turns millions of rows into columns in a second or two. Every row is checked
before anything is stored. Rows are then stored in time-ordered chunks through the same
:class:`~peacewatch.live.ingest.Ingest` as live data, so alerts and coverage come out as if the day had been live.
Each chunk is its own transaction. A backfill cut short can simply be run again: positions
already stored are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv
from sqlalchemy.orm import Session

from peacewatch.core.problems import Invalid
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.live.ingest import Ingest, IngestReport
from peacewatch.tracking.columns import OPTIONAL, PositionColumns, check
from peacewatch.tracking.service import resolve_trackers
from peacewatch.tracking.store import PreparedBatch, make_room

REQUIRED = ("tracker", "t", "lat", "lon")
CHUNK = 500000


def read_csv(path: Path) -> PositionColumns:
    """Columns from a CSV with a header: tracker, t (ISO 8601 with a zone), lat, lon, and optionally
    alt, speed, heading, accuracy."""
    types = {"tracker": pa.string(), "t": pa.timestamp("ms", tz="UTC"), "lat": pa.float64(), "lon": pa.float64(),
             **{name: pa.float64() for name in OPTIONAL}}
    try:
        table = csv.read_csv(path, convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Invalid("cannot read {path_name}: {value}", field="file", path_name=path.name, value=str(exc).splitlines()[0]) from None
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise Invalid("{path_name} lacks column(s) {missing}", field="file", path_name=path.name, missing=', '.join(missing))
    for name in REQUIRED:
        nulls = table[name].null_count
        if nulls:
            first = pc.index(pc.is_null(table[name]), True).as_py()
            raise Invalid("{nulls} row(s) without {name}; first at data row {value}",
                          field=f"file.rows[{first}].{name}", nulls=nulls, name=name, value=first + 1)
    trackers = table["tracker"].combine_chunks().dictionary_encode()
    nan = np.full(table.num_rows, np.nan)
    columns = PositionColumns(
        trackers.dictionary.to_pylist(),
        trackers.indices.to_numpy().astype(np.int32),
        table["t"].cast(pa.int64()).to_numpy(),
        table["lat"].to_numpy(),
        table["lon"].to_numpy(),
        *(table[name].to_numpy(zero_copy_only=False) if name in table.column_names else nan for name in OPTIONAL),
    )
    check(columns, where="file.rows")
    return columns


def backfill(
    session: Session, ingest: Ingest, actor: str, columns: PositionColumns, *, progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store all columns, oldest first, in chunks: each chunk is prepared (sorted, placed, binned) in a
    worker thread while the previous one is being written, since SQLite writes without the GIL."""
    tracker = resolve_trackers(session, columns, "file.rows")
    fence = zone_fence(session, ZoneKind.area_of_responsibility)
    if len(columns):
        make_room(session, int(columns.t_ms.min()), int(columns.t_ms.max()))  # the days' partitions, once
    session.commit()
    order = np.argsort(columns.t_ms, kind="stable")
    chunks = [order[start : start + CHUNK] for start in range(0, len(order), CHUNK)]
    totals = IngestReport(received=0, stored=0, duplicates=0, batch_id=0, alerts=0)

    def prepare(rows: np.ndarray) -> PreparedBatch:
        return ingest.prepare(fence, columns.take(rows), tracker[rows])

    with ThreadPoolExecutor(max_workers=1) as worker:
        upcoming = worker.submit(prepare, chunks[0]) if chunks else None
        for index in range(len(chunks)):
            assert upcoming is not None
            batch = upcoming.result()
            upcoming = worker.submit(prepare, chunks[index + 1]) if index + 1 < len(chunks) else None
            report = ingest.store(session, actor, "backfill", batch)
            totals.received += report.received
            totals.stored += report.stored
            totals.alerts += report.alerts
            totals.batch_id = report.batch_id
            if progress is not None:
                progress(report.received)
    totals.duplicates = totals.received - totals.stored
    return totals
