"""The incidents collection filtered in SQL answers exactly as the features read whole and tested in Python.

On the demo's events, on whichever database the suite runs on: the events' rows against
``figures.summarise`` for every scope, and random CQL2 filters (every operator of the conformance
classes we declare) through ``cql2sql`` against ``cql2``'s own evaluation of each feature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from peacewatch.core.visibility import Side, readable_visibilities
from peacewatch.incidents.models import IncidentStatus, IncidentType
from peacewatch.ogc import service
from peacewatch.ogc.collections import COLLECTIONS, incident_events
from peacewatch.ogc.query import BadParameter, Window, compile_filter

INCIDENTS = COLLECTIONS["incidents"]
QUERYABLES = {"geometry": {"format": INCIDENTS.geometry}, **INCIDENTS.queryables}
SCOPES = {"staff": None, "public": readable_visibilities(internal=False, side=None),
          "side a": readable_visibilities(internal=False, side=Side.A)}
TEMPORAL = ["t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedBy", "t_finishes",
            "t_intersects", "t_meets", "t_metBy", "t_overlappedBy", "t_overlaps", "t_startedBy", "t_starts"]
SPATIAL = ["s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps", "s_crosses", "s_contains"]


def everything(session: Session, settings: Any, readable: Any) -> list[dict[str, Any]]:
    return incident_events(session, readable, settings, Window())


def in_sql(session: Session, settings: Any, readable: Any, text: str | None = None, **query: Any) -> service.Page:
    found = compile_filter(text, None, QUERYABLES) if text else None
    return service.items(session, settings, readable, INCIDENTS,
                         service.ItemsQuery(limit=query.pop("limit", 10_000), filter=found, **query))


@pytest.mark.parametrize("scope", SCOPES)
def test_every_page_of_events_is_the_event_summarise_makes(session: Session, settings: Any, demo: None, scope: str) -> None:
    readable = SCOPES[scope]
    whole = everything(session, settings, readable)
    assert whole
    paged: list[dict[str, Any]] = []
    for offset in range(0, len(whole), 37):
        page = in_sql(session, settings, readable, limit=37, offset=offset)
        assert page.matched == len(whole)
        paged += page.features
    assert paged == whole  # ids (each event's name for the reader), order, geometry and every property


def test_a_box_and_a_window_narrow_as_in_python(session: Session, settings: Any, demo: None) -> None:
    whole = everything(session, settings, None)
    bbox = (46.7, 39.7, 47.0, 40.0)
    inside = [f for f in whole if bbox[0] <= f["geometry"]["coordinates"][0] <= bbox[2]
              and bbox[1] <= f["geometry"]["coordinates"][1] <= bbox[3]]
    assert 0 < len(inside) < len(whole)
    assert in_sql(session, settings, None, window=Window(bbox)).features == inside
    start, end = datetime(2020, 11, 15, tzinfo=UTC), datetime(2020, 11, 16, tzinfo=UTC)
    dated = [f for f in whole if f["properties"]["started_at"] <= end.isoformat() and f["properties"]["ended_at"] >= start.isoformat()]
    assert in_sql(session, settings, None, window=Window(None, start, end)).features == dated


# --- random filters ------------------------------------------------------------------------------------

def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def filters(whole: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    """CQL2 text over the incidents' queryables, its literals drawn from the features' own values and near them."""
    starts = sorted(datetime.fromisoformat(f["properties"]["started_at"]) for f in whole)
    first, last = starts[0] - timedelta(days=1), starts[-1] + timedelta(days=2)
    moments = st.one_of(st.sampled_from(starts), st.datetimes(min_value=first.replace(tzinfo=None), max_value=last.replace(tzinfo=None),
                                                                timezones=st.just(UTC)))
    instant = moments.map(lambda at: f"TIMESTAMP('{stamp(at)}')")
    interval = st.tuples(st.one_of(moments.map(stamp), st.just("..")), st.one_of(moments.map(stamp), st.just(".."))).map(
        lambda ends: f"INTERVAL('{min(ends) if '..' not in ends else ends[0]}', '{max(ends) if '..' not in ends else ends[1]}')")
    names = sorted({f["properties"]["place_name"] for f in whole} | {"", "Stepanakert", "Shusha"})
    text = st.sampled_from(names)
    statuses = st.sampled_from([s.value for s in IncidentStatus] + ["confirmed_", "Confirmed"])
    types = st.sampled_from([t.value for t in IncidentType])
    numbers = st.integers(0, 12)
    pattern = st.tuples(text, st.integers(0, 3)).map(lambda pair: (pair[0][:pair[1]] + "%") if pair[1] else pair[0].replace("a", "_"))
    xs = [f["geometry"]["coordinates"][0] for f in whole]
    ys = [f["geometry"]["coordinates"][1] for f in whole]
    lon = st.floats(min(xs) - 0.1, max(xs) + 0.1).map(lambda v: round(v, 3))
    lat = st.floats(min(ys) - 0.1, max(ys) + 0.1).map(lambda v: round(v, 3))
    boxes = st.tuples(lon, lat, st.floats(0.01, 0.5), st.floats(0.01, 0.5)).map(
        lambda b: (b[0], b[1], round(b[0] + b[2], 3), round(b[1] + b[3], 3)))
    literal_geometry = st.one_of(
        boxes.map(lambda b: f"BBOX({b[0]}, {b[1]}, {b[2]}, {b[3]})"),
        boxes.map(lambda b: f"POLYGON(({b[0]} {b[1]}, {b[2]} {b[1]}, {b[2]} {b[3]}, {b[0]} {b[3]}, {b[0]} {b[1]}))"),
        st.sampled_from(sorted(zip(xs, ys))).map(lambda point: f"POINT({point[0]} {point[1]})"),
    )
    comparison = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
    atoms = st.one_of(
        st.tuples(comparison, statuses).map(lambda c: f"status {c[0]} '{c[1]}'"),
        st.tuples(comparison, types).map(lambda c: f"type {c[0]} '{c[1]}'"),
        st.tuples(comparison, numbers).map(lambda c: f"event_count {c[0]} {c[1]}"),
        st.tuples(comparison, text).map(lambda c: f"place_name {c[0]} '{c[1]}'"),
        st.tuples(comparison, instant, st.sampled_from(["started_at", "ended_at"])).map(lambda c: f"{c[2]} {c[0]} {c[1]}"),
        st.tuples(numbers, numbers).map(lambda b: f"event_count BETWEEN {min(b)} AND {max(b)}"),
        st.lists(statuses, min_size=1, max_size=3).map(lambda v: "status IN ({})".format(", ".join(f"'{s}'" for s in v))),
        st.lists(numbers, min_size=1, max_size=3).map(lambda v: "event_count IN ({})".format(", ".join(map(str, v)))),
        pattern.map(lambda p: f"place_name LIKE '{p}'"),
        st.sampled_from(["subtype", "area", "district"]).map(lambda name: f"{name} IS NULL"),
        st.tuples(st.sampled_from(TEMPORAL), interval).map(lambda t: f"{t[0]}(INTERVAL(started_at, ended_at), {t[1]})"),
        st.tuples(st.sampled_from(TEMPORAL), st.one_of(instant, interval), st.sampled_from(["started_at", "ended_at"])).map(
            lambda t: f"{t[0]}({t[2]}, {t[1]})"),
        st.tuples(st.sampled_from(SPATIAL), literal_geometry).map(lambda s: f"{s[0]}(geometry, {s[1]})"),
    )
    return st.recursive(atoms, lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) AND ({pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) OR ({pair[1]})"),
        inner.map(lambda one: f"NOT ({one})"),
    ), max_leaves=4)


def test_random_filters_answer_in_sql_as_the_python_evaluation(session: Session, settings: Any, demo: None) -> None:
    readable = SCOPES["side a"]
    whole = everything(session, settings, readable)

    @hypothesis_settings(max_examples=150, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(filters(whole))
    def agree(text: str) -> None:
        checked = compile_filter(text, None, QUERYABLES)  # every generated filter is well typed: none is refused
        assert checked is not None
        expected = [f for f in whole if checked.test(f["geometry"], f["properties"])]
        page = in_sql(session, settings, readable, text)
        assert [f["id"] for f in page.features] == [f["id"] for f in expected], text
        assert page.matched == len(expected), text
        decided.append(0 < len(expected) < len(whole))

    decided: list[bool] = []
    agree()
    assert sum(decided) >= len(decided) // 4  # a fair share of the filters split the events: the comparison says something


@pytest.mark.parametrize(("text", "words"), [
    ("started_at > DATE('2020-11-15')", "is an instant"),
    ("event_count = '3'", "is a number"),
    ("status = 3", "is text"),
    ("T_AFTER(started_at, DATE('2020-11-15'))", "dates with dates"),
    ("S_INTERSECTS(BBOX(1, 2, 3, 4), BBOX(1, 2, 3, 4))", "compares the geometry"),
])
def test_a_mistyped_filter_is_a_400_naming_the_mismatch(session: Session, settings: Any, demo: None, text: str, words: str) -> None:
    with pytest.raises(BadParameter, match=words):
        in_sql(session, settings, None, text)


def test_a_report_made_through_another_process_is_in_the_next_page_and_rebuilds_run_once_at_a_time(
    app: Any, settings: Any, demo: None, auth: Any,
) -> None:
    """The kept event rows follow the database's versions, not this process's memory; readers arriving
    together after a change all get the rebuilt rows (PostgreSQL: one rebuilds under the lock)."""
    from concurrent.futures import ThreadPoolExecutor

    from peacewatch.app import create_app
    from peacewatch.incidents.models import EventRowsBuilt

    public = SCOPES["public"]
    with app.state.sessionmaker() as session:
        before = in_sql(session, settings, public, limit=1).matched
    other = create_app(settings)  # another process: its own engine and pool
    try:
        with TestClient(other) as client:
            made = client.post("/api/v1/incidents", headers=auth("ops"), json={
                "type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z",
                "ended_at": "2020-11-14T16:20:00Z", "lat": 39.795, "lon": 47.113, "source": "media",
                "visibility": "public"})
            assert made.status_code == 201, made.text
    finally:
        other.state.engine.dispose()

    def read(_: int) -> int:
        with app.state.sessionmaker() as session:
            return in_sql(session, settings, public, limit=1).matched

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(read, range(6))) == {before + 1}
    with app.state.sessionmaker() as session:
        assert session.query(EventRowsBuilt).filter_by(scope="public").count() == 1


def test_a_report_corrected_through_another_process_shows_in_the_next_page(app: Any, settings: Any, demo: None, auth: Any) -> None:
    """The features kept per event follow the database's versions: a corrected report is never served stale."""
    from peacewatch.app import create_app

    with app.state.sessionmaker() as session:
        first = in_sql(session, settings, None, limit=5).features[0]
    report = first["properties"]["incident_ids"][0]
    other = create_app(settings)  # another process: its own engine and pool
    try:
        with TestClient(other) as client:
            fixed = client.patch(f"/api/v1/incidents/{report}", headers=auth("ops"), json={"place_name": "Corrected hillside"})
            assert fixed.status_code == 200, fixed.text
    finally:
        other.state.engine.dispose()
    with app.state.sessionmaker() as session:
        again = in_sql(session, settings, None, limit=5).features[0]
        assert again["id"] == first["id"] and again["properties"]["place_name"] == "Corrected hillside"
        assert in_sql(session, settings, None, limit=10_000).features == everything(session, settings, None)
