"""Evidence files on records: hashed on the device and on arrival, stored once, as visible as their record,
without EXIF for those outside the mission, and links of a body's chain of custody."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from peacewatch.core.blobs import FileSystemBlobs, blob_store
from peacewatch.core.settings import Settings
from tests.bodies import recovery, report
from tests.evidence_files import PDF, phone_photo, sha256
from tests.helpers import page_sign_in

HUM = "humanitarian"


def send(client: TestClient, auth: Any, who: str, kind: str, key: str | int, data: bytes, *, declared: str | None = None,
         name: str = "IMG_0042.JPG", **form: Any) -> Any:
    fields = {"record_kind": kind, "record_key": str(key), "sha256": declared or sha256(data), **form}
    return client.post("/api/v1/attachments", data=fields, files={"file": (name, data, "image/jpeg")}, headers=auth(who))


def incident(client: TestClient, auth: Any, **extra: Any) -> int:
    response = client.post("/api/v1/incidents", json=report(**extra), headers=auth("ops"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.usefixtures("scenario")
class TestAttaching:
    def test_a_photo_is_attached_with_its_exif_beside_what_the_device_said(self, client: TestClient, auth: Any) -> None:
        number = incident(client, auth)
        photo = phone_photo()
        answer = send(client, auth, "patrol", "incident", number, photo, caption="crater by the road",
                      captured_at="2020-11-20T06:03:30Z", client_id="ios-7F3A")
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["sha256"] == sha256(photo) and body["media_type"] == "image/jpeg" and body["size"] == len(photo)
        assert body["exif_clock"] == "2020-11-20 10:03:12+04:00" and body["exif_taken_at"].startswith("2020-11-20T06:03:12")
        assert body["exif_lat"] == pytest.approx(39.8162, abs=1e-4) and body["sync_delay_s"] > 0
        assert body["already_attached"] is False and body["added_by"] == "patrol"
        listed = client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": number}, headers=auth("ops")).json()
        assert [a["id"] for a in listed] == [body["id"]]
        stored = client.get(body["content_url"], headers=auth("ops"))
        assert stored.status_code == 200 and stored.content == photo  # the mission reads the file as it came
        assert stored.headers["etag"] == f'"{sha256(photo)}"' and stored.headers["repr-digest"].startswith("sha-256=:")
        thumb = client.get(body["thumbnail_url"], headers=auth("ops"))
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg" and len(thumb.content) < len(photo)

    def test_waited_on_the_device_runs_from_the_outbox_not_from_the_photo(self, client: TestClient, auth: Any) -> None:
        number = incident(client, auth)
        kept = datetime.now(UTC) - timedelta(minutes=90)  # taken years ago, kept in the outbox an hour and a half ago
        answer = send(client, auth, "patrol", "incident", number, phone_photo(), captured_at="2020-11-20T06:03:30Z",
                      kept_at=kept.isoformat())
        assert answer.status_code == 201, answer.text
        assert 90 * 60 <= answer.json()["sync_delay_s"] < 95 * 60 and answer.json()["kept_at"] is not None
        future = send(client, auth, "patrol", "incident", number, phone_photo(seed=1),
                      kept_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat())
        assert future.status_code == 422 and future.json()["errors"][0]["field"] == "kept_at"

    def test_a_smaller_copy_stands_for_its_original_until_the_original_arrives(self, client: TestClient, auth: Any) -> None:
        number = incident(client, auth)
        original, copy = phone_photo(seed=3, size=(2400, 1800)), phone_photo(seed=3, size=(800, 600))
        sent = send(client, auth, "patrol", "incident", number, copy, copy_of=sha256(original))
        assert sent.status_code == 201 and sent.json()["copy_of_sha256"] == sha256(original)
        listed = lambda: client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": number},  # noqa: E731
                                    headers=auth("ops")).json()
        assert [f["sha256"] for f in listed()] == [sha256(copy)]
        assert send(client, auth, "patrol", "incident", number, original).status_code == 201
        assert [f["sha256"] for f in listed()] == [sha256(original)]  # the original, never replaced by its copy
        wrong = send(client, auth, "patrol", "incident", number, phone_photo(seed=4), copy_of="z" * 64)
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "copy_of"

    def test_a_file_changed_on_the_way_is_refused_and_nothing_is_kept(self, client: TestClient, auth: Any, settings: Settings) -> None:
        number = incident(client, auth)
        photo = phone_photo()
        answer = send(client, auth, "patrol", "incident", number, photo, declared=sha256(photo[:-1]))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "sha256", answer.text
        assert "changed on the way" in answer.json()["detail"]
        assert client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": number},
                          headers=auth("ops")).json() == []
        assert blob_store(settings).rehash(sha256(photo)) is None  # not in the store either

    def test_a_resend_stores_the_file_once(self, client: TestClient, auth: Any, settings: Settings) -> None:
        number = incident(client, auth)
        photo = phone_photo(seed=4)
        first = send(client, auth, "patrol", "incident", number, photo)
        again = send(client, auth, "patrol", "incident", number, photo)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"] and again.json()["already_attached"] is True
        files = [p for p in (settings.data_dir / "evidence").rglob("*") if p.is_file()]
        assert len(files) == 2  # the photo and its thumbnail, once each

    @pytest.mark.parametrize(("data", "name", "field"), [
        (b"#!/bin/sh\necho not a photo\n", "IMG_0001.JPG", "file"),
        (b"", "empty.jpg", "file"),
    ])
    def test_a_file_that_is_not_evidence_is_refused_by_its_content(self, client: TestClient, auth: Any, data: bytes, name: str,
                                                                   field: str) -> None:
        answer = send(client, auth, "patrol", "incident", incident(client, auth), data, name=name)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text

    def test_a_pdf_is_kept_as_a_document(self, client: TestClient, auth: Any) -> None:
        answer = send(client, auth, "ops", "incident", incident(client, auth), PDF, name="statement.pdf")
        assert answer.status_code == 201, answer.text
        assert answer.json()["media_type"] == "application/pdf" and answer.json()["thumbnail_url"] is None

    def test_roles_that_may_not_attach_are_refused(self, client: TestClient, auth: Any) -> None:
        number = incident(client, auth)
        assert send(client, auth, "press", "incident", number, phone_photo()).status_code == 403
        assert send(client, auth, "air", "incident", number, phone_photo()).status_code == 403
        assert client.post("/api/v1/attachments", data={"record_kind": "incident", "record_key": str(number)},
                           files={"file": ("a.jpg", phone_photo())}).status_code == 401

    def test_only_a_public_records_file_may_be_public(self, client: TestClient, auth: Any) -> None:
        answer = send(client, auth, "ops", "incident", incident(client, auth), phone_photo(), public="true")
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "public", answer.text


@pytest.mark.usefixtures("scenario")
class TestPublicCopies:
    MORNING = {"started_at": "2020-11-14T08:00:00Z", "ended_at": "2020-11-14T08:20:00Z"}  # reporting day 14 November

    def test_a_photo_marked_public_reaches_the_bulletin_without_exif_and_no_other_file_does(self, client: TestClient,
                                                                                          auth: Any) -> None:
        public = incident(client, auth, visibility="public", **self.MORNING)
        internal = incident(client, auth, **self.MORNING)
        photo = phone_photo(seed=7)
        shown = send(client, auth, "patrol", "incident", public, photo, caption="crater by the road").json()
        kept_back = send(client, auth, "patrol", "incident", public, phone_photo(seed=8)).json()
        inside = send(client, auth, "patrol", "incident", internal, phone_photo(seed=9)).json()
        assert client.get(f"/api/v1/attachments/{shown['id']}/public-copy").status_code == 404  # not marked yet

        mark = f"/api/v1/attachments/{shown['id']}"
        assert client.patch(mark, json={"public": True}, headers=auth("patrol")).status_code == 403  # the press office decides
        marked = client.patch(mark, json={"public": True}, headers=auth("press"))
        assert marked.status_code == 200 and marked.json()["public"] is True, marked.text
        refused = client.patch(f"/api/v1/attachments/{inside['id']}", json={"public": True}, headers=auth("ops"))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.public"

        copy = client.get(marked.json()["public_url"])  # anyone, no sign-in
        assert copy.status_code == 200 and copy.headers["content-type"] == "image/jpeg" and copy.content != photo
        with Image.open(io.BytesIO(copy.content)) as image:
            assert not image.getexif() and image.size == Image.open(io.BytesIO(photo)).size
        for other in (kept_back, inside):
            assert client.get(f"/api/v1/attachments/{other['id']}/public-copy").status_code == 404

        bulletin = {"date": "2020-11-14"}
        html = client.get("/api/v1/reports/bulletin", params=bulletin | {"format": "html"}).text
        embedded = html.split('src="data:image/jpeg;base64,')[1:]
        assert len(embedded) == 1 and "crater by the road" in html
        with Image.open(io.BytesIO(base64.b64decode(embedded[0].split('"')[0]))) as image:
            assert not image.getexif()
        pdf = client.get("/api/v1/reports/bulletin", params=bulletin | {"format": "pdf"}).content
        assert b"/DCTDecode" in pdf and b"Exif\x00\x00" not in pdf  # the photo, without its EXIF block
        markdown = client.get("/api/v1/reports/bulletin", params=bulletin).text
        assert marked.json()["public_url"] in markdown
        assert f"/api/v1/attachments/{kept_back['id']}/" not in markdown and f"/api/v1/attachments/{inside['id']}/" not in markdown
        sitrep = client.get("/api/v1/reports/sitrep", params=bulletin | {"format": "html"}, headers=auth("ops")).text
        assert "data:image/jpeg" not in sitrep  # the internal report draws no photographs either

        assert client.patch(mark, json={"public": False}, headers=auth("press")).status_code == 200  # taken back
        assert client.get(marked.json()["public_url"]).status_code == 404
        html = client.get("/api/v1/reports/bulletin", params=bulletin | {"format": "html"}).text
        assert "data:image/jpeg" not in html

    def test_a_document_cannot_be_made_public(self, client: TestClient, auth: Any) -> None:
        public = incident(client, auth, visibility="public", **self.MORNING)
        answer = client.post("/api/v1/attachments", data={"record_kind": "incident", "record_key": str(public), "public": "true"},
                             files={"file": ("statement.pdf", PDF, "application/pdf")}, headers=auth("ops"))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "public", answer.text


@pytest.mark.usefixtures("scenario")
class TestWhoSees:
    def test_a_side_never_reads_the_other_sides_files_and_gets_them_without_exif(self, client: TestClient, auth: Any) -> None:
        for_a = incident(client, auth, source="side_a")
        for_b = incident(client, auth, source="side_b")
        on_a = send(client, auth, "ops", "incident", for_a, phone_photo(seed=1)).json()
        on_b = send(client, auth, "ops", "incident", for_b, phone_photo(seed=2)).json()
        # side A: its own file, as a copy without the phone's metadata; side B's file does not exist for it
        copy = client.get(on_a["content_url"], headers=auth("liaison-a"))
        assert copy.status_code == 200 and copy.content != phone_photo(seed=1)
        with Image.open(io.BytesIO(copy.content)) as image:
            assert not image.getexif()
        for path in (f"/api/v1/attachments/{on_b['id']}", on_b["content_url"], on_b["thumbnail_url"]):
            answer = client.get(path, headers=auth("liaison-a"))
            assert answer.status_code == 404 and "incident" not in answer.text  # nothing of the record it hangs on
        listed = client.get("/api/v1/attachments", params={"record_kind": "incident", "record_key": for_b}, headers=auth("liaison-a"))
        assert listed.status_code == 404
        assert client.get(on_b["content_url"], headers=auth("liaison-b")).status_code == 200
        described = client.get(f"/api/v1/attachments/{on_a['id']}", headers=auth("liaison-a")).json()
        assert described["exif_lat"] is None and described["exif_clock"] == ""  # the photo's own place and clock: not for a side

    def test_the_map_lists_the_files_that_arrived_where_their_incident_is_as_the_reader_may_see_it(
            self, client: TestClient, auth: Any) -> None:
        for_a = incident(client, auth, source="side_a")
        for_b = incident(client, auth, source="side_b")
        on_a = send(client, auth, "patrol", "incident", for_a, phone_photo(seed=21), captured_at="2020-11-14T16:05:00Z").json()
        on_b = send(client, auth, "patrol", "incident", for_b, phone_photo(seed=22)).json()
        window = {"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
        ops = client.get("/api/v1/attachments/arrivals", params=window, headers=auth("ops"))
        assert ops.status_code == 200 and ops.headers["content-type"].startswith("application/geo+json")
        features = {f["id"]: f for f in ops.json()["features"]}
        assert {on_a["id"], on_b["id"]} <= set(features)
        placed = features[on_a["id"]]
        assert placed["geometry"]["coordinates"] == [47.113, 39.795] and placed["properties"]["incident_id"] == for_a
        assert placed["properties"]["sync_delay_s"] > 0 and placed["properties"]["exif_lat"] is not None
        side_a = {f["id"]: f for f in client.get("/api/v1/attachments/arrivals", params=window, headers=auth("liaison-a")).json()["features"]}
        assert on_a["id"] in side_a and on_b["id"] not in side_a  # the other side's files: not even counted
        assert side_a[on_a["id"]]["properties"]["exif_lat"] is None
        past = client.get("/api/v1/attachments/arrivals", params={"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"},
                          headers=auth("ops"))
        assert past.json()["features"] == []  # the window is when they arrived

    def test_a_verification_steps_files_are_the_missions_own(self, client: TestClient, auth: Any) -> None:
        number = incident(client, auth, source="side_a")
        step = client.post(f"/api/v1/incidents/{number}/verification", json={"status": "under_investigation",
                           "reason": "patrol N2 sent to the crossroads"}, headers=auth("ops"))
        assert step.status_code == 200, step.text
        step_id = client.get(f"/api/v1/incidents/{number}/verification", headers=auth("ops")).json()[-1]["id"]
        added = send(client, auth, "patrol", "verification", step_id, phone_photo(seed=71))
        assert added.status_code == 201, added.text
        assert client.get(added.json()["content_url"], headers=auth("observer")).status_code == 200
        assert client.get(added.json()["content_url"], headers=auth("liaison-a")).status_code == 404  # the incident is shared, not its steps

    def test_the_remains_files_are_for_the_humanitarian_cell_only(self, client: TestClient, auth: Any) -> None:
        body = client.post("/api/v1/recoveries", json=recovery(), headers=auth(HUM)).json()["body_numbers"][0]
        photo = phone_photo(seed=9)
        added = send(client, auth, HUM, "body", body, photo, caption="wristwatch and identity tag")
        assert added.status_code == 201, added.text
        for who in ("ops", "patrol", "press", "liaison-a", "observer"):
            assert client.get(added.json()["content_url"], headers=auth(who)).status_code == 404, who
            refused = send(client, auth, who, "body", body, phone_photo(seed=10))
            assert refused.status_code == (403 if who in ("press", "observer") else 404), who  # no role to add, or no such body
        assert client.get(added.json()["content_url"], headers=auth("admin")).content == photo


@pytest.mark.usefixtures("scenario")
class TestCustody:
    def test_a_bodys_file_is_a_link_of_its_chain_and_verify_finds_it_replaced(self, client: TestClient, auth: Any,
                                                                               settings: Settings) -> None:
        body = client.post("/api/v1/recoveries", json=recovery(), headers=auth(HUM)).json()["body_numbers"][0]
        photo = phone_photo(seed=11)
        assert send(client, auth, HUM, "body", body, photo).status_code == 201
        chain = client.get(f"/api/v1/bodies/{body}/custody", headers=auth(HUM)).json()
        assert chain[-1]["kind"] == "evidence" and sha256(photo) in chain[-1]["note"]
        shown = client.get("/api/v1/bodies", params={"q": body}, headers=auth(HUM)).json()
        assert shown[0]["custody"] == "stored"  # a file moves no body: it is still where it was stored
        verify = client.get("/api/v1/custody/verify", params={"body": body}, headers=auth(HUM)).json()
        assert verify["intact"] is True, verify
        FileSystemBlobs(settings.data_dir / "evidence").path(sha256(photo)).write_bytes(b"a different photo")  # the file swapped on disk
        broken = client.get("/api/v1/custody/verify", params={"body": body}, headers=auth(HUM)).json()
        assert broken["intact"] is False and "was replaced" in broken["breaks"][0]["problem"], broken


@pytest.mark.usefixtures("scenario")
def test_a_resend_racing_the_first_copy_gets_that_copy_back(client: TestClient, auth: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process commits the same file between this one's look and its insert: the unique constraint
    refuses the second row and the sender is given the first."""
    from peacewatch.evidence import service

    number = incident(client, auth)
    photo = phone_photo(seed=21)
    first = send(client, auth, "patrol", "incident", number, photo)
    looks = []
    real = service._attached

    def late(*args: Any) -> Any:
        looks.append(args)
        return None if len(looks) <= 2 else real(*args)  # the looks before the insert miss the row another process wrote

    monkeypatch.setattr(service, "_attached", late)
    again = send(client, auth, "patrol", "incident", number, photo)
    assert len(looks) == 3 and again.status_code == 200, again.text  # the third look: after the unique constraint refused
    assert again.json()["id"] == first.json()["id"]


