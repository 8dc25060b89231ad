"""Files as an attacker or a careless phone sends them: decompression bombs of several formats, and photos, videos
and PDFs whose metadata (place, camera, author) must never reach a side or the public."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peacewatch.core.settings import Settings
from tests.bodies import person, report
from tests.evidence_files import (
    AUTHOR,
    SECRET_PLACE,
    heic_bomb,
    heic_photo,
    jpeg_bomb,
    pdf_with_author,
    phone_photo,
    phone_video,
    png_bomb,
    sha256,
    webp_bomb,
)

SECRETS = (SECRET_PLACE.encode(), b"+39.8162", b"Apple", b"iPhone", AUTHOR.encode(), b"Microsoft", b"Exif", b"2020-11-20",
           b"2020:11:20")


def attach(client: TestClient, auth: Any, who: str, kind: str, key: str, data: bytes, name: str) -> Any:
    return client.post("/api/v1/attachments", data={"record_kind": kind, "record_key": key, "sha256": sha256(data)},
                       files={"file": (name, data, "application/octet-stream")}, headers=auth(who))


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "evidence"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize(("bomb", "name"), [(png_bomb, "IMG_0001.PNG"), (jpeg_bomb, "IMG_0002.JPG"), (heic_bomb, "IMG_0003.HEIC"),
                                            (webp_bomb, "IMG_0004.WEBP")])
def test_a_decompression_bomb_is_refused_from_its_header_and_nothing_is_kept(
        client: TestClient, auth: Any, settings: Settings, bomb: Any, name: str) -> None:
    """liaison-b attaches a bomb to its own missing person, as in the report: refused at once, the server's memory untouched."""
    mine = client.post("/api/v1/missing-persons", json=person(side="B", family_name="Bombfiled"), headers=auth("liaison-b"))
    assert mine.status_code == 201, mine.text
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = attach(client, auth, "liaison-b", "missing_person", mine.json()["number"], bomb(), name)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    error = answer.json()["errors"][0]
    assert error["field"] == "file" and "at most 64 megapixels are accepted" in error["message"] and "nothing was stored" in error["message"]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: no pixel was decoded in this process
    assert stored_files(settings) == []  # neither the upload nor a thumbnail
    listed = client.get("/api/v1/attachments", params={"record_kind": "missing_person", "record_key": mine.json()["number"]},
                        headers=auth("liaison-b"))
    assert listed.json() == []
    russian = client.post("/api/v1/attachments", data={"record_kind": "missing_person", "record_key": mine.json()["number"]},
                          files={"file": (name, bomb(), "image/png")}, headers=auth("liaison-b") | {"Accept-Language": "ru"})
    assert "мегапикс" in russian.json()["errors"][0]["message"]  # the refusal in the reader's language


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize(("name", "made", "given", "shown"), [
    ("IMG_0042.HEIC", heic_photo, "image/jpeg", "inline"),
    ("VID_0043.MOV", lambda: phone_video("mov"), "video/quicktime", "attachment"),
    ("VID_0044.MP4", lambda: phone_video("mp4"), "video/mp4", "attachment"),
    ("statement.pdf", pdf_with_author, "application/pdf", "attachment"),
])
def test_a_side_gets_any_file_without_its_metadata_and_the_mission_gets_it_as_stored(
        client: TestClient, auth: Any, name: str, made: Any, given: str, shown: str) -> None:
    shared = client.post("/api/v1/incidents", json=report(source="side_a"), headers=auth("ops"))
    assert shared.status_code == 201, shared.text
    original = made()
    added = attach(client, auth, "ops", "incident", str(shared.json()["id"]), original, name)
    assert added.status_code == 201, added.text
    content_url = added.json()["content_url"]

    side = client.get(content_url, headers=auth("liaison-a"))
    assert side.status_code == 200 and side.headers["content-type"].startswith(given)
    for secret in SECRETS:
        assert secret not in side.content, (name, secret)
    assert side.headers["content-security-policy"].startswith("sandbox")
    assert side.headers["content-disposition"].startswith(shown) and "Repr-Digest" not in side.headers
    again = client.get(content_url, headers=auth("liaison-a"))
    assert again.content == side.content  # made once, kept beside the file

    mission = client.get(content_url, headers=auth("ops"))
    assert mission.content == original and mission.headers["content-security-policy"].startswith("sandbox")
    assert mission.headers["content-disposition"].startswith(shown) and mission.headers["x-content-type-options"] == "nosniff"


@pytest.mark.usefixtures("scenario")
def test_a_heic_photo_of_a_public_incident_may_be_published_as_a_jpeg_without_exif(client: TestClient, auth: Any) -> None:
    public = client.post("/api/v1/incidents", json=report(visibility="public"), headers=auth("ops")).json()
    added = attach(client, auth, "ops", "incident", str(public["id"]), heic_photo(), "IMG_0045.HEIC").json()
    assert added["thumbnail_url"] and added["exif_lat"] == pytest.approx(39.8162, abs=1e-4)  # the mission reads its EXIF
    marked = client.patch(f"/api/v1/attachments/{added['id']}", json={"public": True}, headers=auth("press"))
    assert marked.status_code == 200, marked.text
    copy = client.get(marked.json()["public_url"])
    assert copy.status_code == 200 and copy.headers["content-type"] == "image/jpeg"
    assert not any(secret in copy.content for secret in SECRETS)
    assert phone_photo()[:2] == copy.content[:2]  # a JPEG
