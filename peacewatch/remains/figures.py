"""Casualty figures per side over time, pure.

Each body counts once whatever its parts: only records of kind ``body`` reach these functions.
A body's death is confirmed for a side when it is identified as one of that side's people, or
when the side receives it unidentified; a revoked identification takes it back, so the running
totals can fall as well as rise, as an honest death toll does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from peacewatch.core.tabular import table_csv

MEASURES = ("missing_reported", "recovered", "identified", "handed_over", "deaths_confirmed", "still_missing")
SIDES = ("A", "B")
MAX_DAYS = 3660


class SpanTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Fact:
    day: date
    side: str
    measure: str
    delta: int = 1


@dataclass(frozen=True)
class BodyStep:
    """Something that changes which side a body's death counts for."""

    day: date
    order: int  # same day: handover, then identification, then revocation
    body: int
    kind: str  # "handed_over", "identified", "revoked"
    side: str | None


def attribution_facts(steps: Iterable[BodyStep]) -> list[Fact]:
    """deaths_confirmed deltas: a body counts for the side of its identification, else the side that received it."""
    by_body: dict[int, list[BodyStep]] = defaultdict(list)
    for step in steps:
        by_body[step.body].append(step)
    facts: list[Fact] = []
    for body_steps in by_body.values():
        received: str | None = None
        identified: str | None = None
        counted: str | None = None
        for step in sorted(body_steps, key=lambda s: (s.day, s.order)):
            if step.kind == "handed_over":
                received = step.side
            elif step.kind == "identified":
                identified = step.side
            else:
                identified = None
            now = identified or received
            if now != counted:
                if counted is not None:
                    facts.append(Fact(step.day, counted, "deaths_confirmed", -1))
                if now is not None:
                    facts.append(Fact(step.day, now, "deaths_confirmed", 1))
                counted = now
    return facts


def _zero() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


def _add(bucket: dict[str, int], fact: Fact) -> None:
    """One fact into a side's tally; ``still_missing`` is the missing reported less those identified."""
    bucket[fact.measure] += fact.delta
    if fact.measure == "missing_reported":
        bucket["still_missing"] += fact.delta
    elif fact.measure == "identified":
        bucket["still_missing"] -= fact.delta


def casualties_on(facts: Iterable[Fact], day: date) -> dict[str, Any]:
    """The running totals at the end of ``day`` and that day's change, per side and for both: one day of
    :func:`casualty_series`, for any span (a report on the last day of a ten-year mission reads one day)."""
    total, new = {s: _zero() for s in SIDES}, {s: _zero() for s in SIDES}
    for fact in facts:
        if fact.day <= day:
            _add(total[fact.side], fact)
            if fact.day == day:
                _add(new[fact.side], fact)
    out: dict[str, Any] = {side: {"total": total[side], "new": new[side]} for side in SIDES}
    out["total"] = {"total": {m: total["A"][m] + total["B"][m] for m in MEASURES},
                    "new": {m: new["A"][m] + new["B"][m] for m in MEASURES}}
    return out


def casualty_series(facts: Iterable[Fact], since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """Running totals and each day's change, per side and for both, from the first day on record.

    ``still_missing`` is the missing reported less those identified.
    """
    daily: dict[date, dict[str, dict[str, int]]] = defaultdict(lambda: {s: _zero() for s in SIDES})
    for fact in facts:
        _add(daily[fact.day][fact.side], fact)
    if not daily and (since is None or until is None):
        return {"since": since, "until": until, "days": [], "totals": {s: _zero() for s in (*SIDES, "total")}}
    first = min(daily) if daily else since
    last = max(daily) if daily else until
    start = since or first
    end = until or last
    assert start is not None and end is not None
    if (end - start).days > MAX_DAYS:
        raise SpanTooLong(f"asks for {(end - start).days + 1} days; at most {MAX_DAYS} at a time")
    running = {s: _zero() for s in SIDES}
    for day in sorted(d for d in daily if d < start):
        for side in SIDES:
            for m in MEASURES:
                running[side][m] += daily[day][side][m]
    days = []
    for offset in range((end - start).days + 1):  # not "day += 1 while day <= end": there is no day after 9999-12-31
        day = start + timedelta(days=offset)
        new = daily.get(day, {s: _zero() for s in SIDES})
        row: dict[str, Any] = {"day": day}
        for side in SIDES:
            for m in MEASURES:
                running[side][m] += new[side][m]
            row[side] = {"total": dict(running[side]), "new": dict(new[side])}
        row["total"] = {
            "total": {m: running["A"][m] + running["B"][m] for m in MEASURES},
            "new": {m: new["A"][m] + new["B"][m] for m in MEASURES},
        }
        days.append(row)
    totals = {s: dict(running[s]) for s in SIDES}
    totals["total"] = {m: running["A"][m] + running["B"][m] for m in MEASURES}
    return {"since": start, "until": end, "days": days, "totals": totals}


def series_csv(series: dict[str, Any]) -> str:
    """One row per day and side (A, B, total): the running totals, then the day's change."""
    return table_csv(["day", "side", *MEASURES, *(f"new_{m}" for m in MEASURES)], (
        [row["day"].isoformat(), side, *(row[side]["total"][m] for m in MEASURES), *(row[side]["new"][m] for m in MEASURES)]
        for row in series["days"] for side in (*SIDES, "total")))
