"""The chain of custody as a keyed hash chain, pure.

Each event's hash is an HMAC-SHA256, under the deployment's custody key, of the event's fields and
the previous event's hash. Someone who edits, deletes or reorders events in the database cannot
forge the hashes without the key, which lives outside the database. The body keeps the count
and the last hash, so dropping the newest event is detected too; the audit log's record of
every event written is a third, independent witness.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = "0" * 64
CHAINED_FIELDS = ("body", "seq", "kind", "at", "place", "released_by", "received_by", "note", "recorded_by", "handover_id")


@dataclass(frozen=True)
class Link:
    """A custody event as the chain sees it."""

    body: str  # the body number: an event cannot be moved to another body
    seq: int
    kind: str
    at: datetime
    place: str
    released_by: str
    received_by: str
    note: str
    recorded_by: str
    handover_id: int | None
    prev_hash: str
    hash: str = ""

    def payload(self) -> bytes:
        values: dict[str, Any] = {name: getattr(self, name) for name in CHAINED_FIELDS}
        values["at"] = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)


def link_hash(key: bytes, link: Link) -> str:
    return hmac.new(key, link.prev_hash.encode() + b"\n" + link.payload(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int | None
    problem: str


def verify_chain(key: bytes, links: Sequence[Link], *, count: int, head: str, audited_ids: Iterable[int] = (),
                 ids: Sequence[int] = ()) -> list[Break]:
    """Every way the stored chain differs from an untouched one; empty when it is intact.

    ``count`` and ``head`` are what the body says its chain holds; ``audited_ids`` the custody
    event ids the audit log saw created for this body, ``ids`` the ids of ``links``.
    """
    breaks: list[Break] = []
    previous = GENESIS
    for position, link in enumerate(links, start=1):
        if link.seq != position:
            breaks.append(Break(link.seq, f"event {position} is missing: the next stored event is number {link.seq}"))
        if link.prev_hash != previous:
            breaks.append(Break(link.seq, "does not follow the event before it (an event was removed or reordered)"))
        if not hmac.compare_digest(link_hash(key, link), link.hash):
            breaks.append(Break(link.seq, "its content was changed after it was recorded (the hash does not match)"))
        previous = link.hash
    if len(links) != count:
        breaks.append(Break(None, f"the body records {count} custody events but {len(links)} are stored"))
    if head != previous:
        breaks.append(Break(None, "the last stored event is not the one the body records as its latest"))
    missing = sorted(set(audited_ids) - set(ids))
    if missing:
        breaks.append(Break(None, f"custody events {', '.join(map(str, missing))} were recorded (audit log) but are gone"))
    return breaks


def chain_digest(heads: Mapping[str, str]) -> str:
    """One digest of every body's head: print it in the daily report and any later rewrite shows."""
    return hashlib.sha256(orjson.dumps(dict(sorted(heads.items())))).hexdigest()
