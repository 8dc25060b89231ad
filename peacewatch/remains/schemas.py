from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from geojson_pydantic import Point, Polygon
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from peacewatch.core.clocks import ClockOffset
from peacewatch.core.geo import to_geojson, to_mgrs
from peacewatch.core.i18n import Sentence
from peacewatch.core.visibility import Side
from peacewatch.remains.matching import TEETH, Sex, Tooth
from peacewatch.remains.models import (
    BodyKind,
    Condition,
    CustodyKind,
    Identification,
    IdentificationBasis,
    IdentificationStatus,
    PersonStatus,
    Recovery,
)

MAX_BODIES = 1000
BODY_NUMBER = r"^[A-Z]{2,5}-\d{4}-\d{6}$"
AM_NUMBER = r"^AM-\d{4}-\d{6}$"
BodyNumber = Annotated[str, StringConstraints(pattern=BODY_NUMBER, max_length=32)]
AmNumber = Annotated[str, StringConstraints(pattern=AM_NUMBER, max_length=32)]
Item = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Items = Annotated[list[Item], Field(default_factory=list, max_length=50)]
Name = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
Required = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(Strict):
    """An estimate as a range; ``max`` defaults to ``min``."""

    min: int = Field(ge=0, le=300)
    max: int | None = Field(default=None, ge=0, le=300)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    @property
    def upper(self) -> int:
        return self.min if self.max is None else self.max


def _chart(value: dict[str, Tooth]) -> dict[str, Tooth]:
    for tooth in value:
        if not (tooth.isascii() and tooth.isdigit()) or int(tooth) not in TEETH:
            raise ValueError(f"tooth {tooth!r} is not an FDI permanent tooth number (11-18, 21-28, 31-38, 41-48)")
    return value


class Document(Strict):
    kind: Required = Field(description="identity disc, military card, passport, letter...")
    text: Name = ""
    name: Name = Field(default="", description="The name the document bears")
    service_number: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""


class PostMortemIn(Strict):
    """The post-mortem record: what the body shows and which primary examinations were done."""

    condition: Condition | None = None
    sex: Sex = Sex.unknown
    age: Span | None = Field(default=None, description="Apparent age range, years")
    height_cm: Span | None = Field(default=None, description="Height range, cm")
    marks: Items = Field(description="Tattoos and scars: what and where")
    clothing: Items
    effects: Items = Field(description="Personal effects found with the body")
    documents: list[Document] = Field(default_factory=list, max_length=20)
    dna_sampled: bool = False
    fingerprints_taken: bool = False
    dental: dict[str, Tooth] = Field(default_factory=dict, description="FDI tooth number -> state", max_length=32)
    cause_of_death: Name = ""
    died_on: date | None = None
    examined_at: datetime | None = None
    examined_by: Name = ""

    _teeth = field_validator("dental")(_chart)


class BodyIn(Strict):
    kind: BodyKind = BodyKind.body
    part_of: int | None = Field(default=None, ge=0, lt=MAX_BODIES,
                                description="For a body part: the position in this list of the body it belongs to")
    post_mortem: PostMortemIn | None = None


class RecoveryIn(Strict):
    recovered_at: datetime
    site: Point | Polygon
    place_name: Name = ""
    team: Required = Field(description="Who recovered: a unit, the ICRC, the emergency service")
    side: Side = Field(description="The side whose area the site is in")
    bodies_found: int = Field(ge=0, le=MAX_BODIES)
    bodies: list[BodyIn] = Field(default_factory=list, max_length=MAX_BODIES,
                                 description="The bodies and separate parts recovered: each gets a body number")
    stored_at: Name = Field(default="", description="Where the bodies were taken (a morgue, a cold store)")
    notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
        description="The field device's own id for the recovery: sending it again returns the first copy, no second body numbers",
    )
    clock_offset_s: ClockOffset = None


class RecoveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    recovered_at: datetime
    recovered_on: date
    site: dict[str, Any]
    mgrs: str | None
    place_name: str
    team: str
    side: Side
    bodies_found: int
    bodies_recovered: int
    body_numbers: list[str]
    notes: str
    recorded_by: str
    clock_offset_s: int | None = None

    @classmethod
    def of(cls, recovery: Recovery) -> RecoveryOut:
        """The recovery as the API shows it: its site as GeoJSON and MGRS, its bodies by number."""
        return cls.model_validate({
            **{k: getattr(recovery, k) for k in ("id", "recovered_at", "recovered_on", "place_name", "team", "side", "bodies_found",
                                                 "bodies_recovered", "notes", "recorded_by", "clock_offset_s")},
            "site": to_geojson(recovery.site), "mgrs": to_mgrs(recovery.lat, recovery.lon),
            "body_numbers": [b.number for b in recovery.bodies],
        })


class MissingPersonIn(Strict):
    """A missing-person report with the ante-mortem record."""

    client_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                                  description="The sender's own id for the report: sending it again returns the first copy")
    family_name: Required
    given_names: Required
    patronymic: Name = ""
    side: Side = Field(description="The side the person belonged to")
    status: PersonStatus
    service_number: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    unit: Name = ""
    born_on: date | None = None
    sex: Sex = Sex.unknown
    height_cm: int | None = Field(default=None, ge=40, le=250)
    marks: Items
    clothing: Items = Field(description="Clothing last worn")
    effects: Items
    last_seen_on: date | None = None
    last_seen_place: Name = ""
    last_seen_lat: float | None = Field(default=None, ge=-90, le=90)
    last_seen_lon: float | None = Field(default=None, ge=-180, le=180)
    dental: dict[str, Tooth] = Field(default_factory=dict, max_length=32)
    dental_notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    medical_notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    family_dna_reference: bool = False
    reported_on: date
    reporter_name: Required
    reporter_contact: Annotated[str, StringConstraints(max_length=300)] = ""

    _teeth = field_validator("dental")(_chart)

    @model_validator(mode="after")
    def _consistent(self) -> MissingPersonIn:
        if (self.last_seen_lat is None) != (self.last_seen_lon is None):
            raise ValueError("give both last_seen_lat and last_seen_lon, or neither")
        if self.born_on and self.last_seen_on and self.born_on > self.last_seen_on:
            raise ValueError("born_on is after last_seen_on")
        if self.last_seen_on and self.last_seen_on > self.reported_on:
            raise ValueError("last_seen_on is after reported_on")
        return self


