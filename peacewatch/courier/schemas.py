from __future__ import annotations

from pydantic import BaseModel, Field


class OutcomeOut(BaseModel):
    """What became of one item of the carried outbox."""

    line: int = Field(description="The item's line in the file")
    item: int = Field(description="The item's number on the device")
    kind: str = Field(description="step, checkin, incident, recovery, positions or file")
    user: str = Field(description="Who made it on the device: it is stored as theirs")
    outcome: str = Field(description="stored; already_stored (by the device or an earlier import); refused; held (it "
                                     "follows an item not stored)")
    record: str | None = Field(default=None, description="The record it became (its id; for positions, stored/received)")
    reason: str | None = Field(default=None, description="Why it was not stored, in the reader's language")


class OutboxTakenInOut(BaseModel):
    """A carried outbox taken in: per item what was stored and what was not."""

    file_sha256: str = Field(description="The file's SHA-256, as the audit log names it")
    whole: bool = Field(description="The file ended with its end line and held every item it counts: not copied in part")
    received: int
    stored: int
    duplicates: int = Field(description="Items already on the server (sent by the device, or an earlier import)")
    refused: int
    held: int
    outcomes: list[OutcomeOut]
