"""Reading a carried outbox file, and the order its items keep (no database)."""

from __future__ import annotations

import json

import pytest

from peacewatch.courier.outbox_file import CarriedItem, NotAnOutbox, Reading, blocker_of, read_lines

HEADER = {"format": "peacewatch-outbox", "version": 1}


def lines(*objects: object) -> list[bytes]:
    return [json.dumps(o).encode() + b"\n" for o in objects]


def test_a_whole_file_is_read_in_order_and_a_cut_one_is_told() -> None:
    reading = Reading()
    items = list(read_lines(lines(HEADER, {"id": 1, "kind": "incident", "user": "ops"}, {"id": 2, "kind": "file", "user": "ops"},
                                  {"end": True, "items": 2}), reading))
    assert [i.device_id for i in items] == [1, 2] and reading.whole and not any(i.broken for i in items)
    cut = Reading()
    list(read_lines(lines(HEADER, {"id": 1, "kind": "incident", "user": "ops"}) + [b'{"id": 2, "kind": "fi'], cut))
    assert not cut.whole


def test_broken_lines_are_said_each_and_the_rest_read() -> None:
    items = list(read_lines(lines(HEADER, {"id": 2, "kind": "incident", "user": "ops"}, {"id": 1, "kind": "incident", "user": "ops"},
                                  {"id": 3, "kind": "letter", "user": "ops"}, {"id": 4, "kind": "step", "user": "ops"}), Reading()))
    assert [i.broken for i in items] == [None, "out of the device's order", "not an outbox item (its id, kind and user)", None]


@pytest.mark.parametrize("first", [b"type,lat,lon\n", b'{"format": "other"}\n', b'{"format": "peacewatch-outbox", "version": 9}\n', b""])
def test_what_is_not_an_outbox_is_refused_whole(first: bytes) -> None:
    with pytest.raises(NotAnOutbox):
        list(read_lines([first], Reading()))


def test_order_is_the_field_pages() -> None:
    start = CarriedItem(1, {"id": 1, "kind": "step", "patrol_id": 7})
    check_in = CarriedItem(2, {"id": 2, "kind": "checkin", "patrol_id": 7})
    report = CarriedItem(3, {"id": 3, "kind": "incident"}, said={"body": {"patrol_id": 7}})
    other = CarriedItem(4, {"id": 4, "kind": "incident"}, said={"body": {"patrol_id": 8}})
    photo = CarriedItem(5, {"id": 5, "kind": "file", "after": 3})
    fixes = CarriedItem(6, {"id": 6, "kind": "positions"})
    assert blocker_of(check_in, [start]) is start and blocker_of(report, [start]) is start
    assert blocker_of(report, [check_in]) is None  # a report waits for its patrol's steps, not its check-ins
    assert blocker_of(other, [start]) is None and blocker_of(fixes, [start]) is None
    assert blocker_of(photo, [report]) is report and blocker_of(photo, [other]) is None
