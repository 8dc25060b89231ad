"""TAK emergencies, their cancels and CASEVAC requests, read as ATAK and node-CoT write them."""

from __future__ import annotations

import pytest

from peacewatch.tracking.cot import CotFix, parse_event
from peacewatch.tracking.tak_alarms import TakAlarm
from tests.tak import (
    CASEVAC,
    EMERGENCY_911,
    EMERGENCY_CANCEL,
    EMERGENCY_CANCEL_FLAG,
    EMERGENCY_CUSTOM,
    EMERGENCY_GEOFENCE,
    EMERGENCY_IN_CONTACT,
    EMERGENCY_RING_THE_BELL,
    GUNSHOT,
)


@pytest.mark.parametrize(("event", "kind"), [
    (EMERGENCY_911, "911"), (EMERGENCY_RING_THE_BELL, "ring_the_bell"), (EMERGENCY_IN_CONTACT, "troops_in_contact"),
    (EMERGENCY_CUSTOM, "custom"), (EMERGENCY_GEOFENCE, "geofence_breached"), (GUNSHOT, "alert"),
])
def test_each_emergency_atak_sends_is_read_with_its_kind_sender_and_place(event: bytes, kind: str) -> None:
    alarm = parse_event(event)
    assert isinstance(alarm, TakAlarm) and not isinstance(alarm, CotFix)
    assert (alarm.kind, alarm.emergency_type, alarm.cancel) == ("emergency", kind, False)
    assert (alarm.uid, alarm.device_uid, alarm.callsign) == ("ANDROID-589520ccfcd20f01-9-1-1", "ANDROID-589520ccfcd20f01", "MP-07")
    assert (alarm.lat, alarm.lon, alarm.t_ms) == (39.841, 46.7712, 1605340805123)


def test_node_cots_manual_alert_keeps_atak_s_words() -> None:
    alarm = parse_event(GUNSHOT)
    assert isinstance(alarm, TakAlarm) and alarm.label == "Manual Alert: Gunshot"


@pytest.mark.parametrize("event", [EMERGENCY_CANCEL, EMERGENCY_CANCEL_FLAG])
def test_a_cancel_names_the_emergency_it_ends(event: bytes) -> None:
    alarm = parse_event(event)
    assert isinstance(alarm, TakAlarm) and alarm.cancel and alarm.uid == "ANDROID-589520ccfcd20f01-9-1-1"


def test_a_casevac_request_is_read_with_its_nine_lines() -> None:
    alarm = parse_event(CASEVAC)
    assert isinstance(alarm, TakAlarm) and alarm.kind == "casevac" and not alarm.cancel
    assert (alarm.lat, alarm.lon, alarm.device_uid, alarm.label) == (39.8122, 46.753, "ANDROID-589520ccfcd20f01", "MEDEVAC.07.081500")
    lines = alarm.nine_line
    assert lines["frequency"] == "38.90"
    assert lines["patients_by_precedence"] == {"urgent": 1, "urgent_surgical": 0, "priority": 1, "routine": 0}
    assert lines["equipment"] == ["extraction_equipment"]
    assert lines["patients_by_type"] == {"litter": 1, "ambulatory": 1}
    assert (lines["security"], lines["marking"]) == ("possible enemy troops", "smoke signal")
    assert lines["nationality"] == {"nonus_military": 2}
    assert lines["remarks"] == "two wounded at the checkpoint, one on a stretcher"


def test_an_alarm_without_a_fix_has_no_place() -> None:
    from tests.tak import emergency

    alarm = parse_event(emergency("b-a-o-tbl", "911 Alert", point='<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/>'))
    assert isinstance(alarm, TakAlarm) and (alarm.lat, alarm.lon) == (None, None)
