"""Pure arithmetic of a mandate's term, renewal and termination notice.

The trilateral statement of 10 November 2020 sets a 5-year term renewed
automatically for 5 more unless a party gives notice 6 months before expiry;
these functions answer "what is the mandate's state on this date" for any such
rule without touching a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta


class MandateStatus(str, enum.Enum):
    not_yet_in_force = "not_yet_in_force"
    in_force = "in_force"
    terminating = "terminating"
    expired = "expired"


@dataclass(frozen=True)
class TermRule:
    start: date
    term_years: int
    renewal_years: int
    notice_months: int


@dataclass(frozen=True)
class MandateState:
    on: date
    status: MandateStatus
    in_force: bool
    term_number: int | None
    term_start: date | None
    term_end: date | None
    renewals: int
    notice_deadline: date | None
    notice_window_open: bool
    renewed_until: date | None
    ends_on: date | None
    assured_until: date | None


def term_end(rule: TermRule, index: int) -> date:
    """End (exclusive) of term ``index``: 0 is the initial term, 1 the first renewal, ..."""
    return rule.start + relativedelta(years=rule.term_years + index * rule.renewal_years)


def term_start(rule: TermRule, index: int) -> date:
    return rule.start if index == 0 else term_end(rule, index - 1)


def notice_deadline(rule: TermRule, index: int) -> date:
    """Last day on which notice stops the renewal at the end of term ``index``."""
    return term_end(rule, index) - relativedelta(months=rule.notice_months)


def term_index_on(rule: TermRule, on: date) -> int:
    """Index of the term that contains ``on`` (which must not be before the start)."""
    index = max(0, (on.year - rule.start.year - rule.term_years) // rule.renewal_years)
    while index > 0 and on < term_start(rule, index):
        index -= 1
    while on >= term_end(rule, index):
        index += 1
    return index


def termination_date(rule: TermRule, notice_given_on: date) -> date:
    """Notice ends the mandate at the first expiry at least ``notice_months`` after it was given."""
    index = term_index_on(rule, max(notice_given_on, rule.start))
    while notice_given_on > notice_deadline(rule, index):
        index += 1
    return term_end(rule, index)


def mandate_state(rule: TermRule, on: date, notice_given_on: date | None = None) -> MandateState:
    """The mandate as known on ``on``: a notice given later than ``on`` is not yet known."""
    blank: dict[str, Any] = dict(
        on=on, term_number=None, term_start=None, term_end=None, renewals=0, notice_deadline=None,
        notice_window_open=False, renewed_until=None, ends_on=None, assured_until=None,
    )
    if on < rule.start:
        return MandateState(**blank, status=MandateStatus.not_yet_in_force, in_force=False)
    known_notice = notice_given_on if notice_given_on is not None and notice_given_on <= on else None
    ends_on = termination_date(rule, known_notice) if known_notice is not None else None
    if ends_on is not None and on >= ends_on:
        last_term = term_index_on(rule, ends_on - relativedelta(days=1))
        return MandateState(
            **blank | {"renewals": last_term, "ends_on": ends_on}, status=MandateStatus.expired, in_force=False
        )
    index = term_index_on(rule, on)
    deadline = notice_deadline(rule, index)
    current = blank | {
        "term_number": index + 1,
        "term_start": term_start(rule, index),
        "term_end": term_end(rule, index),
        "renewals": index,
        "notice_deadline": deadline,
    }
    if ends_on is not None:
        return MandateState(
            **current | {"ends_on": ends_on, "assured_until": ends_on}, status=MandateStatus.terminating, in_force=True
        )
    window_open = on <= deadline
    renewed_until = None if window_open else term_end(rule, index + 1)
    return MandateState(
        **current | {
            "notice_window_open": window_open,
            "renewed_until": renewed_until,
            "assured_until": current["term_end"] if window_open else renewed_until,
        },
        status=MandateStatus.in_force,
        in_force=True,
    )
