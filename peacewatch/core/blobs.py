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
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import BigInteger, Connection, Engine, ForeignKey, Integer, LargeBinary, String, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.db import Base, UTCDateTime, engine_for, utcnow
from peacewatch.core.settings import Settings

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

    def __init__(self, store: FileSystemBlobs | DatabaseBlobs, scratch: Path, sha256: str, size: int, head: bytes) -> None:
        self._store, self._scratch = store, scratch
        self.sha256, self.size, self.head = sha256, size, head

    @property
    def path(self) -> Path:
        """Where the received bytes wait, for a worker process to read them before they are kept."""
        return self._scratch

    def keep(self) -> bool:
        """Name the file by its hash; False when the store already held these very bytes (then freshened: the sweep
        spares a file this recent, so the row about to name it finds it there)."""
        return self._store.keep_received(self._scratch, self.sha256)

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

    def keep_received(self, scratch: Path, sha256: str) -> bool: ...

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

    def keep_received(self, scratch: Path, sha256: str) -> bool:
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.utime(final)
        except FileNotFoundError:
            os.replace(scratch, final)  # atomic: two processes keeping the same bytes leave one file with them
            return True
        scratch.unlink(missing_ok=True)
        return False

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


class StoredBlob(Base):
    """A file of the database store, by its name (its SHA-256; a derived file: ``<sha256>.<kind>``)."""

    __tablename__ = "evidence_blobs"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="Kept, or kept again: the sweep spares a file this recent")


