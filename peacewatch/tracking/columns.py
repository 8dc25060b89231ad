"""Positions as columns of numbers: parsed and checked in bulk, never one Python object per fix.

A batch is accepted or refused whole; a refusal names every bad row (up to a limit) as
``positions[i].field`` so a device or an operator can fix the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from peacewatch.core.problems import FieldError, Invalid

MAX_ERRORS = 20
OPTIONAL = ("alt", "speed", "heading", "accuracy")
_OFFSET = re.compile(r"[+-]\d\d:?\d\d$")
_EPOCH = np.datetime64("1970-01-01T00:00:00", "ms")


@dataclass
class PositionColumns:
    """One batch of fixes; every array has the same length. Missing optional values are NaN.

    Tracker names are dictionary-encoded (``names`` once, ``index`` per row): a batch of millions of
    fixes from a few hundred trackers resolves them with array operations, not per row.
    """

    names: list[str]
    index: np.ndarray
    t_ms: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    heading: np.ndarray
    accuracy: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def take(self, keep: np.ndarray) -> PositionColumns:
        """The rows where ``keep`` (a boolean mask or index array) selects them."""
        rows = np.flatnonzero(keep) if keep.dtype == bool else keep
        return PositionColumns(
            self.names, self.index[rows], *(getattr(self, name)[rows] for name in ("t_ms", "lat", "lon", *OPTIONAL))
        )

    def name_of(self, row: int) -> str:
        return self.names[int(self.index[row])]


def encode(per_row: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Dictionary-encode tracker names: the distinct names, and each row's position among them."""
    lookup: dict[str, int] = {}
    index = np.fromiter((lookup.setdefault(name, len(lookup)) for name in per_row), dtype=np.int32, count=len(per_row))
    return list(lookup), index


class _Errors:
    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[FieldError] = []
        self.total = 0

    def add_rows(self, rows: np.ndarray | Sequence[int], field: str, message: str) -> None:
        rows = list(np.asarray(rows).tolist())
        self.total += len(rows)
        for row in rows[: max(0, MAX_ERRORS - len(self.items))]:
            self.items.append(FieldError(field=f"{self.where}[{row}].{field}", message=message))

    def raise_if_any(self) -> None:
        if self.total:
            more = f" ({self.total - len(self.items)} more not listed)" if self.total > len(self.items) else ""
            first = self.items[0]
            raise Invalid("{total} bad value(s) in the batch, nothing stored; first: {field_}: {message}{more}",
                          errors=self.items, total=self.total, field_=first.field, message=first.message, more=more)


def parse_time_ms(values: Sequence[Any], errors: _Errors) -> np.ndarray:
    """ISO 8601 times with a zone (``Z`` or ``+hh:mm``) to UTC milliseconds, in bulk where possible."""
    out = np.zeros(len(values), dtype=np.int64)
    fast_rows, fast_text = [], []
    for row, value in enumerate(values):
        if isinstance(value, str) and value.endswith("Z"):
            fast_rows.append(row)
            fast_text.append(value[:-1])
        elif isinstance(value, str) and _OFFSET.search(value):
            try:
                parsed = datetime.fromisoformat(value)
                out[row] = int(parsed.astimezone(UTC).timestamp() * 1000)
            except (ValueError, OverflowError):
                errors.add_rows([row], "t", "not an ISO 8601 time")
        else:
            errors.add_rows([row], "t", "needs an ISO 8601 time with a zone, e.g. 2020-11-14T08:00:05Z")
    if fast_rows:
        try:
            stamps = np.array(fast_text, dtype="datetime64[ms]")
            out[fast_rows] = (stamps - _EPOCH).astype(np.int64)
        except ValueError:
            for row, text in zip(fast_rows, fast_text):
                try:
                    out[row] = int((np.datetime64(text, "ms") - _EPOCH).astype(np.int64))
                except ValueError:
                    errors.add_rows([row], "t", "not an ISO 8601 time")
    return out


_PLAIN_NUMBERS = {float, int, type(None)}


