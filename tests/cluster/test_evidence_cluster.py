"""Evidence on several machines without a shared disk: two server processes, each on a data directory of its
own, with PEACEWATCH_EVIDENCE_STORE=database. A photo uploaded to one is served by the other, whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.bodies import report
from tests.cluster.conftest import Server, token
from tests.conftest import PG_URL
from tests.evidence_files import phone_photo, sha256

pytestmark = pytest.mark.skipif(not PG_URL, reason="several server processes need PostgreSQL (SQLite takes one)")


def test_a_photo_uploaded_to_one_process_is_served_by_another_with_its_own_data_directory(
        start_server: Callable[..., Server], scenario: None, app: Any) -> None:
    app.state.engine.dispose()
    first = start_server(PEACEWATCH_EVIDENCE_STORE="database")
    second = start_server(cot_port=first.cot_port, PEACEWATCH_EVIDENCE_STORE="database")
    assert first.env["PEACEWATCH_DATA_DIR"] != second.env["PEACEWATCH_DATA_DIR"]
    ops = {"Authorization": f"Bearer {token(first, 'ops')}"}
    incident = httpx.post(f"{first.url}/api/v1/incidents", headers=ops, timeout=30, json=report())
    assert incident.status_code == 201, incident.text
    photo = phone_photo()
    stored = httpx.post(f"{first.url}/api/v1/attachments", headers=ops, timeout=60,
                        data={"record_kind": "incident", "record_key": str(incident.json()["id"]), "sha256": sha256(photo)},
                        files={"file": ("IMG_0042.JPG", photo, "image/jpeg")})
    assert stored.status_code == 201, stored.text
    served = httpx.get(f"{second.url}/api/v1/attachments/{stored.json()['id']}/content", headers=ops, timeout=60)
    assert served.status_code == 200, served.text
    assert sha256(served.content) == sha256(photo)
    assert not (second.log.parent / "data2" / "evidence").exists()  # nothing on the second machine's disk but its copy
