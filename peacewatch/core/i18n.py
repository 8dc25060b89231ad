"""English and Russian user interface from gettext catalogs (Babel).

The ``.po`` files are the source, compiled in memory at start-up: no build step and no compiled
binaries in the repository. ``scripts/i18n-update`` extracts new strings and merges them in.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from peacewatch.core.cookies import LANGUAGE_COOKIE

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"


def N_(text: str) -> str:
    return text


@dataclass(frozen=True)
class Sentence:
    """A sentence kept as its English template (``str.format``) and its values, to be said in a reader's language.

    A rule that refuses something knows the words but not the reader: it writes ``Sentence("... {x} ...", {"x": 1})``
    (``Sentence`` is an extraction keyword, so the template lands in the catalogs) and whoever answers the reader
    fills it in their language. A value may itself be a Sentence (anything with ``said_in``).
    """

    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    def said_in(self, gettext: Callable[[str], str]) -> str:
        """The sentence translated by ``gettext``; in English if the translation cannot be filled."""
        if not self.values:
            return gettext(self.template) if self.template else self.template
        values = {k: v.said_in(gettext) if hasattr(v, "said_in") else v for k, v in self.values.items()}
        try:
            return gettext(self.template).format(**values)
        except (KeyError, IndexError, ValueError):
            return self.template.format(**{k: v.said_in(str) if hasattr(v, "said_in") else v
                                           for k, v in self.values.items()})

    def __str__(self) -> str:
        return self.said_in(lambda text: text)


# enum values as words
LABELS = {
    "observation_post": N_("Observation post"), "checkpoint": N_("Checkpoint"),
    "planned": N_("Planned"), "open": N_("Open"), "closed": N_("Closed"), "acknowledged": N_("Acknowledged"),
    "under_way": N_("Under way"), "completed": N_("Completed"), "aborted": N_("Aborted"),
    "left_area": N_("Left its area"), "near_line_of_contact": N_("Near the line of contact"),
    "in_restricted_zone": N_("In a restricted zone"), "long_stop": N_("Long stop"), "off_route": N_("Off route"),
    "silent": N_("Silent"), "not_back": N_("Not back in time"),
    "internal": N_("the force only"), "side_a": N_("side A"), "side_b": N_("side B"), "public": N_("the public"),
    "ceasefire_violation": N_("Ceasefire violation"), "movement_of_forces": N_("Movement of forces"),
    "mine_or_uxo": N_("Mine or unexploded ordnance"), "damage_to_civilian_objects": N_("Damage to civilian objects"),
    "restriction_of_movement": N_("Restriction of movement"), "civil_unrest": N_("Demonstration or civil unrest"),
    "other": N_("Other"), "small_arms_fire": N_("Small-arms fire"), "heavy_weapons": N_("Heavy weapons or shelling"),
    "explosion": N_("Explosion"), "drone_overflight": N_("Drone overflight"), "muzzle_flashes": N_("Muzzle flashes"),
    "illumination_flares": N_("Illumination flares"), "exact": N_("exact"), "approximate": N_("approximate"),
    "day": N_("within the day"), "week": N_("within the week"), "month": N_("within the month"),
    "near_place": N_("near a place"), "district": N_("district"), "patrol": N_("Patrol"), "media": N_("Media"),
    "joint_monitoring_centre": N_("Joint monitoring centre"), "civilians": N_("civilians"), "unknown": N_("unknown"),
    "sound": N_("sound"), "filled": N_("filled"), "crowned": N_("crowned"), "extracted": N_("extracted"),
    "denial": N_("Denial"), "delay": N_("Delay"), "conditional_access": N_("Conditional access"),
    "reported": N_("Reported"), "under_investigation": N_("Under investigation"), "confirmed": N_("Confirmed"),
    "not_confirmed": N_("Not confirmed"), "rejected": N_("Rejected"),
    "killed_civilian": N_("civilians killed"), "killed_military": N_("military killed"),
    "wounded_civilian": N_("civilians wounded"), "wounded_military": N_("military wounded"),
    "body": N_("Body"), "body_part": N_("Body part"), "incomplete": N_("incomplete"), "decomposed": N_("decomposed"),
    "burned": N_("burned"), "skeletal": N_("skeletal"), "complete": N_("complete"), "male": N_("male"), "female": N_("female"),
    "military": N_("military"), "civilian": N_("civilian"), "recovered": N_("Recovered"), "stored": N_("Stored"),
    "examined": N_("Examined"), "transferred": N_("Transferred"), "handed_over": N_("Handed over"), "buried": N_("Buried"),
    "evidence": N_("Evidence file"), "incident": N_("Incident"), "verification": N_("Verification step"),
    "missing_person": N_("Missing person"), "recovery": N_("Recovery"), "handover": N_("Handover"),
    "proposed": N_("Proposed"), "revoked": N_("Revoked"), "dna": N_("DNA"), "fingerprints": N_("Fingerprints"),
    "dental": N_("Dental"), "board": N_("Identification board"),
    "inbound": N_("Inbound"), "outbound": N_("Outbound"), "airborne": N_("Airborne"), "landed": N_("Landed"),
    "cancelled": N_("Cancelled"), "diverted": N_("Diverted"),
    "claims": N_("claims"), "confirms": N_("confirms"), "denies": N_("denies"), "supported": N_("Supported"),
    "contradicted": N_("Contradicted"), "nuanced": N_("Nuanced"), "not_checkable": N_("Not checkable"),
    "responds to": N_("responds to"), "answered by": N_("answered by"), "same subject": N_("same subject"),
    "Point": N_("a point"), "LineString": N_("a line"), "MultiLineString": N_("lines"), "Polygon": N_("a polygon"),
    "MultiPolygon": N_("polygons"),
    "admin": N_("Administrator"), "operations": N_("Operations centre"), "humanitarian": N_("Humanitarian cell"),
    "air": N_("Air-movement cell"), "press": N_("Press office"), "liaison": N_("Liaison officer"), "observer": N_("Observer"),
    "account from address": N_("this account from this address"), "address": N_("every account from this address"),
    "account": N_("this account from addresses that failed on it"),
    "emergency": N_("Emergency"), "casevac": N_("CASEVAC request"), "raised": N_("Raised"), "notified": N_("Notified"),
    "resolved": N_("Resolved"), "priority_1": N_("Emergency (top)"), "priority_2": N_("Urgent"), "priority_3": N_("Routine"),
    "duty_officer": N_("Duty officer"), "deputy_duty_officer": N_("Deputy duty officer"),
    "chief_of_operations": N_("Chief of operations"), "medical_officer": N_("Medical officer"), "watchkeeper": N_("Watchkeeper"),
    "post_commander": N_("Post commander"), "tak": N_("TAK (GeoChat)"), "email": N_("E-mail"), "webhook": N_("Webhook"),
    "pending": N_("Waiting"), "sending": N_("Sending"), "sent": N_("Sent"), "delivered": N_("Delivered"), "read": N_("Read"),
    "failed": N_("Failed"), "frequency": N_("Line 2: frequency"), "patients_by_precedence": N_("Line 3: patients by precedence"),
    "equipment": N_("Line 4: special equipment"), "patients_by_type": N_("Line 5: patients by type"),
    "security": N_("Line 6: security at the pick-up site"), "marking": N_("Line 7: marking of the pick-up site"),
    "nationality": N_("Line 8: patients' nationality and status"), "contamination": N_("Line 9: contamination"),
    "terrain": N_("Line 9: terrain"), "remarks": N_("Remarks"),
    "field_app": N_("field app"), "tak_marker": N_("TAK marker"), "radio": N_("by radio"), "telephone": N_("by telephone"),
    "in_person": N_("in person"), "written": N_("in writing"), "media_monitoring": N_("media monitoring"),
    "courier_file": N_("courier file"), "source_entry": N_("entered by the source"),
    "sex": N_("Sex"), "age": N_("Age"), "height": N_("Height"), "marks": N_("Marks"), "belongings": N_("Belongings"),
    "service_number": N_("Service number"), "document_names": N_("Names on documents"), "place": N_("Place"),
}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``; English is the source language and needs none."""
    po = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def request_language(request: Request) -> str:
    """The language of a request: the pages' cookie, else the browser's preference, else English."""
    return choose_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The user's choice (a cookie) first, then the browser's preference, then English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
