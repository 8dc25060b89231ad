"""A field device's outbox carried as a file: its lines, and the order its items must keep. Pure, no database.

When a phone cannot reach the headquarters for days, its user exports the outbox (the field page's "Export"):
one JSON object per line, a header first, then each item not yet on the server as the device keeps it (what it
says sealed to its user's key, its kind, user and order in clear, binary parts in base64), then an end line
that counts them. The operations centre takes the file in (peacewatch/courier/service.py); the phone may still
send the same items later, and the server's idempotency keeps each once.

A file copied only in part is read up to where it breaks: each item is sealed with AES-GCM, so an item changed
on the way does not open, and the end line tells a truncated file from a whole one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from peacewatch.core.i18n import N_

FORMAT = "peacewatch-outbox"
VERSION = 1
KINDS = frozenset({"step", "checkin", "incident", "recovery", "positions", "file"})


class NotAnOutbox(ValueError):
    """The file is not a field outbox this server reads (its first line says so): ``template`` (str.format, in the
    catalog) and its ``values``, to be said in the reader's language."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values


@dataclass
class CarriedItem:
    """One item of the outbox as the device kept it; ``said`` is what it says once opened (its body, fixes, file)."""

    line: int
    kept: dict[str, Any]
    said: dict[str, Any] = field(default_factory=dict)
    broken: str | None = None  # why this line could not be read as an item

    @property
    def device_id(self) -> int:
        value = self.kept.get("id")
        return value if isinstance(value, int) else -self.line

    @property
    def kind(self) -> str:
        return str(self.kept.get("kind", ""))

    @property
    def user(self) -> str:
        return str(self.kept.get("user", ""))

    def value(self, name: str) -> Any:
        """A field of the item, opened or in clear."""
        return self.said.get(name, self.kept.get(name))


@dataclass
class Reading:
    """What the file's lines held: its header, and whether it ended as its end line says."""

    header: dict[str, Any] = field(default_factory=dict)
    items_read: int = 0
    ended: bool = False
    declared: int | None = None

    @property
    def whole(self) -> bool:
        return self.ended and self.declared == self.items_read


def unb64(text: Any) -> bytes:
    """Bytes a device wrote in base64; ValueError when they are not."""
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as failure:
        raise ValueError("not base64 text") from failure


def read_lines(lines: Iterable[bytes], reading: Reading) -> Iterator[CarriedItem]:
    """The items of an outbox file, in its order, each once; ``reading`` learns the header and the end as they come.
    Raises NotAnOutbox when the first line is not an outbox's header."""
    numbered = enumerate(lines, start=1)
    for _number, raw in numbered:
        if not raw.strip():
            continue
        try:
            header = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise NotAnOutbox(N_("the first line is not JSON: not a field outbox")) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise NotAnOutbox(N_("the first line does not say format {format}: not a field outbox"), format=FORMAT)
        if header.get("version") != VERSION:
            raise NotAnOutbox(N_("version {version} of the outbox file; this server reads version {reads}"),
                              version=str(header.get("version")), reads=VERSION)
        reading.header = header
        break
    else:
        raise NotAnOutbox(N_("the file is empty"))
    last_id = 0
    for number, raw in numbered:
        if not raw.strip():
            continue
        if reading.ended:
            yield CarriedItem(number, {}, broken=N_("a line after the end line"))
            continue
        try:
            kept = orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield CarriedItem(number, {}, broken=N_("not JSON: the file was cut or changed here"))
            continue
        if isinstance(kept, dict) and kept.get("end") is True:
            reading.ended = True
            reading.declared = kept.get("items") if isinstance(kept.get("items"), int) else None
            continue
        reading.items_read += 1
        item = CarriedItem(number, kept if isinstance(kept, dict) else {})
        if not isinstance(kept, dict) or item.kind not in KINDS or not item.user or not isinstance(kept.get("id"), int):
            item.broken = N_("not an outbox item (its id, kind and user)")
        elif kept["id"] <= last_id:
            item.broken = N_("out of the device's order")
        else:
            last_id = kept["id"]
        yield item


def patrol_of(item: CarriedItem) -> int | None:
    """The patrol an item belongs to, if any (a step, a check-in, a report made by a patrol)."""
    if item.kind in ("step", "checkin"):
        value = item.value("patrol_id")
    elif item.kind == "incident":
        value = (item.said.get("body") or {}).get("patrol_id")
    else:
        return None
    return value if isinstance(value, int) else None


def blocker_of(item: CarriedItem, unsent: list[CarriedItem]) -> CarriedItem | None:
    """The earlier item, among ``unsent`` (not stored by this import), that ``item`` must follow onto the server, or
    None: the field page's rule (outbox.js blockerOf). A check-in follows its patrol's steps and check-ins, a report
    its patrol's steps, a step everything of its patrol before it, a file its report."""
    patrol = patrol_of(item)
    for earlier in unsent:
        if earlier.device_id >= item.device_id:
            continue
        if item.kind == "file":
            if earlier.device_id == item.kept.get("after"):
                return earlier
            continue
        if item.kind == "positions" or patrol is None or patrol_of(earlier) != patrol:
            continue
        if item.kind == "checkin" and earlier.kind in ("step", "checkin"):
            return earlier
        if item.kind == "incident" and earlier.kind == "step":
            return earlier
        if item.kind == "step":
            return earlier
    return None
