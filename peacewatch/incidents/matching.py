"""Which reports describe the same event: space-time linking and clustering, pure and vectorised.

Two reports are linked when their places are within ``distance_m`` of each other once each
place's own imprecision is added (a report "near Martuni" is vaguer than a grid reference),
their time windows come within ``gap_s`` of each other, their types are compatible (shelling
heard by a post and explosions reported by a side are one event; a drone is not), and they come
from different sources (a source does not report the same event twice: resends are caught by
their client id). A report keeps only its closest link to each other source, and a vague report
only its closest link of all, so it joins one event and never bridges two. Events are the
connected components of the links; a component in which two reports could not be one event (a
chain, A near B near C but A far from C) is re-grouped by complete linkage, closest pairs first.
An operator accepts or splits what is proposed.

Candidate pairs come from a k-d tree (scipy) on coordinates scaled by the tolerances, with
the type family as a far-apart fourth axis; reports with a wide place or a long window are
queried one by one with their own larger radius, so they do not widen every other query.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from peacewatch.incidents.models import IncidentType, PlacePrecision, ViolationKind

METRES_PER_DEGREE = 111_320.0
FAMILY_SPACING = 1e6  # far beyond any query radius: different families never meet in the tree
WIDE = 1.0  # a report whose own extent exceeds one tolerance is queried on its own

PLACE_RADIUS_M = {PlacePrecision.exact: 0.0, PlacePrecision.near_place: 2000.0, PlacePrecision.district: 10_000.0}

FIRE = {ViolationKind.small_arms_fire, ViolationKind.heavy_weapons, ViolationKind.explosion, ViolationKind.muzzle_flashes}


def family_of(kind: IncidentType, subtype: ViolationKind | None) -> str:
    """Reports of one family may describe the same event: shots, shelling and explosions all do."""
    if kind is IncidentType.ceasefire_violation:
        if subtype is None or subtype in FIRE:
            return "fire"
        return subtype.value
    return kind.value


@dataclass(frozen=True)
class Tolerance:
    distance_m: float = 3000.0
    gap_s: float = 1800.0


@dataclass
class Reports:
    """Column arrays of the reports to match; ``family`` and ``source`` are small integer codes."""

    start_s: np.ndarray
    end_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius_m: np.ndarray
    family: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return len(self.start_s)


def local_xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres on a plane tangent at the reports' mean latitude: exact enough across a mission area."""
    if len(lat) == 0:
        return lat.astype(np.float64), lon.astype(np.float64)
    lat0 = float(np.mean(lat))
    x = (lon - float(np.mean(lon))) * METRES_PER_DEGREE * np.cos(np.radians(lat0))
    y = (lat - lat0) * METRES_PER_DEGREE
    return x, y


@dataclass
class _Frame:
    """Where and when each report is, in the units the tests use: metres, and seconds at mid-window."""

    x: np.ndarray
    y: np.ndarray
    mid: np.ndarray
    half: np.ndarray

    @classmethod
    def of(cls, reports: Reports) -> _Frame:
        x, y = local_xy(reports.lat, reports.lon)
        return cls(x, y, (reports.start_s + reports.end_s) / 2.0, (reports.end_s - reports.start_s) / 2.0)


