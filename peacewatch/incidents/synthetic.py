"""Synthetic events, each told by several noisy reports: the ground truth the matcher is scored on.

Each event has a true place, time and type family. It is reported by one to four different
sources; each report's place is off by an error that matches its stated precision (a grid
reference, "near a village", a district), its window is off by minutes, and one report in ten
gives a long window ("during the night").
"""

from __future__ import annotations

import numpy as np

from peacewatch.incidents.matching import METRES_PER_DEGREE, Reports

BOX = (46.40, 39.50, 47.25, 40.40)  # the reference scenario's areas, lon/lat
FAMILY_WEIGHTS = np.array([0.6, 0.08, 0.05, 0.08, 0.06, 0.05, 0.04, 0.02, 0.02])
REPORTS_PER_EVENT = (np.array([1, 2, 3, 4]), np.array([0.35, 0.3, 0.2, 0.15]))
SOURCES = 74  # posts, patrols, both sides, media, the joint centre
RADIUS = np.array([0.0, 2000.0, 10_000.0])  # exact, near a place, district
PRECISION_WEIGHTS = np.array([0.7, 0.25, 0.05])
ERROR_M = np.array([400.0, 1200.0, 5000.0])


def generate(reports: int, days: float, seed: int = 1) -> tuple[Reports, np.ndarray]:
    """About ``reports`` reports over ``days``, and the true event of each."""
    rng = np.random.default_rng(seed)
    sizes_all = rng.choice(REPORTS_PER_EVENT[0], size=reports, p=REPORTS_PER_EVENT[1])
    ends = np.cumsum(sizes_all)
    events = int(np.searchsorted(ends, reports)) + 1
    sizes = sizes_all[:events]
    event_lon = rng.uniform(BOX[0], BOX[2], events)
    event_lat = rng.uniform(BOX[1], BOX[3], events)
    event_t = rng.uniform(0, days * 86400.0, events)
    event_family = rng.choice(len(FAMILY_WEIGHTS), size=events, p=FAMILY_WEIGHTS)

    truth = np.repeat(np.arange(events), sizes)
    n = len(truth)
    # distinct sources within an event: an offset from a random first source, stepping by one
    rank = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    source = (np.repeat(rng.integers(0, SOURCES, events), sizes) + rank) % SOURCES
    precision = rng.choice(3, size=n, p=PRECISION_WEIGHTS)
    error = ERROR_M[precision] * rng.standard_normal((2, n))
    lat = truth_lat = event_lat[truth] + error[1] / METRES_PER_DEGREE
    lon = event_lon[truth] + error[0] / (METRES_PER_DEGREE * np.cos(np.radians(truth_lat)))
    start = event_t[truth] + rng.normal(0, 8 * 60, n)
    length = np.where(rng.random(n) < 0.1, rng.uniform(3600, 6 * 3600, n), rng.uniform(60, 30 * 60, n))
    start = start - np.where(length > 3600, rng.uniform(0, 1, n) * length, 0)
    return Reports(
        start_s=start, end_s=start + length, lat=lat, lon=lon, radius_m=RADIUS[precision],
        family=event_family[truth], source=source,
    ), truth
