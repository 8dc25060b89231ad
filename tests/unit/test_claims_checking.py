"""Checking who takes part, pure: contributors, arrangements in and out of force, claims and denials."""

from __future__ import annotations

from datetime import date

import pytest

from peacewatch.claims.checking import Terms, Verdict, check_participation

CENTRE = Terms(1, "joint monitoring centre", ("RUS", "TUR"), date(2021, 1, 30), None, "Agdam district", 60,
               "remote monitoring by drones", False)
JOINT_FORCE = Terms(2, "joint force", ("TUR",), date(2030, 1, 1), date(2030, 12, 31), "", None, "", True)


@pytest.mark.parametrize(("state", "on", "denies", "verdict"), [
    ("TUR", date(2020, 11, 14), False, Verdict.contradicted),
    ("TUR", date(2020, 11, 14), True, Verdict.supported),
    ("RUS", date(2020, 11, 14), False, Verdict.supported),
    ("RUS", date(2020, 11, 14), True, Verdict.contradicted),
    ("TUR", date(2021, 1, 29), False, Verdict.contradicted),
    ("TUR", date(2021, 1, 30), False, Verdict.nuanced),
    ("TUR", date(2021, 1, 30), True, Verdict.nuanced),
    ("TUR", date(2030, 6, 1), False, Verdict.supported),  # troops deploy under the joint force
    ("TUR", date(2031, 1, 1), False, Verdict.nuanced),  # the joint force ended, the centre goes on
    ("FRA", date(2021, 6, 1), False, Verdict.contradicted),
])
def test_participation_on_a_date(state: str, on: date, denies: bool, verdict: Verdict) -> None:
    found = check_participation(state, state, on, denies=denies, contributors=["RUS"], arrangements=[CENTRE, JOINT_FORCE])
    assert found.verdict is verdict
    assert found.contributor is (state == "RUS")


def test_the_nuanced_answer_states_the_arrangements_terms() -> None:
    found = check_participation("TUR", "Türkiye", date(2021, 2, 1), denies=False, contributors=["RUS"], arrangements=[CENTRE])
    assert found.arrangements == (CENTRE,)
    for words in ("staff of Türkiye (up to 60 per side)", "joint monitoring centre in Agdam district", "drones",
                  "since 2021-01-30", "no troops of Türkiye deploy in the areas of responsibility"):
        assert words in found.reason
