"""Cursor-on-Target parsing: real TAK events, a stream cut anywhere, and hostile input."""

from __future__ import annotations

import pytest

from peacewatch.tracking.cot import CotError, CotFix, CotOther, EventSplitter, StreamCounters, parse_event
from peacewatch.tracking.geochat import ChatLine
from tests.tak import ATAK_SELF, CHAT, DRONE, DRONE_NO_GPS, FILE_ACK, MARKER, SHAPE

EVENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<event version="2.0" uid="ANDROID-mp07" type="a-f-G-U-U-L-M" how="m-g" time="2020-11-14T08:00:05Z" '
    b'start="2020-11-14T08:00:05Z" stale="2020-11-14T08:05:05Z"><point lat="40.1" lon="46.7" hae="9999999.0" '
    b'ce="12.5" le="9999999.0"/><detail><contact callsign="MP-07"/><track speed="8.5" course="271.0"/></detail></event>'
)
PING = (b'<event version="2.0" uid="takPing" type="t-x-d-d" how="m-g" time="2020-11-14T08:00:00Z" start="2020-11-14T08:00:00Z" '
        b'stale="2020-11-14T08:01:00Z"><point lat="0" lon="0" hae="0" ce="0" le="0"/></event>')


def test_a_position_event_is_read_with_its_track() -> None:
    fix = parse_event(EVENT)
    assert fix is not None
    assert (fix.uid, fix.lat, fix.lon, fix.speed, fix.heading, fix.accuracy) == ("ANDROID-mp07", 40.1, 46.7, 8.5, 271.0, 12.5)
    assert fix.alt is None  # 9999999 means unknown in CoT
    assert fix.t_ms == 1605340805000


def test_pings_carry_no_position() -> None:
    assert parse_event(PING) == CotOther("takPing", "t-x-d-d", "tasking")


def test_an_atak_position_report_is_a_fix_with_its_course_and_height() -> None:
    fix = parse_event(ATAK_SELF)
    assert isinstance(fix, CotFix)
    assert (fix.uid, fix.lat, fix.lon, fix.alt, fix.speed, fix.heading, fix.accuracy) == (
        "ANDROID-589520ccfcd20f01", 40.0953, 46.7521, 722.3, 4.1, 93.3, 4.9)


@pytest.mark.parametrize(("event", "what"), [(FILE_ACK, "file transfer"), (DRONE_NO_GPS, "no fix"), (MARKER, "marker"),
                                             (SHAPE, "shape")])
def test_events_that_are_not_the_senders_position_are_no_fix(event: bytes, what: str) -> None:
    other = parse_event(event)
    assert isinstance(other, CotOther) and other.what == what


def test_a_negative_course_from_a_drone_is_turned_into_0_to_360() -> None:
    fix = parse_event(DRONE)
    assert isinstance(fix, CotFix) and fix.heading == 269.5 and fix.alt == 1450.0


def test_other_events_are_counted_by_type_up_to_a_bound() -> None:
    counters = StreamCounters()
    for n in range(250):
        counters.count_type(f"b-x-{n}")
    counters.count_type("b-x-0")
    assert len(counters.by_type) == 201 and counters.by_type["b-x-0"] == 2 and counters.by_type["other"] == 50


@pytest.mark.parametrize("cut", [1, 17, 100, len(EVENT) - 3])
def test_the_stream_may_be_cut_anywhere(cut: int) -> None:
    splitter, counters = EventSplitter(), StreamCounters()
    stream = PING + EVENT + EVENT
    events = splitter.feed(stream[:cut], counters) + splitter.feed(stream[cut:], counters)
    assert len(events) == 3 and events[1] == EVENT


def test_a_long_chunk_with_a_sign_in_among_its_events_is_cut_into_each_of_them() -> None:
    """TAK Server's sign-in ends with </auth>, not </event>: it may come first, or between events, in one read."""
    auth = b'<auth><cot username="ops" password="pwk_x" uid="ANDROID-ops"/></auth>'
    stream = EVENT * 3000 + auth + EVENT * 3000
    splitter, counters = EventSplitter(), StreamCounters()
    events = []
    for start in range(0, len(stream), 256 * 1024):  # as the listener reads
        events += splitter.feed(stream[start : start + 256 * 1024], counters)
    assert len(events) == 6001 and events[3000] == auth and events.count(EVENT) == 6000
    assert splitter.buffer == b"" and counters.oversized == 0


def test_an_oversized_event_is_dropped_and_the_stream_recovers() -> None:
    splitter, counters = EventSplitter(max_bytes=1000), StreamCounters()
    huge = b'<event uid="x" type="a">' + b"<detail>" + b"A" * 5000 + b"</detail></event>"
    events = []
    for start in range(0, len(huge), 700):
        events += splitter.feed(huge[start : start + 700], counters)
    events += splitter.feed(EVENT, counters)
    assert events == [EVENT] and counters.oversized == 1


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><event uid="&b;"/>', "hostile"),
        (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><event uid="&x;"/>', "hostile"),
        (b"<event uid='a' type='a-f'><point lat='x' lon='1'/></event>", "malformed"),
        (b"<event uid='a' type='a-f' time='2020-11-14T08:00:00Z'><point lat='95' lon='1'/></event>", "malformed"),
        (b"<event uid='a' type='a-f'><point lat='1' lon='1'/></event>", "malformed"),
        (b"<evnt></evnt>", "malformed"),
        (b"<event", "malformed"),
    ],
)
def test_bad_events_raise_a_counted_error(data: bytes, kind: str) -> None:
    with pytest.raises(CotError) as info:
        parse_event(data)
    assert info.value.kind == kind


UAS_TOOL = (b'<event version="2.0" uid="ANDROID-UAS-7" type="a-f-A-M-H-Q" how="m-g" time="2020-11-14T08:01:00Z" '
            b'start="2020-11-14T08:01:00Z" stale="2020-11-14T08:01:10Z"><point lat="39.8201" lon="46.7602" hae="1450.0" ce="8.0" '
            b'le="12.0"/><detail><track course="-90.5" speed="12.1"/><link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" '
            b'relation="p-p" parent_callsign="MP-07"/><__uastool extendedCot="true"/></detail></event>')
ICON_SET = (b'<event version="2.0" uid="ANDROID-589520ccfcd20f01" type="a-u-G" how="h-g-i-g-o" time="2020-11-14T08:00:00Z" '
            b'start="2020-11-14T08:00:00Z" stale="2020-11-14T09:00:00Z"><point lat="39.9" lon="46.8" hae="0" ce="9999999.0" '
            b'le="9999999.0"/><detail/></event>')


def test_a_drones_own_position_from_the_uas_tool_is_a_fix_though_it_names_its_controller() -> None:
    fix = parse_event(UAS_TOOL)
    assert isinstance(fix, CotFix) and fix.uid == "ANDROID-UAS-7" and fix.heading == 269.5


def test_a_marker_from_atak_icon_sets_is_no_fix_of_its_uid() -> None:
    other = parse_event(ICON_SET)
    assert isinstance(other, CotOther) and other.what == "marker" and (other.lat, other.lon) == (39.9, 46.8)


def test_a_geochat_message_is_read_with_its_sender_room_and_text() -> None:
    line = parse_event(CHAT)
    assert isinstance(line, ChatLine) and not isinstance(line, CotFix)
    assert (line.receipt, line.sender_uid, line.sender_callsign, line.chatroom, line.text) == (
        "", "ANDROID-589520ccfcd20f01", "MP-07", "All Chat Rooms", "at OP 3")
