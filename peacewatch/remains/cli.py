"""``peacewatch remains ...`` and ``peacewatch custody ...``: the humanitarian cell's workflow from a shell.

Records are read from JSON files in the API's own shapes, so a file that the API refuses is
refused here with the same message.
"""

from __future__ import annotations

import json
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from fastapi.encoders import jsonable_encoder
from pydantic import ValidationError
from rich.table import Table

from peacewatch.core import console as base
from peacewatch.core.blobs import blob_store
from peacewatch.core.tabular import EXTRA_CELLS, read_table
from peacewatch.remains import casualty_counts, custody_chain, handing_over, identifying, matching_cache, missing_persons, recovering, registry
from peacewatch.remains.charts import casualty_chart
from peacewatch.remains.figures import series_csv
from peacewatch.remains.models import IdentificationBasis
from peacewatch.remains.printing import handover_html, handover_pdf
from peacewatch.remains.schemas import (
    ConfirmIn,
    CustodyIn,
    DnaResultIn,
    HandoverIn,
    IdentificationIn,
    MissingPersonIn,
    PostMortemIn,
    RecoveryIn,
    RevokeIn,
)

app = typer.Typer(help="Remains: recovery, PM and AM records, matching, identification, handover, figures.", no_args_is_help=True)
custody_app = typer.Typer(help="The chain of custody of each body: record, show, verify.", no_args_is_help=True)

