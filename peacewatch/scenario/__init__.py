"""Reference scenarios that the demo and the tests load."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.core.db import utcnow
from peacewatch.core.settings import Settings


def activity(sessions: Callable[[], AbstractContextManager[Session]], settings: Settings) -> Iterator[tuple[str, str]]:
    """What 'peacewatch demo' loads after the scenario's geography, force and users, one step at a time with what it made.

    Each step is loaded once: run again, it adds nothing. The tests and benchmarks load the same steps.
    """
    from peacewatch.scenario import airlift_demo, duty_demo, incident_stream, patrol_day, relief_demo, remains_demo

    def step(load: Callable[[Session], Any]) -> Any:
        with sessions() as session:
            return load(session)

    alerts = step(lambda s: patrol_day.load(s, h3_resolution=settings.h3_resolution, rules=settings.alert_rules()))
    yield "patrols", f"patrols of 14 November 2020 simulated: {len(patrol_day.SCRIPTS)} patrols, {alerts} new alerts"
    made, proposals = step(lambda s: incident_stream.load(s, settings))
    yield "incidents", f"incident reports of 10-20 November 2020: {made} new, {proposals} merge proposals open"
    remains = step(lambda s: remains_demo.load(s, settings))
    if remains:
        yield "remains", (f"remains from 13 November 2020 (synthetic): {remains['missing']} missing persons reported, "
                          f"{remains['bodies']} bodies recovered, {remains['identified']} identified, "
                          f"{remains['handed_over']} handed over")
    airlift = step(lambda s: airlift_demo.load(s, settings))
    if airlift:
        yield "airlift", (f"airlift of 10-20 November 2020: {airlift['flights']} flights, {airlift['convoys']} convoys, "
                          f"a rotation plan of {airlift['rotation_flights']} flights; the claims register")
    watch = step(lambda s: duty_demo.load(s, settings))
    yield "duty", (f"the headquarters' watch from today: {watch['shifts']} shifts on the duty roster, "
                   f"{watch['policies']} escalation policies")
    relief = step(lambda s: relief_demo.load(s, settings))
    if relief:
        yield "relief", (f"civilian returns and demining from 14 November 2020: {relief['returns']} counts of returns, "
                         f"{relief['clearances']} clearances")
    end = step(story_end)
    yield "pages", f"the map and the reports open at the story's end, {end:%d %B %Y %H:%M} UTC (Live on the map for now)"


def story_end(session: Session) -> datetime:
    """The newest moment of the scenario's operations (its incidents, its patrols and their trackers; not the
    airlift's later rotations), kept as the installation's records end: where the pages open, once for all."""
    from peacewatch.core.installation import RECORDS_END, set_moment
    from peacewatch.incidents.models import Incident
    from peacewatch.patrols.models import Patrol
    from peacewatch.tracking.models import TrackerState

    now = utcnow()
    moments = [session.scalar(select(func.max(Incident.started_at)).where(Incident.started_at <= now)),
               session.scalar(select(func.max(Patrol.planned_start)).where(Patrol.planned_start <= now))]
    fix_ms = session.scalar(select(func.max(TrackerState.t_ms)))
    if fix_ms is not None:
        moments.append(datetime.fromtimestamp(fix_ms / 1000, UTC))
    end = max(m for m in moments if m is not None)
    set_moment(session, RECORDS_END, end)
    session.commit()
    return end
