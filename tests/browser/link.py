"""The field's link to the headquarters, for the browser tests: a TCP relay between the browser and the server that
can be cut and restored.

Playwright's offline switch does not reach a service worker's own requests: cut there alone, the worker quietly
fetches a fresh page and a fresh token, and a test of a day offline would pass for the wrong reason. Cutting the
relay makes the server unreachable for the page and its worker alike (connections refused, open ones closed),
while the test still talks to the server directly to check what it stored.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class Link:
    """A relay from a free loopback port (``url``) to ``target_port``; ``cut()`` and ``restore()`` it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Link:
        self.restore()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.cut()

    def restore(self) -> None:
        """Listen again: the server is reachable."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and close every open connection: the server is unreachable."""
        with self._lock:
            listener, self._listener = self._listener, None
            open_now, self._open = self._open, set()
        for sock in [*([listener] if listener else []), *open_now]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            source.close()  # each direction closes the socket it read; the other direction closes the other
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
