"""Cursor-on-Target parsing: real TAK events, a stream cut anywhere, and hostile input."""

from __future__ import annotations

import pytest

from peacewatch.tracking.cot import CotError, EventSplitter, StreamCounters, parse_event

EVENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<event version="2.0" uid="ANDROID-mp07" type="a-f-G-U-U-L-M" how="m-g" time="2020-11-14T08:00:05Z" '
    b'start="2020-11-14T08:00:05Z" stale="2020-11-14T08:05:05Z"><point lat="40.1" lon="46.7" hae="9999999.0" '
    b'ce="12.5" le="9999999.0"/><detail><contact callsign="MP-07"/><track speed="8.5" course="271.0"/></detail></event>'
)
PING = b'<event version="2.0" uid="takPing" type="t-x-d-d" how="m-g" time="2020-11-14T08:00:00Z" start="2020-11-14T08:00:00Z" stale="2020-11-14T08:01:00Z"><point lat="0" lon="0" hae="0" ce="0" le="0"/></event>'


def test_a_position_event_is_read_with_its_track() -> None:
    fix = parse_event(EVENT)
    assert fix is not None
    assert (fix.uid, fix.lat, fix.lon, fix.speed, fix.heading, fix.accuracy) == ("ANDROID-mp07", 40.1, 46.7, 8.5, 271.0, 12.5)
    assert fix.alt is None  # 9999999 means unknown in CoT
    assert fix.t_ms == 1605340805000


def test_pings_carry_no_position() -> None:
    assert parse_event(PING) is None


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
