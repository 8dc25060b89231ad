"""What a file is, by its content and not its name; what a photo says of itself; copies fit to show.

A field device names a file whatever it likes ("IMG_0042.jpg" may be a HEIC, "report.pdf" a script):
the type is told from the file's first bytes (``filetype``), and each type has its own size limit.
A photo's EXIF says when and where the camera thought it was: it is read (Pillow) and shown beside
what the reporter stated, as monitors compare the two. Copies that leave the mission (public ones) and
thumbnails are re-encoded without any metadata.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import filetype
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MiB = 2**20
LIMITS = {  # the types a field report may carry, and how large each may be
    "image/jpeg": 25 * MiB, "image/png": 25 * MiB, "image/webp": 25 * MiB, "image/heic": 25 * MiB,
    "video/mp4": 200 * MiB, "video/quicktime": 200 * MiB, "video/webm": 200 * MiB,
    "application/pdf": 50 * MiB,
}
LARGEST = max(LIMITS.values())
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})  # those Pillow reads: EXIF, thumbnails, clean copies
THUMBNAIL_PX = 320
Image.MAX_IMAGE_PIXELS = 120_000_000  # a decompression bomb is refused, a 100-megapixel camera is not


def sniffed_type(head: bytes) -> str | None:
    """The media type the file's first bytes show, if it is one a report may carry."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    media_type = {"image/heif": "image/heic", "video/x-m4v": "video/mp4"}.get(kind.mime, kind.mime)
    return media_type if media_type in LIMITS else None


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo's EXIF says: when it was taken and where.

    ``clock`` is the camera's time as it wrote it; ``taken_at`` is that instant in UTC, known only when the
    camera also wrote its offset from UTC (most phones do, many cameras do not)."""

    clock: str = ""
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]  # a tuple of three rationals
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if str(ref).upper() in ("S", "W") else degrees


def photo_facts(stream: BinaryIO) -> PhotoFacts:
    """The time and place a photo's EXIF holds; empty facts when it holds none or is not a photo Pillow reads."""
    try:
        with Image.open(stream) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return PhotoFacts()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    taken = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    offset = details.get(ExifTags.Base.OffsetTimeOriginal) or details.get(ExifTags.Base.OffsetTime)
    clock, taken_at = "", None
    if isinstance(taken, str):
        try:
            local = datetime.strptime(taken.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
            clock = local.isoformat(sep=" ")
            if isinstance(offset, str) and len(offset.strip()) >= 6:
                taken_at = datetime.fromisoformat(f"{local.isoformat()}{offset.strip()[:6]}").astimezone(UTC)
                clock += offset.strip()[:6]
        except ValueError:
            clock, taken_at = "", None
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef)) if gps else None
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef)) if gps else None
    if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
        lat = lon = None
    return PhotoFacts(clock=clock, taken_at=taken_at, lat=lat, lon=lon)


def _clean(image: Image.Image, size: int | None) -> bytes:
    upright = ImageOps.exif_transpose(image)  # turned as the camera meant, before the EXIF that says so is dropped
    if size is not None:
        upright.thumbnail((size, size))
    out = io.BytesIO()
    upright.convert("RGB").save(out, format="JPEG", quality=85 if size else 92)  # a new file: no EXIF, no XMP
    return out.getvalue()


def _reencoded(stream: BinaryIO, size: int | None) -> bytes | None:
    try:
        with Image.open(stream) as image:
            return _clean(image, size)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


def thumbnail(stream: BinaryIO) -> bytes | None:
    """A small JPEG of a photo for the pages, without metadata; None when it is not a photo Pillow reads."""
    return _reencoded(stream, THUMBNAIL_PX)


def without_metadata(stream: BinaryIO) -> bytes | None:
    """A photo re-encoded without EXIF (time, place, camera serial): the only copy that may leave the mission."""
    return _reencoded(stream, None)