def test_the_incident_page_shows_each_file_with_when_it_was_taken_and_when_it_arrived(client: TestClient, browser: TestClient,
                                                                                     auth: Any) -> None:
    number = incident(client, auth, source="side_a")
    photo = phone_photo(seed=41)
    added = send(client, auth, "patrol", "incident", number, photo, caption="crater by the road", captured_at="2020-11-14T12:00:00Z")
    assert added.status_code == 201, added.text
    page_sign_in(browser, "ops")
    page = browser.get(f"/incidents/{number}").text
    assert f'/api/v1/attachments/{added.json()["id"]}/thumbnail' in page and "crater by the road" in page
    assert sha256(photo)[:16] in page and "2020-11-20 10:03:12+04:00" in page  # the photo's own clock beside the report's
    assert "min after it was taken" in page and "km from the place reported" in page
    listed = browser.get("/incidents").text
    assert f'href="/incidents/{number}#evidence"' in listed and 'aria-label="1 files"' in listed  # the list says which reports carry files
    other = TestClient(browser.app, base_url="https://testserver", follow_redirects=False)
    page_sign_in(other, "liaison-a")
    shared = other.get(f"/incidents/{number}").text
    assert "crater by the road" in shared and "10:03:12" not in shared  # a side sees the file, not the phone's metadata
