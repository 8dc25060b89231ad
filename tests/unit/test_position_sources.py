"""Who may move a tracker (tracking.sources): the rule alone, without a database."""

from __future__ import annotations

import pytest

from peacewatch.core.auth import Role
from peacewatch.tracking.sources import ANONYMOUS, LIAISON, NOT_BOUND, Sender, TrackerSources, fingerprint, refusal

CERT = "ab" * 32
PATROL_VEHICLE = TrackerSources.of(1, "MP-N1", ["patrol"], [7], [CERT], ["operations"], False)
DRONE = TrackerSources.of(2, "UAS-7", [], [], [], ["operations"], False, controller=PATROL_VEHICLE)
BEACON = TrackerSources.of(3, "BEACON", [], [], [], [], True)


@pytest.mark.parametrize(("tracker", "sender", "expected"), [
    (PATROL_VEHICLE, Sender("patrol", Role.patrol), None),  # the bound user, from any of its devices
    (PATROL_VEHICLE, Sender("patrol2", Role.patrol), NOT_BOUND),  # another user's device
    (PATROL_VEHICLE, Sender("patrol2", Role.patrol, token_id=7), None),  # ... unless it carries the bound device token
    (PATROL_VEHICLE, Sender(certificate=CERT), None),  # a bound certificate that names no user
    (PATROL_VEHICLE, Sender(certificate="cd" * 32), NOT_BOUND),
    (PATROL_VEHICLE, Sender("ops", Role.operations), None),  # a role allowed to report for it
    (PATROL_VEHICLE, Sender("admin", Role.admin), None),
    (PATROL_VEHICLE, Sender("air", Role.air), NOT_BOUND),
    (PATROL_VEHICLE, Sender(), ANONYMOUS),
    (PATROL_VEHICLE, Sender("liaison-b", Role.liaison, certificate=CERT), LIAISON),  # never a side, whatever is bound
    (BEACON, Sender(), None),  # a tracker that takes anonymous input
    (BEACON, Sender("liaison-a", Role.liaison), LIAISON),
    (DRONE, Sender("patrol", Role.patrol), None),  # its controller's sources report for it
    (DRONE, Sender("patrol2", Role.patrol), NOT_BOUND),
    (DRONE, Sender(), ANONYMOUS),
])
def test_a_tracker_takes_positions_only_from_its_sources(tracker: TrackerSources, sender: Sender, expected: str | None) -> None:
    assert refusal(tracker, sender) == expected


def test_a_fingerprint_has_one_spelling_whatever_openssl_printed() -> None:
    assert fingerprint("AB:" * 31 + "AB") == CERT and fingerprint(" ab" * 32) == CERT
