"""Who may move a tracker: the identities bound to it, the roles the mission lets report for it, and nobody else.

A position moves the mission's picture and can raise or hide an alert, so it is taken only from a source
the tracker names: a signed-in user (a TAK client's sign-in, a field device, an API client), one device API
token, or one TAK client certificate (by its SHA-256 fingerprint); or from a role the mission allows to
report for it (operations loading a GPS unit's dump). Anonymous input, over TCP or UDP, is taken only by
trackers marked as taking it. A side's liaison never writes a mission tracker, whatever is bound.

A drone reports through the device that controls it (the UAS Tool's events carry a ``p-p`` link to the
controlling ATAK): a tracker with a ``controller`` takes the positions its controller's sources may send.

Pure functions: no database, so the rule is tested alone and applied to a whole batch at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from peacewatch.core.auth import Role

# why a fix was refused; the keys of the CoT listener's ``refused`` counters
ANONYMOUS, NOT_BOUND, LIAISON = "anonymous", "not bound", "liaison"
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_REPORT_ROLES: tuple[str, ...] = (Role.operations.value,)


def fingerprint(text: str) -> str:
    """A certificate's SHA-256 fingerprint in one spelling: lower-case hex without colons or spaces
    (``openssl x509 -fingerprint -sha256`` prints it upper-case with colons)."""
    return re.sub(r"[\s:]", "", text).lower()


@dataclass(frozen=True)
class Sender:
    """Who sent a position, as far as the connection or request proves it."""

    username: str | None = None
    role: Role | None = None
    token_id: int | None = None  # the device API token the request or TAK sign-in used
    certificate: str | None = None  # the TLS client certificate's SHA-256 fingerprint
    address: str = ""

    @property
    def anonymous(self) -> bool:
        return self.username is None and self.certificate is None

    @property
    def who(self) -> str:
        """How the audit log names the sender."""
        if self.username is not None:
            return self.username + (f" (token {self.token_id})" if self.token_id is not None else "")
        if self.certificate is not None:
            return f"certificate {self.certificate[:16]}…"
        return "anonymous"


@dataclass(frozen=True)
class TrackerSources:
    """What a tracker accepts positions from (its row's columns, read once per batch)."""

    tracker_id: int
    code: str
    bound_users: frozenset[str] = frozenset()
    bound_tokens: frozenset[int] = frozenset()
    bound_certificates: frozenset[str] = frozenset()
    report_roles: frozenset[str] = frozenset(DEFAULT_REPORT_ROLES)
    anonymous_input: bool = False
    controller: TrackerSources | None = field(default=None, compare=False)

    @classmethod
    def of(cls, tracker_id: int, code: str, users: Iterable[str] | None, tokens: Iterable[int] | None,
           certificates: Iterable[str] | None, roles: Iterable[str] | None, anonymous_input: bool | None,
           controller: TrackerSources | None = None) -> TrackerSources:
        return cls(tracker_id, code, frozenset(users or ()), frozenset(int(t) for t in tokens or ()),
                   frozenset(fingerprint(c) for c in certificates or ()), frozenset(roles or ()), bool(anonymous_input),
                   controller)


def _own_refusal(tracker: TrackerSources, sender: Sender) -> str | None:
    if sender.anonymous:
        return None if tracker.anonymous_input else ANONYMOUS
    if sender.role is Role.admin or (sender.role is not None and sender.role.value in tracker.report_roles):
        return None
    if sender.username is not None and sender.username in tracker.bound_users:
        return None
    if sender.token_id is not None and sender.token_id in tracker.bound_tokens:
        return None
    if sender.certificate is not None and sender.certificate in tracker.bound_certificates:
        return None
    return NOT_BOUND


def refusal(tracker: TrackerSources, sender: Sender) -> str | None:
    """Why ``sender`` may not move ``tracker`` (one of ANONYMOUS, NOT_BOUND, LIAISON), or None if it may."""
    if sender.role is Role.liaison:
        return LIAISON
    reason = _own_refusal(tracker, sender)
    if reason is not None and tracker.controller is not None and _own_refusal(tracker.controller, sender) is None:
        return None  # a drone's position, sent by the device that controls it
    return reason


def may_be_bound(role: Role) -> bool:
    """Whether a user of ``role`` may be bound to a tracker: the mission's people, never a side's liaison."""
    return role is not Role.liaison
