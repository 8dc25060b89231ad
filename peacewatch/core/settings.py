"""Typed settings read from ``PEACEWATCH_*`` environment variables.

The CLI and the server read the same settings, so ``peacewatch db upgrade`` and
``peacewatch serve`` always agree on which database they touch.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from peacewatch.core.clocks import CLOCK_SKEW_MINUTES


@dataclass(frozen=True)
class AlertSettings:
    """The distances the alert rules judge positions by (from the settings; kept here, below the rules that read them)."""

    loc_buffer_m: float = 1000.0
    post_radius_m: float = 300.0

SECRET_KEY_FILE = "secret_key"
CUSTODY_KEY_FILE = "custody_key"
MIN_SECRET_LENGTH = 32


class KeyNotConfigured(ValueError):
    """The secret key or the custody key is missing or unreadable: a deployment error, said in one line."""


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
    # wrong passwords allowed per window ("N/period", limits' notation) before sign-in answers 429 (core.throttle)
    sign_in_limit_account: str = Field(default="10/15 minutes", pattern=r"^\d+ ?/ ?(\d+ )?(second|minute|hour|day)s?$",
                                       description="For one account from one address: then that address may not try it")
    sign_in_limit_address: str = Field(default="100/15 minutes", pattern=r"^\d+ ?/ ?(\d+ )?(second|minute|hour|day)s?$",
                                       description="From one address, whatever the accounts: then it may try none")
    sign_in_limit_account_wide: str = Field(
        default="50/15 minutes", pattern=r"^\d+ ?/ ?(\d+ )?(second|minute|hour|day)s?$",
        description="For one account from all addresses: then only addresses that have not failed on it may try it")
    max_body_bytes: int = Field(default=2 * 2**20, ge=1024)  # a JSON write's body; files and batches: see app.BODY_LIMITS
    password_hashing_threads: int = Field(default=2, ge=1, le=64)  # argon2 runs here, not on the request threads
    cookie_secure: bool = Field(default=True, description="Mark session cookies Secure (browsers accept them on http://127.0.0.1 and localhost)")
    basemap: Path | None = Field(default=None, description="An MBTiles or PMTiles file of raster tiles, served offline as the maps' basemap")
    h3_resolution: int = Field(default=8, ge=0, le=15, description="H3 resolution of coverage cells")

    loc_buffer_m: float = Field(default=1000, gt=0, le=50_000, description="Alert when a tracker comes this close to the line of contact")
    post_radius_m: float = Field(default=300, gt=0, le=10_000, description="A stop this close to an open post is not an alert")

    mission_timezone: str = Field(default="Asia/Baku", description="IANA time zone of the mission: reporting days are counted in it")
    reporting_day_end: str = Field(default="19:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                   description="Local time a reporting day ends (OSCE practice)")
    area_of_interest: str = Field(default="45.0,38.8,48.0,41.0", description="min_lon,min_lat,max_lon,max_lat: incidents outside need a flag")
    clock_skew_minutes: int = Field(default=CLOCK_SKEW_MINUTES, ge=0, le=24 * 60, description="How far in the future a report may be dated")
    merge_distance_m: float = Field(default=3000, gt=0, le=100_000, description="Reports this close (plus their places' precision) may be one event")
    merge_gap_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60, description="Reports whose windows are this close in time may be one event")
    acled_country: str = Field(default="Azerbaijan", description="ACLED export: country, iso, region and event id prefix")
    acled_iso: int = Field(default=31, ge=0, le=999)
    acled_region: str = "Caucasus and Central Asia"
    acled_id_prefix: str = Field(default="PKF", pattern=r"^[A-Z]{2,5}$")
    acled_admin1: str = Field(default="", description="ACLED export: the admin1 every event is in (admin2 is its district)")
    acled_side_a: str = Field(default="Military Forces of Side A", description="ACLED export: the actor name of side A")
    acled_side_b: str = Field(default="Military Forces of Side B", description="ACLED export: the actor name of side B")

    db_pool_size: int = Field(default=20, ge=1, le=500, description="Database connections each server process keeps open")
    db_max_overflow: int = Field(default=10, ge=0, le=500, description="Connections a process may open beyond the pool at a peak")
    db_pool_timeout_s: float = Field(default=5.0, gt=0, le=120, description="Longest a request waits for a connection before it gets 503")
    db_statement_timeout_ms: int = Field(default=30_000, ge=0, le=3_600_000,
                                         description="PostgreSQL: a server's statement running longer is cancelled (0: no limit)")
    database_direct_url: str | None = Field(
        default=None,
        description="PostgreSQL itself, for LISTEN and the leader's lock, when PEACEWATCH_DATABASE_URL goes through pgbouncer")
    db_prepared_statements: bool = Field(
        default=True, description="Let psycopg prepare statements it runs often (off behind pgbouncer in transaction pooling)")
    db_replica_wait_s: float = Field(
        default=5.0, ge=0, le=3600,
        description="PostgreSQL with a synchronous replica: longest a commit waits for it; then the request gets 503 "
                    "(0: wait as long as PostgreSQL does)")
    db_pool_mode: Literal["none", "session", "transaction"] = Field(
        default="none",
        description="What stands between PEACEWATCH_DATABASE_URL and PostgreSQL: nothing, or a pooler (pgbouncer) in "
                    "session or transaction pooling; transaction pooling needs PEACEWATCH_DATABASE_DIRECT_URL")
    database_kind: Literal["sqlite", "postgresql"] | None = Field(
        default=None,
        description="The database this deployment must have: 'postgresql' makes a missing PEACEWATCH_DATABASE_URL an error "
                    "instead of an empty SQLite file in the data directory")
    evidence_store: Literal["files", "database"] = Field(
        default="files",
        description="Where evidence files are kept: files under the data directory (one machine, or a disk all share), "
                    "or in the database, which every process reaches and which is replicated and backed up with them")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Server logs: text lines with time and request id, or one JSON object per line (for the journal)")
    metrics_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Addresses that may read /metrics without signing in (a Prometheus on this machine); an admin's token may too")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated addresses)")
    workers: int = Field(default=1, ge=1, le=64, description="Web processes 'peacewatch serve' runs (PostgreSQL only beyond 1)")
    queued_requests: int = Field(default=1000, ge=0, le=100_000,
                                 description="Requests a process holds waiting for a free worker; beyond, 503 at once")
    queue_timeout_s: float = Field(default=2.0, gt=0, le=120, description="A request not started after waiting this long gets 503")
    max_streams: int = Field(default=2000, ge=1, le=100_000, description="Live streams (server-sent events) a process holds open")
    operations_stream_reserve: int = Field(default=200, ge=0, le=100_000,
                                           description="Of those, kept for the operations centre (operations, observer, admin)")
    anonymous_streams: int = Field(default=500, ge=0, le=100_000, description="Anonymous live streams a process holds open in all")
    anonymous_streams_per_address: int = Field(default=10, ge=0, le=10_000, description="Anonymous live streams from one address")
    streams_per_user: int = Field(default=20, ge=1, le=10_000,
                                  description="Live streams, and CoT connections, one signed-in user may hold open on a process")
    operations_streams_per_user: int = Field(
        default=200, ge=1, le=100_000,
        description="The same for an operations centre account (operations, observer, admin): an HQ's screens may share one")
    cot_connections: int = Field(default=1000, ge=1, le=100_000, description="CoT connections (TCP and TLS) a process holds open")
    cot_connections_per_address: int = Field(default=50, ge=1, le=100_000, description="CoT connections from one address")
    secret_key_file: Path | None = Field(default=None, description="File holding the secret key (instead of PEACEWATCH_SECRET_KEY)")
    custody_key_file: Path | None = Field(default=None, description="File holding the custody key (instead of PEACEWATCH_CUSTODY_KEY)")
    periodic_work: bool = Field(
        default=True, description="This server process may lead the cluster's periodic work (off: leave it to 'peacewatch work')")
    warm_up: bool = Field(
        default=True, description="A serving process builds at start, before it answers, what its first readers would wait "
        "for (menus, symbols, charts, the matching columns)")
    sweep_seconds: float = Field(default=15.0, ge=0.5, le=3600, description="How often silent and late patrols are looked for")
    patrol_lookahead_hours: int = Field(default=24, ge=0, le=24 * 31,
                                        description="Patrols of recurring plans are generated this far ahead (0: only on demand)")
    positions_keep_days: int | None = Field(
        default=None, ge=1, le=36_500,
        description="Positions older than this many whole days are pruned every hour, after patrols' tracks are kept (off: kept for ever)")
    partitions_ahead_days: int = Field(default=7, ge=1, le=366, description="PostgreSQL: days of position partitions made ahead")

    max_image_pixels: int = Field(default=64_000_000, ge=1_000_000, le=1_000_000_000,
                                  description="Photos with more pixels are refused from their header, before any decoding")
    media_workers: int = Field(default=2, ge=1, le=32, description="Processes that decode files from the field, each bounded")
    media_worker_memory_mb: int = Field(default=1024, ge=128, le=65536,
                                        description="Memory a media worker may take for one file beyond its libraries")
    media_timeout_s: float = Field(default=120.0, gt=0, le=3600, description="A file not read or copied within this is refused")
    evidence_sweep_grace_s: float = Field(default=3600.0, ge=0, le=30 * 86400,
                                          description="A scratch or unnamed file in the file store is deleted once this old")

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

    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
                            description="The address people reach the pages at: links in e-mails (an alert, its acknowledgement) use it")
    smtp_host: str | None = Field(default=None, description="The SMTP server alerts are e-mailed through (none: no e-mail)")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS before sending")
    smtp_username: str | None = Field(default=None, description="SMTP sign-in, if the server asks for one")
    smtp_password: str | None = None
    smtp_from: str = Field(default="PeaceWatch <peacewatch@localhost>", description="The From of alert e-mails")
    notify_seconds: float = Field(default=1.0, ge=0.2, le=60, description="How often the leader takes due escalation steps and sends notices")
    notice_attempts: int = Field(default=8, ge=1, le=100, description="Attempts at one notice (with back-off) before it is marked failed")
    tak_notice_wait_s: float = Field(default=300.0, ge=5, le=86_400,
                                     description="A TAK notice waits this long for one of its person's TAK clients to connect, then fails")

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
    def clock_skew(self) -> timedelta:
        """How far in the future a device may date what it sends (its clock may run a little ahead)."""
        return timedelta(minutes=self.clock_skew_minutes)

    @property
    def reporting_day_ends(self) -> time:
        hours, minutes = map(int, self.reporting_day_end.split(":"))
        return time(hours, minutes)

    @cached_property
    def area_of_interest_box(self) -> tuple[float, float, float, float]:
        from peacewatch.core.geo import parse_bbox

        return parse_bbox(self.area_of_interest, field="PEACEWATCH_AREA_OF_INTEREST")

    @field_validator("database_url", "database_direct_url")
    @classmethod
    def _known_backend(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "":
            return None  # a variable left empty in an env file: not set
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(f"PEACEWATCH_{str(info.field_name).upper()} must be a sqlite:// or postgresql:// URL")
        if value is not None and value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _no_contradiction(self) -> Self:
        """Settings that cannot all hold are refused at once, naming the first setting to change, so no
        process falls back silently to something else than the administrator meant."""
        for problem in self.contradictions():
            raise ValueError(problem)
        return self

    def contradictions(self) -> list[str]:
        """What in these settings cannot be meant: each a sentence that names the setting to change."""
        found = []
        postgresql = bool(self.database_url and self.database_url.startswith("postgresql"))
        if self.database_kind == "postgresql" and not postgresql:
            found.append("PEACEWATCH_DATABASE_URL: not a PostgreSQL URL but PEACEWATCH_DATABASE_KIND=postgresql "
                         f"({'missing: in a shell-loaded env file an unquoted & ends the line' if not self.database_url else 'sqlite'})")
        if self.database_kind == "sqlite" and postgresql:
            found.append("PEACEWATCH_DATABASE_URL: a PostgreSQL URL but PEACEWATCH_DATABASE_KIND=sqlite")
        if not postgresql and (self.database_direct_url or self.db_pool_mode != "none"):
            found.append("PEACEWATCH_DATABASE_URL: missing or SQLite, yet PEACEWATCH_DATABASE_DIRECT_URL or PEACEWATCH_DB_POOL_MODE "
                         "describe PostgreSQL (in a shell-loaded env file an unquoted & ends the line)")
        if self.database_direct_url is not None and not self.database_direct_url.startswith("postgresql"):
            found.append("PEACEWATCH_DATABASE_DIRECT_URL: must be a postgresql:// URL")
        if postgresql and self.db_pool_mode == "transaction" and not self.database_direct_url:
            found.append("PEACEWATCH_DATABASE_DIRECT_URL: must be set with PEACEWATCH_DB_POOL_MODE=transaction (the leader's "
                         "lock and LISTEN need a session of their own, which transaction pooling does not keep)")
        if self.db_pool_mode == "transaction" and self.db_prepared_statements and "db_prepared_statements" in self.model_fields_set:
            found.append("PEACEWATCH_DB_PREPARED_STATEMENTS: must be false with PEACEWATCH_DB_POOL_MODE=transaction "
                         "(pgbouncer hands each transaction another server connection)")
        return found

    @property
    def prepared_statements(self) -> bool:
        """Whether psycopg may prepare statements on the connections of ``database_url``."""
        return self.db_prepared_statements and self.db_pool_mode != "transaction"

    def ensure_data_dir(self) -> Path:
        """The data directory, for its owner only (0700): it holds the database, the keys and the uploads."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.data_dir.stat().st_mode & 0o077:
            self.data_dir.chmod(0o700)  # made by an older version, or by hand
        return self.data_dir

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.ensure_data_dir() / 'peacewatch.db'}"

    @property
    def session_database_url(self) -> str:
        """Where LISTEN, the cluster's leader lock and pg_dump connect: PostgreSQL itself, even when
        ``database_url`` goes through a pooler in transaction mode (which keeps neither)."""
        return self.database_direct_url or self.resolved_database_url

    @property
    def shared_database(self) -> bool:
        """PostgreSQL: several processes, on several machines, may serve the same database."""
        return self.resolved_database_url.startswith("postgresql")

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key (environment or file); on SQLite, else one generated once into the data directory.

        Keeping it on disk means tokens survive a restart without anyone having to set a key. On
        PostgreSQL every process must sign with the same key, so none is invented.
        """
        return self._key(self.secret_key, self.secret_key_file, SECRET_KEY_FILE)

    @cached_property
    def resolved_custody_key(self) -> bytes:
        """The deployment's custody key: configured (the same on every server), or on SQLite kept in the data directory."""
        return self._key(self.custody_key, self.custody_key_file, CUSTODY_KEY_FILE).encode()

    def check_keys(self) -> None:
        """Refuse, with one line, a deployment whose processes could not agree on their keys."""
        self.resolved_secret_key  # noqa: B018 - resolving is the check
        self.resolved_custody_key  # noqa: B018 - resolving is the check

    def _key(self, value: str | None, file: Path | None, name: str) -> str:
        variable = f"PEACEWATCH_{name.upper()}"
        if value:
            return value
        if file is not None:
            try:
                key = file.read_text().strip()
            except OSError as exc:
                raise KeyNotConfigured(f"{variable}_FILE: cannot read {file}: {exc.strerror}") from None
            if len(key) < MIN_SECRET_LENGTH:
                raise KeyNotConfigured(f"{variable}_FILE: {file} holds a key shorter than {MIN_SECRET_LENGTH} characters")
            return key
        if self.shared_database:
            raise KeyNotConfigured(
                f"{variable} (or {variable}_FILE) must be set on PostgreSQL: every server process must use the same key "
                "('peacewatch keys DIR' writes both keys)")
        return self._key_file(name)

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
            raise KeyNotConfigured(f"{path} holds a key shorter than {MIN_SECRET_LENGTH} characters")
        return key

    def alert_rules(self) -> AlertSettings:
        return AlertSettings(loc_buffer_m=self.loc_buffer_m, post_radius_m=self.post_radius_m)
