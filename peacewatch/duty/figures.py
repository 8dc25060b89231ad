"""What an alert's chain did, and how long alerts waited: each alert's history (who was told, when, by which channel,
who acknowledged), and response times (raised → acknowledged) per day and kind for the SITREP and the figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.alerts.models import Alert
from peacewatch.alerts.service import get_alert
from peacewatch.core.visibility import Scope
from peacewatch.duty.chain import percentile
from peacewatch.duty.models import AlertStep, EscalationPolicy, Notice
from peacewatch.duty.schemas import AlertHistory, NoticeOut, StepOut


def history(session: Session, alert_id: int, readable: Scope) -> AlertHistory:
    return history_of(session, get_alert(session, alert_id, readable))


def history_of(session: Session, alert: Alert) -> AlertHistory:
    """Who was told of ``alert`` (already read in the reader's scope), when, how, and who acknowledged it."""
    alert_id = alert.id
    steps = list(session.scalars(select(AlertStep).where(AlertStep.alert_id == alert_id).order_by(AlertStep.taken_at, AlertStep.id)))
    notices = list(session.scalars(select(Notice).where(Notice.alert_id == alert_id).order_by(Notice.id)))
    policy = session.get(EscalationPolicy, steps[0].policy_id) if steps and steps[0].policy_id else None
    return AlertHistory(alert_id=alert.id, stage=alert.stage, raised_at=alert.raised_at, notified_at=alert.notified_at,
                        acknowledged_by=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at, closed_by=alert.closed_by,
                        closed_at=alert.closed_at, policy=policy.name if policy else None,
                        steps=[StepOut.model_validate(s) for s in steps], notices=[NoticeOut.model_validate(n) for n in notices])


@dataclass(frozen=True)
class Waited:
    """How alerts of one kind raised on one day waited: how many, how many acknowledged, the median and 90th
    percentile of the wait from raised to acknowledged (seconds), and how many are still unacknowledged."""

    day: date
    kind: str
    raised: int
    acknowledged: int
    unacknowledged: int
    median_s: float | None
    p90_s: float | None
    notified_median_s: float | None  # raised → first person told


def waits(rows: Iterable[tuple[str, datetime, datetime | None, datetime | None]], zone: ZoneInfo) -> list[Waited]:
    """Pure: (kind, raised_at, notified_at, acknowledged_at) rows to per day (in the mission's zone) and kind figures.
    An alert closed without acknowledgement counts as unacknowledged: nobody answered it."""
    groups: dict[tuple[date, str], list[tuple[datetime, datetime | None, datetime | None]]] = defaultdict(list)
    for kind, raised, notified, acknowledged in rows:
        groups[(raised.astimezone(zone).date(), kind)].append((raised, notified, acknowledged))
    out = []
    for (day, kind), alerts in sorted(groups.items()):
        waited = [(ack - raised).total_seconds() for raised, _n, ack in alerts if ack is not None]
        told = [(notified - raised).total_seconds() for raised, notified, _a in alerts if notified is not None]
        out.append(Waited(day, kind, len(alerts), len(waited), len(alerts) - len(waited), percentile(waited, 50), percentile(waited, 90),
                          percentile(told, 50)))
    return out


def response_times(session: Session, zone: ZoneInfo, since: datetime, until: datetime) -> list[Waited]:
    rows = session.execute(select(Alert.kind, Alert.raised_at, Alert.notified_at, Alert.acknowledged_at)
                           .where(Alert.raised_at >= since, Alert.raised_at < until))
    return waits(((kind.value, raised, notified, acked) for kind, raised, notified, acked in rows), zone)
