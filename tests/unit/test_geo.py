"""Geometry checks, MGRS, bounding boxes and metric buffers."""

from __future__ import annotations

import math

import pytest
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from peacewatch.core.geo import (
    Geometry,
    check_geometry,
    corridor_from_centreline,
    from_mgrs,
    geometry_from_geojson,
    parse_bbox,
    representative_mgrs,
    to_mgrs,
)
from peacewatch.core.problems import Invalid


def test_mgrs_matches_the_reference_value() -> None:
    assert to_mgrs(39.8, 46.75) == "38SPK4981807024"


def test_a_grid_reference_as_people_write_it_goes_to_its_square_s_middle() -> None:
    exact = from_mgrs("38SPK4981807024")
    assert exact == pytest.approx((39.8, 46.75), abs=1e-5)
    assert from_mgrs("38s pk 49818 07024") == exact  # spaces and lower case as typed
    lat, lon = from_mgrs("38SPK4907")  # the 1 km square 38SPK 49 07: its middle, not its south-west corner
    assert to_mgrs(lat, lon) == "38SPK4950007500"


@pytest.mark.parametrize("typed", ["XX", "38SPK123", "38SPK 12 345", "38IPK11", ""])
def test_what_is_not_a_grid_reference_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(Invalid) as info:
        from_mgrs(typed, field="q")
    assert [e.field for e in info.value.errors] == ["q"]


@given(st.floats(-79.5, 83.5), st.floats(-179.9, 179.9))
def test_a_point_s_own_reference_leads_back_to_it(lat: float, lon: float) -> None:
    assume(abs(lat) > 1e-6)  # the library cannot read back its own reference of a point on the equator (band M, northing 0)
    reference = to_mgrs(lat, lon)
    assume(reference is not None)
    back = from_mgrs(reference)
    assert back[0] == pytest.approx(lat, abs=1e-4) and back[1] == pytest.approx(lon, abs=2e-4)


def test_polar_points_get_ups_grid_references() -> None:
    assert to_mgrs(89.9, 0.0).startswith("Z")


def test_mgrs_is_none_for_a_coordinate_off_the_globe() -> None:
    assert to_mgrs(95.0, 0.0) is None


def test_a_bowtie_polygon_is_refused() -> None:
    with pytest.raises(Invalid, match="Self-intersection") as info:
        check_geometry(Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]), field="body.geometry")
    assert info.value.errors[0].field == "body.geometry"


@pytest.mark.parametrize("coords", [(0, math.nan), (math.inf, 0)])
def test_non_finite_coordinates_are_refused(coords: tuple[float, float]) -> None:
    with pytest.raises(Invalid, match="finite"):
        check_geometry(Point(*coords), field="g")


def test_unexpected_geometry_type_is_refused() -> None:
    with pytest.raises(Invalid, match="expected Point"):
        geometry_from_geojson({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, field="g", expect=("Point",))


def test_unreadable_geojson_is_refused() -> None:
    with pytest.raises(Invalid, match="not a readable"):
        geometry_from_geojson({"type": "Polygon", "coordinates": [[1]]}, field="g", expect=("Polygon",))


def test_bbox_parses_in_ogc_order() -> None:
    assert parse_bbox("46.3,39.5,47.3,40.4") == (46.3, 39.5, 47.3, 40.4)


@pytest.mark.parametrize("text", ["1,2,3", "x,1,2,3", "nan,0,1,1", "0,0,1,inf", "5,0,1,1", "0,-91,1,1"])
def test_bad_bboxes_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        parse_bbox(text)


def test_corridor_is_as_wide_as_asked() -> None:
    road = LineString([(46.40, 39.60), (46.50, 39.60)])
    corridor = corridor_from_centreline(road, 5000)
    geod = Geod(ellps="WGS84")
    # measure across the middle of the road, north to south
    minx, miny, maxx, maxy = corridor.bounds
    across = shapely.intersection(corridor, LineString([(46.45, miny - 1), (46.45, maxy + 1)]))
    (lon1, lat1), (lon2, lat2) = across.coords
    width = geod.inv(lon1, lat1, lon2, lat2)[2]
    assert width == pytest.approx(5000, rel=0.005)


def test_corridor_needs_a_positive_width() -> None:
    with pytest.raises(Invalid):
        corridor_from_centreline(LineString([(0, 0), (1, 0)]), 0)


def test_geometry_round_trips_through_wkb() -> None:
    column = Geometry()
    polygon = Polygon([(46.4, 39.9), (46.9, 39.9), (46.9, 40.3), (46.4, 39.9)])
    stored = column.process_bind_param(polygon, None)
    assert isinstance(stored, bytes)
    assert column.process_result_value(stored, None).equals(polygon)
    assert column.compare_values(polygon, column.process_result_value(stored, None))


@given(st.lists(st.tuples(st.floats(46.4, 47.2), st.floats(39.6, 40.3)), min_size=2, max_size=6, unique=True))
def test_a_lines_grid_reference_is_the_same_whichever_end_it_was_drawn_from(points: list[tuple[float, float]]) -> None:
    line = LineString(points)
    assume(line.length > 0)
    assert representative_mgrs(line) == representative_mgrs(LineString(points[::-1]))
