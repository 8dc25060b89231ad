"""Columns, geofence and episodes: the tracking kernels, without a database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from peacewatch.core.geo import NO_ZONE, Fence
from peacewatch.core.problems import Invalid
from peacewatch.tracking.columns import MAX_ERRORS, from_rows
from peacewatch.tracking.geofence import h3_cells

SQUARE = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
RIGHT = Polygon([(1, 0), (2, 0), (2, 1), (1, 1)])


def test_times_with_offsets_become_utc_milliseconds() -> None:
    columns = from_rows([
        {"tracker": "a", "t": "2020-11-14T08:00:00Z", "lat": 0, "lon": 0},
        {"tracker": "a", "t": "2020-11-14T12:00:00+04:00", "lat": 0, "lon": 0},
        {"tracker": "a", "t": "2020-11-14T08:00:00.250Z", "lat": 0, "lon": 0},
    ])
    assert columns.t_ms.tolist() == [1605340800000, 1605340800000, 1605340800250]


def test_errors_are_listed_up_to_a_limit_and_counted() -> None:
    rows = [{"tracker": "a", "t": "2020-11-14T08:00:00Z", "lat": 100, "lon": 0}] * 50
    with pytest.raises(Invalid) as info:
        from_rows(rows)
    assert len(info.value.errors) == MAX_ERRORS
    assert info.value.detail.startswith("50 bad value(s)") and "30 more not listed" in info.value.detail


def test_fence_takes_the_first_polygon_and_marks_outside() -> None:
    fence = Fence([10, 20], [SQUARE, RIGHT])
    found = fence.locate(np.array([0.5, 1.5, 1.0, 5.0]), np.array([0.5, 0.5, 0.5, 5.0]))
    assert found.tolist() == [10, 20, 10, NO_ZONE]


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(-0.5, 2.5), st.floats(-0.5, 1.5)), min_size=1, max_size=200))
def test_vectorised_fence_agrees_with_point_by_point(points: list[tuple[float, float]]) -> None:
    fence = Fence([1, 2], [SQUARE, RIGHT])
    lon, lat = np.array(points).T
    expected = [1 if SQUARE.intersects(Point(x, y)) else 2 if RIGHT.intersects(Point(x, y)) else NO_ZONE for x, y in points]
    assert fence.locate(lon, lat).tolist() == expected


def test_h3_cells_match_the_library() -> None:
    from h3.api import basic_int as h3

    cells = h3_cells(np.array([39.8, 40.2]), np.array([46.75, 46.81]), 8)
    assert cells.tolist() == [h3.latlng_to_cell(39.8, 46.75, 8), h3.latlng_to_cell(40.2, 46.81, 8)]


def test_each_trackers_track_is_thinned_to_every_nth_fix_and_keeps_its_last() -> None:
    from peacewatch.tracking.service import thinned

    tracker = np.array([3] * 7 + [5] * 2 + [9])
    keep = thinned(tracker, points=3)
    # 7 fixes at most 3: every 3rd (0, 3, 6), 6 being the last; 2 fixes: both; 1 fix: it
    assert np.flatnonzero(keep).tolist() == [0, 3, 6, 7, 8, 9]
    assert np.flatnonzero(thinned(np.array([1] * 8), points=3)).tolist() == [0, 3, 6, 7]  # and the last, always
    assert thinned(np.zeros(0, dtype=np.int64), points=3).tolist() == []
