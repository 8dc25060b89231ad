"""A real SMTP server for the tests (aiosmtpd), which can refuse the first messages it is given."""

from __future__ import annotations

import email
import socket
import threading
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
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refused < self.refuse_first:
                self.refused += 1
                return "451 4.3.0 mailbox busy, try again later"
            self.received.append(email.message_from_bytes(envelope.content))
        return "250 OK"

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
