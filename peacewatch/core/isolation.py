"""Untrusted files are decoded in worker processes with a memory bound, never in the server's own process.

A photo, a video or a PDF from the field is read by C decoders (libjpeg, libpng, libheif, FFmpeg, qpdf): a
decompression bomb (a small PNG of 225 million pixels) asks one of them for gigabytes, and a malformed file
may crash it. Here each such job runs in a small worker process started with ``python -m`` (it imports only
the module of its jobs, not the server) whose address space is capped (``RLIMIT_AS``) and whose output files
are capped (``RLIMIT_FSIZE``): a bomb costs at most that bound, fails with ``MemoryError`` in the worker, and
the server carries on. A job that overruns its time is killed. A worker is replaced after a number of jobs, so
whatever memory its allocator kept is given back to the system.

The worker speaks JSON over a socket pair (``multiprocessing.connection`` frames the messages): no pickle
crosses from a process that handles hostile input to the one that holds the database. Jobs take paths and
plain values and return plain values; a file they make is written to a path the caller names.

The worker's side runs as ``python -m peacewatch.core.isolation MODULE FD MEMORY FILE_SIZE``: MODULE's ``JOBS``
maps job names to functions; a job refuses its input by raising :class:`Refused`.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

MAX_ANSWER_BYTES = 1 << 20


class Refused(Exception):
    """Raised by a job: its input is not acceptable (too many pixels, not a file of its kind). Said to the user:
    its English template (``str.format``) and values cross to the server, which says it in the reader's language."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(template.format(**values))
        self.template, self.values = template, values


class WorkerFailed(Exception):
    """The job did not finish: it ran out of its memory bound (``kind`` "memory"), of time ("timeout") or the
    worker died ("crashed")."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1 << 30
    file_bytes: int = 512 << 20
    timeout_s: float = 120.0
    jobs_per_worker: int = 200


class _Worker:
    def __init__(self, module: str, limits: Limits) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, module, str(theirs.fileno()), str(limits.memory_bytes), str(limits.file_bytes)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
            self.connection = Connection(os.dup(ours.fileno()))
        self.jobs = 0

    def call(self, request: bytes, timeout_s: float) -> dict[str, Any]:
        self.jobs += 1
        try:
            self.connection.send_bytes(request)
            if not self.connection.poll(timeout_s):
                self.close()
                raise WorkerFailed("timeout", f"no answer within {timeout_s:.0f} s")
            answer: dict[str, Any] = json.loads(self.connection.recv_bytes(MAX_ANSWER_BYTES))
            return answer
        except (EOFError, OSError) as exc:
            self.close()
            raise WorkerFailed("crashed", f"the worker ended ({self.process.returncode}): {exc}") from None

    def close(self) -> None:
        self.connection.close()  # the worker reads end-of-file and leaves
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class IsolatedWorkers:
    """Up to ``size`` workers running MODULE's jobs, started when first needed; a caller waits for a free one."""

    def __init__(self, module: str, limits: Limits, size: int = 2) -> None:
        self.module, self.limits = module, limits
        self._free: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(size):
            self._free.put(None)  # a place for a worker, started on first use
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()

    def run(self, job: str, **args: Any) -> Any:
        """The job's result; :class:`Refused` if it refused its input, :class:`WorkerFailed` if it did not finish."""
        request = json.dumps({"job": job, "args": args}).encode()
        worker = self._free.get()
        kept = False
        try:
            if worker is None:
                worker = _Worker(self.module, self.limits)
                with self._lock:
                    self._all.add(worker)
            answer = worker.call(request, self.limits.timeout_s)
            kept = "failed" not in answer and worker.jobs < self.limits.jobs_per_worker
        finally:
            if not kept:
                self._retire(worker)
                worker = None
            self._free.put(worker)
        if "refused" in answer:
            raise Refused(answer["refused"], **answer.get("values", {}))
        if "failed" in answer:
            raise WorkerFailed(answer["failed"], answer.get("detail", ""))
        return answer["result"]

    def _retire(self, worker: _Worker | None) -> None:
        if worker is None:
            return
        worker.close()
        with self._lock:
            self._all.discard(worker)

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._all]

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.close()


# --- the worker's side -------------------------------------------------------------------------------------


def _serve(jobs: dict[str, Callable[..., Any]], connection: Connection) -> None:
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except EOFError:
            return
        try:
            answer: dict[str, Any] = {"result": jobs[request["job"]](**request["args"])}
        except Refused as exc:
            answer = {"refused": exc.template, "values": exc.values}
        except MemoryError:
            connection.send_bytes(json.dumps({"failed": "memory", "detail": "over the worker's memory bound"}).encode())
            return  # leave: what the allocator keeps is given back with the process
        except Exception as exc:  # a decoder's error on a malformed file: the caller decides what it means
            answer = {"failed": "error", "detail": f"{type(exc).__name__}: {exc}"[:2000]}
        connection.send_bytes(json.dumps(answer).encode())


def _address_space() -> int:
    """This process's virtual size in bytes (what RLIMIT_AS bounds)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def main(argv: list[str]) -> None:
    module, fd, memory, file_bytes = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    jobs = importlib.import_module(module).JOBS  # the decoders' libraries are mapped before the bound is set
    bound = _address_space() + memory  # what a job may take beyond the libraries
    resource.setrlimit(resource.RLIMIT_AS, (bound, bound))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    with Connection(fd) as connection:
        _serve(jobs, connection)


if __name__ == "__main__":
    # run as the module the jobs import, so that the Refused they raise is the class caught here
    from peacewatch.core.isolation import main as served

    served(sys.argv[1:])
