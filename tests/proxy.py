"""A TCP proxy that tests cut and restore."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any


class Proxy:
    """A TCP proxy a test can cut: what is behind it "goes away" for those who go through it (connections reset,
    new ones closed at once) and comes back, while the test's own connections stay up. Between the servers and
    PostgreSQL (tests/cluster); between a browser and the server (tests/browser: the context's offline switch does
    not reach a service worker's own requests, the cut does)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.pairs: list[tuple[Any, Any]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown, not only close: closing a socket another thread is blocked reading leaves the connection
            # open, and PostgreSQL would keep a dead server's session (and its advisory lock) for the next test.
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    end.close()

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            for end in (client, server):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        """Stop listening and end every connection, so no session outlives the test."""
        with contextlib.suppress(OSError):
            self.listener.close()
        self.cut()
