"""The installation as its processes will see it: ``peacewatch config check``.

An administrator who loads an env file by hand, edits a pooler's configuration or copies keys between
machines needs to see, before starting anything, which database every process will open and what it will
refuse. Nothing secret is printed: passwords are hidden and keys are described by where they come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from peacewatch.core.settings import KeyNotConfigured, Settings


@dataclass
class Report:
    lines: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, name: str, value: str) -> None:
        self.lines.append((name, value))


def shown_url(url: str) -> str:
    """A database URL without its password, its hosts listed (a multi-host URL names several)."""
    return make_url(url).render_as_string(hide_password=True)


def hosts_of(url: str) -> str:
    parsed = make_url(url)
    several = parsed.query.get("host")
    if isinstance(several, tuple):
        return ", ".join(several)
    return f"{parsed.host or several or 'local socket'}:{parsed.port or 5432}"


def describe(settings: Settings, *, connect: bool = True) -> Report:
    """What will be used, and every problem found: in the settings, on disk and, if ``connect``, in the database."""
    report = Report()
    url = settings.resolved_database_url
    if settings.shared_database:
        report.add("database", f"PostgreSQL at {hosts_of(url)}: {shown_url(url)}")
        attributes = make_url(url).query.get("target_session_attrs")
        report.add("  finds the primary", str(attributes) if attributes else "no target_session_attrs: the first host that answers")
        report.add("  pool mode", {"none": "direct to PostgreSQL", "session": "through a pooler, session pooling",
                                   "transaction": "through a pooler, transaction pooling"}[settings.db_pool_mode])
        report.add("  prepared statements", "yes" if settings.prepared_statements else "no")
        report.add("direct URL", shown_url(settings.database_direct_url) if settings.database_direct_url
                   else "none: the leader's lock, LISTEN and migrations use the database URL")
        report.add("statement timeout", f"{settings.db_statement_timeout_ms / 1000:g} s" if settings.db_statement_timeout_ms else "none")
        report.add("connections", f"{settings.db_pool_size} + {settings.db_max_overflow} per process, wait ≤ {settings.db_pool_timeout_s:g} s")
    else:
        report.add("database", f"SQLite: {url.removeprefix('sqlite:///')} (one server process)")
    report.problems.extend(settings.contradictions())
    _data_dir(settings, report)
    _keys(settings, report)
    if settings.evidence_store == "database":
        report.add("evidence files", "in the database (every machine reaches them; a copy of each read is kept in "
                   f"{settings.data_dir / 'evidence-cache'})")
    else:
        report.add("evidence files", f"{settings.data_dir / 'evidence'}" + (
            ": every machine must share this disk, or set PEACEWATCH_EVIDENCE_STORE=database" if settings.shared_database else ""))
    _files(settings, report)
    report.add("public URL", settings.public_url or "not set: e-mail notices carry no link")
    report.add("SMTP", f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else "not set: e-mail notices fail visibly")
    if connect:
        _database(settings, report)
    return report


def _data_dir(settings: Settings, report: Report) -> None:
    folder = settings.data_dir
    if not folder.exists():
        report.add("data directory", f"{folder} (made at first use, mode 0700)")
        return
    mode = folder.stat().st_mode & 0o777
    report.add("data directory", f"{folder} (mode {mode:04o})")
    if not os.access(folder, os.W_OK | os.X_OK):
        report.problems.append(f"PEACEWATCH_DATA_DIR: {folder} is not writable by this user ({_user()})")


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _keys(settings: Settings, report: Report) -> None:
    for name, value, file in (("secret key", settings.secret_key, settings.secret_key_file),
                              ("custody key", settings.custody_key, settings.custody_key_file)):
        report.add(name, "from the environment" if value else f"from {file}" if file else
                   "none: refused on PostgreSQL" if settings.shared_database else "kept in the data directory")
    try:
        settings.check_keys()
    except KeyNotConfigured as exc:
        report.problems.append(str(exc))


def _files(settings: Settings, report: Report) -> None:
    tls = {"PEACEWATCH_COT_TLS_CERT": settings.cot_tls_cert, "PEACEWATCH_COT_TLS_KEY": settings.cot_tls_key,
           "PEACEWATCH_COT_TLS_CA": settings.cot_tls_ca}
    given = {name: path for name, path in tls.items() if path is not None}
    if not given:
        report.add("CoT over TLS", "off (set the server's certificate, its key and the CA that signs the clients')")
    else:
        report.add("CoT over TLS", f"port {settings.cot_tls_port}, clients signed by {settings.cot_tls_ca}")
        for name in tls.keys() - given.keys():
            report.problems.append(f"{name}: missing (CoT over TLS needs the certificate, its key and the clients' CA)")
    for name, path in given.items():
        if not _readable(path):
            report.problems.append(f"{name}: cannot read {path}")
    if settings.basemap is not None and not _readable(settings.basemap):
        report.problems.append(f"PEACEWATCH_BASEMAP: cannot read {settings.basemap}")


def _readable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.R_OK)


def _database(settings: Settings, report: Report) -> None:
    from peacewatch.core.db import engine_for
    from peacewatch.core.migrate import current_revision, head_revision

    if settings.shared_database:
        from peacewatch.core.dbcheck import probe

        found = probe(settings)
        for name, endpoint in (("database answers", found.database), ("direct URL answers", found.direct)):
            if endpoint is None:
                continue
            if not endpoint.reached:
                report.problems.append(f"{name.split(' answers')[0]}: cannot connect: {endpoint.error}")
                continue
            report.add(name, f"{endpoint.server}, {'primary' if endpoint.primary else 'standby'}"
                       + (", through a pooler" if endpoint.pooled else ""))
        primary = found.direct if found.direct is not None and found.direct.reached else found.database
        if primary.reached:
            names = primary.synchronous_standby_names
            seen = "?" if primary.synchronous_standbys is None else str(primary.synchronous_standbys)
            report.add("synchronous replica", f"{names} ({seen} connected)" if names else "none required")
        report.problems.extend(found.problems)
        if not found.database.reached:
            return
    engine = engine_for(settings, "config-check")
    try:
        current, head = current_revision(engine), head_revision()
    except SQLAlchemyError as exc:
        report.problems.append(f"schema: cannot read it: {str(exc).splitlines()[0]}")
        return
    finally:
        engine.dispose()
    report.add("schema", f"{current or 'empty'}" + (" (current)" if current == head else f", head is {head}"))
    if current != head:
        report.problems.append(f"schema: at {current or 'nothing'}, not {head}: run 'peacewatch db upgrade'")
