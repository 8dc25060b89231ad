"""An alert's escalation chain as pure arithmetic: which policy covers it, which steps are due, who each step tells.

No database and no clock: the escalation job (:mod:`duty.service`) reads the roster, the policies and the steps
already taken, asks these functions what is due now, and writes it. Tested alone, with any "now".

A step is due ``after_s`` seconds after the alert was raised; every step of the chain is taken, none skipped,
even when the leader was away past several of them. After the last step, when the policy repeats, the last
step is taken again every ``repeat_every_s`` seconds until someone acknowledges: only the latest repeat due is
taken (a leader back after ten minutes tells people once, not five times).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Step:
    after_s: int
    duties: tuple[str, ...] = ()
    everyone_on_duty: bool = False
    channels: tuple[str, ...] = ("tak", "email")


@dataclass(frozen=True)
class Policy:
    id: int
    rank: int
    kinds: frozenset[str]
    max_priority: int
    steps: tuple[Step, ...]
    repeat_every_s: int | None = None

    def covers(self, kind: str, priority: int) -> bool:
        return (not self.kinds or kind in self.kinds) and priority <= self.max_priority


@dataclass(frozen=True)
class Shift:
    username: str
    duty: str
    starts_at: datetime
    ends_at: datetime
    post_id: int | None = None

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def policy_for(policies: Iterable[Policy], kind: str, priority: int) -> Policy | None:
    """The first policy, by rank then id, that covers an alert of ``kind`` and ``priority``."""
    return next((p for p in sorted(policies, key=lambda p: (p.rank, p.id)) if p.covers(kind, priority)), None)


def due_steps(policy: Policy, elapsed_s: float, taken: set[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The (step, round, seconds after raising it was due) not yet taken and due ``elapsed_s`` after the alert was
    raised: every chain step due (none skipped), then the latest repeat of the last step, if one is due."""
    due = [(index, 0, step.after_s) for index, step in enumerate(policy.steps) if step.after_s <= elapsed_s and (index, 0) not in taken]
    if policy.repeat_every_s and policy.steps:
        last = len(policy.steps) - 1
        after = policy.steps[last].after_s
        rounds = math.floor((elapsed_s - after) / policy.repeat_every_s) if elapsed_s >= after else 0
        if rounds >= 1 and (last, rounds) not in taken:
            due.append((last, rounds, after + rounds * policy.repeat_every_s))
    return due


def on_duty(shifts: Iterable[Shift], at: datetime) -> list[Shift]:
    return [shift for shift in shifts if shift.covers(at)]


def told_by(step: Step, shifts_now: Sequence[Shift], nearest_post: int | None) -> list[str]:
    """Who a step tells, by the roster at that moment: the people on the step's duties (a post's commander only for
    the post nearest the alert), or everyone on duty. Sorted, each once."""
    if step.everyone_on_duty:
        return sorted({shift.username for shift in shifts_now})
    wanted = set(step.duties)
    return sorted({shift.username for shift in shifts_now if shift.duty in wanted
                   and (shift.post_id is None or shift.post_id == nearest_post)})


def retry_delay_s(attempts: int) -> float:
    """The wait before a notice's next attempt after ``attempts`` failures: 5 s doubling, at most five minutes."""
    return float(min(5 * 2 ** max(attempts - 1, 0), 300))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, interpolated between closest ranks as numpy does; None if empty."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else None