def _judge(reports: Reports, frame: _Frame, tolerance: Tolerance, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pair: could the two reports be one event, and how far apart they are (0 is together, 2 at the limits)."""
    distance = np.hypot(frame.x[i] - frame.x[j], frame.y[i] - frame.y[j])
    reach = tolerance.distance_m + reports.radius_m[i] + reports.radius_m[j]
    gap = np.abs(frame.mid[i] - frame.mid[j]) - frame.half[i] - frame.half[j]
    compatible = (
        (distance <= reach) & (gap <= tolerance.gap_s)
        & (reports.family[i] == reports.family[j]) & (reports.source[i] != reports.source[j])
    )
    return compatible, distance / reach + np.maximum(gap, 0.0) / tolerance.gap_s


def _extent_class(extent: np.ndarray) -> np.ndarray:
    """0 up to half a tolerance, 1 up to one, 2 up to two, 3 beyond: reports of a class share query boxes."""
    return np.searchsorted(np.array([0.5, 1.0, 2.0]), extent, side="left")


def _candidate_pairs(reports: Reports, frame: _Frame, tolerance: Tolerance) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, sorted, among which every linkable pair is: a superset found in boxes.

    Reports are grouped by how wide their place is and how long their window (a few classes each).
    For two classes, the widest pair they can hold bounds how far apart two linkable reports lie in
    space and in time; the coordinates are scaled by those bounds so that the box is a unit cube,
    and a k-d tree (Chebyshev distance) finds the pairs in it. A grid reference is then never
    searched with a district's radius, nor a report of minutes with a whole night's window.
    """
    space_class = _extent_class(reports.radius_m / tolerance.distance_m)
    time_class = _extent_class(frame.half / tolerance.gap_s)
    classes, class_of = np.unique(space_class * 4 + time_class, return_inverse=True)
    rows = [np.flatnonzero(class_of == c) for c in range(len(classes))]
    widest = [(float(reports.radius_m[r].max()), float(frame.half[r].max())) for r in rows]
    t0 = frame.mid.min()
    family = reports.family.astype(np.float64) * FAMILY_SPACING

    def scaled(r: np.ndarray, space: float, time: float) -> np.ndarray:
        return np.column_stack([frame.x[r] / space, frame.y[r] / space, (frame.mid[r] - t0) / time, family[r]])

    found = []
    for a in range(len(rows)):
        for b in range(a, len(rows)):
            space = tolerance.distance_m + widest[a][0] + widest[b][0]
            time = tolerance.gap_s + widest[a][1] + widest[b][1]
            mine = cKDTree(scaled(rows[a], space, time), balanced_tree=False, compact_nodes=False)
            if a == b:
                pairs = mine.query_pairs(1.0, p=np.inf, output_type="ndarray")
                found.append(rows[a][pairs])
                continue
            theirs = cKDTree(scaled(rows[b], space, time), balanced_tree=False, compact_nodes=False)
            near = mine.sparse_distance_matrix(theirs, 1.0, p=np.inf, output_type="ndarray")
            found.append(np.column_stack([rows[a][near["i"]], rows[b][near["j"]]]))
    pairs = np.concatenate(found).astype(np.int64, copy=False) if found else np.empty((0, 2), dtype=np.int64)
    low, high = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    keys = np.sort(low * len(reports) + high)  # each pair once, in one order whatever the classes
    return np.column_stack([keys // len(reports), keys % len(reports)])


def linked_pairs(reports: Reports, tolerance: Tolerance, frame: _Frame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, of reports that may describe the same event."""
    n = len(reports)
    empty = np.empty(0, dtype=np.int64)
    if n < 2:
        return empty, empty
    frame = frame or _Frame.of(reports)
    wide = np.maximum(reports.radius_m / tolerance.distance_m, frame.half / tolerance.gap_s) > WIDE
    pairs = _candidate_pairs(reports, frame, tolerance)
    i, j = pairs[:, 0], pairs[:, 1]
    compatible, score = _judge(reports, frame, tolerance, i, j)
    i, j, score = i[compatible], j[compatible], score[compatible]
    # an event has at most one report per source: a report keeps only its closest link to each source
    per_source = int(reports.source.max()) + 1
    at_i, at_j = _best_at_ends(i * per_source + reports.source[j], j * per_source + reports.source[i], score)
    i, j, score = i[at_i & at_j], j[at_i & at_j], score[at_i & at_j]
    if wide.any():
        # a vague report (a district, a whole night) joins one event and never bridges two
        at_i, at_j = _best_at_ends(i, j, score)
        keep = (~wide[i] | at_i) & (~wide[j] | at_j)
        i, j = i[keep], j[keep]
    return i, j


def _best_at_ends(key_i: np.ndarray, key_j: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each link is the best-scoring one of its group, at its first end and at its second."""
    m = len(score)
    rows = np.arange(m)
    groups, where = np.unique(np.concatenate([key_i, key_j]), return_inverse=True)
    order = np.lexsort((np.concatenate([score, score]), where))
    first = np.ones(2 * m, dtype=bool)
    first[1:] = where[order][1:] != where[order][:-1]
    best = np.empty(len(groups), dtype=np.int64)
    best[where[order][first]] = np.concatenate([rows, rows])[order][first]
    return best[where[:m]] == rows, best[where[m:]] == rows


def clusters(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """A cluster label per report: the connected components of the links."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def cluster_reports(reports: Reports, tolerance: Tolerance) -> np.ndarray:
    """An event label per report."""
    frame = _Frame.of(reports)
    i, j = linked_pairs(reports, tolerance, frame)
    labels = clusters(len(reports), i, j)
    sizes = np.bincount(labels)
    links = np.bincount(labels[i], minlength=len(sizes))
    chained = np.flatnonzero((sizes >= 3) & (links < sizes * (sizes - 1) // 2))
    members_of = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    next_label = len(sizes)
    for component, groups in zip(chained, _complete_linkage(reports, frame, tolerance, members_of, bounds, chained)):
        members = members_of[bounds[component]:bounds[component + 1]]
        for group in sorted(set(groups))[1:]:
            labels[members[np.asarray(groups) == group]] = next_label
            next_label += 1
    return labels


def _complete_linkage(reports: Reports, frame: _Frame, tolerance: Tolerance, members_of: np.ndarray,
                      bounds: np.ndarray, chained: np.ndarray) -> list[list[int]]:
    """For each chained component, groups of its members such that every two reports of a group could be one event.

    Every pair within every component is judged at once (components have a few dozen members at most);
    then, component by component, groups merge along the closest compatible pairs first when all their
    members are compatible. The merging is a loop over small Python sets: a NumPy call per step costs
    more than the step.
    """
    sizes = bounds[chained + 1] - bounds[chained]
    firsts, seconds, owners = [], [], []
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        first, second = np.triu_indices(int(size), 1)
        starts = bounds[chained[which]][:, None]
        firsts.append((starts + first).ravel())
        seconds.append((starts + second).ravel())
        owners.append(np.repeat(which, len(first)))
    if not firsts:
        return []
    first_at, second_at, owner = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(owners)
    together, score = _judge(reports, frame, tolerance, members_of[first_at], members_of[second_at])
    first_at, second_at, owner, score = first_at[together], second_at[together], owner[together], score[together]
    order = np.lexsort((score, owner))  # stable: equal scores keep the pairs' order within the component
    local_first = (first_at - bounds[chained[owner]])[order].tolist()
    local_second = (second_at - bounds[chained[owner]])[order].tolist()
    cuts = np.searchsorted(owner[order], np.arange(len(chained) + 1)).tolist()
    out = []
    for c, size in enumerate(sizes.tolist()):
        firsts_c, seconds_c = local_first[cuts[c]:cuts[c + 1]], local_second[cuts[c]:cuts[c + 1]]
        compatible = set(zip(firsts_c, seconds_c)) | set(zip(seconds_c, firsts_c))
        groups = list(range(size))
        members: dict[int, list[int]] = {k: [k] for k in range(size)}
        for x, y in zip(firsts_c, seconds_c):
            a, b = groups[x], groups[y]
            if a != b and all((u, v) in compatible for u in members[a] for v in members[b]):
                for v in members.pop(b):
                    groups[v] = a
                    members[a].append(v)
        out.append(groups)
    return out


def _pairs_within(labels: np.ndarray) -> int:
    sizes = np.unique(labels, return_counts=True)[1].astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true events."""
    both = np.unique(np.column_stack([truth, predicted]), axis=0, return_inverse=True)[1].ravel()
    agreed, proposed, actual = _pairs_within(both), _pairs_within(predicted), _pairs_within(truth)
    precision = agreed / proposed if proposed else 1.0
    recall = agreed / actual if actual else 1.0
    return precision, recall
