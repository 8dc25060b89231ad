"""Posts and zones filtered in SQL answer exactly as the features read whole and tested in Python did.

On the demo's posts, areas, corridors and lines of contact, for the staff and for a side's liaison:
random CQL2 filters, boxes and date windows through ``service.items`` with the collection's rows
(SQL: the stored boxes, the translated filter, the exact test on the candidates in bulk) and
without them (every feature built and tested one by one, as before).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from shapely.geometry import shape
from sqlalchemy.orm import Session

from peacewatch.core.visibility import Side, readable_visibilities
from peacewatch.ogc import service
from peacewatch.ogc.collections import COLLECTIONS
from peacewatch.ogc.query import Window, compile_filter

SPATIAL = ["s_intersects", "s_disjoint", "s_within", "s_contains", "s_touches", "s_crosses", "s_overlaps", "s_equals"]
TEMPORAL = ["t_after", "t_before", "t_intersects", "t_disjoint", "t_during", "t_contains", "t_overlaps", "t_starts"]
SCOPES = {"staff": None, "side a": readable_visibilities(internal=False, side=Side.A)}


def answer(session: Session, settings: Any, collection: Any, readable: Any, text: str | None, window: Window,
           *, in_sql: bool) -> service.Page:
    queryables = {"geometry": {"format": collection.geometry}, **collection.queryables}
    found = compile_filter(text, None, queryables) if text else None
    chosen = collection if in_sql else replace(collection, rows=None)
    return service.items(session, settings, readable, chosen, service.ItemsQuery(window=window, limit=10_000, filter=found))


def requests(whole: list[dict[str, Any]], collection: Any) -> st.SearchStrategy[tuple[str | None, Window]]:
    """A CQL2 filter over the collection's queryables (literals from the features' own values) and a window."""
    first, last = collection.temporal
    days = sorted({date.fromisoformat(f["properties"][name]) for f in whole for name in (first, last) if f["properties"].get(name)}
                  | {date(2020, 11, 10), date(2020, 11, 20), date(2021, 6, 1)})
    day = st.sampled_from(days)
    date_literal = day.map(lambda d: f"DATE('{d.isoformat()}')")
    interval = st.tuples(day, day).map(lambda pair: f"INTERVAL('{min(pair).isoformat()}', '{max(pair).isoformat()}')")
    strings = {name: sorted({str(f["properties"].get(name)) for f in whole if f["properties"].get(name) is not None} | {"", "N"})
               for name, schema in collection.queryables.items() if schema.get("type") == "string" and "format" not in schema}
    comparison = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
    xs = [x for f in whole for x in _coordinates(f["geometry"])[0]]
    ys = [y for f in whole for y in _coordinates(f["geometry"])[1]]
    lon = st.floats(min(xs) - 0.05, max(xs) + 0.05).map(lambda v: round(v, 3))
    lat = st.floats(min(ys) - 0.05, max(ys) + 0.05).map(lambda v: round(v, 3))
    boxes = st.tuples(lon, lat, st.floats(0.005, 0.6), st.floats(0.005, 0.6)).map(
        lambda b: (b[0], b[1], round(b[0] + b[2], 3), round(b[1] + b[3], 3)))
    geometry = st.one_of(boxes.map(lambda b: f"BBOX({b[0]}, {b[1]}, {b[2]}, {b[3]})"),
                         boxes.map(lambda b: f"LINESTRING({b[0]} {b[1]}, {b[2]} {b[3]})"),
                         st.sampled_from(sorted(zip(xs, ys))).map(lambda p: f"POINT({p[0]} {p[1]})"))
    atoms = [
        st.tuples(comparison, date_literal, st.sampled_from([first, last])).map(lambda c: f"{c[2]} {c[0]} {c[1]}"),
        st.sampled_from([first, last]).map(lambda name: f"{name} IS NULL"),
        st.tuples(st.sampled_from(TEMPORAL), interval).map(lambda t: f"{t[0]}({first}, {t[1]})"),
        st.tuples(st.sampled_from(SPATIAL), geometry).map(lambda s: f"{s[0]}(geometry, {s[1]})"),
    ]
    for name, values in strings.items():
        atoms.append(st.tuples(comparison, st.sampled_from(values)).map(lambda c, n=name: f"{n} {c[0]} '{c[1]}'"))
        atoms.append(st.sampled_from(values).map(lambda v, n=name: f"{n} LIKE '{v[:2]}%'"))
        atoms.append(st.lists(st.sampled_from(values), min_size=1, max_size=3).map(
            lambda vs, n=name: "{} IN ({})".format(n, ", ".join(f"'{v}'" for v in vs))))
    if "width_m" in collection.queryables:
        atoms.append(st.tuples(comparison, st.integers(0, 3000)).map(lambda c: f"width_m {c[0]} {c[1]}"))
    filters = st.recursive(st.one_of(*atoms), lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) AND ({pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) OR ({pair[1]})"),
        inner.map(lambda one: f"NOT ({one})"),
    ), max_leaves=3)
    moments = day.map(lambda d: datetime.combine(d, datetime.min.time(), UTC) + timedelta(hours=13))
    windows = st.one_of(
        st.just(Window()),
        boxes.map(lambda b: Window(b)),
        st.tuples(st.one_of(st.none(), moments), st.one_of(st.none(), moments)).map(
            lambda w: Window(None, *sorted(w, key=lambda m: (m is None, m))) if None not in w else Window(None, w[0], w[1])),
    )
    return st.tuples(st.one_of(st.none(), filters), windows)


def _coordinates(geometry: dict[str, Any]) -> tuple[list[float], list[float]]:
    points = shapely.get_coordinates(shape(geometry))
    return [round(float(x), 4) for x in points[:, 0]], [round(float(y), 4) for y in points[:, 1]]


@pytest.mark.parametrize("collection_id", ["posts", "areas", "corridors", "lines-of-contact"])
@pytest.mark.parametrize("scope", SCOPES)
def test_random_filters_and_windows_answer_in_sql_as_in_python(session: Session, settings: Any, demo: None,
                                                                collection_id: str, scope: str) -> None:
    collection, readable = COLLECTIONS[collection_id], SCOPES[scope]
    assert collection.rows is not None
    whole = answer(session, settings, collection, readable, None, Window(), in_sql=False).features
    assert whole

    @hypothesis_settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(requests(whole, collection))
    def agree(request: tuple[str | None, Window]) -> None:
        text, window = request
        expected = answer(session, settings, collection, readable, text, window, in_sql=False)
        found = answer(session, settings, collection, readable, text, window, in_sql=True)
        assert found.features == expected.features, (text, window)
        assert found.matched == expected.matched, (text, window)
        decided.append(0 < expected.matched < len(whole))

    decided: list[bool] = []
    agree()
    # a fair share of the requests split the features (the generator is not degenerate): with two areas most
    # random filters take both or neither, so a tenth is the bar; which tenth depends on hypothesis's examples
    assert len(whole) == 1 or sum(decided) >= len(decided) // 10


@pytest.mark.parametrize("scope", SCOPES)
def test_a_posts_status_is_that_of_the_windows_last_day_in_sql_too(session: Session, settings: Any, demo: None, scope: str) -> None:
    """On each day a post opened or closed, and the day before: each status selects the same posts both ways."""
    posts, readable = COLLECTIONS["posts"], SCOPES[scope]
    whole = answer(session, settings, posts, readable, None, Window(), in_sql=False).features
    days = {date.fromisoformat(f["properties"][name]) for f in whole for name in ("opened_on", "closed_on") if f["properties"].get(name)}
    split = 0
    for day in sorted(days | {d - timedelta(days=1) for d in days}):
        window = Window(None, None, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=13))
        for status in ("planned", "open", "closed"):
            expected = answer(session, settings, posts, readable, f"status = '{status}'", window, in_sql=False)
            found = answer(session, settings, posts, readable, f"status = '{status}'", window, in_sql=True)
            assert found.features == expected.features, (day, status)
            split += 0 < expected.matched < len(whole)
    assert split >= 2
