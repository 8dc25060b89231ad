"""The alerts stream's source: alerts raised since the last look, in the order they were committed.

Alert ids are handed out in commit order (see :mod:`peacewatch.alerts.models`), so "every alert
after id N" read at any moment never skips one that commits later with a smaller id: a stream, or a
client resuming with ``Last-Event-ID``, loses none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from peacewatch.alerts.models import Alert
from peacewatch.alerts.schemas import AlertOut

PAGE = 500


def alerts_after(session: Session, after_id: int, limit: int = PAGE) -> list[dict[str, Any]]:
    """Alerts with an id above ``after_id``, oldest first, as the stream sends them (with their visibility)."""
    found = session.scalars(select(Alert).where(Alert.id > after_id).order_by(Alert.id).limit(limit))
    return [AlertOut.model_validate(alert).model_dump(mode="json") for alert in found]


def newest_alert_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Alert.id))) or 0)


class NewAlerts:
    """Called by the stream's topic after each commit of alerts: those not yet published, all scopes."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.cursor: int | None = None

    def __call__(self) -> list[dict[str, Any]]:
        with self.factory() as session:
            if self.cursor is None:
                self.cursor = newest_alert_id(session)
                return []
            found: list[dict[str, Any]] = []
            while page := alerts_after(session, self.cursor):
                found += page
                self.cursor = page[-1]["id"]
                if len(page) < PAGE:
                    break
        return found
