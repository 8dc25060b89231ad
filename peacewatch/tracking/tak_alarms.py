"""What a TAK client's emergency, its cancel and a CASEVAC request say, read as ATAK writes them.

ATAK's emergency button sends, and repeats while it is on, an event of its own uid (the device's uid
with ``-9-1-1``) whose type says the kind (``b-a-o-tbl`` 911, ``b-a-o-pan`` ring the bell, ``b-a-o-opn``
troops in contact, ``b-a-o-c`` custom, ``b-a-g`` a geofence breached), whose point is where the device
is now, with ``<emergency type="911 Alert">callsign</emergency>`` and a ``p-p`` link to the device.
Other tools send ``b-a-o`` with only the ``<emergency type="...">`` (node-CoT's "Manual Alert: Gunshot").
The cancel is the same uid with ``b-a-o-can``, or ``<emergency cancel="true">``.

A CASEVAC (MEDEVAC) request, ``b-r-f-h-c``, is the 9-line in the attributes of ``<_medevac_>``: the
patients by precedence and type, equipment, security and marking of the landing zone, nationality,
contamination; its point is the pick-up site.

Pure functions over the parsed event: no database, tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

EMERGENCY_SUFFIX = "-9-1-1"
CANCEL_TYPE = "b-a-o-can"
CASEVAC_TYPE = "b-r-f-h-c"

# an emergency's kind by its CoT type, longest prefix first; the words are PeaceWatch's (pages translate them)
_EMERGENCY_TYPES = (("b-a-o-tbl", "911"), ("b-a-o-pan", "ring_the_bell"), ("b-a-o-opn", "troops_in_contact"),
                    ("b-a-o-c", "custom"), ("b-a-g", "geofence_breached"), ("b-a-o", "alert"))
# ATAK's own words in <emergency type="...">, for events whose CoT type says no more than b-a-o
_EMERGENCY_WORDS = (("911", "911"), ("ring the bell", "ring_the_bell"), ("in contact", "troops_in_contact"),
                    ("geo-fence", "geofence_breached"), ("geofence", "geofence_breached"), ("custom", "custom"))

# the 9-line's attributes as ATAK's MEDEVAC tool writes them, by line
PRECEDENCE = ("urgent", "urgent_surgical", "priority", "routine", "convenience")  # line 3: patients by precedence
EQUIPMENT = ("equipment_none", "hoist", "extraction_equipment", "ventilator", "equipment_other")  # line 4
PATIENT_TYPES = ("litter", "ambulatory")  # line 5
SECURITY = ("no enemy troops", "possible enemy troops", "enemy troops in area", "enemy troops in area, armed escort")  # line 6
MARKING = ("panels", "pyrotechnic signal", "smoke signal", "none", "other")  # line 7: hlz_marking 0..4
NATIONALITY = ("us_military", "us_civilian", "nonus_military", "nonus_civilian", "epw", "child")  # line 8
MAX_TEXT = 2000


@dataclass
class TakAlarm:
    """An emergency (or its cancel) or a CASEVAC request from a TAK client."""

    uid: str  # the alarm's own uid: the repeats and the cancel of one emergency share it
    cot_type: str
    kind: str  # "emergency" or "casevac"
    emergency_type: str = ""  # 911, ring_the_bell, troops_in_contact, custom, geofence_breached, alert
    cancel: bool = False
    device_uid: str = ""  # the device the alarm is about (its p-p link, or the uid without -9-1-1)
    callsign: str = ""
    label: str = ""  # ATAK's words: "911 Alert", "Manual Alert: Gunshot", a custom text
    remarks: str = ""
    lat: float | None = None
    lon: float | None = None
    t_ms: int | None = None
    nine_line: dict[str, Any] = field(default_factory=dict)


def is_alarm_type(cot_type: str) -> bool:
    """Whether an event of this CoT type is an emergency, its cancel, or a CASEVAC request."""
    return cot_type.startswith(("b-a-o", "b-a-g", CASEVAC_TYPE))


def _text(element: etree._Element | None, limit: int = MAX_TEXT) -> str:
    return ((element.text or "") if element is not None else "").strip()[:limit]


def _emergency_type(cot_type: str, label: str) -> str:
    kind = next((name for prefix, name in _EMERGENCY_TYPES if cot_type.startswith(prefix)), "alert")
    if kind == "alert":
        lowered = label.lower()
        kind = next((name for word, name in _EMERGENCY_WORDS if word in lowered), "alert")
    return kind


def read_alarm(root: etree._Element, uid: str, cot_type: str, place: tuple[float | None, float | None, int | None]) -> TakAlarm:
    """The alarm an event holds; ``place`` is its point and time as the caller read them (None where unreadable)."""
    detail = root.find("detail")
    lat, lon, t_ms = place
    link = next((lk for lk in (detail.iterfind("link") if detail is not None else ())
                 if lk.get("relation") == "p-p" and lk.get("uid")), None)
    device = (link.get("uid", "") if link is not None else "") or uid.removesuffix(EMERGENCY_SUFFIX)
    contact = root.find("detail/contact")
    callsign = (contact.get("callsign", "") if contact is not None else "")[:200]
    remarks = _text(root.find("detail/remarks"))
    if cot_type.startswith(CASEVAC_TYPE):
        medevac = root.find("detail/_medevac_")
        return TakAlarm(uid=uid, cot_type=cot_type, kind="casevac", device_uid=device[:200], callsign=callsign,
                        label=(medevac.get("title", "") if medevac is not None else "")[:200] or callsign,
                        remarks=remarks, lat=lat, lon=lon, t_ms=t_ms, nine_line=nine_line(medevac))
    emergency = root.find("detail/emergency")
    label = (emergency.get("type", "") if emergency is not None else "")[:200]
    cancelled = cot_type.startswith(CANCEL_TYPE) or (emergency is not None and emergency.get("cancel", "").lower() == "true")
    who = _text(emergency, 200)  # ATAK writes the sender's callsign as the element's text
    return TakAlarm(uid=uid, cot_type=cot_type, kind="emergency", emergency_type="" if cancelled else _emergency_type(cot_type, label),
                    cancel=cancelled, device_uid=device[:200], callsign=who or callsign.removesuffix("-Alert"), label=label,
                    remarks=remarks, lat=lat, lon=lon, t_ms=t_ms)


def _count(value: str | None) -> int:
    try:
        return max(0, min(999, int(float(value or 0))))
    except ValueError:
        return 0


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def nine_line(medevac: etree._Element | None) -> dict[str, Any]:
    """The 9-line request's lines, by name, out of ATAK's ``<_medevac_>`` attributes (absent ones left out)."""
    if medevac is None:
        return {}
    get = medevac.get
    lines: dict[str, Any] = {}
    if get("freq") or get("title"):
        lines["frequency"] = (get("freq") or "")[:40]
    patients = {name: _count(get(name)) for name in PRECEDENCE if get(name) is not None}
    if patients:
        lines["patients_by_precedence"] = patients
    equipment = [name for name in EQUIPMENT if _yes(get(name))]
    if equipment:
        lines["equipment"] = equipment
    if get("equipment_detail"):
        lines["equipment_detail"] = (get("equipment_detail") or "")[:200]
    types = {name: _count(get(name)) for name in PATIENT_TYPES if get(name) is not None}
    if types:
        lines["patients_by_type"] = types
    for attribute, words, line in (("security", SECURITY, "security"), ("hlz_marking", MARKING, "marking")):
        number = _count(get(attribute)) if get(attribute) is not None else None
        if number is not None and number < len(words):
            lines[line] = words[number]
    nationality = {name: _count(get(name)) for name in NATIONALITY if get(name) is not None and _count(get(name))}
    if nationality:
        lines["nationality"] = nationality
    contamination = [name.removeprefix("terrain_") for name in ("terrain_none", "terrain_slope", "terrain_rough", "terrain_loose",
                                                                  "terrain_other") if _yes(get(name))]
    if get("nbc_contamination"):
        lines["contamination"] = (get("nbc_contamination") or "")[:200]
    if contamination:
        lines["terrain"] = contamination
    if get("medline_remarks"):
        lines["remarks"] = (get("medline_remarks") or "")[:MAX_TEXT]
    return lines
