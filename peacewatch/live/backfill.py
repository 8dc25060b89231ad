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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv
from sqlalchemy.orm import Session

from peacewatch.core.geo import ellipsoidal_heights
from peacewatch.core.problems import Invalid
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.live.ingest import Ingest, IngestReport
from peacewatch.tracking.columns import OPTIONAL, PositionColumns, check
from peacewatch.tracking.service import resolve_trackers
from peacewatch.tracking.store import PreparedBatch, make_room

REQUIRED = ("tracker", "t", "lat", "lon")
CHUNK = 500000


SEA_LEVEL = ("ele", "alt_msl")  # heights above mean sea level, as GDAL writes a GPX's <ele> and GPS units show them
ZONED = r"(Z|[+-]\d{2}:\d{2})$"


@dataclass(frozen=True)
class PositionsFile:
    columns: PositionColumns
    heights: str  # which datum the file's heights were in: "ellipsoid" (alt), "sea level" (ele, alt_msl), or "none"


def _times(column: pa.ChunkedArray) -> pa.Array:
    """The ``t`` column as UTC instants. ISO 8601 with its offset, and GDAL's own way (``2020/12/18 06:15:50+00``);
    a time without a zone is refused by its row: guessing the zone would misplace the whole day by hours."""
    text = pc.utf8_trim_whitespace(column.combine_chunks())
    text = pc.replace_substring_regex(text, r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3")  # GDAL's date
    text = pc.replace_substring_regex(text, r"([+-]\d{2})$", r"\1:00")  # GDAL's hours-only offset
    text = pc.replace_substring_regex(text, r"([+-]\d{2})(\d{2})$", r"\1:\2")  # +0400
    timed = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
    if not pc.all(timed).as_py():
        first = pc.index(timed, False).as_py()
        raise Invalid("the time at data row {row} ('{value}') is not a time (ISO 8601, as 2020-12-18T06:15:50Z)",
                      field=f"file.rows[{first}].t", row=first + 1, value=column[first].as_py())
    zoned = pc.match_substring_regex(text, ZONED)
    if not pc.all(zoned).as_py():
        first = pc.index(zoned, False).as_py()
        raise Invalid("the time at data row {row} ('{value}') has no time zone: give its offset, as 2020-12-18T06:15:50Z or "
                      "GDAL's 2020/12/18 06:15:50+00", field=f"file.rows[{first}].t", row=first + 1, value=column[first].as_py())
    try:
        return pc.cast(text, pa.timestamp("ms", tz="UTC"))
    except pa.ArrowInvalid:
        for row, value in enumerate(text.to_pylist()):
            try:
                pc.cast(pa.array([value]), pa.timestamp("ms", tz="UTC"))
            except pa.ArrowInvalid:
                raise Invalid("the time at data row {row} ('{value}') is not a time (ISO 8601, as 2020-12-18T06:15:50Z)",
                              field=f"file.rows[{row}].t", row=row + 1, value=column[row].as_py()) from None
        raise


def read_csv(path: Path) -> PositionsFile:
    """Columns from a CSV with a header: tracker, t (ISO 8601 or GDAL's form, with a zone), lat, lon, and optionally
    speed, heading, accuracy and a height: ``alt`` above the WGS84 ellipsoid (as CoT's hae, and as PeaceWatch keeps
    heights), or ``ele`` / ``alt_msl`` above mean sea level (as GPS units and GDAL's GPX give them), made above the
    ellipsoid with EGM96. A file with both kinds is refused: one of them would be wrong."""
    types = {"tracker": pa.string(), "t": pa.string(), "lat": pa.float64(), "lon": pa.float64(),
             **{name: pa.float64() for name in (*OPTIONAL, *SEA_LEVEL)}}
    try:
        table = csv.read_csv(path, convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Invalid("cannot read {path_name}: {value}", field="file", path_name=path.name, value=str(exc).splitlines()[0]) from None
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise Invalid("{path_name} lacks column(s) {missing}", field="file", path_name=path.name, missing=', '.join(missing))
    sea = [name for name in SEA_LEVEL if name in table.column_names]
    given = [name for name in ("alt", *SEA_LEVEL) if name in table.column_names]
    if len(given) > 1:
        raise Invalid("{path_name} gives heights twice ({columns}): alt is above the WGS84 ellipsoid, ele and alt_msl above sea "
                      "level; keep one", field="file", path_name=path.name, columns=", ".join(given))
    for name in REQUIRED:
        nulls = table[name].null_count
        if nulls:
            first = pc.index(pc.is_null(table[name]), True).as_py()
            raise Invalid("{nulls} row(s) without {name}; first at data row {value}",
                          field=f"file.rows[{first}].{name}", nulls=nulls, name=name, value=first + 1)
    trackers = table["tracker"].combine_chunks().dictionary_encode()
    nan = np.full(table.num_rows, np.nan)
    optional = {name: table[name].to_numpy(zero_copy_only=False) if name in table.column_names else nan for name in OPTIONAL}
    lat, lon = table["lat"].to_numpy(), table["lon"].to_numpy()
    heights = "ellipsoid" if "alt" in table.column_names else "none"
    if sea:
        optional["alt"] = ellipsoidal_heights(lon, lat, table[sea[0]].to_numpy(zero_copy_only=False).astype(np.float64))
        heights = "sea level"
    columns = PositionColumns(
        trackers.dictionary.to_pylist(),
        trackers.indices.to_numpy().astype(np.int32),
        _times(table["t"]).cast(pa.int64()).to_numpy(zero_copy_only=False),
        lat,
        lon,
        *(optional[name] for name in OPTIONAL),
    )
    check(columns, where="file.rows")
    return PositionsFile(columns, heights)


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
