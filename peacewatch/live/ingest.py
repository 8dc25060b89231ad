"""The one way in for positions: HTTP batches, Cursor-on-Target, GPX files and backfills all store through
:class:`Ingest`, built once at start-up from the settings.

A batch is stored in one transaction: its trackers resolved once (or handed in by a caller who has
already resolved them, as the CoT listener has), the area and H3 cell of each fix computed in bulk,
the trackers' rows claimed, the fixes inserted, the coverage counted and the alert rules judged. The
commit announces the change (``core.changes``): live streams and TAK feeds wake there, in every process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from peacewatch.alerts.engine import claim_trackers, evaluate
from peacewatch.core.changes import mark_changed
from peacewatch.core.db import transaction
from peacewatch.core.geo import Fence
from peacewatch.core.observability import POSITIONS
from peacewatch.core.settings import AlertSettings, Settings
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.tracking.columns import PositionColumns
from peacewatch.tracking.models import IngestBatch
from peacewatch.tracking.service import check_sender, prepare_batch, resolve_trackers, writer_turn
from peacewatch.tracking.sources import Sender
from peacewatch.tracking.store import PreparedBatch, add_coverage, insert_positions


@dataclass
class IngestReport:
    received: int
    stored: int
    duplicates: int
    batch_id: int
    alerts: int = 0


@dataclass(frozen=True)
class Ingest:
    """How positions are stored: the H3 resolution of the coverage and the alert rules' distances."""

    h3_resolution: int
    rules: AlertSettings

    @classmethod
    def of(cls, settings: Settings) -> Ingest:
        return cls(settings.h3_resolution, settings.alert_rules())

    def record(self, session: Session, actor: str, source: str, columns: PositionColumns, *,
               trackers: np.ndarray | None = None, where: str = "body.positions", sender: Sender | None = None) -> IngestReport:
        """Store a batch of fixes and judge it against the alert rules, in one transaction; every tracker
        must be registered and, when a ``sender`` is named, take positions from it, or nothing is stored.
        ``trackers``: each row's tracker id, when known (and its sender already checked, as the CoT listener does)."""
        with writer_turn(session), transaction(session, actor):
            tracker = trackers if trackers is not None else resolve_trackers(session, columns, where)
            if sender is not None:
                check_sender(session, tracker, sender, where)
            batch = self.prepare(zone_fence(session, ZoneKind.area_of_responsibility), columns, tracker)
            report = store_batch(session, actor, source, batch, self.rules)
        POSITIONS.labels(source).inc(report.stored)  # committed: counted
        return report

    def prepare(self, fence: Fence, columns: PositionColumns, tracker: np.ndarray) -> PreparedBatch:
        """Rows in key order with their area and H3 cell: no database needed, so a backfill prepares the
        next chunk while the current one is stored."""
        return prepare_batch(fence, columns, tracker, self.h3_resolution)

    def store(self, session: Session, actor: str, source: str, batch: PreparedBatch) -> IngestReport:
        """A prepared batch in a transaction of its own (a backfill's chunk)."""
        with writer_turn(session), transaction(session, actor):
            report = store_batch(session, actor, source, batch, self.rules)
        POSITIONS.labels(source).inc(report.stored)
        return report


def store_batch(session: Session, actor: str, source: str, batch: PreparedBatch, rules: AlertSettings) -> IngestReport:
    """Claim the batch's trackers, insert, count coverage and judge the alert rules, inside the caller's transaction."""
    claim_trackers(session, np.unique(batch.tracker).tolist())
    stored = insert_positions(session, batch)
    add_coverage(session, batch.zone, batch.cell, batch.t_ms)
    raised = evaluate(session, rules, batch.tracker, batch.t_ms, batch.lon, batch.lat, batch.zone)
    record = IngestBatch(actor=actor, source=source, received=len(batch.t_ms), stored=stored)
    session.add(record)
    mark_changed(session, "positions")
    session.flush()
    return IngestReport(received=len(batch.t_ms), stored=stored, duplicates=len(batch.t_ms) - stored,
                        batch_id=record.id, alerts=len(raised))
