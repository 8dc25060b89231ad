"""The position store over days: partitions on PostgreSQL, retention on both databases, evidence kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core import partitions
from peacewatch.core.audit import AuditEntry
from peacewatch.patrols.service import keep_tracks
from peacewatch.tracking.models import Position
from peacewatch.tracking.retention import prune_positions
from peacewatch.tracking.store import POSITIONS, storage

DAYS = ("2020-11-14", "2020-11-15", "2020-11-16")


def day_fixes(tracker: str, day: str, count: int = 60) -> list[dict[str, Any]]:
    return [{"tracker": tracker, "t": f"{day}T08:{m:02d}:00Z", "lat": 40.10, "lon": 46.60 + m * 0.001, "speed": 5.0}
            for m in range(count)]


def midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def three_days(client: TestClient, auth: Any) -> int:
    """MP-07 reported for an hour on each of three days; a patrol went out with it on the first. Its id."""
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
    for day in DAYS:
        response = client.post("/api/v1/positions", json={"positions": day_fixes("MP-07", day)}, headers=auth("patrol"))
        assert response.json()["stored"] == 60, response.text
    units = {u["name"]: u["id"] for u in client.get("/api/v1/units", headers=auth("ops")).json()}
    north = client.get("/api/v1/areas").json()["features"][0]["id"]
    patrol = client.post("/api/v1/patrols", headers=auth("ops"), json={
        "name": "North morning patrol", "unit_id": units["Military Police Company North"], "zone_id": north,
        "planned_start": "2020-11-14T08:00:00Z", "planned_end": "2020-11-14T12:00:00Z", "trackers": ["MP-07"]}).json()
    for action, at in (("start", "2020-11-14T08:00:00Z"), ("complete", "2020-11-14T09:30:00Z")):
        assert client.post(f"/api/v1/patrols/{patrol['id']}/{action}", json={"at": at}, headers=auth("patrol")).status_code == 200
    return int(patrol["id"])


def stored_days(session: Session) -> list[str]:
    times = session.scalars(select(Position.t_ms)).all()
    return sorted({datetime.fromtimestamp(t / 1000, UTC).date().isoformat() for t in times})


@pytest.mark.usefixtures("scenario")
class TestRetention:
    def test_pruning_removes_whole_days_keeps_the_patrols_track_and_is_audited(
        self, client: TestClient, auth: Any, session: Session, three_days: int,
    ) -> None:
        track_before = client.get(f"/api/v1/patrols/{three_days}/track", headers=auth("ops")).json()
        gpx_before = client.get(f"/api/v1/patrols/{three_days}/track", params={"format": "gpx"}, headers=auth("ops")).text
        assert track_before["features"][0]["properties"]["positions"] == 60

        report = prune_positions(session, "admin", midnight("2020-11-16"), [keep_tracks])

        assert (report.positions, report.kept) == (120, 1)
        assert stored_days(session) == ["2020-11-16"]
        assert client.get(f"/api/v1/patrols/{three_days}/track", headers=auth("ops")).json() == track_before
        assert client.get(f"/api/v1/patrols/{three_days}/track", params={"format": "gpx"}, headers=auth("ops")).text == gpx_before
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "positions")).one()
        assert (entry.actor, entry.action.value, entry.after["positions"]) == ("admin", "delete", 120)
        if partitions.is_partitioned(session.connection()):
            names = [name for name, _, _ in partitions.partitions(session.connection(), POSITIONS)]
            assert "positions_p20201114" not in names and "positions_p20201115" not in names and "positions_p20201116" in names
            assert report.partitions == ["positions_p20201114", "positions_p20201115"]

    def test_a_second_prune_finds_nothing_and_keeps_the_track_it_kept(
        self, client: TestClient, auth: Any, session: Session, three_days: int,
    ) -> None:
        prune_positions(session, "admin", midnight("2020-11-15"), [keep_tracks])
        again = prune_positions(session, "admin", midnight("2020-11-15"), [keep_tracks])
        assert (again.positions, again.kept) == (0, 0)
        track = client.get(f"/api/v1/patrols/{three_days}/track", headers=auth("ops")).json()["features"][0]
        assert track["properties"]["positions"] == 60

    def test_only_the_start_of_a_day_is_accepted(self, session: Session) -> None:
        from peacewatch.core.problems import Invalid

        with pytest.raises(Invalid, match="whole days"):
            prune_positions(session, "admin", datetime(2020, 11, 15, 12, tzinfo=UTC), [])

    def test_positions_sent_again_after_a_prune_are_stored_again(
        self, client: TestClient, auth: Any, session: Session, three_days: int,
    ) -> None:
        prune_positions(session, "admin", midnight("2020-11-15"), [keep_tracks])
        response = client.post("/api/v1/positions", json={"positions": day_fixes("MP-07", "2020-11-14")}, headers=auth("patrol"))
        assert response.json()["stored"] == 60  # the day's partition is made again as its data comes back
        assert stored_days(session) == list(DAYS)

    def test_storage_counts_positions_and_their_bytes(self, session: Session, three_days: int) -> None:
        found = storage(session)
        assert (found.positions, found.first, found.last) == (180, "2020-11-14", "2020-11-16")
        assert found.bytes > 0


@pytest.mark.usefixtures("scenario")
class TestPartitions:
    @pytest.fixture(autouse=True)
    def _postgres_only(self, session: Session) -> None:
        if not partitions.is_partitioned(session.connection()):
            pytest.skip("SQLite tables are not partitioned")

    def test_each_day_of_positions_is_a_partition_made_as_data_arrives(self, session: Session, three_days: int) -> None:
        names = [name for name, _, _ in partitions.partitions(session.connection(), POSITIONS)]
        assert {"positions_p20201114", "positions_p20201115", "positions_p20201116"} <= set(names)
        counted = session.connection().exec_driver_sql("SELECT count(*) FROM positions_p20201115").scalar_one()
        assert counted == 60

    def test_a_window_reads_only_its_days(self, session: Session, three_days: int) -> None:
        lo, hi = int(midnight("2020-11-15").timestamp() * 1000), int(midnight("2020-11-16").timestamp() * 1000) - 1
        plan = "\n".join(session.connection().exec_driver_sql(
            f"EXPLAIN SELECT lon, lat FROM positions WHERE tracker_id = 1 AND t_ms >= {lo} AND t_ms <= {hi}").scalars())
        assert "positions_p20201115" in plan
        assert "positions_p20201114" not in plan and "positions_p20201116" not in plan

    def test_the_periodic_work_makes_the_coming_days_partitions(self, app: FastAPI, session: Session) -> None:
        from peacewatch.core.db import utcnow

        job = next(job for job in app.state.work.jobs if job.name == "partitions-ahead")
        job.run()
        names = {name for name, _, _ in partitions.partitions(session.connection(), POSITIONS)}
        today = utcnow()
        assert POSITIONS.name(POSITIONS.start_of(int(today.timestamp() * 1000))) in names
        assert POSITIONS.name(POSITIONS.start_of(int(today.timestamp() * 1000) + 7 * 86_400_000)) in names
        assert job.run() == []  # made once
