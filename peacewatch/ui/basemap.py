"""A user-supplied raster basemap served offline from one file: MBTiles (SQLite) or PMTiles."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import TileType

FORMATS = {TileType.PNG: "image/png", TileType.JPEG: "image/jpeg", TileType.WEBP: "image/webp"}
MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


class BasemapError(ValueError):
    pass


def _sniff(tile: bytes) -> str:
    for magic, media in MAGIC.items():
        if tile.startswith(magic):
            return media
    return "application/octet-stream"


class Basemap:
    """Tiles by z/x/y (XYZ scheme, as Leaflet asks), whichever file format holds them."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise BasemapError(f"basemap {path} does not exist")
        self.path = path
        self._lock = threading.Lock()
        if path.suffix.lower() == ".pmtiles":
            self._handle = path.open("rb")
            self._reader = Reader(MmapSource(self._handle))
            header = self._reader.header()
            if header["tile_type"] not in FORMATS:
                raise BasemapError(f"basemap {path} holds {header['tile_type']} tiles; only raster tiles (PNG, JPEG, WebP) are served")
            self.media_type = FORMATS[header["tile_type"]]
            self.max_zoom = int(header["max_zoom"])
            self.min_zoom = int(header["min_zoom"])
        elif path.suffix.lower() == ".mbtiles":
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            if meta.get("format", "png") not in ("png", "jpg", "jpeg", "webp"):
                raise BasemapError(f"basemap {path} holds {meta['format']} tiles; only raster tiles (PNG, JPEG, WebP) are served")
            zooms = self._db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
            self.min_zoom, self.max_zoom = int(zooms[0] or 0), int(zooms[1] or 0)
            self.media_type = ""
        else:
            raise BasemapError(f"basemap {path} is neither .mbtiles nor .pmtiles")

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile's bytes and media type, or None where the file has none."""
        if not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with self._lock:
            if hasattr(self, "_reader"):
                try:
                    data = self._reader.get(z, x, y)
                except ValueError:
                    return None
                return (data, self.media_type) if data else None
            row = self._db.execute(  # MBTiles rows count from the south (TMS)
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?", (z, x, 2**z - 1 - y)
            ).fetchone()
        return (bytes(row[0]), _sniff(bytes(row[0]))) if row else None
