"""The live positions stream's source: every fix stored since the last look, tracker by tracker.

The live map draws each tracker's track as its fixes arrive, so the stream carries every fix, not
only the latest. What changed is read off ``tracker_state`` (each tracker's newest judged fix,
written in the same transaction as the fixes), so a look costs one small read when nothing moved,
and index seeks on (tracker, time) for the trackers that did. A fix arriving out of order (older
than one already published) is stored and shown on the tracks, but is not live news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from peacewatch.core.visibility import Scope, Visibility
from peacewatch.tracking.models import Position, Tracker, TrackerState

CATCH_UP_MS = 60 * 60_000  # a tracker back after a silence gets at most its last hour of fixes streamed
MAX_PER_TRACKER = 200  # and at most this many per look: a map needs the shape of a track, not a bulk load
GROUP_SPAN_MS = 10 * 60_000  # trackers whose windows start this close are read with one query


@dataclass(frozen=True, slots=True)
class LiveFix:
    tracker_id: int
    t_ms: int
    lat: float
    lon: float
    speed: float | None
    heading: float | None
    code: str
    name: str
    kind: str
    visibility: Visibility

    def feature(self) -> dict[str, Any]:
        time = datetime.fromtimestamp(self.t_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
        return {
            "type": "Feature",
            "id": self.tracker_id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {"tracker_id": self.tracker_id, "code": self.code, "name": self.name, "kind": self.kind,
                           "time": time, "speed": self.speed, "heading": self.heading},
        }


class FixRound:
    """One look's new fixes, as every stream of the process receives them: a stream of a given scope
    gets the same bytes as any other of that scope, so they are encoded once per scope."""

    def __init__(self, fixes: list[LiveFix]) -> None:
        self.fixes = fixes
        self.oldest_ms = min((fix.t_ms for fix in fixes), default=0)
        self._encoded: dict[Scope, bytes | None] = {}

    def __bool__(self) -> bool:
        return bool(self.fixes)

    def visible(self, readable: Scope) -> list[LiveFix]:
        return [fix for fix in self.fixes if readable is None or fix.visibility in readable]

    def encoded(self, readable: Scope) -> bytes | None:
        """The round as the stream's event (a FeatureCollection) for ``readable``, or None when it holds nothing for it."""
        if readable not in self._encoded:
            visible = self.visible(readable)
            self._encoded[readable] = positions_event(visible) if visible else None
        return self._encoded[readable]


def positions_event(fixes: list[LiveFix]) -> bytes:
    """A server-sent event ``positions`` whose data is the fixes as a FeatureCollection, framed once, sent as is."""
    data = orjson.dumps({"type": "FeatureCollection", "features": [fix.feature() for fix in fixes]})
    return b"event: positions\r\ndata: " + data + b"\r\n\r\n"


class NewFixes:
    """Called by the stream's topic after each commit of positions: the fixes not yet published."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.published: dict[int, int] | None = None  # tracker -> newest fix published

    def __call__(self) -> FixRound:
        with self.factory() as session:
            newest = dict(session.connection().execute(select(TrackerState.tracker_id, TrackerState.t_ms)).all())
            if self.published is None:
                self.published = newest
                return FixRound([])
            published = self.published
            windows = {tracker: (max(published.get(tracker, -1), t_ms - CATCH_UP_MS), t_ms)
                       for tracker, t_ms in newest.items() if t_ms > published.get(tracker, -1)}
            fixes = _fixes_in(session, windows) if windows else []
        published.update((tracker, t_ms) for tracker, (_, t_ms) in windows.items())
        return FixRound(fixes)


def _fixes_in(session: Session, windows: dict[int, tuple[int, int]]) -> list[LiveFix]:
    """The fixes with lo < t <= hi of each tracker's window, oldest first, the last MAX_PER_TRACKER of each."""
    by_start = sorted(windows, key=lambda tracker: windows[tracker][0])
    groups: list[list[int]] = []
    for tracker in by_start:
        if groups and windows[tracker][0] - windows[groups[-1][0]][0] <= GROUP_SPAN_MS:
            groups[-1].append(tracker)
        else:
            groups.append([tracker])
    found: dict[int, list[LiveFix]] = {}
    for group in groups:
        lo, hi = windows[group[0]][0], max(windows[t][1] for t in group)
        query = (select(Position.tracker_id, Position.t_ms, Position.lat, Position.lon, Position.speed, Position.heading,
                        Tracker.code, Tracker.name, Tracker.kind, Tracker.visibility)
                 .join(Tracker, Tracker.id == Position.tracker_id)
                 .where(Position.tracker_id.in_(group), Position.t_ms > lo, Position.t_ms <= hi)
                 .order_by(Position.tracker_id, Position.t_ms))
        for tracker, t_ms, lat, lon, speed, heading, code, name, kind, visibility in session.connection().execute(query):
            start, end = windows[tracker]
            if start < t_ms <= end:
                found.setdefault(tracker, []).append(
                    LiveFix(tracker, t_ms, lat, lon, speed, heading, code, name, kind.value, visibility))
    fixes = [fix for run in found.values() for fix in run[-MAX_PER_TRACKER:]]
    fixes.sort(key=lambda fix: fix.t_ms)
    return fixes
