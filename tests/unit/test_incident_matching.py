"""The matcher and the reporting day, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from peacewatch.core.calendar import reporting_day, reporting_day_ends_at
from peacewatch.incidents.matching import (
    Reports,
    Tolerance,
    _candidate_pairs,
    _Frame,
    _judge,
    cluster_reports,
    pairwise_scores,
)
from peacewatch.incidents.synthetic import generate


def reports(*rows: tuple[float, float, float, float, float, int, int]) -> Reports:
    """rows of (start_s, end_s, lat, lon, radius_m, family, source)"""
    columns = np.array(rows, dtype=np.float64).T
    return Reports(columns[0], columns[1], columns[2], columns[3], columns[4], columns[5].astype(np.int64), columns[6].astype(np.int64))


def test_close_reports_from_different_sources_are_one_event() -> None:
    labels = cluster_reports(reports((0, 600, 39.80, 47.11, 0, 0, 1), (300, 900, 39.81, 47.12, 0, 0, 2)), Tolerance())
    assert labels[0] == labels[1]


def test_far_late_other_kind_or_same_source_are_not() -> None:
    base = (0, 600, 39.80, 47.11, 0, 0, 1)
    for other in [(0, 600, 39.90, 47.11, 0, 0, 2),          # 11 km away
                  (9000, 9600, 39.80, 47.11, 0, 0, 2),      # two and a half hours later
                  (0, 600, 39.80, 47.11, 0, 1, 2),          # another family of incident
                  (0, 600, 39.80, 47.11, 0, 0, 1)]:         # the same source
        labels = cluster_reports(reports(base, other), Tolerance())
        assert labels[0] != labels[1], other


def test_a_vague_place_reaches_further_but_bridges_nothing() -> None:
    # two events 8 km apart; a report "somewhere in the district" between them joins one, not both
    labels = cluster_reports(reports(
        (0, 600, 39.80, 47.00, 0, 0, 1), (0, 600, 39.80, 47.09, 0, 0, 2), (0, 600, 39.80, 47.045, 10_000, 0, 3)), Tolerance())
    assert labels[0] != labels[1] and labels[2] in (labels[0], labels[1])


def test_a_chain_is_cut_where_its_ends_cannot_be_one_event() -> None:
    # A - B - C each 2.5 km apart along a road: A and C are 5 km apart, beyond the 3 km tolerance
    chain = reports(*[(0, 600, 39.80, 47.0 + k * 0.0292, 0, 0, k) for k in range(3)])
    labels = cluster_reports(chain, Tolerance())
    assert len(set(labels.tolist())) == 2


def test_precision_and_recall_on_synthetic_events() -> None:
    synthetic, truth = generate(20_000, days=60, seed=7)
    precision, recall = pairwise_scores(truth, cluster_reports(synthetic, Tolerance()))
    assert precision > 0.9 and recall > 0.9, (precision, recall)


def test_the_boxes_find_every_pair_that_judging_all_pairs_finds() -> None:
    """The candidate search (classes of place and window, a unit cube each) misses no linkable pair."""
    synthetic, _ = generate(3_000, days=1, seed=11)  # dense: many districts and nights meet
    frame = _Frame.of(synthetic)
    first, second = np.triu_indices(len(synthetic), 1)
    linkable, _ = _judge(synthetic, frame, Tolerance(), first, second)
    everything = set(zip(first[linkable].tolist(), second[linkable].tolist()))
    candidates = _candidate_pairs(synthetic, frame, Tolerance())
    found = set(map(tuple, candidates.tolist()))
    assert len(everything) > 1000 and everything <= found
    assert len(found) == len(candidates) and (candidates[:, 0] < candidates[:, 1]).all()


def test_every_two_reports_of_an_event_could_be_one_event() -> None:
    synthetic, _ = generate(3_000, days=1, seed=11)
    labels = cluster_reports(synthetic, Tolerance())
    first, second = np.triu_indices(len(synthetic), 1)
    together = labels[first] == labels[second]
    linkable, _ = _judge(synthetic, _Frame.of(synthetic), Tolerance(), first[together], second[together])
    assert together.sum() > 500 and linkable.all()


def test_pairwise_scores() -> None:
    assert pairwise_scores(np.array([0, 0, 1, 1]), np.array([5, 5, 6, 6])) == (1.0, 1.0)
    precision, recall = pairwise_scores(np.array([0, 0, 1, 1]), np.array([5, 5, 5, 5]))
    assert (precision, recall) == (2 / 6, 1.0)


def test_reporting_day_ends_at_1930_local() -> None:
    baku, end = ZoneInfo("Asia/Baku"), time(19, 30)
    assert reporting_day(datetime(2020, 11, 14, 15, 29, tzinfo=UTC), baku, end) == date(2020, 11, 14)
    assert reporting_day(datetime(2020, 11, 14, 15, 30, tzinfo=UTC), baku, end) == date(2020, 11, 15)
    assert reporting_day(datetime(2020, 11, 14, 23, 0, tzinfo=UTC), baku, time(0, 0)) == date(2020, 11, 15)


def test_a_reporting_day_ends_where_the_next_begins() -> None:
    baku, second = ZoneInfo("Asia/Baku"), timedelta(seconds=1)
    for end in (time(19, 30), time(0, 0)):
        ends = reporting_day_ends_at(date(2020, 11, 14), baku, end)
        assert reporting_day(ends - second, baku, end) == date(2020, 11, 14)
        assert reporting_day(ends, baku, end) == date(2020, 11, 15)
    assert reporting_day_ends_at(date(2020, 11, 14), baku, time(19, 30)) == datetime(2020, 11, 14, 15, 30, tzinfo=UTC)
