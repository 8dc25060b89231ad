"""Files kept by their content: photos, videos and documents attached to records as evidence.

A file is named by the SHA-256 of its bytes, so a resend (a field device that did not hear the answer)
stores nothing twice, and a file can be shown unaltered later by hashing it again. The store is an
interface: its default keeps the files under the data directory, which several server processes on
several machines share when it is on a shared file system; another store (an object store) only has
to answer the same questions (``BlobStore``).

Files are streamed to disk in chunks while they are hashed, never held whole in memory: a 3 MB photo
and a 200 MB video cost the server the same few hundred kilobytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_BYTES = 256 * 1024
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
SCRATCH_PREFIX = ".incoming-"  # a file received or made, not yet kept
DERIVED = "derived"  # files made from stored files, named by the original's hash


class StoreFull(Exception):
    """The file store's disk (or quota) is full: nothing of the file was kept."""


def _full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class TooLarge(Exception):
    """The file went over the size it was allowed; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} bytes")
        self.limit = limit


class Incoming:
    """A file received and hashed but not yet kept: its caller checks it (hash, type, size) and keeps it or
    lets it go. Used as a context manager, a file not kept is deleted on leaving."""

    def __init__(self, store: FileSystemBlobs, scratch: Path, sha256: str, size: int, head: bytes) -> None:
        self._store, self._scratch = store, scratch
        self.sha256, self.size, self.head = sha256, size, head

    @property
    def path(self) -> Path:
        """Where the received bytes wait, for a worker process to read them before they are kept."""
        return self._scratch

    def keep(self) -> bool:
        """Name the file by its hash; False when the store already held these very bytes (then freshened: the sweep
        spares a file this recent, so the row about to name it finds it there)."""
        final = self._store.path(self.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.utime(final)
        except FileNotFoundError:
            os.replace(self._scratch, final)  # atomic: two processes keeping the same bytes leave one file with them
            return True
        self.discard()
        return False

    def discard(self) -> None:
        self._scratch.unlink(missing_ok=True)

    def __enter__(self) -> Incoming:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()


class BlobStore(Protocol):
    def receive(self, chunks: Iterable[bytes], *, max_bytes: int) -> Incoming: ...

    def put_bytes(self, data: bytes) -> str: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def rehash(self, sha256: str) -> str | None: ...

    def local_path(self, sha256: str) -> Path: ...

    def scratch(self) -> Path: ...

    def open_derived(self, sha256: str, kind: str) -> BinaryIO | None: ...

    def keep_derived(self, sha256: str, kind: str, made: Path) -> None: ...

    def sweep(self, named: Callable[[], set[str]], grace_s: float) -> Swept: ...


class FileSystemBlobs:
    """The default store: ``root/ab/cd/abcd…``, each file written to a scratch file, fsynced, then renamed to its
    hash, so a file the database names after a commit is whole on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # two stores on one root are one store: what is derived from a stored file may be kept across requests
    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileSystemBlobs) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def path(self, sha256: str) -> Path:
        if not SHA256_HEX.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def receive(self, chunks: Iterable[bytes], *, max_bytes: int) -> Incoming:
        """Stream ``chunks`` to a scratch file while hashing them; refused past ``max_bytes`` (nothing kept)."""
        digest = hashlib.sha256()
        size, head = 0, b""
        scratch = self.scratch()
        try:
            with scratch.open("wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    if len(head) < 512:
                        head += chunk[: 512 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            scratch.unlink(missing_ok=True)
            if _full(exc):
                raise StoreFull(str(exc)) from None
            raise
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        return Incoming(self, scratch, digest.hexdigest(), size, head)

    def put_bytes(self, data: bytes) -> str:
        """Keep a small file made here (a thumbnail); its hash."""
        with self.receive([data], max_bytes=len(data)) as incoming:
            incoming.keep()
            return incoming.sha256

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def rehash(self, sha256: str) -> str | None:
        """The SHA-256 of the bytes now kept under ``sha256``'s name; None if the file is gone."""
        try:
            with self.path(sha256).open("rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        except (FileNotFoundError, ValueError):
            return None

    def local_path(self, sha256: str) -> Path:
        """The stored file as a path on this machine, for a worker process to read."""
        return self.path(sha256)

    def scratch(self) -> Path:
        """A new empty scratch file in the store (swept like an upload's if a crash leaves it behind)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.root, prefix=SCRATCH_PREFIX)
        except OSError as exc:
            if _full(exc):
                raise StoreFull(str(exc)) from None
            raise
        os.close(handle)
        return Path(name)

    def derived_path(self, sha256: str, kind: str) -> Path:
        """Where a file made from the stored file ``sha256`` is kept (its copy without metadata: kind "clean"):
        named by the original's hash, it never goes stale, on any process."""
        if not re.fullmatch(r"[a-z]+", kind):
            raise ValueError(f"not a kind of derived file: {kind!r}")
        return self.root / DERIVED / sha256[:2] / f"{self.path(sha256).name}.{kind}"

    def open_derived(self, sha256: str, kind: str) -> BinaryIO | None:
        try:
            return self.derived_path(sha256, kind).open("rb")
        except FileNotFoundError:
            return None

    def keep_derived(self, sha256: str, kind: str, made: Path) -> None:
        """Keep ``made`` (a scratch file, fsynced here) as the derived file of ``sha256``; atomic, as a stored file is."""
        final = self.derived_path(sha256, kind)
        final.parent.mkdir(parents=True, exist_ok=True)
        with made.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(made, final)

    def sweep(self, named: Callable[[], set[str]], grace_s: float) -> Swept:
        """Delete what a crash or a failed write left: scratch files, and stored or derived files that no committed
        row names (``named()``: the hashes the database names, read after the files are listed, so a file kept and
        named meanwhile is spared), each only once older than ``grace_s`` (an upload in flight is younger)."""
        swept = Swept()
        if not self.root.exists():
            return swept
        cutoff = time.time() - grace_s
        scratch = [path for path in self.root.glob(f"{SCRATCH_PREFIX}*") if _older(path, cutoff)]
        stored = [path for path in self.root.glob("??/??/*") if SHA256_HEX.match(path.name) and _older(path, cutoff)]
        derived = [path for path in (self.root / DERIVED).glob("??/*.*") if _older(path, cutoff)]
        keep = named() if stored or derived else set()
        for path in scratch:
            swept.scratch += _removed(path, cutoff)
        for path in stored:
            if path.name not in keep:
                swept.orphans += _removed(path, cutoff)
        for path in derived:
            if path.name.split(".", 1)[0] not in keep:
                swept.orphans += _removed(path, cutoff)
        return swept


@dataclass
class Swept:
    scratch: int = 0
    orphans: int = 0


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _removed(path: Path, cutoff: float) -> int:
    """1 if ``path`` was deleted: looked at again just before, as a file kept meanwhile is freshened."""
    if not _older(path, cutoff):
        return 0
    path.unlink(missing_ok=True)
    return 1


def chunks_of(stream: BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def blob_store(data_dir: Path) -> BlobStore:
    """The deployment's store: files under ``data_dir/evidence``."""
    return FileSystemBlobs(data_dir / "evidence")
