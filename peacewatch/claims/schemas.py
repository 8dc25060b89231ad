from __future__ import annotations

from datetime import date, datetime

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from peacewatch.claims.checking import Verdict
from peacewatch.claims.models import Stance, Subject
from peacewatch.core.visibility import Visibility
from peacewatch.mandate.schemas import ArrangementOut


def state_name(code: str) -> str:
    country = pycountry.countries.get(alpha_3=code)
    return code if country is None else country.name


def _known_state(value: str | None) -> str | None:
    if value is not None and pycountry.countries.get(alpha_3=value) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-3 country code such as TUR or RUS")
    return value


class StatementIn(BaseModel):
    """A public statement: who said it, when, where it was published, what it says and its stance."""

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(min_length=1, max_length=200, description="The person, or the office itself")
    office: str = Field(default="", max_length=200)
    state: str = Field(description="The speaker's state, by its three-letter code (RUS, TUR, AZE, ARM)")
    stated_on: date
    source: str = Field(min_length=1, max_length=300, description="Agency or publication")
    link: str = Field(default="", max_length=1000, description="URL or reference")
    quote: str = Field(min_length=1, max_length=10_000)
    paraphrase: bool = Field(default=False, title="Paraphrase", description="The quote is the register's summary of what was said, "
                             "not the speaker's own words")
    subject: Subject = Field(description="participation: 'troops of subject_state take part in the monitoring'")
    subject_state: str | None = Field(default=None, description="The state whose participation is stated")
    stance: Stance
    responds_to_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    visibility: Visibility = Visibility.public

    _states = field_validator("state", "subject_state")(_known_state)

    @model_validator(mode="after")
    def _subject_state(self) -> StatementIn:
        if self.subject is Subject.participation and self.subject_state is None:
            raise ValueError("subject_state is required for a statement about participation")
        return self


class StatementOut(StatementIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    state_name: str
    subject_state_name: str | None
    verdict: Verdict = Field(description="Checked on the day it was made")
    created_at: datetime


class RelatedStatement(BaseModel):
    id: int
    relation: str = Field(description="responds to, answered by, or same subject")
    speaker: str
    office: str
    state: str
    stated_on: date
    stance: Stance
    quote: str
    paraphrase: bool = False
    source: str
    link: str


class MandateCited(BaseModel):
    id: int
    name: str
    source: str
    contributors: list[str] = Field(description="Authorised contributors on the date checked")


class ClaimCheck(BaseModel):
    statement_id: int
    on: date
    verdict: Verdict
    reason: str
    reason_sentence: str = Field(default="", description="The reason as a sentence with %(name)s places, for a client "
                                 "that says it in its own language")
    reason_values: dict[str, str] = Field(default_factory=dict, description="The values of reason_sentence's places")
    mandate: MandateCited
    arrangements: list[ArrangementOut] = Field(description="Arrangements in force on the date that involve the state")
    related: list[RelatedStatement]
