"""The audit log: every create, update and delete, with who, when, before and after; nothing half-stored."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.core.audit import AuditEntry, MissingActor
from peacewatch.force.models import Unit, UnitType


def audit(client: TestClient, auth: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params=params, headers=auth("admin"))
    assert response.status_code == 200
    return response.json()


@pytest.mark.usefixtures("scenario")
class TestAuditLog:
    def test_create_update_delete_are_each_logged_with_before_and_after(self, client: TestClient, auth: Any) -> None:
        unit = {"name": "Audit company", "unit_type": "engineers", "authorised_strength": 50}
        unit_id = client.post("/api/v1/units", json=unit, headers=auth("ops")).json()["id"]
        client.patch(f"/api/v1/units/{unit_id}", json={"present_strength": 42}, headers=auth("ops"))
        client.delete(f"/api/v1/units/{unit_id}", headers=auth("admin"))

        entries = audit(client, auth, entity="units", entity_id=str(unit_id))
        assert [(e["action"], e["actor"]) for e in entries] == [("delete", "admin"), ("update", "ops"), ("create", "ops")]
        deleted, updated, created = entries
        assert created["before"] is None and created["after"]["name"] == "Audit company"
        assert updated["before"]["present_strength"] == 0 and updated["after"]["present_strength"] == 42
        assert deleted["before"]["present_strength"] == 42 and deleted["after"] is None

    def test_the_reason_given_for_a_step_is_kept_with_its_entries_in_any_language(self, client: TestClient, auth: Any) -> None:
        unit = {"name": "Reason company", "unit_type": "engineers", "authorised_strength": 50}
        unit_id = client.post("/api/v1/units", json=unit, headers=auth("ops")).json()["id"]
        why = "Расформирована приказом №12 — duplicate of the engineer company"
        deleted = client.delete(f"/api/v1/units/{unit_id}", headers=auth("ops") | {"PeaceWatch-Reason": quote(why)})
        assert deleted.status_code == 204, deleted.text
        created, removed = reversed(audit(client, auth, entity="units", entity_id=str(unit_id)))
        assert created["reason"] is None and removed["reason"] == why

    def test_a_refused_write_leaves_neither_record_nor_audit_entry(self, client: TestClient, auth: Any) -> None:
        before = len(audit(client, auth, limit=1000))
        bad = {"name": "Orphan", "unit_type": "medical", "authorised_strength": 5, "parent_id": 99999}
        response = client.post("/api/v1/units", json=bad, headers=auth("ops"))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.parent_id"
        assert len(audit(client, auth, limit=1000)) == before
        assert "Orphan" not in {u["name"] for u in client.get("/api/v1/units", headers=auth("ops")).json()}

    def test_an_import_all_or_nothing_with_one_bad_feature_stores_nothing(self, client: TestClient, auth: Any) -> None:
        before = len(audit(client, auth, limit=1000))
        good = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.7, 40.1]},
                "properties": {"code": "N-50", "name": "Good", "zone_code": "north", "opened_on": "2020-12-01"}}
        bad = json.loads(json.dumps(good))
        bad["properties"] |= {"code": "N-51", "closed_on": "2020-11-01"}
        body = json.dumps({"type": "FeatureCollection", "features": [good, bad]}).encode()
        response = client.post(
            "/api/v1/layers/posts", files={"file": ("posts.geojson", io.BytesIO(body), "application/geo+json")},
            headers=auth("ops"), params={"all_or_nothing": "true"},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "features[1].properties.closed_on"
        codes = {f["properties"]["code"] for f in client.get("/api/v1/posts").json()["features"]}
        assert "N-50" not in codes
        assert len(audit(client, auth, limit=1000)) == before
        # by default, the good feature is imported (and audited) and the bad one refused, saying why
        response = client.post("/api/v1/layers/posts", headers=auth("ops"),
                               files={"file": ("posts.geojson", io.BytesIO(body), "application/geo+json")})
        assert response.status_code == 200 and response.json()["codes"] == ["N-50"]
        assert [(r["index"], r["name"]) for r in response.json()["refused"]] == [(1, "Good")]
        assert len(audit(client, auth, limit=1000)) == before + 1

    def test_a_password_change_is_logged_without_the_password(self, client: TestClient, auth: Any) -> None:
        users = client.get("/api/v1/users", headers=auth("admin")).json()
        press = next(u for u in users if u["username"] == "press")
        client.patch(f"/api/v1/users/{press['id']}", json={"password": "a-new-password"}, headers=auth("admin"))
        entry = audit(client, auth, entity="users", action="update")[0]
        assert entry["before"]["password_hash"] != entry["after"]["password_hash"]
        assert entry["after"]["password_hash"].startswith("sha256:")
        assert "argon2" not in json.dumps(entry)

    def test_filters_by_actor_and_time(self, client: TestClient, auth: Any) -> None:
        assert {e["actor"] for e in audit(client, auth, actor="system:demo", limit=1000)} == {"system:demo"}
        assert audit(client, auth, since="2999-01-01T00:00:00") == []


class TestAuditMechanics:
    def test_a_write_without_an_actor_is_refused(self, session: Session) -> None:
        session.add(Unit(name="Nobody's unit", unit_type=UnitType.medical, authorised_strength=1))
        with pytest.raises(MissingActor):
            session.flush()
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Unit)) == 0

    def test_assigning_the_same_values_logs_nothing(self, session: Session) -> None:
        session.info["actor"] = "test"
        unit = Unit(name="Steady", unit_type=UnitType.medical, authorised_strength=1)
        session.add(unit)
        session.commit()
        unit.authorised_strength = 1
        session.commit()
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1

    def test_the_audit_log_is_append_only(self, session: Session) -> None:
        session.info["actor"] = "test"
        session.add(Unit(name="Logged", unit_type=UnitType.medical, authorised_strength=1))
        session.commit()
        entry = session.scalars(select(AuditEntry)).one()
        entry.actor = "someone else"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
