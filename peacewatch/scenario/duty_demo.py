"""The headquarters' watch in the demo: who is on duty this week (from the day the demo is loaded, in mission
time) and the escalation policies a Joint Operations Centre keeps: a call for help goes to the duty officer at
once, to the deputy and the chief of operations after two minutes, to everyone on duty after five, and again
every five minutes until someone acknowledges; the other alerts go to the duty officer, then the deputy."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.alerts.models import AlertKind
from peacewatch.core.db import utcnow
from peacewatch.core.settings import Settings
from peacewatch.duty.models import Channel, Duty, DutyShift, EscalationPolicy
from peacewatch.duty.schemas import PolicyIn, PolicyStep, ShiftIn
from peacewatch.duty.service import add_shift, create_policy

OPERATIONS = "ops"
DAYS = 7
# (user, duty, from, to) each day, mission time; a shift that ends at or before it starts ends the next day
WATCH = [("ops", Duty.duty_officer, time(8), time(20)), ("ops", Duty.duty_officer, time(20), time(8)),
         ("observer", Duty.deputy_duty_officer, time(8), time(8)), ("admin", Duty.chief_of_operations, time(8), time(20))]
POLICIES = [
    PolicyIn(name="Calls for help", rank=10, kinds=[AlertKind.emergency, AlertKind.casevac], max_priority=1, repeat_every_s=300,
             steps=[PolicyStep(after_s=0, duties=[Duty.duty_officer]),
                    PolicyStep(after_s=120, duties=[Duty.deputy_duty_officer, Duty.chief_of_operations]),
                    PolicyStep(after_s=300, everyone_on_duty=True)]),
    PolicyIn(name="Patrols and the line of contact", rank=50, max_priority=2,
             steps=[PolicyStep(after_s=0, duties=[Duty.duty_officer], channels=[Channel.tak]),
                    PolicyStep(after_s=600, duties=[Duty.deputy_duty_officer])]),
]


def load(session: Session, settings: Settings) -> dict[str, int]:
    """This week's watch and the policies, once: run again, it adds nothing."""
    made = {"shifts": 0, "policies": 0}
    known = set(session.scalars(select(EscalationPolicy.name)))
    for policy in POLICIES:
        if policy.name not in known:
            create_policy(session, OPERATIONS, policy)
            made["policies"] += 1
    # the watch's day runs from 08:00 to 08:00: loaded at two in the morning, the night shift under way is yesterday's
    today = (utcnow().astimezone(settings.zone) - timedelta(hours=8)).date()
    start = datetime.combine(today, time(8), tzinfo=settings.zone)
    if session.scalar(select(DutyShift.id).where(DutyShift.ends_at > start).limit(1)) is not None:
        return made
    for day in range(DAYS):
        on = today + timedelta(days=day)
        for username, duty, begins, ends in WATCH:
            starts_at = datetime.combine(on, begins, tzinfo=settings.zone)
            ends_at = datetime.combine(on + timedelta(days=1) if ends <= begins else on, ends, tzinfo=settings.zone)
            add_shift(session, OPERATIONS, ShiftIn(username=username, duty=duty, starts_at=starts_at, ends_at=ends_at,
                                                   note="demo watch"))
            made["shifts"] += 1
    return made
