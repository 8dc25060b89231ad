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
