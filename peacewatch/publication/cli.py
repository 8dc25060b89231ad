"""``peacewatch report sitrep|bulletin``: a day's report, a span as one report, or one file per day."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlalchemy.orm import Session

from peacewatch.core import console as base
from peacewatch.core.settings import Settings
from peacewatch.publication.reports import Format, Kind, Language, Options, daily_report, range_report, write_each_day

app = typer.Typer(help="Reports from the records: the internal situation report and the public bulletin.", no_args_is_help=True)

Day = Annotated[str | None, typer.Option("--date", "-d", help="The reporting day, YYYY-MM-DD")]
Since = Annotated[str | None, typer.Option(help="First day of a span, YYYY-MM-DD (with --until)")]
Until = Annotated[str | None, typer.Option(help="Last day of a span, YYYY-MM-DD (with --since)")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="md (default), html, pdf, or json: the figures and their records")]
Lang = Annotated[Language, typer.Option("--lang", help="en or ru")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="File to write (a folder with --each-day); default stdout")]
EachDay = Annotated[bool, typer.Option("--each-day", help="With --since/--until: one file per day in the --output folder")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="With --each-day: processes sharing the days (HTML and PDF gain most)")]


def generation_time() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) fixes the generation time, so files are identical."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise base.fail(f"SOURCE_DATE_EPOCH must be seconds since 1970, not '{value}'") from None


def _write(data: bytes, output: Path | None, fmt: Format) -> None:
    if output is None:
        if fmt is Format.pdf and sys.stdout.isatty():
            raise base.fail("a PDF goes to a file or a pipe: give --output FILE")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise base.fail(f"cannot write {output}: {exc.strerror or exc}") from None
    base.err.print(f"report written to {output}")


def _run(kind: Kind, day: str | None, since: str | None, until: str | None, fmt: Format, lang: Language,
         output: Path | None, per_day: bool, jobs: int = 1) -> None:
    on, first, last = base.day_option(day, "date"), base.day_option(since, "since"), base.day_option(until, "until")
    if on is not None and (first or last):
        raise base.fail("give either --date, or --since and --until, not both")
    if on is None and (first is None or last is None):
        raise base.fail("give the reporting day (--date YYYY-MM-DD), or a span (--since and --until)")
    if per_day and (on is not None or output is None):
        raise base.fail("--each-day needs --since, --until and an --output folder")
    options = Options(kind, fmt, lang, generation_time())
    settings = base.load_settings()
    with base.open_session(settings) as session:
        if on is not None:
            return _write(base.guarded(lambda: daily_report(session, settings, on, options)).body, output, fmt)
        assert first is not None and last is not None
        if not per_day:
            return _write(base.guarded(lambda: range_report(session, settings, first, last, options)).body, output, fmt)
        assert output is not None
        _each_day(session, settings, first, last, options, output, jobs)


def _each_day(session: Session, settings: Settings, first: date, last: date, options: Options, folder: Path, jobs: int) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise base.fail(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
    with Progress(console=base.err, transient=True) as progress:
        task = progress.add_task(f"{options.kind.value} {first} to {last}", total=(last - first).days + 1)
        try:
            written = base.guarded(lambda: write_each_day(session, settings, first, last, options, str(folder), jobs,
                                                          lambda done, total: progress.update(task, completed=done)))
        except OSError as exc:
            raise base.fail(f"cannot write into {folder}: {exc.strerror or exc}") from None
    base.err.print(f"{written} reports written to {folder}")


@app.command("sitrep")
def sitrep(day: Day = None, since: Since = None, until: Until = None, format: FormatOption = Format.md, lang: Lang = Language.en,
           output: Output = None, per_day: EachDay = False, jobs: Jobs = 1) -> None:
    """The internal situation report: strength, posts, patrols and coverage, alerts, incidents, remains, airlift."""
    _run(Kind.sitrep, day, since, until, format, lang, output, per_day, jobs)


@app.command("bulletin")
def bulletin(day: Day = None, since: Since = None, until: Until = None, format: FormatOption = Format.md, lang: Lang = Language.en,
             output: Output = None, per_day: EachDay = False, jobs: Jobs = 1) -> None:
    """The public daily bulletin, from public records only, with the official map (HTML, PDF)."""
    _run(Kind.bulletin, day, since, until, format, lang, output, per_day, jobs)
