"""Wakes a process's live streams when a change is committed: its own at once, any other process's
through PostgreSQL's ``LISTEN``.

:mod:`peacewatch.core.changes` says which tables each commit changed; this module carries that to
whoever waits for them. A waiter names the tables it cares about (the positions stream waits for
``positions``, the alerts stream for ``alerts``). On SQLite there is only one server process, and
streams also look again every few seconds, so a change committed by a command-line tool in another
process arrives too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import psycopg
from sqlalchemy.engine import make_url

from peacewatch.core.changes import CHANNEL

log = logging.getLogger("peacewatch.notify")
RECONNECT_S = (0.5, 1, 2, 5)


class Notifier:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiters: dict[asyncio.Event, frozenset[str] | None] = {}
        self.listening = False  # True while a LISTEN connection is up: other processes' commits arrive

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def changed(self, tables: Iterable[str]) -> None:
        """Safe from any thread (the after-commit hook runs in the request's): the wake-up is scheduled on the loop."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._wake, frozenset(tables))

    def notify(self) -> None:
        """Wake every waiter, whatever it waits for."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._wake, None)

    def _wake(self, tables: frozenset[str] | None) -> None:
        for event, wanted in self.waiters.items():
            if tables is None or wanted is None or wanted & tables:
                event.set()

    async def wait(self, timeout: float, tables: Iterable[str] | None = None) -> bool:
        """Until a commit changes one of ``tables`` (any, if None) or ``timeout`` passes; True if woken."""
        event = asyncio.Event()
        self.waiters[event] = None if tables is None else frozenset(tables)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.waiters.pop(event, None)


def libpq_url(sqlalchemy_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (no '+psycopg' driver name).

    Several servers, as SQLAlchemy writes them (``?host=db1:5432&host=db2:5432``, with
    ``target_session_attrs=read-write`` to find the primary after a failover), become libpq's own
    multi-host form ``postgresql://db1:5432,db2:5432/...``."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    hosts = url.query.get("host")
    if isinstance(hosts, tuple) and len(hosts) > 1:
        rest = url.difference_update_query(["host"]).set(host=None, port=None)
        text = rest.render_as_string(hide_password=False)
        at = text.index("//") + 2
        user_end = text.index("@", at) + 1 if "@" in text[at:text.find("/", at)] else at
        return text[:user_end] + ",".join(hosts) + text[user_end:]
    return url.render_as_string(hide_password=False)


async def listen_forever(url: str, notifier: Notifier) -> None:
    """Relay PostgreSQL notifications on ``peacewatch`` to the notifier, reconnecting after an outage.

    Whatever was committed while the connection was down is not replayed by PostgreSQL, so every
    waiter is woken on reconnection to look for itself.
    """
    attempt = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True, connect_timeout=5,
                                                             application_name="peacewatch-listen") as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                notifier.listening, attempt = True, 0
                notifier.notify()
                async for message in connection.notifies():
                    notifier.changed(message.payload.split(","))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("LISTEN connection lost (%s); reconnecting", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        finally:
            notifier.listening = False
        await asyncio.sleep(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
        attempt += 1
