from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID
from peacewatch.tracking.models import TrackerKind
from peacewatch.tracking.sources import DEFAULT_REPORT_ROLES

TRACKER_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$"
# the roles that may be allowed to report for a tracker: the mission's own, never a side's liaison
ReportRole = Literal["admin", "operations", "patrol", "humanitarian", "air", "press", "observer"]
Username = Annotated[str, Field(min_length=1, max_length=64)]
TokenId = Annotated[int, Field(ge=1, le=MAX_ID)]
Fingerprint = Annotated[str, Field(min_length=64, max_length=95, pattern=r"^[0-9A-Fa-f:\s]+$",
                                   description="SHA-256 of the certificate, hex (colons allowed)")]
SOURCES_HELP = {
    "bound_users": "Users whose signed-in devices (TAK sign-in or certificate, field page, API) report for it",
    "bound_tokens": "Device API tokens that report for it",
    "bound_certificates": "TAK client certificates (SHA-256 fingerprints) that report for it",
    "report_roles": "Roles that may report for it whoever is bound (operations loading a GPS unit's dump)",
    "anonymous_input": "Takes positions from anonymous CoT over TCP or UDP (off unless a device can do nothing else)",
    "controller_id": "The tracker of the device that controls it (a drone's ATAK): that device's sources report for it too",
}


class TrackerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=TRACKER_CODE, description="What devices send as 'tracker'")
    name: str = Field(default="", max_length=200)
    kind: TrackerKind = TrackerKind.vehicle
    cot_uid: str | None = Field(default=None, min_length=1, max_length=200, description="The TAK client's CoT uid")
    unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    visibility: Visibility = Visibility.internal
    bound_users: list[Username] = Field(default_factory=list, max_length=100, description=SOURCES_HELP["bound_users"])
    bound_tokens: list[TokenId] = Field(default_factory=list, max_length=100, description=SOURCES_HELP["bound_tokens"])
    bound_certificates: list[Fingerprint] = Field(default_factory=list, max_length=100,
                                                  description=SOURCES_HELP["bound_certificates"])
    report_roles: list[ReportRole] = Field(default_factory=lambda: list(DEFAULT_REPORT_ROLES), max_length=8,
                                           description=SOURCES_HELP["report_roles"])
    anonymous_input: bool = Field(default=False, description=SOURCES_HELP["anonymous_input"])
    controller_id: int | None = Field(default=None, ge=1, le=MAX_ID, description=SOURCES_HELP["controller_id"])


class TrackerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=1, max_length=64, pattern=TRACKER_CODE)
    name: str | None = Field(default=None, max_length=200)
    kind: TrackerKind | None = None
    cot_uid: str | None = Field(default=None, min_length=1, max_length=200)
    unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    visibility: Visibility | None = None
    bound_users: list[Username] | None = Field(default=None, max_length=100, description=SOURCES_HELP["bound_users"])
    bound_tokens: list[TokenId] | None = Field(default=None, max_length=100, description=SOURCES_HELP["bound_tokens"])
    bound_certificates: list[Fingerprint] | None = Field(default=None, max_length=100,
                                                         description=SOURCES_HELP["bound_certificates"])
    report_roles: list[ReportRole] | None = Field(default=None, max_length=8, description=SOURCES_HELP["report_roles"])
    anonymous_input: bool | None = Field(default=None, description=SOURCES_HELP["anonymous_input"])
    controller_id: int | None = Field(default=None, ge=1, le=MAX_ID, description=SOURCES_HELP["controller_id"])


class DeviceTokenOut(BaseModel):
    """A device token a tracker may be bound to: its id, its name and whose it is, never its secret."""

    id: int
    name: str
    username: str


class TrackerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: TrackerKind
    cot_uid: str | None
    unit_id: int | None
    visibility: Visibility
    created_at: datetime
    # who may move it: shown to the operations centre only (null for any other reader)
    bound_users: list[str] | None = None
    bound_tokens: list[int] | None = None
    bound_certificates: list[str] | None = None
    report_roles: list[str] | None = None
    anonymous_input: bool | None = None
    controller_id: int | None = None

    def for_reader(self, sees_sources: bool) -> TrackerOut:
        """The tracker as a reader may see it: who may move it is the operations centre's to know."""
        if sees_sources:
            return self
        return self.model_copy(update=dict.fromkeys(SOURCES_HELP))


