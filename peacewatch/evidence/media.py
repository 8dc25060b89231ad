"""What a file is, by its content and not its name; what a photo says of itself; copies fit to show.

A field device names a file whatever it likes ("IMG_0042.jpg" may be a HEIC, "report.pdf" a script):
the type is told from the file's first bytes (``filetype``), and each type has its own size limit.
A photo's EXIF says when and where the camera thought it was: it is read and shown beside what the
reporter stated, as monitors compare the two. Thumbnails, and every copy that leaves the mission (a side's,
the public's), carry no metadata.

The files themselves are decoded only in the media workers (:mod:`peacewatch.evidence.decoding`, run by
:mod:`peacewatch.core.isolation`): an image is refused above the pixel budget from its header alone, and
whatever a file asks of a decoder is bounded by the worker's memory, never the server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import filetype

from peacewatch.core.i18n import N_, Sentence
from peacewatch.core.isolation import IsolatedWorkers, Limits, Refused, WorkerFailed
from peacewatch.core.settings import Settings

MiB = 2**20
LIMITS = {  # the types a field report may carry, and how large each may be
    "image/jpeg": 25 * MiB, "image/png": 25 * MiB, "image/webp": 25 * MiB, "image/heic": 25 * MiB,
    "video/mp4": 200 * MiB, "video/quicktime": 200 * MiB, "video/webm": 200 * MiB,
    "application/pdf": 50 * MiB,
}
LARGEST = max(LIMITS.values())
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})  # photos: EXIF, thumbnails, JPEG copies
EXTENSIONS = {"image/jpeg": ".jpg", "video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "application/pdf": ".pdf"}


def sniffed_type(head: bytes) -> str | None:
    """The media type the file's first bytes show, if it is one a report may carry."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    media_type = {"image/heif": "image/heic", "video/x-m4v": "video/mp4"}.get(kind.mime, kind.mime)
    return media_type if media_type in LIMITS else None


def copy_type(media_type: str) -> str:
    """The media type of a file's copy without metadata: photos become JPEG, the rest keep their kind."""
    return "image/jpeg" if media_type in IMAGES else media_type


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo's EXIF says: when it was taken and where.

    ``clock`` is the camera's time as it wrote it; ``taken_at`` is that instant in UTC, known only when the
    camera also wrote its offset from UTC (most phones do, many cameras do not)."""

    clock: str = ""
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, taken: str | None, offset: str | None, lat: float | None, lon: float | None) -> PhotoFacts:
        """The facts from EXIF's own strings ("2020:11:14 10:31:02", "+04:00"), read here rather than in the worker."""
        clock, taken_at = "", None
        if taken:
            try:
                local = datetime.strptime(taken.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
                clock = local.isoformat(sep=" ")
                if offset and len(offset.strip()) >= 6:
                    taken_at = datetime.fromisoformat(f"{local.isoformat()}{offset.strip()[:6]}").astimezone(UTC)
                    clock += offset.strip()[:6]
            except ValueError:
                clock, taken_at = "", None
        if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
            lat = lon = None
        return cls(clock=clock, taken_at=taken_at, lat=lat, lon=lon)


class Unreadable(Exception):
    """A file that cannot be read within the workers' bounds, or that its kind refuses: ``reason`` says why, in
    the reader's language."""

    def __init__(self, reason: Sentence) -> None:
        super().__init__(str(reason))
        self.reason = reason


BEYOND_BOUNDS = {"memory": N_("reading it would take more memory than a file is allowed"),
                 "timeout": N_("reading it took longer than a file is allowed")}


class MediaWork:
    """The server's side of the media workers: what it may ask of a file, and what it is told."""

    def __init__(self, workers: IsolatedWorkers, max_pixels: int) -> None:
        self.workers, self.max_pixels = workers, max_pixels

    def _run(self, job: str, **args: object) -> object:
        try:
            return self.workers.run(job, max_pixels=self.max_pixels, **args)
        except Refused as exc:
            raise Unreadable(Sentence(exc.template, exc.values)) from None
        except WorkerFailed as exc:
            if exc.kind == "error":  # the decoder could not make sense of it: a damaged file, not a bomb
                raise
            raise Unreadable(Sentence(BEYOND_BOUNDS.get(exc.kind, "its reader failed"))) from None

    def inspect(self, photo: Path, thumbnail: Path) -> PhotoFacts | None:
        """A photo's EXIF facts, its thumbnail written to ``thumbnail``; None when no decoder makes sense of it
        (a damaged file is kept as evidence, without a thumbnail). :class:`Unreadable` above the bounds."""
        try:
            found = self._run("inspect", path=str(photo), thumbnail=str(thumbnail))
        except WorkerFailed:
            return None
        assert isinstance(found, dict)
        return PhotoFacts.of(found["taken"], found["offset"], found["lat"], found["lon"])

    def strip(self, original: Path, media_type: str, out: Path) -> str:
        """A copy of the file without metadata written to ``out``; its media type. :class:`Unreadable` if none can be made."""
        try:
            made = self._run("strip", path=str(original), media_type=media_type, out=str(out))
        except WorkerFailed:
            raise Unreadable(Sentence("its reader could not make sense of it")) from None
        assert isinstance(made, dict)
        return str(made["media_type"])


@lru_cache(maxsize=4)
def _workers(memory_mb: int, timeout_s: float, size: int) -> IsolatedWorkers:
    return IsolatedWorkers("peacewatch.evidence.decoding", Limits(memory_bytes=memory_mb * MiB, file_bytes=2 * LARGEST,
                                                                  timeout_s=timeout_s), size)


def media_work(settings: Settings) -> MediaWork:
    """The process's media workers (one set per process, started on first use) with the settings' bounds."""
    return MediaWork(_workers(settings.media_worker_memory_mb, settings.media_timeout_s, settings.media_workers),
                     settings.max_image_pixels)
