"""``peacewatch incident ...``: report, verify, merge, count and export from a shell."""

from __future__ import annotations

import json
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from fastapi.encoders import jsonable_encoder
from rich.table import Table

from peacewatch.core import console as base
from peacewatch.incidents import event_summaries, merge_proposals, report_records, verification
from peacewatch.incidents.models import IncidentStatus, ProposalStatus
from peacewatch.incidents.schemas import IncidentIn, SplitIn, VerificationIn

app = typer.Typer(help="Ceasefire incidents: report, verify, merge, figures and exports.", no_args_is_help=True)

Since = Annotated[str | None, typer.Option(help="First reporting day, YYYY-MM-DD")]
Until = Annotated[str | None, typer.Option(help="Last reporting day, YYYY-MM-DD")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")]


class ExportFormat(str, Enum):
    geojson = "geojson"
    acled = "acled"


class FiguresFormat(str, Enum):
    json = "json"
    csv = "csv"
    png = "png"


@app.command("report")
def report(file: Annotated[str, typer.Argument(help="JSON file with one report or a list of them ('-' reads stdin)")]) -> None:
    """Record reports from a JSON file, each as the API takes it.

    A list is recorded in order and stops at the first refused report; those before it stay
    recorded, and with client ids a second run records each of them only once.
    """
    reports = base.read_models(file, IncidentIn)
    settings = base.load_settings()
    rules, operator = report_records.Rules.of(settings), base.operator()
    with base.open_session(settings) as session:
        for number, data in enumerate(reports, start=1):
            incident, created = base.guarded(partial(report_records.create_incident, session, rules, operator, data),
                                             f"report {number}: " if len(reports) > 1 else "")
            event = event_summaries.event_names(session, None, [incident.event_id]).get(incident.event_id, incident.id)
            base.console.print(f"incident {incident.id} {'recorded' if created else 'already recorded (resend)'}, event {event}")


@app.command("list")
def list_(
    status: Annotated[IncidentStatus | None, typer.Option(help="Only in this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """The latest reports."""
    with base.open_session(base.load_settings()) as session:
        table = Table("id", "start (UTC)", "type", "source", "status", "event", "place")
        found = report_records.list_incidents(session, None, status=status, limit=limit)
        events = event_summaries.event_names(session, None, {i.event_id for i in found})
        for i in found:
            kind = i.type.value + (f"/{i.subtype.value}" if i.subtype else "")
            table.add_row(str(i.id), f"{i.started_at:%Y-%m-%d %H:%M}", kind, i.source.value, i.status.value, str(events[i.event_id]),
                          i.place_name or f"{i.lat:.4f}, {i.lon:.4f}")
    base.console.print(table)


@app.command("verify")
def verify(
    incident_id: int,
    status: Annotated[IncidentStatus, typer.Option(help="The next status")],
    reason: Annotated[str, typer.Option(help="Why: what was found")],
    patrol: Annotated[int | None, typer.Option(help="The patrol that checked")] = None,
    post: Annotated[int | None, typer.Option(help="The post that checked")] = None,
) -> None:
    """Move a report one step through verification."""
    data = base.checked(VerificationIn, status=status, reason=reason, patrol_id=patrol, post_id=post)
    with base.open_session(base.load_settings()) as session:
        incident = base.guarded(lambda: verification.verify(session, base.operator(), incident_id, data))
    base.console.print(f"incident {incident.id} is now {incident.status.value}")


@app.command("match")
def match() -> None:
    """Cluster every report in space and time and propose the merges that are new."""
    settings = base.load_settings()
    with base.open_session(settings) as session, base.console.status("clustering reports"):
        run = base.guarded(lambda: merge_proposals.run_matching(session, base.cli_actor(), report_records.Rules.of(settings).tolerance))
    base.console.print(f"{run.reports} reports, {run.clusters} clusters: {run.proposed} new proposals, "
                       f"{run.superseded} superseded ({run.seconds} s)")


@app.command("proposals")
def proposals(status: Annotated[ProposalStatus | None, typer.Option(help="Only in this status")] = ProposalStatus.open) -> None:
    """Merge proposals: the reports each one would make a single event."""
    with base.open_session(base.load_settings()) as session:
        table = Table("id", "status", "reports", "events now", "max distance (m)", "max gap (min)")
        for p in merge_proposals.list_proposals(session, status, limit=1000).items:
            out = merge_proposals.proposal_out(session, p)
            table.add_row(str(p.id), p.status.value, ", ".join(map(str, p.incident_ids)), ", ".join(map(str, out.event_ids)),
                          f"{p.max_distance_m:.0f}", f"{p.max_gap_minutes:.0f}")
    base.console.print(table)


@app.command("accept")
def accept(proposal_id: int, reason: Annotated[str, typer.Option(help="Why they are one event")] = "") -> None:
    """Accept a proposal: its reports become one event."""
    with base.open_session(base.load_settings()) as session:
        base.guarded(lambda: merge_proposals.accept(session, base.cli_actor(), proposal_id, reason))
    base.console.print(f"proposal {proposal_id} accepted")


@app.command("split")
def split(
    proposal_id: int,
    group: Annotated[list[str] | None, typer.Option(help="Report ids that are one event, comma-separated; repeat per group")] = None,
    reason: Annotated[str, typer.Option(help="Why they are not one event")] = "",
) -> None:
    """Split a proposal: each group (default: each report) is an event of its own."""
    try:
        groups = [[int(part) for part in g.split(",") if part.strip()] for g in group] if group else None
    except ValueError:
        raise base.fail("--group takes report ids separated by commas, such as --group 12,15") from None
    with base.open_session(base.load_settings()) as session:
        base.guarded(lambda: merge_proposals.split(session, base.cli_actor(), proposal_id, SplitIn(groups=groups, reason=reason)))
    base.console.print(f"proposal {proposal_id} split")


@app.command("figures")
def figures(since: Since = None, until: Until = None, fmt: Annotated[FiguresFormat, typer.Option("--format")] = FiguresFormat.json,
            output: Output = None) -> None:
    """Daily figures per reporting day, as JSON, CSV or a PNG chart."""
    from peacewatch.incidents.charts import figures_chart
    from peacewatch.incidents.figures import figures_csv

    first, last = base.day_option(since, "since"), base.day_option(until, "until")
    settings = base.load_settings()
    with base.open_session(settings) as session:
        result = base.guarded(lambda: event_summaries.figures(session, settings, first, last))
    if fmt is FiguresFormat.png:
        if output is None:
            raise base.fail("a chart needs --output FILE.png")
        base.write_out(figures_chart(result), output, "chart")
    else:
        data: Any = figures_csv(result).encode() if fmt is FiguresFormat.csv else json.dumps(jsonable_encoder(result), indent=1).encode()
        base.write_out(data, output, "figures")


@app.command("export")
def export(fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.geojson, since: Since = None, until: Until = None,
           output: Output = None) -> None:
    """Events as GeoJSON, or as CSV in ACLED's columns."""
    first, last = base.day_option(since, "since"), base.day_option(until, "until")
    settings = base.load_settings()
    with base.open_session(settings) as session:
        body, _ = base.guarded(lambda: event_summaries.export_events(session, settings, fmt.value, first, last))
    base.write_out(body, output, "events")
