"""Evidence files told by their content, a photo's EXIF read, copies without metadata: no database."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from peacewatch.core.blobs import FileSystemBlobs, TooLarge
from peacewatch.core.isolation import IsolatedWorkers, Limits
from peacewatch.evidence import media
from peacewatch.evidence.decoding import THUMBNAIL_PX
from tests.evidence_files import (
    AUTHOR,
    PDF,
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


def test_a_files_type_is_told_by_its_content_not_its_name() -> None:
    assert media.sniffed_type(phone_photo()[:512]) == "image/jpeg"
    assert media.sniffed_type(PDF) == "application/pdf"
    assert media.sniffed_type(b"#!/bin/sh\nrm -rf /\n") is None  # a script named IMG_0042.jpg is still a script
    assert media.sniffed_type(b"MZ\x90\x00" + bytes(60)) is None  # a Windows program is not evidence


@pytest.fixture(scope="module")
def work() -> Iterator[media.MediaWork]:
    """The media workers as the server runs them: 64 megapixels at most, 1 GiB of memory per file."""
    workers = IsolatedWorkers("peacewatch.evidence.decoding", Limits(memory_bytes=1 << 30, timeout_s=60), size=2)
    yield media.MediaWork(workers, 64_000_000)
    workers.close()


def file_of(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_phones_exif_gives_the_moment_in_utc_and_the_place(work: media.MediaWork, tmp_path: Path) -> None:
    for name, data in (("IMG_0042.jpg", phone_photo()), ("IMG_0043.heic", heic_photo())):
        facts = work.inspect(file_of(tmp_path, name, data), tmp_path / "small.jpg")
        assert facts is not None and facts.clock == "2020-11-20 10:03:12+04:00", name
        assert facts.taken_at == datetime(2020, 11, 20, 6, 3, 12, tzinfo=UTC)
        assert facts.lat == pytest.approx(39.8162, abs=1e-4) and facts.lon == pytest.approx(46.7533, abs=1e-4)
        with Image.open(tmp_path / "small.jpg") as small:  # the thumbnail: small and without metadata
            assert max(small.size) == THUMBNAIL_PX and not small.getexif()


def test_a_camera_without_its_offset_gives_its_clock_but_no_instant(work: media.MediaWork, tmp_path: Path) -> None:
    facts = work.inspect(file_of(tmp_path, "cam.jpg", phone_photo(offset=None, lat=-33.5, lon=-70.25)), tmp_path / "s.jpg")
    assert facts is not None and facts.clock == "2020-11-20 10:03:12" and facts.taken_at is None
    assert facts.lat == pytest.approx(-33.5, abs=1e-4) and facts.lon == pytest.approx(-70.25, abs=1e-4)


def test_a_damaged_photo_has_no_facts_and_no_thumbnail(work: media.MediaWork, tmp_path: Path) -> None:
    assert work.inspect(file_of(tmp_path, "broken.jpg", phone_photo()[:600]), tmp_path / "s.jpg") is None


@pytest.mark.parametrize("bomb", [png_bomb, jpeg_bomb, heic_bomb, webp_bomb])
def test_bombs_are_refused_from_their_header_before_a_pixel_is_decoded(work: media.MediaWork, tmp_path: Path, bomb: Any) -> None:
    with pytest.raises(media.Unreadable, match="at most 64 megapixels are accepted"):
        work.inspect(file_of(tmp_path, "bomb", bomb()), tmp_path / "s.jpg")
    assert not (tmp_path / "s.jpg").exists()


def test_what_a_header_does_not_tell_is_bounded_by_the_workers_memory(tmp_path: Path) -> None:
    """With no pixel budget, a 225-megapixel PNG is decoded in the worker: it runs out of its 256 MiB, the server's
    process is untouched, and the next file is read by a new worker."""
    workers = IsolatedWorkers("peacewatch.evidence.decoding", Limits(memory_bytes=256 << 20, timeout_s=60), size=1)
    unbounded = media.MediaWork(workers, 1_000_000_000)
    try:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(media.Unreadable, match="more memory"):
            unbounded.inspect(file_of(tmp_path, "bomb.png", png_bomb()), tmp_path / "s.jpg")
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: no decoding happened here
        assert workers.pids() == []  # the worker that ran out left
        assert unbounded.inspect(file_of(tmp_path, "ok.jpg", phone_photo()), tmp_path / "s.jpg") is not None
    finally:
        workers.close()


def test_a_job_that_runs_too_long_is_killed(tmp_path: Path) -> None:
    workers = IsolatedWorkers("peacewatch.evidence.decoding", Limits(timeout_s=0.001), size=1)
    try:
        with pytest.raises(media.Unreadable, match="longer"):
            media.MediaWork(workers, 64_000_000).inspect(file_of(tmp_path, "a.jpg", phone_photo()), tmp_path / "s.jpg")
        assert workers.pids() == []
    finally:
        workers.close()


@pytest.mark.parametrize(("name", "media_type", "made"), [
    ("IMG_0042.jpg", "image/jpeg", phone_photo), ("IMG_0043.heic", "image/heic", heic_photo),
    ("VID_0044.mov", "video/quicktime", lambda: phone_video("mov")), ("VID_0045.mp4", "video/mp4", lambda: phone_video("mp4")),
    ("report.pdf", "application/pdf", pdf_with_author)])
def test_copies_that_leave_the_mission_carry_no_metadata(work: media.MediaWork, tmp_path: Path, name: str, media_type: str,
                                                         made: Any) -> None:
    original = made()
    copy = tmp_path / "copy"
    given = work.strip(file_of(tmp_path, name, original), media_type, copy)
    assert given == media.copy_type(media_type)
    data = copy.read_bytes()
    assert media.sniffed_type(data[:512]) == given
    for secret in (SECRET_PLACE.encode(), b"+39.8162", b"Apple", b"iPhone", AUTHOR.encode(), b"Microsoft", b"Exif", b"\xa9xyz",
                   b"2020-11-20", b"2020:11:20", b"/Metadata", b"/Author"):
        assert secret not in data, (name, secret)
    if media_type.startswith("video/"):
        import av

        with av.open(str(copy)) as clip:  # still a clip of ten frames
            assert sum(1 for _ in clip.decode(video=0)) == 10 and not clip.metadata.get("location")
    if media_type == "application/pdf":
        import pikepdf

        with pikepdf.open(copy) as pdf:
            assert len(pdf.pages) == 1 and "/Im0" in pdf.pages[0].Resources.XObject


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
