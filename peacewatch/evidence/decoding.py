"""What runs inside the media workers (core.isolation): reading files from the field, and copies without metadata.

Nothing here runs in the server's process: the server hands a worker a path and gets plain values back.
Every image is measured from its header before a pixel is decoded, and refused above the pixel budget; the
worker's memory bound catches whatever a header does not tell.

Copies that leave the mission carry no metadata of any kind:
- photos (JPEG, PNG, WebP, HEIC) are decoded and written anew as JPEG (Pillow, pillow-heif): no EXIF, XMP
  or ICC profile, turned upright first;
- videos (MP4, QuickTime, WebM) are remuxed with FFmpeg's libraries (PyAV) keeping only the video and audio
  streams' packets: no container or stream metadata (the ``©xyz`` location atom, Apple's ISO 6709 key, the
  creation time, the camera), no data or subtitle tracks (dash cameras put GPS there);
- PDFs (pikepdf, on qpdf) lose their document information, every XMP stream, embedded files, scripts and
  the EXIF of the JPEG photos inside them.
"""

from __future__ import annotations

import io
from typing import Any

import av
import imagesize
import pikepdf
import pillow_heif
from PIL import ExifTags, Image, ImageOps

from peacewatch.core.isolation import Refused

pillow_heif.register_heif_opener()  # HEIC photos (iPhones) open in Pillow like any other
Image.MAX_IMAGE_PIXELS = None  # the pixel budget is checked here, from the header, against the settings' value
THUMBNAIL_PX = 320
CONTAINERS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}


# --- photos ------------------------------------------------------------------------------------------------


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise Refused("the image is {width}×{height} pixels ({megapixels} megapixels); at most {most} megapixels are accepted",
                      width=width, height=height, megapixels=round(width * height / 1e6), most=round(max_pixels / 1e6))


def _opened(path: str, max_pixels: int) -> Image.Image:
    """The image, refused above ``max_pixels`` from its header before any decoder sees it: ``imagesize`` reads
    only the header (some decoders allocate the whole canvas as they open, as libwebp's does)."""
    width, height = imagesize.get(path)
    _check_pixels(width, height, max_pixels)
    image = Image.open(path)
    try:
        _check_pixels(*image.size, max_pixels)  # the decoder's own reading of the header, should the two differ
    except Refused:
        image.close()
        raise
    return image


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]  # a tuple of three rationals
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if str(ref).upper() in ("S", "W") else degrees


def _facts(exif: Image.Exif) -> dict[str, Any]:
    """The camera's clock as written, its offset from UTC if written, and the GPS place (see media.PhotoFacts)."""
    details = exif.get_ifd(ExifTags.IFD.Exif)
    taken = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    offset = details.get(ExifTags.Base.OffsetTimeOriginal) or details.get(ExifTags.Base.OffsetTime)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef)) if gps else None
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef)) if gps else None
    return {"taken": taken if isinstance(taken, str) else None, "offset": offset if isinstance(offset, str) else None,
            "lat": lat, "lon": lon}


def _upright_rgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)  # turned as the camera meant, before the EXIF that says so is dropped
    return upright if upright.mode == "RGB" else upright.convert("RGB")


def inspect(path: str, max_pixels: int, thumbnail: str) -> dict[str, Any]:
    """A photo's EXIF facts, and a small JPEG of it without metadata written to ``thumbnail``."""
    with _opened(path, max_pixels) as image:
        facts = _facts(image.getexif())
        if image.format == "JPEG":
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))  # decoded at 1/2 to 1/8 of its size: a few MB at most
        small = _upright_rgb(image)
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        small.save(thumbnail, format="JPEG", quality=85)
    return facts


def _photo_without_metadata(path: str, out: str, max_pixels: int) -> str:
    with _opened(path, max_pixels) as image:
        _upright_rgb(image).save(out, format="JPEG", quality=92)  # a new file: no EXIF, XMP or ICC profile
    return "image/jpeg"


# --- videos ------------------------------------------------------------------------------------------------


def _video_without_metadata(path: str, out: str, media_type: str) -> str:
    """The video and audio packets as they are, in a new container of the same kind that carries no metadata."""
    with av.open(path, metadata_errors="ignore") as source, \
            av.open(out, mode="w", format=CONTAINERS[media_type], options={"fflags": "+bitexact"}) as target:
        kept = [stream for stream in source.streams if stream.type in ("video", "audio")]
        if not kept:
            raise Refused("the file holds no video or audio")
        copies = {stream.index: target.add_stream_from_template(stream) for stream in kept}
        for copy in copies.values():
            copy.metadata.clear()
        target.metadata.clear()
        for packet in source.demux(kept):
            if packet.dts is None:  # the demuxer's flush packet
                continue
            packet.stream = copies[packet.stream.index]
            target.mux(packet)
    return media_type


# --- PDFs --------------------------------------------------------------------------------------------------

_DOCUMENT_KEYS = ("/Metadata", "/PieceInfo", "/OpenAction", "/AA", "/AcroForm")


def _jpeg_without_exif(data: bytes, max_pixels: int) -> bytes | None:
    """A JPEG stream of the PDF rewritten without its EXIF or XMP, or None when it carries neither."""
    if b"Exif\x00\x00" not in data[:131072] and b"http://ns.adobe.com/xap/" not in data[:131072]:
        return None
    width, height = imagesize.get(io.BytesIO(data))
    _check_pixels(width, height, max_pixels)
    with Image.open(io.BytesIO(data)) as image:
        _check_pixels(*image.size, max_pixels)
        out = io.BytesIO()
        (image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")).save(out, format="JPEG", quality=92)
        return out.getvalue()


def _pdf_without_metadata(path: str, out: str, max_pixels: int) -> str:
    with pikepdf.open(path) as pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]  # author, creator, producer, dates
        for key in _DOCUMENT_KEYS:
            if key in pdf.Root:
                del pdf.Root[key]
        names = pdf.Root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            for key in ("/EmbeddedFiles", "/JavaScript"):
                if key in names:
                    del names[key]
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            for key in ("/Metadata", "/PieceInfo"):
                if key in obj:
                    del obj[key]
            if isinstance(obj, pikepdf.Stream) and obj.get("/Filter") == pikepdf.Name.DCTDecode:
                cleaned = _jpeg_without_exif(obj.read_raw_bytes(), max_pixels)
                if cleaned is not None:
                    obj.write(cleaned, filter=pikepdf.Name.DCTDecode)
        pdf.remove_unreferenced_resources()
        pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    return "application/pdf"


def strip(path: str, media_type: str, out: str, max_pixels: int) -> dict[str, str]:
    """A copy of the file without its metadata written to ``out``; its media type."""
    if media_type.startswith("image/"):
        made = _photo_without_metadata(path, out, max_pixels)
    elif media_type in CONTAINERS:
        made = _video_without_metadata(path, out, media_type)
    elif media_type == "application/pdf":
        made = _pdf_without_metadata(path, out, max_pixels)
    else:
        raise Refused("no copy without metadata can be made of a {media_type} file", media_type=media_type)
    return {"media_type": made}


JOBS = {"inspect": inspect, "strip": strip}