FileArgument = Annotated[str, typer.Argument(help="JSON file with one record or a list of them ('-' reads stdin)")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")]


class FiguresFormat(str, Enum):
    json = "json"
    csv = "csv"
    png = "png"


class ListFormat(str, Enum):
    html = "html"
    pdf = "pdf"


def _context() -> tuple[Any, registry.Context]:
    settings = base.load_settings()
    return settings, registry.Context.of(settings)


@app.command("recover")
def recover(file: FileArgument) -> None:
    """Record recoveries; each body and part gets its number and its first custody events."""
    recoveries = base.read_models(file, RecoveryIn)
    settings, ctx = _context()
    with base.open_session(settings) as session:
        for number, data in enumerate(recoveries, start=1):
            done = base.guarded(partial(recovering.record_recovery, session, ctx, base.operator(), data),
                                f"recovery {number}: " if len(recoveries) > 1 else "")
            bodies = ", ".join(b.number for b in recovering.get_recovery(session, done.id).bodies) or "no bodies"
            base.console.print(f"recovery {done.id} on {done.recovered_on}: {bodies}")


@app.command("post-mortem")
def post_mortem(number: Annotated[str, typer.Argument(help="Body number")], file: FileArgument) -> None:
    """Record a body's PM examination (the audit log keeps the earlier record)."""
    records = base.read_models(file, PostMortemIn)
    if len(records) != 1:
        raise base.fail("give one PM record")
    with base.open_session(base.load_settings()) as session:
        body = base.guarded(lambda: recovering.record_post_mortem(session, base.operator(), number, records[0]))
    base.console.print(f"post-mortem record of {body.number} saved")


@app.command("missing")
def missing(file: FileArgument) -> None:
    """File missing-person reports with their AM records (a resent client_id is recorded once)."""
    reports = base.read_models(file, MissingPersonIn)
    with base.open_session(base.load_settings()) as session:
        for number, data in enumerate(reports, start=1):
            person, created = base.guarded(partial(missing_persons.file_missing_person, session, base.operator(), data),
                                           f"report {number}: " if len(reports) > 1 else "")
            base.console.print(f"{person.number} {person.family_name} {'filed' if created else 'already filed (resend)'}")


@app.command("candidates")
def candidates(
    body: Annotated[str | None, typer.Option(help="Rank missing persons for this body number")] = None,
    person: Annotated[str | None, typer.Option("--missing", help="Rank bodies for this AM number")] = None,
    top: Annotated[int, typer.Option(min=1, max=100)] = 10,
    explain: Annotated[bool, typer.Option(help="Print every field's evidence")] = False,
) -> None:
    """Ranked candidates with their weight (log2 likelihood ratio) and, with --explain, the evidence."""
    if (body is None) == (person is None):
        raise base.fail("give --body or --missing")
    with base.open_session(base.load_settings()) as session:
        found = base.guarded(lambda: matching_cache.candidates_for_body(session, body, top) if body
                             else matching_cache.candidates_for_person(session, person or "", top, base.operator()))
    table = Table("body", "missing person", "weight", "DNA LR", "evidence" if explain else "fields")
    for c in found:
        evidence = "\n".join(f"{e.field}: {e.level} ({e.weight:+.1f}) {e.detail}" for e in c.evidence) if explain \
            else ", ".join(f"{e.field} {e.weight:+.1f}" for e in c.evidence)
        ratio = f"{c.dna_likelihood_ratio:.3g}" + (" undisputed" if c.undisputed_dna else "") if c.dna_likelihood_ratio else ""
        table.add_row(c.body, c.missing_person, f"{c.weight:.1f}", ratio, evidence)
    base.console.print(table if found else "no candidates: every pair is excluded")


MAX_DNA_ROWS = 100_000  # a laboratory's report; a larger one is split


@app.command("dna")
def dna(file: Annotated[Path, typer.Argument(help="CSV: body,missing_person,likelihood_ratio,laboratory,reference,reported_on")]) -> None:
    """Store a laboratory's likelihood ratios, all or none."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise base.fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    _, rows = base.guarded(lambda: read_table(text, max_rows=MAX_DNA_ROWS, field=str(file)))
    results = []
    for line, row in rows:
        if EXTRA_CELLS in row:
            raise base.fail(f"{file}, line {line}: more cells than the header names")
        try:
            results.append(DnaResultIn.model_validate({k: v for k, v in row.items() if k}))
        except ValidationError as exc:
            raise base.fail(f"{file}, line {line}: {base.first_error(exc)}") from None
    with base.open_session(base.load_settings()) as session:
        base.guarded(lambda: matching_cache.record_dna(session, base.operator(), results))
        settled = sum(1 for r in matching_cache.dna_results(session) if r.undisputed)
    base.console.print(f"{len(results)} DNA results stored; {settled} pairs are now undisputed")


@app.command("identify")
def identify(body: str, person: Annotated[str, typer.Argument(help="AM number")]) -> None:
    """Propose that a body is a missing person."""
    data = base.checked(IdentificationIn, body=body, missing_person=person)
    settings, ctx = _context()
    with base.open_session(settings) as session:
        ident = base.guarded(lambda: identifying.propose_identification(session, ctx, base.operator(), data))
    base.console.print(f"identification {ident.id} proposed: {body} as {person} (weight {ident.score:.1f})")


@app.command("confirm")
def confirm(
    identification_id: int,
    basis: Annotated[IdentificationBasis, typer.Option(help="dna, fingerprints, dental, or board")],
    detail: Annotated[str, typer.Option(help="The examiner's finding, or the board's reasoning")],
    member: Annotated[list[str] | None, typer.Option(help="A board member (repeat: at least three)")] = None,
) -> None:
    """Confirm an identification on a primary identifier or a board decision."""
    data = base.checked(ConfirmIn, basis=basis, detail=detail, board_members=member or [])
    settings, ctx = _context()
    with base.open_session(settings) as session:
        ident = base.guarded(lambda: identifying.confirm_identification(session, ctx, base.operator(), identification_id, data))
    base.console.print(f"identification {ident.id} confirmed on {ident.basis.value if ident.basis else '?'}")


@app.command("revoke")
def revoke(identification_id: int, reason: Annotated[str, typer.Option(help="Why")]) -> None:
    """Revoke an identification, with the reason."""
    data = base.checked(RevokeIn, reason=reason)
    settings, ctx = _context()
    with base.open_session(settings) as session:
        ident = base.guarded(lambda: identifying.revoke_identification(session, ctx, base.operator(), identification_id, data))
    base.console.print(f"identification {ident.id} revoked")


@app.command("handover")
def handover(file: FileArgument) -> None:
    """Record handovers of bodies to a side; each body's custody ends with it."""
    handovers = base.read_models(file, HandoverIn)
    settings, ctx = _context()
    with base.open_session(settings) as session:
        for number, data in enumerate(handovers, start=1):
            done = base.guarded(partial(handing_over.record_handover, session, ctx, base.operator(), data),
                                f"handover {number}: " if len(handovers) > 1 else "")
            out = handing_over.handover_out(session, done)
            base.console.print(f"{done.number} (id {done.id}) to side {done.to_side.value}: {out.bodies} bodies "
                               f"({out.identified} identified), {out.parts} parts")


@app.command("handover-list")
def handover_list(handover_id: int, format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.html,
                  output: Output = None,
                  lang: Annotated[str, typer.Option("--lang", help="en or ru: the receiving side's language")] = "en") -> None:
    """The printable handover list, as HTML or PDF."""
    if lang not in ("en", "ru"):
        raise base.fail(f"--lang: {lang} is neither en nor ru")
    settings = base.load_settings()
    if format is ListFormat.pdf and output is None:
        raise base.fail("a PDF goes to a file: give --output")
    with base.open_session(settings) as session:
        data = base.guarded(lambda: handing_over.handover_out(session, handing_over.get_handover(session, base.operator(), handover_id)))
    body = handover_pdf(data, settings.zone, lang) if format is ListFormat.pdf else handover_html(data, settings.zone, lang).encode()
    base.write_out(body, output, f"handover list {data.number}")


@app.command("figures")
def figures(
    since: Annotated[str | None, typer.Option(help="First reporting day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="Last reporting day, YYYY-MM-DD")] = None,
    format: Annotated[FiguresFormat, typer.Option("--format", "-f")] = FiguresFormat.csv,
    output: Output = None,
) -> None:
    """Per side and day: missing reported, recovered, identified, handed over, deaths confirmed."""
    first, last = base.day_option(since, "since"), base.day_option(until, "until")
    if format is FiguresFormat.png and output is None:
        raise base.fail("a chart goes to a file: give --output")
    settings, ctx = _context()
    with base.open_session(settings) as session:
        series = base.guarded(lambda: casualty_counts.casualty_figures(session, ctx, first, last))
    if format is FiguresFormat.csv:
        data = series_csv(series).encode()
    elif format is FiguresFormat.png:
        data = casualty_chart(series)
    else:
        data = json.dumps(jsonable_encoder(series), indent=1).encode()
    base.write_out(data, output, "casualty figures")


@custody_app.command("add")
def custody_add(
    number: Annotated[str, typer.Argument(help="Body number")],
    kind: Annotated[str, typer.Option(help="stored, examined, transferred or buried")],
    at: Annotated[str, typer.Option(help="When, ISO 8601 (UTC unless a zone is given)")],
    place: Annotated[str, typer.Option(help="Where")],
    released_by: Annotated[str, typer.Option(help="Who gave custody (default: the current holder)")] = "",
    received_by: Annotated[str, typer.Option(help="Who took custody")] = "",
    note: str = "",
) -> None:
    """Chain a custody event to a body."""
    data = base.checked(CustodyIn, kind=kind, at=at, place=place, released_by=released_by, received_by=received_by, note=note)
    settings, ctx = _context()
    with base.open_session(settings) as session:
        event = base.guarded(lambda: custody_chain.record_custody(session, ctx, base.operator(), number, data))
    base.console.print(f"{number}: custody event {event.seq} ({event.kind.value}) recorded, hash {event.hash[:16]}...")


@custody_app.command("show")
def custody_show(number: Annotated[str, typer.Argument(help="Body number")]) -> None:
    """A body's chain of custody, oldest first."""
    with base.open_session(base.load_settings()) as session:
        events = base.guarded(lambda: custody_chain.custody_events(session, registry.get_body(session, number)))
    table = Table("seq", "when (UTC)", "event", "place", "from", "to", "hash")
    for e in events:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M}", e.kind.value, e.place, e.released_by, e.received_by, e.hash[:12])
    base.console.print(table)


@custody_app.command("verify")
def custody_verify(numbers: Annotated[list[str] | None, typer.Argument(help="Body numbers (default: every body)")] = None) -> None:
    """Check every chain of custody; exit 1 and list each break when one was tampered with."""
    settings, ctx = _context()
    with base.open_session(settings) as session:
        report = base.guarded(lambda: custody_chain.verify_custody(session, ctx, numbers, rehash=blob_store(settings).rehash))
    for item in report.breaks:
        base.err.print(f"{item.body}" + (f" event {item.seq}" if item.seq is not None else "") + f": {item.problem}",
                       highlight=False, soft_wrap=True)
    summary = f"{report.bodies} bodies, {report.events} custody events: " + ("intact" if report.intact else f"{len(report.breaks)} breaks")
    base.console.print(summary)
    base.console.print(f"digest of every chain's head: {report.digest}")
    if not report.intact:
        raise typer.Exit(1)

