"""Files shaped like those a field device sends: a phone's JPEG with its EXIF (time, offset, GPS), a PDF."""

from __future__ import annotations

import hashlib
import io

from PIL import ExifTags, Image


def phone_photo(*, seed: int = 0, lat: float = 39.8162, lon: float = 46.7533, clock: str = "2020:11:20 10:03:12",
                offset: str | None = "+04:00", size: tuple[int, int] = (1200, 900)) -> bytes:
    """A JPEG as a phone writes it: camera make and model, the moment and its offset, the place in degrees, minutes, seconds."""
    image = Image.new("RGB", size, (90 + seed % 100, 110, 70))
    for x in range(0, size[0], 37):  # something to compress, different for each seed
        image.putpixel((x, (x * (seed + 3)) % size[1]), (255, 255, 255))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 12"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.DateTime] = clock
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = clock
    if offset:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(abs(value))
        minutes = int((abs(value) - degrees) * 60)
        return (float(degrees), float(minutes), round((abs(value) - degrees - minutes / 60) * 3600, 2))

    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = dms(lon)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
