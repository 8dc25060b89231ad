"""A real SMTP server for the tests (aiosmtpd), which can refuse the first messages it is given."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    refuse_first: int = 0  # answer 451 (try again later) to this many messages, then accept
    received: list[Message] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.perf_counter() at each message's arrival
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refused < self.refuse_first:
                self.refused += 1
                return "451 4.3.0 mailbox busy, try again later"
            self.received.append(email.message_from_bytes(envelope.content))
            self.arrived.append(time.perf_counter())
        return "250 OK"

    def timed(self) -> list[tuple[Message, float]]:
        with self.lock:
            return list(zip(self.received, self.arrived))

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.received if m["To"] == address]


@contextmanager
def smtp_server(refuse_first: int = 0) -> Iterator[tuple[Mailbox, int]]:
    """A mailbox and the port its SMTP server listens on, at 127.0.0.1."""
    box = Mailbox(refuse_first=refuse_first)
    with socket.socket() as probe:  # aiosmtpd checks its server by connecting to its port: it needs a number, not 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
