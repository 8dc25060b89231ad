"""KML and GeoJSON layer files, without a database."""

from __future__ import annotations

import pytest

from peacewatch.core.problems import Invalid
from peacewatch.geography.formats import import_properties, read_geojson, read_kml, read_layer_file, write_kml

FEATURES = [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.7, 40.1]},
     "properties": {"name": "OP 1", "code": "N-01", "permanent": True, "opened_on": "2020-11-13"}},
    {"type": "Feature",
     "geometry": {"type": "Polygon", "coordinates": [[[46.4, 39.9], [46.9, 39.9], [46.9, 40.3], [46.4, 39.9]],
                                                     [[46.7, 39.95], [46.8, 39.95], [46.8, 40.0], [46.7, 39.95]]]},
     "properties": {"name": "North", "code": "north"}},
    {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": [[[46, 40], [47, 40]], [[46, 41], [47, 41]]]},
     "properties": {"name": "Line", "code": "loc"}},
]


def features_of(placemarks: list) -> list:  # type: ignore[type-arg]
    assert all(p.feature is not None for p in placemarks), [p.reason for p in placemarks]
    return [p.feature for p in placemarks]


def test_kml_round_trip_keeps_geometry_and_properties() -> None:
    back = features_of(read_kml(write_kml(FEATURES, "test").encode()))
    assert [f["geometry"]["type"] for f in back] == ["Point", "Polygon", "MultiLineString"]
    assert back[0]["geometry"]["coordinates"] == (46.7, 40.1)
    assert back[0]["properties"] == {"name": "OP 1", "code": "N-01", "permanent": "true", "opened_on": "2020-11-13"}
    assert len(back[1]["geometry"]["coordinates"]) == 2  # the hole survived


def test_external_entities_are_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml>&x;</kml>'
    with pytest.raises(Invalid, match="DTDs and entities"):
        read_kml(xxe)


def test_malformed_xml_is_refused() -> None:
    with pytest.raises(Invalid, match="well-formed"):
        read_kml(b"<kml><Document></kml>")


def test_file_type_is_recognised_by_name_or_content() -> None:
    assert read_layer_file(write_kml(FEATURES[:1], "t").encode(), "layer.dat", None)[0].feature["properties"]["code"] == "N-01"
    assert read_layer_file(b'{"type": "FeatureCollection", "features": []}', None, None) == []


def test_a_single_feature_is_accepted_as_a_collection_and_one_without_geometry_refused() -> None:
    (only,) = read_geojson(b'{"type": "Feature", "geometry": null, "properties": {"name": "X"}}')
    assert (only.index, only.name, only.reason) == (0, "X", "no geometry")


def test_export_only_properties_are_dropped_and_unknown_ones_named() -> None:
    from peacewatch.geography.schemas import PostProperties, ZoneProperties

    posts, areas = frozenset(PostProperties.model_fields), frozenset(ZoneProperties.model_fields)
    props = {"id": 3, "code": "N-01", "status": "open", "mgrs": "38T", "zone_id": 1, "zone_code": "north",
             "outside_zone_override": False, "override_reason": None, "fid": 7, "OBJECTID": "12"}
    assert import_properties("posts", props, posts) == (
        {"code": "N-01", "zone_code": "north", "override_outside_zone": False}, ["OBJECTID", "fid"])
    assert import_properties("areas", {"kind": "area_of_responsibility", "code": "n", "area_km2": 4}, areas) == ({"code": "n"}, [])


def test_kml_written_for_every_geometry_is_valid_against_the_kml_22_schema() -> None:
    from peacewatch.geography.formats import kml_problems, write_kml

    features = [
        {"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [46.7, 39.8]}, "properties": {"name": "OP", "n": 1}},
        {"type": "Feature", "id": 2, "geometry": {"type": "MultiLineString", "coordinates": [[[46, 39], [47, 40]], [[46.5, 39.5], [46.6, 39.6]]]},
         "properties": {"name": "Track <&>", "when": "2020-11-14"}},
        {"type": "Feature", "id": 3, "geometry": {"type": "Polygon", "coordinates": [[[46, 39], [47, 39], [47, 40], [46, 39]]]},
         "properties": {"name": "Area"}},
        {"type": "Feature", "id": 4, "geometry": None, "properties": {"name": "nowhere"}},
    ]
    text = write_kml(features, "Test")
    assert kml_problems(text) == [] and text.count("<Placemark") == 3
    assert kml_problems(text.replace('id="pw-', 'id="')) != []  # the schema refuses numeric ids: the check can fail


def test_gpx_holds_drawn_lines_as_routes_and_points_as_waypoints() -> None:
    import gpxpy

    from peacewatch.ogc.exports import write_gpx_features

    features = [
        {"id": 1, "geometry": {"type": "Point", "coordinates": [46.7, 39.8]}, "properties": {"code": "N-01", "kind": "observation_post"}},
        {"id": 2, "geometry": {"type": "MultiLineString", "coordinates": [[[46, 39], [47, 40]], [[46.5, 39.5], [46.6, 39.6], [46.7, 39.7]]]},
         "properties": {"name": "Patrol 1"}},
    ]
    parsed = gpxpy.parse(write_gpx_features(features, "Test"))
    assert [w.name for w in parsed.waypoints] == ["N-01"] and parsed.waypoints[0].latitude == 39.8
    assert [len(r.points) for r in parsed.routes] == [2, 3] and not parsed.tracks  # untimed lines are routes, not tracks
    assert [r.name for r in parsed.routes] == ["Patrol 1 (1/2)", "Patrol 1 (2/2)"]