def _numbers(rows: list[dict[str, Any]], key: str, errors: _Errors, *, required: bool) -> np.ndarray:
    values = [r.get(key) for r in rows]
    kinds = set(map(type, values))  # one C-level pass decides whether the slow checks are needed at all
    if kinds <= _PLAIN_NUMBERS:
        array = np.array(values, dtype=np.float64)  # None becomes NaN
    else:
        bad = [i for i, v in enumerate(values) if type(v) not in _PLAIN_NUMBERS]
        errors.add_rows(bad, key, "must be a number")
        array = np.array([v if type(v) in _PLAIN_NUMBERS else np.nan for v in values], dtype=np.float64)
    if required and type(None) in kinds:
        errors.add_rows([i for i, v in enumerate(values) if v is None], key, "is required")
    return array


def from_rows(rows: Any, *, where: str = "body.positions", now_ms: int | None = None) -> PositionColumns:
    """Columns from JSON rows ``{"tracker", "t", "lat", "lon", ...}``, all checked; refuse the batch on any error."""
    if not isinstance(rows, list):
        raise Invalid("positions must be a list", field=where)
    errors = _Errors(where)
    not_objects = [i for i, r in enumerate(rows) if not isinstance(r, dict)]
    if not_objects:
        errors.add_rows(not_objects, "", "must be an object")
        errors.raise_if_any()
    trackers = [r.get("tracker") for r in rows]
    bad_tracker = [i for i, t in enumerate(trackers) if not isinstance(t, str) or not 0 < len(t) <= 200]
    if bad_tracker:
        errors.add_rows(bad_tracker, "tracker", "must be a tracker code or CoT uid (1-200 characters)")
    t_ms = parse_time_ms([r.get("t") for r in rows], errors)
    columns = PositionColumns(
        *encode([t if isinstance(t, str) else "" for t in trackers]),  # bad ones are already reported
        t_ms,
        _numbers(rows, "lat", errors, required=True),
        _numbers(rows, "lon", errors, required=True),
        *(_numbers(rows, key, errors, required=False) for key in OPTIONAL),
    )
    errors.raise_if_any()
    check(columns, where=where, now_ms=now_ms)
    return columns


def normalised_heading(heading: np.ndarray) -> np.ndarray:
    """Headings as degrees in [0, 360): drone and UAS tools send -180...180 (NaN, no heading, stays NaN)."""
    return np.mod(heading, 360.0)


def range_violations(columns: PositionColumns, now_ms: int | None = None) -> list[tuple[str, np.ndarray, str]]:
    """The range rules, in bulk: (field, rows breaking it, why). Coordinates on the globe, sane speeds
    and headings, no fixes from the future."""
    with np.errstate(invalid="ignore"):
        rules = [
            ("lat", ~((columns.lat >= -90) & (columns.lat <= 90)), "latitude out of range [-90, 90]"),
            ("lon", ~((columns.lon >= -180) & (columns.lon <= 180)), "longitude out of range [-180, 180]"),
            ("alt", np.abs(columns.alt) > 100_000, "altitude out of range (±100 km)"),
            ("speed", (columns.speed < 0) | (columns.speed > 1000) | np.isinf(columns.speed), "speed out of range [0, 1000] m/s"),
            ("heading", (columns.heading < -360) | (columns.heading > 360) | np.isinf(columns.heading),
             "heading out of range [-360, 360]"),
            ("accuracy", (columns.accuracy < 0) | np.isinf(columns.accuracy), "accuracy must be a non-negative number of metres"),
            ("t", columns.t_ms < 0, "time before 1970"),
        ]
        if now_ms is not None:
            rules.append(("t", columns.t_ms > now_ms + 10 * 60 * 1000, "time more than 10 minutes in the future"))
    return rules


def bad_rows(columns: PositionColumns, now_ms: int | None = None) -> np.ndarray:
    """Rows breaking any range rule: what a stream with no way to refuse (CoT) drops and counts."""
    bad = np.zeros(len(columns), dtype=bool)
    for _field, mask, _message in range_violations(columns, now_ms):
        bad |= mask
    return bad


def check(columns: PositionColumns, *, where: str, now_ms: int | None = None) -> None:
    """Refuse the whole batch if any row breaks a range rule, naming the rows."""
    errors = _Errors(where)
    for field, mask, message in range_violations(columns, now_ms):
        rows = np.flatnonzero(mask)
        if rows.size:
            errors.add_rows(rows, field, message)
    errors.raise_if_any()
