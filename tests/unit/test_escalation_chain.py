"""The escalation chain's arithmetic: which policy, which steps are due (none skipped, only the latest repeat), who
each step tells by the roster, how long alerts waited; and which chat replies acknowledge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from peacewatch.duty.chain import Policy, Shift, Step, due_steps, on_duty, percentile, policy_for, retry_delay_s, told_by
from peacewatch.duty.delivery import reply_acknowledges
from peacewatch.duty.figures import waits

EMERGENCY = Policy(1, 10, frozenset({"emergency", "casevac"}), 1, (
    Step(0, ("duty_officer",)), Step(120, ("deputy_duty_officer", "chief_of_operations")), Step(300, everyone_on_duty=True)),
    repeat_every_s=600)
EVERYTHING = Policy(2, 100, frozenset(), 3, (Step(0, ("duty_officer",)),))
T0 = datetime(2020, 11, 14, 8, 0, tzinfo=UTC)


def test_the_first_policy_by_rank_that_covers_the_kind_and_priority_is_the_chain() -> None:
    assert policy_for([EVERYTHING, EMERGENCY], "emergency", 1) is EMERGENCY
    assert policy_for([EVERYTHING, EMERGENCY], "silent", 2) is EVERYTHING
    assert policy_for([EMERGENCY], "emergency", 2) is None  # less urgent than the policy covers


@pytest.mark.parametrize(("elapsed", "taken", "due"), [
    (0, set(), [(0, 0, 0)]),
    (119, {(0, 0)}, []),
    (121, {(0, 0)}, [(1, 0, 120)]),
    (1000, set(), [(0, 0, 0), (1, 0, 120), (2, 0, 300), (2, 1, 900)]),  # a leader back late: every step, the latest repeat
    (1000, {(0, 0), (1, 0), (2, 0), (2, 1)}, []),
    (1500, {(0, 0), (1, 0), (2, 0), (2, 1)}, [(2, 2, 1500)]),
    (2800, {(0, 0), (1, 0), (2, 0), (2, 1)}, [(2, 4, 2700)]),  # rounds 2 and 3 missed: told once, not thrice
])
def test_every_step_due_is_taken_once_and_only_the_latest_repeat(elapsed: float, taken: set[tuple[int, int]],
                                                                 due: list[tuple[int, int, int]]) -> None:
    assert due_steps(EMERGENCY, elapsed, taken) == due


def test_a_step_tells_its_duties_on_duty_now_and_a_post_commander_only_for_the_nearest_post() -> None:
    day = (T0 - timedelta(hours=8), T0 + timedelta(hours=4))
    shifts = [Shift("do", "duty_officer", *day), Shift("deputy", "deputy_duty_officer", *day),
              Shift("chief", "chief_of_operations", *day), Shift("night", "duty_officer", T0 - timedelta(hours=20), T0 - timedelta(hours=8)),
              Shift("op3", "post_commander", *day, post_id=3), Shift("op7", "post_commander", *day, post_id=7)]
    now = on_duty(shifts, T0)
    assert "night" not in {s.username for s in now}  # the night shift ended at 00:00 UTC: the day's end is not covered
    assert told_by(EMERGENCY.steps[0], now, None) == ["do"]
    assert told_by(EMERGENCY.steps[1], now, None) == ["chief", "deputy"]
    assert told_by(EMERGENCY.steps[2], now, None) == ["chief", "deputy", "do", "op3", "op7"]
    assert told_by(Step(0, ("post_commander",)), now, 7) == ["op7"]
    assert told_by(Step(0, ("post_commander",)), now, None) == []


def test_notices_are_retried_after_growing_waits() -> None:
    assert [retry_delay_s(n) for n in (1, 2, 3, 7, 20)] == [5, 10, 20, 300, 300]


@pytest.mark.parametrize(("text", "answer"), [("ACK", (True, None)), ("ack 12", (True, 12)), ("Roger #12", (True, 12)),
                                              ("Принял 7", (True, 7)), ("ok", (True, None)), ("at OP 3", (False, None)),
                                              ("acknowledge 3", (True, 3)), ("acknowledgement later", (False, None)),
                                              ("backing off", (False, None))])
def test_which_chat_replies_acknowledge(text: str, answer: tuple[bool, int | None]) -> None:
    assert reply_acknowledges(text) == answer


def test_waits_per_day_and_kind_in_the_missions_time() -> None:
    baku = ZoneInfo("Asia/Baku")
    late = datetime(2020, 11, 14, 21, 0, tzinfo=UTC)  # 01:00 on the 15th in Baku
    rows = [("emergency", T0, T0 + timedelta(seconds=2), T0 + timedelta(seconds=60)),
            ("emergency", T0, T0 + timedelta(seconds=4), T0 + timedelta(seconds=180)),
            ("emergency", T0, None, None),
            ("silent", late, None, late + timedelta(minutes=10))]
    figures = waits(rows, baku)
    assert [(w.day.isoformat(), w.kind, w.raised, w.acknowledged, w.unacknowledged) for w in figures] == [
        ("2020-11-14", "emergency", 3, 2, 1), ("2020-11-15", "silent", 1, 1, 0)]
    assert (figures[0].median_s, figures[0].p90_s, figures[0].notified_median_s) == (120.0, 168.0, 3.0)
    assert percentile([], 50) is None