class PositionIn(BaseModel):
    """One fix. Documented for clients; the server parses batches in bulk, not through this model."""

    tracker: str = Field(min_length=1, max_length=200, description="Tracker code or CoT uid")
    t: datetime = Field(description="ISO 8601 with a zone, e.g. 2020-11-14T08:00:05Z")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt: float | None = Field(default=None, description="metres above the ellipsoid")
    speed: float | None = Field(default=None, ge=0, le=1000, description="m/s")
    heading: float | None = Field(default=None, ge=0, le=360, description="degrees from true north")
    accuracy: float | None = Field(default=None, ge=0, description="metres")


class PositionBatchIn(BaseModel):
    positions: list[PositionIn] = Field(max_length=200_000)


class IngestReportOut(BaseModel):
    received: int
    stored: int = Field(description="New positions stored")
    duplicates: int = Field(description="Resends of a (tracker, time) already stored: ignored")
    batch_id: int
    alerts: int = Field(default=0, description="Alerts the batch raised")


class SkippedPointOut(BaseModel):
    where: str = Field(description="The point's place in the file, e.g. waypoints[3] or tracks[0].segments[1].points[7]")
    name: str = Field(description="Its <name>, if it has one")
    reason: str


class GpxReportOut(IngestReportOut):
    skipped: int = Field(default=0, description="Points of the file not stored as positions (untimed, or waypoints)")
    skipped_points: list[SkippedPointOut] = Field(default_factory=list, description="The first 100 of them, and why")
    heights_dropped: int = Field(default=0, description="Elevations (above sea level) left unknown: no geoid grid covers the point")
    places_created: int = Field(default=0, description="Waypoints kept as new named places (waypoints=places)")
    places_known: int = Field(default=0, description="Waypoints that were already kept as places")
    geoid_from_file: int = Field(default=0, description="Heights above the ellipsoid made with the file's own <geoidheight> "
                                                        "(the others with EGM96)")
    trackers: list[str] = Field(default_factory=list, description="The trackers the points were stored into (tracks=by_name: one "
                                                                 "per track name)")


class UnregisteredUidOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: str
    first_seen: datetime
    last_seen: datetime
    events: int
    last_lat: float | None
    last_lon: float | None
    cot_type: str


class CotStatusOut(BaseModel):
    running: bool
    ports: dict[str, int] = Field(default_factory=dict)
    pending: int = 0
    events: int = 0
    fixes: int = 0
    stored: int = 0
    malformed: int = 0
    oversized: int = 0
    shed: int = Field(default=0, description="UDP events dropped while the store was behind")
    hostile: int = 0
    ignored: int = Field(default=0, description="Events that are not their sender's position (pings, chat, markers, shapes, no GPS fix)")
    by_type: dict[str, int] = Field(default_factory=dict, description="Those events counted by CoT type (b-t-f chat, ...)")
    unregistered: int = Field(default=0, description="Fixes from uids not registered as trackers")
    calls: int = Field(default=0, description="Emergencies, their cancels and CASEVAC requests taken from senders who may call "
                                             "for help (those refused are in refused, by reason)")
    refused: dict[str, int] = Field(default_factory=dict, description="Fixes of registered trackers refused, by reason: "
                                    "anonymous (the tracker takes no anonymous input), not bound (the sender is not one of its "
                                    "sources), liaison (a side's liaison never moves a mission tracker)")
    connections_refused: dict[str, int] = Field(default_factory=dict, description="Connections closed at once, over a bound: "
                                                "streams (all), anonymous streams per address, streams per user")
    feed_clients: int = Field(default=0, description="TCP/TLS clients being sent the picture (CoT out)")
    feed_sent: int = Field(default=0, description="Events sent to them since the server started")


class TakReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str = Field(description="The marker's CoT uid: the same user's TAK client sending it again (moved, edited) updates it")
    cot_type: str
    what: str = Field(description="marker or spot report")
    callsign: str
    remarks: str
    lat: float
    lon: float
    at: datetime
    received_at: datetime
    sent_by: str = Field(description="The PeaceWatch user the TAK client signed in as")
    incident_id: int | None = Field(description="The incident report made from it, if one was")
