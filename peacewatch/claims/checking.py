"""Whether a statement about who takes part holds on a date, pure.

"Troops of state X take part in the monitoring" holds when X is an authorised contributor in the
mandate on that date. Arrangements beside the mandate change the answer without making it a yes:
a state that sends staff to a monitoring centre outside the areas of responsibility takes part in
the monitoring, but its troops do not deploy, so the claim is neither supported nor contradicted
but answered with the arrangement's terms.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from peacewatch.core.i18n import N_


class Verdict(str, enum.Enum):
    supported = "supported"
    contradicted = "contradicted"
    nuanced = "nuanced"
    not_checkable = "not_checkable"


@dataclass(frozen=True)
class Terms:
    """An arrangement's terms, as the check reads them."""

    id: int
    name: str
    states: tuple[str, ...]
    starts_on: date
    ends_on: date | None
    place: str
    staff_per_state: int | None
    means: str
    troops_in_areas: bool

    def in_force_on(self, on: date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    reason: str
    contributor: bool
    arrangements: tuple[Terms, ...]
    # the reason again as a sentence of the catalogs and its values: a page says it in the reader's language
    sentence: str = ""
    values: dict[str, str] | None = None


CONTRIBUTOR = N_("%(state)s is an authorised contributor to the force on %(day)s")
TROOPS = N_("troops of %(state)s deploy in the areas under the %(arrangement)s on %(day)s")
PART_ONLY = N_("On %(day)s, staff of %(state)s take part in %(arrangements)s; no troops of %(state)s deploy in the areas "
               "of responsibility, and %(state)s is not a contributor to the force")
NO_PART = N_("%(state)s is not an authorised contributor to the force on %(day)s, and no arrangement in force gives it a part")


def _terms_text(state_name: str, t: Terms) -> str:
    staff = f" (up to {t.staff_per_state} per side)" if t.staff_per_state is not None else ""
    where = f" in {t.place}" if t.place else ""
    how = f", {t.means}" if t.means else ""
    return f"staff of {state_name}{staff} take part in the {t.name}{where}{how}, since {t.starts_on.isoformat()}"


def check_participation(
    state: str, state_name: str, on: date, *, denies: bool, contributors: Sequence[str], arrangements: Sequence[Terms],
) -> Finding:
    """The verdict on a statement that troops of ``state`` take part (or, if ``denies``, do not) on ``on``."""
    active = tuple(t for t in arrangements if state in t.states and t.in_force_on(on))
    values = {"state": state_name, "day": on.isoformat()}
    if state in contributors:
        return Finding(Verdict.contradicted if denies else Verdict.supported,
                       f"{state_name} is an authorised contributor to the force on {on.isoformat()}", True, active,
                       CONTRIBUTOR, values)
    troops = [t for t in active if t.troops_in_areas]
    if troops:
        return Finding(Verdict.contradicted if denies else Verdict.supported,
                       f"troops of {state_name} deploy in the areas under the {troops[0].name} on {on.isoformat()}", False, active,
                       TROOPS, values | {"arrangement": troops[0].name})
    if active:
        parts = "; ".join(_terms_text(state_name, t) for t in active)
        return Finding(Verdict.nuanced, f"On {on.isoformat()}, {parts}; no troops of {state_name} deploy in the areas "
                       f"of responsibility, and {state_name} is not a contributor to the force", False, active,
                       PART_ONLY, values | {"arrangements": ", ".join(t.name for t in active)})
    return Finding(Verdict.supported if denies else Verdict.contradicted,
                   f"{state_name} is not an authorised contributor to the force on {on.isoformat()}, "
                   "and no arrangement in force gives it a part", False, active, NO_PART, values)
