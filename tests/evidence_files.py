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


# --- files a side must never receive as they are, and bombs -------------------------------------------------------

SECRET_PLACE = "+39.8162+046.7533/"  # ISO 6709, as phones write a video's place
AUTHOR = "Sgt. Pavel Ivanov, MP company North"


def heic_photo() -> bytes:
    """An iPhone's HEIC with the phone's EXIF (its place and time), as pillow-heif writes it."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(phone_photo())) as image:
        out = io.BytesIO()
        image.save(out, format="HEIF", exif=image.getexif().tobytes(), quality=50)
    return out.getvalue()


def phone_video(container: str = "mov") -> bytes:
    """A short clip with where and by what it was filmed: QuickTime's ``©xyz`` atom (mov) or the keyed metadata
    of an iPhone's MP4 (``com.apple.quicktime.location.ISO6709``), as FFmpeg's muxers write them."""
    import av
    import numpy as np

    out = io.BytesIO()
    options = {"movflags": "use_metadata_tags"} if container == "mp4" else {}
    with av.open(out, "w", format=container, options=options) as clip:
        stream = clip.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        clip.metadata["location" if container == "mov" else "com.apple.quicktime.location.ISO6709"] = SECRET_PLACE
        clip.metadata["com.apple.quicktime.make"] = "Apple"
        clip.metadata["com.apple.quicktime.model"] = "iPhone 12"
        clip.metadata["creation_time"] = "2020-11-20T06:03:12Z"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                clip.mux(packet)
        for packet in stream.encode():
            clip.mux(packet)
    return out.getvalue()


def pdf_with_author() -> bytes:
    """A one-page report as a word processor exports it: its author in the document information and in XMP, and
    a phone photo (with its EXIF place) on the page."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    photo = pikepdf.Stream(pdf, phone_photo(size=(64, 48)))
    photo.Type, photo.Subtype, photo.Width, photo.Height = pikepdf.Name.XObject, pikepdf.Name.Image, 64, 48
    photo.ColorSpace, photo.BitsPerComponent, photo.Filter = pikepdf.Name.DeviceRGB, 8, pikepdf.Name.DCTDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    page.Contents = pdf.make_stream(b"q 64 0 0 48 100 700 cm /Im0 Do Q")
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = "Microsoft Word"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def png_bomb(side: int = 15_000) -> bytes:
    """A PNG of ``side``² RGB pixels of one colour (225 megapixels by default): under a MB on the wire, 675 MB decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = bytes(1 + 3 * side)  # filter byte 0, then the row's pixels
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def jpeg_bomb(side: int = 30_000) -> bytes:
    """A small JPEG whose frame header claims ``side``² pixels (900 megapixels): a decoder would allocate for all of them."""
    small = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 110, 70)).save(small, format="JPEG")
    data = bytearray(small.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = side.to_bytes(2, "big") + side.to_bytes(2, "big")  # height, width
    return bytes(data)


def heic_bomb(side: int = 20_000) -> bytes:
    """A HEIC whose image spatial extents (``ispe``) claim ``side``² pixels (400 megapixels)."""
    data = bytearray(heic_photo())
    at = data.index(b"ispe")
    data[at + 8:at + 16] = side.to_bytes(4, "big") + side.to_bytes(4, "big")  # after the box's version and flags
    return bytes(data)


def webp_bomb(side: int = 16_000) -> bytes:
    """A lossy WebP whose VP8 frame header claims ``side``² pixels (256 megapixels)."""
    small = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 110, 70)).save(small, format="WEBP", quality=50)
    data = bytearray(small.getvalue())
    at = data.index(b"\x9d\x01\x2a")  # the VP8 key frame's start code, followed by width and height (14 bits each)
    data[at + 3:at + 7] = side.to_bytes(2, "little") + side.to_bytes(2, "little")
    return bytes(data)
