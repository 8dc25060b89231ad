"""Evidence files told by their content, a photo's EXIF read, copies without metadata: no database."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from peacewatch.core.blobs import FileSystemBlobs, TooLarge
from peacewatch.evidence import media
from tests.evidence_files import PDF, phone_photo, sha256


def test_a_files_type_is_told_by_its_content_not_its_name() -> None:
    assert media.sniffed_type(phone_photo()[:512]) == "image/jpeg"
    assert media.sniffed_type(PDF) == "application/pdf"
    assert media.sniffed_type(b"#!/bin/sh\nrm -rf /\n") is None  # a script named IMG_0042.jpg is still a script
    assert media.sniffed_type(b"MZ\x90\x00" + bytes(60)) is None  # a Windows program is not evidence


def test_a_phones_exif_gives_the_moment_in_utc_and_the_place() -> None:
    facts = media.photo_facts(io.BytesIO(phone_photo()))
    assert facts.clock == "2020-11-20 10:03:12+04:00"
    assert facts.taken_at == datetime(2020, 11, 20, 6, 3, 12, tzinfo=UTC)
    assert facts.lat == pytest.approx(39.8162, abs=1e-4) and facts.lon == pytest.approx(46.7533, abs=1e-4)


def test_a_camera_without_its_offset_gives_its_clock_but_no_instant() -> None:
    facts = media.photo_facts(io.BytesIO(phone_photo(offset=None, lat=-33.5, lon=-70.25)))
    assert facts.clock == "2020-11-20 10:03:12" and facts.taken_at is None
    assert facts.lat == pytest.approx(-33.5, abs=1e-4) and facts.lon == pytest.approx(-70.25, abs=1e-4)


def test_a_pdf_has_no_photo_facts_and_no_thumbnail() -> None:
    assert media.photo_facts(io.BytesIO(PDF)) == media.PhotoFacts()
    assert media.thumbnail(io.BytesIO(PDF)) is None


def test_thumbnails_and_public_copies_carry_no_metadata() -> None:
    small = media.thumbnail(io.BytesIO(phone_photo()))
    clean = media.without_metadata(io.BytesIO(phone_photo()))
    assert small is not None and clean is not None
    with Image.open(io.BytesIO(small)) as image:
        assert max(image.size) == media.THUMBNAIL_PX and not image.getexif()
    with Image.open(io.BytesIO(clean)) as image:
        assert image.size == (1200, 900) and not image.getexif()
    assert media.photo_facts(io.BytesIO(clean)) == media.PhotoFacts()


def test_the_store_names_a_file_by_its_hash_once_and_keeps_nothing_it_refused(tmp_path: Path) -> None:
    store = FileSystemBlobs(tmp_path)
    photo = phone_photo()
    chunks = [photo[i:i + 1000] for i in range(0, len(photo), 1000)]
    with store.receive(chunks, max_bytes=10**7) as first:
        assert first.sha256 == sha256(photo) and first.size == len(photo) and first.head == photo[:512]
        assert first.keep() is True
    with store.receive([photo], max_bytes=10**7) as again:
        assert again.keep() is False  # the same bytes: one file
    with store.receive([b"not kept"], max_bytes=100):
        pass  # left without keep(): deleted
    with pytest.raises(TooLarge):
        store.receive(chunks, max_bytes=5000)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path(sha256(photo))]
    assert store.rehash(sha256(photo)) == sha256(photo)
    store.path(sha256(photo)).write_bytes(b"replaced")
    assert store.rehash(sha256(photo)) == sha256(b"replaced")
    assert store.rehash("0" * 64) is None