class BlobChunk(Base):
    """Its bytes, in order: rows of ``CHUNK_BYTES`` (PostgreSQL keeps each out of line, compressed if it can)."""

    __tablename__ = "evidence_blob_chunks"
    name: Mapped[str] = mapped_column(String(80), ForeignKey("evidence_blobs.name", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DatabaseBlobs:
    """Files kept in the database itself: every process on every machine reaches them, and they are replicated,
    backed up (``pg_dump``) and restored with the records that name them, with no disk to share.

    Each machine keeps copies of the files it has read in ``cache`` (a file store of its own, under the data
    directory): a file is fetched from the database once per machine, and its workers read it as a path. The
    database is what counts: ``rehash`` (custody verification) hashes the bytes the database holds, and a copy
    is only a copy (named by its hash, it can never be stale; the sweep may drop it).
    """

    def __init__(self, engine: Engine, cache: Path) -> None:
        self.engine = engine
        self.cache = FileSystemBlobs(cache)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseBlobs) and other.engine.url == self.engine.url and other.cache == self.cache

    def __hash__(self) -> int:
        return hash((str(self.engine.url), self.cache.root))

    def receive(self, chunks: Iterable[bytes], *, max_bytes: int) -> Incoming:
        incoming = self.cache.receive(chunks, max_bytes=max_bytes)
        return Incoming(self, incoming.path, incoming.sha256, incoming.size, incoming.head)

    def keep_received(self, scratch: Path, sha256: str) -> bool:
        stored = self._store(sha256, scratch)
        self.cache.keep_received(scratch, sha256)
        return stored

    def _store(self, name: str, source: Path) -> bool:
        """Write ``source`` under ``name`` in one transaction; False (and freshened) if the database held it."""
        with self.engine.begin() as connection:
            freshened = connection.execute(update(StoredBlob).where(StoredBlob.name == name).values(kept_at=utcnow())).rowcount
            if freshened:
                return False
            size = source.stat().st_size
            claimed = connection.execute(_insert_new(connection, {"name": name, "size": size, "kept_at": utcnow()}))
            if not claimed.rowcount:
                return False  # another process kept the same bytes at the same moment: one copy
            with source.open("rb") as handle:
                for seq, chunk in enumerate(chunks_of(handle)):
                    connection.execute(insert(BlobChunk).values(name=name, seq=seq, data=chunk))
        return True

    def put_bytes(self, data: bytes) -> str:
        with self.receive([data], max_bytes=len(data)) as incoming:
            incoming.keep()
            return incoming.sha256

    def _fetch(self, name: str, target: Path) -> bool:
        """Copy the database's bytes of ``name`` into ``target`` (a scratch file); False if it holds none."""
        with self.engine.connect() as connection:
            if connection.execute(select(StoredBlob.name).where(StoredBlob.name == name)).first() is None:
                return False
            seq = 0
            with target.open("wb") as out:
                while True:  # a chunk at a time: a video is never held whole in memory
                    chunk = connection.execute(select(BlobChunk.data).where(BlobChunk.name == name, BlobChunk.seq == seq)).scalar()
                    if chunk is None:
                        break
                    out.write(chunk)
                    seq += 1
        return True

    def local_path(self, sha256: str) -> Path:
        """The file as a path on this machine: the cached copy, fetched from the database the first time."""
        path = self.cache.path(sha256)
        if not path.exists():
            scratch = self.cache.scratch()
            if not self._fetch(sha256, scratch):
                scratch.unlink(missing_ok=True)
                raise FileNotFoundError(f"no stored file {sha256}")
            self.cache.keep_received(scratch, sha256)
        return path

    def open(self, sha256: str) -> BinaryIO:
        return self.local_path(sha256).open("rb")

    def rehash(self, sha256: str) -> str | None:
        """The SHA-256 of the bytes the database holds under ``sha256`` (never the machine's copy); None if none."""
        if not SHA256_HEX.match(sha256):
            return None
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            if connection.execute(select(StoredBlob.name).where(StoredBlob.name == sha256)).first() is None:
                return None
            for chunk in connection.execute(select(BlobChunk.data).where(BlobChunk.name == sha256).order_by(BlobChunk.seq)).scalars():
                digest.update(chunk)
        return digest.hexdigest()

    def scratch(self) -> Path:
        return self.cache.scratch()

    def open_derived(self, sha256: str, kind: str) -> BinaryIO | None:
        cached = self.cache.open_derived(sha256, kind)
        if cached is not None:
            return cached
        scratch = self.cache.scratch()
        if not self._fetch(_derived_name(sha256, kind), scratch):
            scratch.unlink(missing_ok=True)
            return None
        self.cache.keep_derived(sha256, kind, scratch)
        return self.cache.open_derived(sha256, kind)

    def keep_derived(self, sha256: str, kind: str, made: Path) -> None:
        self._store(_derived_name(sha256, kind), made)
        self.cache.keep_derived(sha256, kind, made)

    def sweep(self, named: Callable[[], set[str]], grace_s: float) -> Swept:
        """Delete the files, and derived files, no committed row names, once older than ``grace_s``; and this machine's
        copies of them (copies of named files stay)."""
        cutoff = utcnow() - timedelta(seconds=grace_s)
        with self.engine.begin() as connection:
            old = connection.execute(select(StoredBlob.name).where(StoredBlob.kept_at < cutoff)).scalars().all()
            keep = named() if old else set()
            gone = [name for name in old if name.split(".", 1)[0] not in keep]
            for start in range(0, len(gone), 500):
                connection.execute(delete(StoredBlob).where(StoredBlob.name.in_(gone[start:start + 500]),
                                                                      StoredBlob.kept_at < cutoff))
        swept = self.cache.sweep(named, grace_s)
        return Swept(scratch=swept.scratch, orphans=len(gone))


def _derived_name(sha256: str, kind: str) -> str:
    if not SHA256_HEX.match(sha256) or not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"not a stored file's derived file: {sha256!r}, {kind!r}")
    return f"{sha256}.{kind}"


def _insert_new(connection: Connection, values: dict[str, Any]) -> Any:
    """INSERT that does nothing when the name is taken (both dialects say it their own way)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(StoredBlob).values(**values).on_conflict_do_nothing(index_elements=["name"])


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


def blob_store(settings: Settings) -> BlobStore:
    """The deployment's store: files under the data directory's ``evidence`` (one machine, or a disk every machine
    shares), or, with ``PEACEWATCH_EVIDENCE_STORE=database``, the database every process already reaches."""
    if settings.evidence_store == "database":
        return DatabaseBlobs(_evidence_engine(settings), settings.data_dir / "evidence-cache")
    return FileSystemBlobs(settings.data_dir / "evidence")


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _evidence_engine(settings: Settings) -> Engine:
    """One small pool per database for the store's own transactions (a file is kept before the row naming it)."""
    url = settings.resolved_database_url
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = engine_for(settings, "evidence")
        return _ENGINES[url]
