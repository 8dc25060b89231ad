"""Backup and restore: a consistent copy of the database taken while the server keeps writing, with the
keys it cannot be read without, a manifest and checksums.

SQLite is copied through its online backup API in one step: in WAL mode that is one read transaction, a
snapshot of every commit made before it began, while writers go on. PostgreSQL is copied by ``pg_dump``
in its custom format, itself one snapshot. The secret key (sign-in tokens) and the custody key (the
custody chain's HMAC) go with it: without the custody key a restored chain cannot be verified.
The evidence files go with it too, copied after the database's snapshot: a file is named in the store before
the row that names it commits, and never changed, so every file the snapshot names is there to copy; each
is checked against its name (its SHA-256) when the backup is read.
``restore`` checks every checksum first and refuses a target that already holds data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from peacewatch import __version__
from peacewatch.core.db import engine_for, utcnow
from peacewatch.core.migrate import current_revision
from peacewatch.core.notify import libpq_url
from peacewatch.core.settings import Settings

MANIFEST = "manifest.json"
EVIDENCE = "evidence"  # the blob store's folder, in the data directory and in a backup
SQLITE_FILE, DUMP_FILE = "peacewatch.db", "database.dump"
KEY_FILES = {"secret_key": "resolved_secret_key", "custody_key": "resolved_custody_key"}
SETTINGS_KEPT = ("h3_resolution", "body_number_prefix", "mission_timezone", "reporting_day_end", "access_token_minutes")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the administrator."""


@dataclass(frozen=True)
class Manifest:
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    files: dict[str, dict[str, Any]]
    data: dict[str, Any]

    def as_json(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, or Debian's versioned folder."""
    found = shutil.which(name) or next((str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client-15)")
    return found


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _same_database(settings: Settings) -> None:
    """pg_dump and pg_restore go by the direct URL: refuse when it does not reach the database of
    PEACEWATCH_DATABASE_URL (a restore pointed at a new database while the direct URL still names the live one
    would write into the live one)."""
    if not settings.shared_database or not settings.database_direct_url:
        return
    from peacewatch.core.dbcheck import probe

    found = probe(settings)
    if not found.database.reached:
        raise BackupError(f"cannot reach the database: {found.database.error}")
    if found.problems:
        raise BackupError(f"{found.problems[0]}: set both to the database meant")


def backup(settings: Settings, destination: Path) -> Manifest:
    """Copy the database and the keys into ``destination`` (a new or empty folder, made owner-only)."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: a backup goes into a new folder")
    settings.check_keys()
    _same_database(settings)
    engine = engine_for(settings, "backup")
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = utcnow()
    if settings.shared_database:
        database = "postgresql"
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(destination / DUMP_FILE),
                               "--dbname", libpq_url(settings.session_database_url)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        (destination / DUMP_FILE).chmod(0o600)
    else:
        database = "sqlite"
        copy = destination / SQLITE_FILE
        os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        source, target = sqlite3.connect(_sqlite_path(settings)), sqlite3.connect(copy)
        try:
            source.backup(target)  # all pages in one step: one snapshot, writers not held up (WAL)
        finally:
            target.close()
            source.close()
    evidence = _copy_evidence(settings.data_dir / EVIDENCE, destination / EVIDENCE)
    for name, attribute in KEY_FILES.items():
        key = getattr(settings, attribute)
        _write_private(destination / name, key.decode() if isinstance(key, bytes) else key)
    files = {path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for path in sorted(destination.iterdir())
             if path.is_file()}
    data = {"evidence": evidence, "peacewatch": __version__, "database": database, "schema_revision": revision, "started_at": started.isoformat(),
            "finished_at": utcnow().isoformat(), "files": files,
            "settings": {name: str(getattr(settings, name)) for name in SETTINGS_KEPT if hasattr(settings, name)}}
    manifest = Manifest(database, revision, files, data)
    _write_private(destination / MANIFEST, manifest.as_json())
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The backup's manifest, every file checked against its checksum."""
    try:
        data = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {exc}") from None
    for name, expected in data["files"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{path} is missing or does not match its checksum: the backup is damaged")
    kept = [path for path in (source / EVIDENCE).rglob("*") if path.is_file()]
    for path in kept:
        if _sha256(path) != path.name:
            raise BackupError(f"{path} does not match its name (its SHA-256): the backup is damaged")
    expected = data.get("evidence", {}).get("files", 0)
    if len(kept) != expected:
        raise BackupError(f"{source / EVIDENCE} holds {len(kept)} evidence files, the manifest {expected}: the backup is damaged")
    return Manifest(data["database"], data.get("schema_revision"), data["files"], data)


def restore(settings: Settings, source: Path) -> Manifest:
    """Bring a backup up in an empty database (and data directory); the keys come with it."""
    manifest = read_manifest(source)
    kind = "postgresql" if settings.shared_database else "sqlite"
    if manifest.database != kind:
        raise BackupError(f"this is a {manifest.database} backup; the target is {kind}: restore into the same kind of database")
    keys = {name: (source / name).read_text().strip() for name in KEY_FILES}
    if kind == "postgresql":
        _check_configured_keys(settings, keys)
        _same_database(settings)
        engine = engine_for(settings, "restore")
        try:
            if inspect(engine).get_table_names():
                raise BackupError("the target database already holds tables: restore into an empty database")
        finally:
            engine.dispose()
        done = subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname",
                               libpq_url(settings.session_database_url), str(source / DUMP_FILE)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        _copy_evidence(source / EVIDENCE, settings.ensure_data_dir() / EVIDENCE)
        return manifest
    target = _sqlite_path(settings)
    if target.exists() and target.stat().st_size > 0:
        raise BackupError(f"{target} already exists: restore into an empty data directory")
    data_dir = settings.ensure_data_dir()
    for name, key in keys.items():
        path = data_dir / name
        if path.exists() and path.read_text().strip() != key:
            raise BackupError(f"{path} holds another key: restore into an empty data directory")
    _check_configured_keys(settings, keys)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    source_db, target_db = sqlite3.connect(source / SQLITE_FILE), sqlite3.connect(target)
    try:
        source_db.backup(target_db)
    finally:
        target_db.close()
        source_db.close()
    for name, key in keys.items():
        if not (data_dir / name).exists():
            _write_private(data_dir / name, key)
    _copy_evidence(source / EVIDENCE, data_dir / EVIDENCE)
    return manifest


def _copy_evidence(source: Path, target: Path) -> dict[str, int]:
    """Copy the evidence files kept under ``source`` (not the ones still arriving); how many, how many bytes."""
    count = size = 0
    for path in sorted(source.rglob("*")) if source.is_dir() else ():
        if not path.is_file() or path.name.startswith(".incoming-"):
            continue
        copy = target / path.relative_to(source)
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not copy.exists():
            shutil.copy2(path, copy)
        count, size = count + 1, size + path.stat().st_size
    return {"files": count, "bytes": size}


def _check_configured_keys(settings: Settings, keys: dict[str, str]) -> None:
    """Keys set by the administrator must be the backup's: with another custody key the chain reads as tampered."""
    for name, configured in (("secret_key", settings.secret_key or _file(settings.secret_key_file)),
                             ("custody_key", settings.custody_key or _file(settings.custody_key_file))):
        if configured and configured != keys[name]:
            raise BackupError(f"PEACEWATCH_{name.upper()} differs from the backup's {name}: configure the backup's key "
                              f"(it is in the backup folder) before restoring")


def _file(path: Path | None) -> str | None:
    return path.read_text().strip() if path is not None and path.is_file() else None
