"""Where a page that shows "now" opens: a pure rule, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peacewatch.ui.moments import opening

NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)


def test_a_page_opens_now_while_records_keep_arriving() -> None:
    assert opening(None, NOW) is None  # nothing recorded yet: now
    assert opening(NOW - timedelta(hours=20), NOW) is None


def test_a_page_opens_at_the_last_record_once_the_records_have_ended() -> None:
    assert opening(NOW - timedelta(days=3), NOW) == NOW - timedelta(days=3)


def test_a_route_that_leaves_its_area_is_measured_outside_it() -> None:
    from shapely.geometry import LineString, box

    from peacewatch.patrols.rules import metres_outside

    area = box(46.4, 39.9, 46.95, 40.3)
    assert metres_outside(LineString([(46.5, 40.0), (46.9, 40.2)]), area) == 0.0
    assert metres_outside(LineString([(46.9, 40.0), (46.90005, 40.0)]), area) == 0.0  # along the edge: no alarm
    outside = metres_outside(LineString([(46.9, 40.0), (47.1, 40.0)]), area)  # 0.15° east at 40°N: about 12.8 km
    assert 12_000 < outside < 13_500
