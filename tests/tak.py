"""A TAK client for the tests: pytak's connection, TAK Server's sign-in message, and the events it is sent."""

from __future__ import annotations

import asyncio
from configparser import ConfigParser
from typing import Any

import pytak
from lxml import etree

from peacewatch.tracking.cot import EventSplitter, StreamCounters


async def listen(port: int, *, sign_in: bytes = b"", send: list[bytes] | None = None, until: Any = None,
                 seconds: float = 8.0) -> list[etree._Element]:
    """Connect as pytak does, sign in, send, and read events until ``until(events)`` holds or time runs out."""
    config = ConfigParser()
    config["feed-test"] = {"COT_URL": f"tcp://127.0.0.1:{port}", "PYTAK_NO_HELLO": "1"}
    reader, writer = await pytak.protocol_factory(config["feed-test"])
    if sign_in:
        writer.write(sign_in)
    for event in send or []:
        writer.write(event)
    await writer.drain()
    splitter, events = EventSplitter(), []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while loop.time() < deadline and not (until and until(events)):
            try:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.05, deadline - loop.time()))
            except TimeoutError:
                break
            if not chunk:
                break
            events += [etree.fromstring(e) for e in splitter.feed(chunk, StreamCounters())]
    finally:
        writer.close()
    return events


def uids(events: list[etree._Element]) -> set[str]:
    return {e.get("uid") for e in events}


def auth_message(username: str, key: str) -> bytes:
    return f'<auth><cot username="{username}" password="{key}" uid="ANDROID-{username}"/></auth>'.encode()


def run(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: Playwright's sync API keeps a loop running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