class MissingPersonOut(MissingPersonIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    number: str
    filed_by: str
    filed_by_side: Side | None
    identified_as: str | None = Field(default=None, description="The body number of a confirmed identification")


class CustodyIn(Strict):
    kind: CustodyKind = Field(description="recovered and handed_over are recorded by recoveries and handovers")
    at: datetime
    place: Required
    released_by: Name = ""
    received_by: Name = ""
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class CustodyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    kind: CustodyKind
    at: datetime
    place: str
    released_by: str
    received_by: str
    note: str
    recorded_by: str
    handover_id: int | None
    prev_hash: str
    hash: str


class ChainBreak(BaseModel):
    body: str
    seq: int | None
    problem: str


class ChainReport(BaseModel):
    bodies: int
    events: int
    intact: bool
    breaks: list[ChainBreak]
    digest: str = Field(description="One digest of every chain's head: note it outside the system to detect a later rewrite")


class BodyOut(BaseModel):
    id: int
    number: str
    kind: BodyKind
    part_of: str | None
    parts: list[str]
    recovery_id: int
    recovered_on: date
    side_of_area: Side
    post_mortem: PostMortemIn
    custody: str | None = Field(description="The last custody event's kind")
    custody_place: str | None
    identified_as: str | None = Field(description="The AM number of a confirmed identification")
    handover: str | None


class BodyLink(Strict):
    part_of: BodyNumber = Field(description="The body this part belongs to")


class DnaResultIn(Strict):
    body: BodyNumber
    missing_person: AmNumber
    likelihood_ratio: float = Field(ge=0, le=1e300, description="The laboratory's likelihood ratio for this pair")
    laboratory: Required
    reference: Annotated[str, StringConstraints(max_length=120)] = ""
    reported_on: date


class DnaResultOut(BaseModel):
    body: str
    missing_person: str
    likelihood_ratio: float
    laboratory: str
    reference: str
    reported_on: date
    undisputed: bool


class EvidenceOut(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    field: str
    level: str
    weight: float
    detail: str
    said: Sentence | None = Field(default=None, exclude=True)  # the detail's words, for a page in its reader's language


class CandidateOut(BaseModel):
    body: str
    missing_person: str
    weight: float = Field(description="log2 likelihood ratio that both records are one person")
    dna_likelihood_ratio: float | None
    undisputed_dna: bool
    evidence: list[EvidenceOut]
    identification: IdentificationStatus | None = None


DecidedAt = Field(default=None, description="When it was decided, if not now (a record entered after the fact)")


class IdentificationIn(Strict):
    body: BodyNumber
    missing_person: AmNumber
    at: datetime | None = DecidedAt


class ConfirmIn(Strict):
    basis: IdentificationBasis
    detail: Annotated[str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)] = Field(
        description="The examiner's finding, or the board's reasoning")
    board_members: list[Required] = Field(default_factory=list, max_length=20, description="Required for a board decision: at least three")
    at: datetime | None = DecidedAt


class RevokeIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)]
    at: datetime | None = DecidedAt


class IdentificationOut(BaseModel):
    id: int
    body: str
    missing_person: str
    status: IdentificationStatus
    score: float | None
    proposed_by: str
    proposed_at: datetime
    basis: IdentificationBasis | None
    basis_detail: str
    board_members: list[str]
    confirmed_by: str | None
    confirmed_at: datetime | None
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str

    @classmethod
    def of(cls, ident: Identification) -> IdentificationOut:
        """The identification with its body and missing person by number."""
        return cls.model_validate({**{c.key: getattr(ident, c.key) for c in Identification.__table__.columns},
                                   "body": ident.body.number, "missing_person": ident.person.number})


class HandoverIn(Strict):
    to_side: Side
    at: datetime
    place: Required
    receiving_organisation: Required
    receiving_person: Required
    witness_organisation: Required = Field(description="e.g. the International Committee of the Red Cross")
    witness_person: Name = ""
    released_by: Required = Field(description="Who hands the bodies over for the mission")
    notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    bodies: list[BodyNumber] = Field(min_length=1, max_length=MAX_BODIES)


class Particulars(BaseModel):
    """What a side is owed for each body it receives (Geneva Conventions I, art. 16-17)."""

    body: str
    kind: BodyKind
    identified: bool
    side: Side | None = None
    status: PersonStatus | None = None
    service_number: str = ""
    family_name: str = ""
    given_names: str = ""
    patronymic: str = ""
    born_on: date | None = None
    died_on: date | None = None
    place_of_death: str = ""
    cause_of_death: str = ""


class HandoverOut(BaseModel):
    id: int
    number: str
    to_side: Side
    at: datetime
    place: str
    receiving_organisation: str
    receiving_person: str
    witness_organisation: str
    witness_person: str
    released_by: str
    notes: str
    bodies: int = Field(description="Whole bodies (parts not counted)")
    parts: int
    identified: int
    items: list[Particulars]


class ReconciliationCell(BaseModel):
    body: str
    missing_person: str
    state: str = Field(description="identified, proposed, possible or eliminated")
    weight: float


class Reconciliation(BaseModel):
    bodies: list[str]
    missing_persons: list[str]
    cells: list[ReconciliationCell] = Field(description="Every pair not listed is eliminated by blocking")
    total_bodies: int
    total_missing_persons: int
