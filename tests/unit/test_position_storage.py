"""The pure parts of the position store: PostgreSQL's binary COPY format and the partitions' calendar."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import numpy as np

from peacewatch.core.partitions import DAY_MS, TimePartitioning
from peacewatch.tracking.pgcopy import SIGNATURE, TRAILER, Field, binary_copy
from peacewatch.tracking.retention import cutoff


def read_copy(data: bytes, types: list[str]) -> list[tuple[object, ...]]:
    """A reader of the format written independently of the writer: field by field, as PostgreSQL reads it."""
    assert data.startswith(SIGNATURE) and data.endswith(TRAILER)
    rows, at = [], len(SIGNATURE)
    while at < len(data) - len(TRAILER):
        (count,) = struct.unpack_from(">h", data, at)
        at += 2
        assert count == len(types)
        row: list[object] = []
        for kind in types:
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            if length == -1:
                row.append(None)
                continue
            (value,) = struct.unpack_from(">" + kind, data, at)
            assert length == struct.calcsize(">" + kind)
            at += length
            row.append(value)
        rows.append(tuple(row))
    return rows


def test_rows_with_nulls_in_different_places_come_out_whole() -> None:
    t = np.array([1605340800000, 1605340805000, 1605340810000], dtype=np.int64)
    tracker = np.array([7, 7, 8])
    zone = np.array([3, -1, 3])
    speed = np.array([9.5, np.nan, np.nan])
    data = binary_copy(3, [Field(t, ">i8"), Field(tracker, ">i4"), Field(zone, ">i4", zone == -1),
                           Field(speed, ">f8", np.isnan(speed))])
    assert sorted(read_copy(data, ["q", "i", "i", "d"]), key=lambda row: row[0]) == [  # type: ignore[arg-type, return-value]
        (1605340800000, 7, 3, 9.5), (1605340805000, 7, None, None), (1605340810000, 8, 3, None)]


def test_an_empty_batch_is_a_valid_empty_copy() -> None:
    assert binary_copy(0, [Field(np.array([], dtype=np.int64), ">i8")]) == SIGNATURE + TRAILER


def test_days_and_months_are_named_and_bounded_in_utc() -> None:
    days = TimePartitioning("positions", "t_ms", "day")
    noon = int(datetime(2020, 11, 14, 12, tzinfo=UTC).timestamp() * 1000)
    start = days.start_of(noon)
    assert (days.name(start), days.end_of(start) - start) == ("positions_p20201114", DAY_MS)
    assert [days.name(s) for s, _ in days.spans(noon, noon + DAY_MS)] == ["positions_p20201114", "positions_p20201115"]
    months = TimePartitioning("coverage", "hour_ms", "month")
    december = int(datetime(2020, 12, 31, 23, tzinfo=UTC).timestamp() * 1000)
    (span,) = months.spans(december, december)
    assert months.name(span[0]) == "coverage_p202012"
    assert span[1] == int(datetime(2021, 1, 1, tzinfo=UTC).timestamp() * 1000)


def test_a_retention_of_n_days_keeps_today_and_the_n_days_before() -> None:
    assert cutoff(datetime(2020, 11, 20, 15, 30, tzinfo=UTC), 3) == datetime(2020, 11, 17, tzinfo=UTC)
