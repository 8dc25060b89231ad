"""TAK emergencies, their cancels and CASEVAC requests, read as ATAK and node-CoT write them."""

from __future__ import annotations

import pytest

from peacewatch.tracking.cot import CotFix, CotOther, parse_event
from peacewatch.tracking.geochat import ChatLine
from peacewatch.tracking.tak_alarms import TakAlarm
from tests.tak import (
    ATAK_SELF,
    CASEVAC,
    CHAT,
    DRONE,
    DRONE_NO_GPS,
    EMERGENCY_911,
    EMERGENCY_CANCEL,
    EMERGENCY_CANCEL_FLAG,
    EMERGENCY_CUSTOM,
    EMERGENCY_GEOFENCE,
    EMERGENCY_IN_CONTACT,
    EMERGENCY_RING_THE_BELL,
    FILE_ACK,
    GUNSHOT,
    MARKER,
    SHAPE,
    cot_event,
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


# the set of events TAK tools send, as node-CoT's and atak-forwarder's test events are shaped (written for these tests)
RECEIPT_READ = cot_event("pw-notice-7-r", "b-t-f-r", '<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/>',
                         '<__chatreceipt messageId="pw-notice-7" chatroom="PeaceWatch" senderCallsign="MP-07"/>'
                         '<link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" relation="p-p"/>', how="h-g-i-g-o")
RECEIPT_DELIVERED = RECEIPT_READ.replace(b"b-t-f-r", b"b-t-f-d")
ROUTE = cot_event("route-1", "b-m-r", '<point lat="39.9" lon="46.8" hae="0" ce="9999999" le="9999999"/>',
                  '<link uid="wp-1" type="b-m-p-w" point="39.9,46.8"/><link uid="wp-2" type="b-m-p-w" point="39.95,46.85"/>', how="h-e")
SPOT = cot_event("spot-1", "b-m-p-s-m", '<point lat="39.9" lon="46.8" hae="0" ce="9999999" le="9999999"/>',
                 '<contact callsign="Spot 1"/><remarks>checkpoint moved</remarks><archive/>', how="h-g-i-g-o")
UAS = cot_event("UAS-ORLAN-7", "a-f-A-M-H-Q", '<point lat="39.8201" lon="46.7602" hae="1450.0" ce="8.0" le="12.0"/>',
                '<track course="-90.5" speed="12.1"/><link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" relation="p-p" '
                'parent_callsign="MP-07"/><__uastool extendedCot="true"/>')
ICON_SET = cot_event("ANDROID-589520ccfcd20f01", "a-u-G", '<point lat="39.9" lon="46.8" hae="0" ce="9999999" le="9999999"/>',
                     how="h-g-i-g-o")


@pytest.mark.parametrize(("event", "what"), [
    (ATAK_SELF, "fix"), (UAS, "fix"), (DRONE, "fix"), (DRONE_NO_GPS, "no fix"), (MARKER, "marker"), (ICON_SET, "marker"),
    (SHAPE, "shape"), (FILE_ACK, "file transfer"), (ROUTE, "route"), (SPOT, "spot report"), (CHAT, "chat"),
    (RECEIPT_DELIVERED, "receipt delivered"), (RECEIPT_READ, "receipt read"), (EMERGENCY_911, "emergency"),
    (EMERGENCY_GEOFENCE, "emergency"), (GUNSHOT, "emergency"), (EMERGENCY_CANCEL, "cancel"), (CASEVAC, "casevac"),
])
def test_every_kind_of_event_tak_tools_send_means_what_atak_means(event: bytes, what: str) -> None:
    """Only a device's own position (a drone's from its controller included) is a fix; what a user placed, of any
    icon set, never is; emergencies, their cancels, CASEVAC, chat and its receipts are each read as what they are."""
    read = parse_event(event)
    if isinstance(read, CotFix):
        said = "fix"
    elif isinstance(read, TakAlarm):
        said = "cancel" if read.cancel else read.kind
    elif isinstance(read, ChatLine):
        said = f"receipt {read.receipt}" if read.receipt else "chat"
    else:
        assert isinstance(read, CotOther)
        said = read.what
    assert said == what
