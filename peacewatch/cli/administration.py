"""An administrator's commands for the installation itself: the shared keys, backups and restores."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from peacewatch.core.console import console, err, fail, load_settings
from peacewatch.core.settings import KeyNotConfigured


def backup_command(
    destination: Annotated[Path, typer.Argument(file_okay=False, help="A new folder for the backup")],
) -> None:
    """Copy the database (while the server keeps writing), its keys and a manifest with checksums into DESTINATION."""
    from peacewatch.core.backup import BackupError, backup

    settings = load_settings()
    try:
        manifest = backup(settings, destination)
    except (BackupError, KeyNotConfigured) as exc:
        raise fail(str(exc)) from None
    size = sum(f["bytes"] for f in manifest.files.values())
    console.print(f"backup of the {manifest.database} database (schema {manifest.revision}) in {destination}: "
                  f"{len(manifest.files)} files, {size:,} bytes, checksums in manifest.json")


def restore_command(
    source: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A folder written by 'peacewatch backup'")],
) -> None:
    """Bring a backup up in an empty data directory (SQLite) or an empty database (PostgreSQL)."""
    from peacewatch.core.backup import BackupError, restore

    settings = load_settings()
    try:
        manifest = restore(settings, source)
    except BackupError as exc:
        raise fail(str(exc)) from None
    console.print(f"restored the backup of {manifest.data['started_at']} (schema {manifest.revision})")
    if manifest.database == "postgresql":
        console.print(f"every server needs its keys: PEACEWATCH_SECRET_KEY_FILE={source / 'secret_key'} and "
                      f"PEACEWATCH_CUSTODY_KEY_FILE={source / 'custody_key'} (or copies of them)")
    console.print("then 'peacewatch db upgrade' (if this version is newer) and 'peacewatch serve'")


def keys_create(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Where to write secret_key and custody_key")],
) -> None:
    """Write a new secret key and custody key, readable by their owner only, for every server to share.

    Point each server at them with PEACEWATCH_SECRET_KEY_FILE and PEACEWATCH_CUSTODY_KEY_FILE (or copy
    them, by a safe channel, to each machine). Existing keys are never overwritten: a new custody key
    would make every recorded custody event fail verification.
    """
    import secrets

    from peacewatch.core.settings import CUSTODY_KEY_FILE, SECRET_KEY_FILE

    directory.mkdir(parents=True, exist_ok=True)
    for name in (SECRET_KEY_FILE, CUSTODY_KEY_FILE):
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise fail(f"{path} exists: keys are never overwritten") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        console.print(f"wrote {path}")
    console.print(f"export PEACEWATCH_SECRET_KEY_FILE={directory / SECRET_KEY_FILE} "
                  f"PEACEWATCH_CUSTODY_KEY_FILE={directory / CUSTODY_KEY_FILE}", highlight=False, soft_wrap=True)


def config_check(
    offline: Annotated[bool, typer.Option(help="Read the settings only; do not connect to the database")] = False,
) -> None:
    """Print what every command and process will use (database hosts, direct URL, pooler, data directory, keys,
    files) and refuse what contradicts itself or what the database answers: exit 1 with a line per problem."""
    from peacewatch.core.deployment import describe

    settings = load_settings()
    report = describe(settings, connect=not offline)
    for name, value in report.lines:
        console.print(f"{name + ':':<22} {value}", highlight=False, soft_wrap=True)
    for problem in report.problems:
        err.print(f"[bold red]problem:[/] {problem}", highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)
    console.print("configuration: consistent")
