"""The arithmetic of the mandate's term, renewal and notice, without a database."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from peacewatch.mandate.terms import MandateStatus, TermRule, mandate_state, notice_deadline, term_end, termination_date

NK = TermRule(start=date(2020, 11, 10), term_years=5, renewal_years=5, notice_months=6)


def test_the_initial_term_ends_after_five_years() -> None:
    assert term_end(NK, 0) == date(2025, 11, 10)
    assert term_end(NK, 1) == date(2030, 11, 10)


def test_notice_must_come_six_months_before_expiry() -> None:
    assert notice_deadline(NK, 0) == date(2025, 5, 10)


def test_the_deadline_day_itself_still_allows_notice() -> None:
    assert mandate_state(NK, date(2025, 5, 10)).notice_window_open is True
    after = mandate_state(NK, date(2025, 5, 11))
    assert after.notice_window_open is False and after.renewed_until == date(2030, 11, 10)


def test_notice_in_time_ends_the_current_term() -> None:
    assert termination_date(NK, date(2025, 5, 10)) == date(2025, 11, 10)


def test_late_notice_ends_the_next_term() -> None:
    assert termination_date(NK, date(2025, 5, 11)) == date(2030, 11, 10)


def test_a_notice_is_not_known_before_it_is_given() -> None:
    assert mandate_state(NK, date(2024, 1, 1), notice_given_on=date(2025, 1, 1)).status is MandateStatus.in_force
    assert mandate_state(NK, date(2025, 2, 1), notice_given_on=date(2025, 1, 1)).status is MandateStatus.terminating


def test_after_termination_the_mandate_has_expired() -> None:
    state = mandate_state(NK, date(2025, 11, 10), notice_given_on=date(2025, 1, 1))
    assert state.status is MandateStatus.expired and state.in_force is False and state.renewals == 0


def test_leap_day_start_is_handled() -> None:
    rule = TermRule(start=date(2024, 2, 29), term_years=1, renewal_years=1, notice_months=6)
    assert term_end(rule, 0) == date(2025, 2, 28)


@given(st.dates(min_value=date(2020, 11, 10), max_value=date(2200, 1, 1)))
def test_every_day_in_force_lies_inside_its_term(day: date) -> None:
    state = mandate_state(NK, day)
    assert state.in_force and state.term_start is not None and state.term_end is not None
    assert state.term_start <= day < state.term_end
    assert state.renewals == (state.term_number or 0) - 1
    assert state.assured_until is not None and state.assured_until > day


@given(st.dates(min_value=date(2020, 11, 10), max_value=date(2100, 1, 1)))
def test_a_notice_never_ends_the_mandate_sooner_than_its_notice_period(given_on: date) -> None:
    ends = termination_date(NK, given_on)
    assert ends - given_on >= timedelta(days=181 - 3)  # six months, give or take month lengths
