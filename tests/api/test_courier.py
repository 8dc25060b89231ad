"""A field device's outbox carried to the headquarters as a file and taken in by the operations centre."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.access import outbox_keys
from peacewatch.core.auth import User
from peacewatch.core.settings import Settings
from tests.bodies import report
from tests.evidence_files import phone_photo

Auth = Callable[[str], dict[str, str]]
URL = "/api/v1/field-outboxes"


class Device:
    """A phone's outbox as the field page exports it: each item sealed to its maker's public key."""

    def __init__(self, settings: Settings, session: Session) -> None:
        self.settings, self.session = settings, session
        self.items: list[dict[str, Any]] = []

    def _public(self, username: str) -> dict[str, Any]:
        user = self.session.scalar(select(User).where(User.username == username))
        user_id = user.id if user is not None else 999_999
        return outbox_keys.jwk(outbox_keys.outbox_key(self.settings.resolved_secret_key, user_id), private=False)

    def _box(self, username: str, data: bytes) -> dict[str, Any]:
        epk, iv, sealed = outbox_keys.seal(self._public(username), data)
        return {"epk": epk, "iv": base64.b64encode(iv).decode(), "data": base64.b64encode(sealed).decode()}

    def keep(self, kind: str, user: str, said: dict[str, Any], **clear: Any) -> int:
        item = {"id": len(self.items) + 1, "kind": kind, "user": user, "state": "waiting", **clear,
                "sealed": self._box(user, json.dumps(said).encode())}
        self.items.append(item)
        return int(item["id"])

    def keep_file(self, user: str, after: int, content: bytes, name: str) -> int:
        item_id = self.keep("file", user, {"filename": name}, after=after, record_kind="incident",
                            sha256=hashlib.sha256(content).hexdigest(), client_id=f"file-{len(self.items)}")
        self.items[-1]["sealed_file"] = self._box(user, content) | {"type": "image/jpeg"}
        return item_id

    def export(self, *, end: bool = True) -> bytes:
        lines = [{"format": "peacewatch-outbox", "version": 1, "exported_at": "2026-12-07T10:00:00Z", "items": len(self.items)},
                 *self.items, *([{"end": True, "items": len(self.items)}] if end else [])]
        return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def take_in(client: TestClient, auth: Auth, content: bytes, who: str = "ops") -> Any:
    return client.post(URL, files={"file": ("outbox.jsonl", content, "application/jsonl")}, headers=auth(who))


@pytest.fixture
def device(settings: Settings, app: Any) -> Any:
    with app.state.sessionmaker() as session:
        yield Device(settings, session)


@pytest.mark.usefixtures("scenario")
class TestTakingIn:
    def test_each_item_is_stored_as_its_makers_once_with_its_photo_checked(self, client: TestClient, auth: Auth,
                                                                           device: Device) -> None:
        photo = phone_photo(seed=5)
        first = device.keep("incident", "ops", {"body": report(narrative="Carried: first", client_id="carry-1")})
        device.keep_file("ops", first, photo, "IMG_0001.JPG")
        device.keep("incident", "ops", {"body": report(narrative="Carried: second", client_id="carry-2")})
        answer = take_in(client, auth, device.export())
        assert answer.status_code == 200, answer.text
        taken = answer.json()
        assert (taken["received"], taken["stored"], taken["refused"], taken["held"], taken["whole"]) == (3, 3, 0, 0, True)
        assert [o["kind"] for o in taken["outcomes"]] == ["incident", "file", "incident"]
        number = taken["outcomes"][0]["record"]
        files = client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": number}, headers=auth("ops")).json()
        assert [f["sha256"] for f in files] == [hashlib.sha256(photo).hexdigest()]
        again = take_in(client, auth, device.export()).json()  # carried twice, or sent by the phone too: nothing twice
        assert (again["stored"], again["duplicates"]) == (0, 3)
        trail = client.get("/api/v1/audit", params={"entity": "field_outbox"}, headers=auth("admin")).json()
        assert any(e["after"]["carried_by"] == "ops" and e["after"]["stored"] == 3 for e in trail)

    def test_an_item_changed_on_the_way_is_refused_and_what_follows_it_is_held(self, client: TestClient, auth: Auth,
                                                                                device: Device) -> None:
        first = device.keep("incident", "ops", {"body": report(narrative="Changed: first", client_id="changed-1")})
        device.keep_file("ops", first, phone_photo(seed=6), "IMG_0002.JPG")
        device.keep("incident", "ops", {"body": report(narrative="Changed: other", client_id="changed-2")})
        sealed = device.items[0]["sealed"]
        data = bytearray(base64.b64decode(sealed["data"]))
        data[3] ^= 0x01
        sealed["data"] = base64.b64encode(bytes(data)).decode()
        taken = take_in(client, auth, device.export()).json()
        assert [o["outcome"] for o in taken["outcomes"]] == ["refused", "held", "stored"]
        assert "does not open" in taken["outcomes"][0]["reason"] and "follows item 1" in taken["outcomes"][1]["reason"]

    def test_makers_without_the_right_and_a_file_cut_short_are_said(self, client: TestClient, auth: Auth, device: Device) -> None:
        device.keep("incident", "press", {"body": report(narrative="Press: not theirs to report", client_id="press-1")})
        device.keep("incident", "nobody", {"body": report(narrative="Nobody: no account", client_id="nobody-1")})
        device.keep("incident", "ops", {"body": report(narrative="Cut: the last one", client_id="cut-1", lat=95)})
        device.keep("checkin", "ops", {"body": {"note": "a patrol named in words"}}, patrol_id="N1")
        taken = take_in(client, auth, device.export(end=False)).json()
        assert taken["whole"] is False  # copied only in part: said, and what it holds is taken in
        assert [o["outcome"] for o in taken["outcomes"]] == ["refused", "refused", "refused", "refused"]
        assert "not an outbox item" in taken["outcomes"][3]["reason"]
        assert "role" in taken["outcomes"][0]["reason"] and "no active account" in taken["outcomes"][1]["reason"]
        assert "lat" in taken["outcomes"][2]["reason"]

    def test_only_the_operations_centre_takes_in_and_only_an_outbox(self, client: TestClient, auth: Auth, device: Device) -> None:
        device.keep("incident", "ops", {"body": report(narrative="Roles", client_id="roles-1")})
        assert take_in(client, auth, device.export(), "patrol").status_code == 403
        assert take_in(client, auth, device.export(), "liaison-a").status_code == 403
        refused = take_in(client, auth, b"type,lat,lon\nexplosion,39.7,46.9\n")
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
