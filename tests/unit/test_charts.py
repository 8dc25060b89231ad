"""Daily series: bars while a span is short, one area when it is long (a bar per day of years took seconds)."""

from datetime import date, timedelta

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from peacewatch.core.charts import BARS_UP_TO, per_day


def _axes():
    return Figure().add_subplot()


def test_short_span_is_drawn_as_stacked_bars() -> None:
    days = [date(2020, 11, 10) + timedelta(days=k) for k in range(7)]
    axes = _axes()
    top = per_day(axes, days, [1, 2, 3, 0, 0, 1, 4], color="red", label="one")
    top = per_day(axes, days, [1] * 7, bottom=top, color="blue", label="two")
    assert top == [2, 3, 4, 1, 1, 2, 5]
    assert len(axes.patches) == 14
    assert [p.get_y() for p in axes.patches[7:]] == [1, 2, 3, 0, 0, 1, 4]


def test_long_span_is_one_area_per_series() -> None:
    days = [date(2020, 11, 10) + timedelta(days=k) for k in range(BARS_UP_TO + 1)]
    axes = _axes()
    top = per_day(axes, days, [2] * len(days), color="red", label="one")
    per_day(axes, days, [1] * len(days), bottom=top, color="blue", label="two")
    assert len(axes.patches) == 0
    areas = [c for c in axes.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 2
    assert areas[1].get_paths()[0].vertices[:, 1].max() == 3
