"""Typed settings read from ``PEACEWATCH_*`` environment variables.

The CLI and the server read the same settings, so ``peacewatch db upgrade`` and
``peacewatch serve`` always agree on which database they touch.
"""

from __future__ import annotations

import os
import secrets
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import ValidationInfo, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from peacewatch.alerts.engine import AlertSettings

SECRET_KEY_FILE = "secret_key"
CUSTODY_KEY_FILE = "custody_key"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEACEWATCH_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("peacewatch")))
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite in the data directory"
    )
    secret_key: str | None = Field(default=None, description="Signs access tokens")
    custody_key: str | None = Field(default=None, description="Keys the HMAC chain of custody events; keep it apart from the database")
    body_number_prefix: str = Field(default="PW", pattern=r"^[A-Z]{2,5}$", description="Mission prefix of body numbers (PW-2020-000123)")
    access_token_minutes: int = Field(default=12 * 60, ge=1)
    cookie_secure: bool = Field(default=True, description="Mark session cookies Secure (browsers accept them on http://127.0.0.1 and localhost)")
    basemap: Path | None = Field(default=None, description="An MBTiles or PMTiles file of raster tiles, served offline as the maps' basemap")
    h3_resolution: int = Field(default=8, ge=0, le=15, description="H3 resolution of coverage cells")

    loc_buffer_m: float = Field(default=1000, gt=0, le=50_000, description="Alert when a tracker comes this close to the line of contact")
    post_radius_m: float = Field(default=300, gt=0, le=10_000, description="A stop this close to an open post is not an alert")

    mission_timezone: str = Field(default="Asia/Baku", description="IANA time zone of the mission: reporting days are counted in it")
    reporting_day_end: str = Field(default="19:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time a reporting day ends (OSCE practice)")
    area_of_interest: str = Field(default="45.0,38.8,48.0,41.0", description="min_lon,min_lat,max_lon,max_lat: incidents outside need a flag")
    clock_skew_minutes: int = Field(default=10, ge=0, le=24 * 60, description="How far in the future a report may be dated")
    merge_distance_m: float = Field(default=3000, gt=0, le=100_000, description="Reports this close (plus their places' precision) may be one event")
    merge_gap_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60, description="Reports whose windows are this close in time may be one event")
    acled_country: str = Field(default="Azerbaijan", description="ACLED export: country, iso, region and event id prefix")
    acled_iso: int = Field(default=31, ge=0, le=999)
    acled_region: str = "Caucasus and Central Asia"
    acled_id_prefix: str = Field(default="PKF", pattern=r"^[A-Z]{2,5}$")
    acled_admin1: str = Field(default="", description="ACLED export: the admin1 every event is in (admin2 is its district)")
    acled_side_a: str = Field(default="Military Forces of Side A", description="ACLED export: the actor name of side A")
    acled_side_b: str = Field(default="Military Forces of Side B", description="ACLED export: the actor name of side B")

    cot_host: str = Field(default="127.0.0.1", description="Address the Cursor-on-Target listeners bind")
    cot_port: int = Field(default=8087, ge=0, le=65535, description="Plain CoT over TCP and UDP (0: any free port)")
    cot_tcp: bool = Field(default=True, description="Listen for plain CoT over TCP")
    cot_udp: bool = Field(default=True, description="Listen for plain CoT over UDP")
    cot_tls_port: int = Field(default=8089, ge=0, le=65535, description="CoT over TLS with client certificates")
    cot_tls_cert: Path | None = Field(default=None, description="Server certificate (PEM); TLS is on when cert, key and CA are set")
    cot_tls_key: Path | None = None
    cot_tls_ca: Path | None = Field(default=None, description="CA that signs the clients' certificates")
    cot_flush_ms: int = Field(default=500, ge=10, le=1000, description="Longest a received CoT fix waits before commit")
    cot_feed: bool = Field(default=True, description="Send each TCP/TLS CoT client the posts, positions and alerts its user may see")

    @field_validator("secret_key", "custody_key")
    @classmethod
    def _refuse_weak_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"PEACEWATCH_{str(info.field_name).upper()} must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("mission_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"PEACEWATCH_MISSION_TIMEZONE: unknown time zone '{value}' (an IANA name such as Asia/Baku)") from None
        return value

    @field_validator("area_of_interest")
    @classmethod
    def _bbox(cls, value: str) -> str:
        from peacewatch.core.geo import parse_bbox
        from peacewatch.core.problems import Problem

        try:
            parse_bbox(value, field="PEACEWATCH_AREA_OF_INTEREST")
        except Problem as exc:
            raise ValueError(exc.detail) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.mission_timezone)

    @property
    def reporting_day_ends(self) -> time:
        hours, minutes = map(int, self.reporting_day_end.split(":"))
        return time(hours, minutes)

    @cached_property
    def area_of_interest_box(self) -> tuple[float, float, float, float]:
        from peacewatch.core.geo import parse_bbox

        return parse_bbox(self.area_of_interest, field="PEACEWATCH_AREA_OF_INTEREST")

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("PEACEWATCH_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if value is not None and value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.ensure_data_dir() / 'peacewatch.db'}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data directory.

        Keeping it on disk means tokens survive a restart without anyone having to set a key.
        """
        return self.secret_key or self._key_file(SECRET_KEY_FILE)

    @cached_property
    def resolved_custody_key(self) -> bytes:
        """The deployment's custody key: set it (the same on every server) or one is kept in the data directory."""
        return (self.custody_key or self._key_file(CUSTODY_KEY_FILE)).encode()

    def _key_file(self, name: str) -> str:
        path = self.ensure_data_dir() / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError(f"{path} holds a key shorter than {MIN_SECRET_LENGTH} characters")
        return key

    def alert_rules(self) -> AlertSettings:
        from peacewatch.alerts.engine import AlertSettings

        return AlertSettings(loc_buffer_m=self.loc_buffer_m, post_radius_m=self.post_radius_m)
