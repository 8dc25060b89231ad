"""The daily situation report and the public bulletin: records read once, figures per day, words, one format.

Reports are reproducible: the same records and day give the same bytes, but for the generation
time (set it with ``generated_at``, or ``SOURCE_DATE_EPOCH`` on the command line, to get identical
files). A range of days reads the records once and counts each day from memory.
"""

from __future__ import annotations

import enum
import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.figures import strength_series
from peacewatch.core.blobs import BlobStore, blob_store
from peacewatch.core.calendar import days_between
from peacewatch.core.db import engine_for, make_sessionmaker, utcnow
from peacewatch.core.geo import to_geojson
from peacewatch.core.i18n import N_
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.core.settings import Settings
from peacewatch.demining.models import Clearance
from peacewatch.evidence.media import MediaWork, media_work
from peacewatch.evidence.models import RecordKind
from peacewatch.evidence.service import clean_copy, published_on
from peacewatch.incidents.models import IncidentStatus
from peacewatch.mandate.service import check_mission_day
from peacewatch.patrols.models import Patrol
from peacewatch.publication import charts, official_map, wording
from peacewatch.publication.daily import Records, day_figures
from peacewatch.publication.document import Document, Picture, Section, Sentence, Table, to_html, to_markdown, to_pdf
from peacewatch.publication.records import PUBLIC, load_records
from peacewatch.publication.service import official_features

MAX_RANGE_DAYS = 3660  # --each-day: ten years of files
MAX_DOCUMENT_DAYS = 366  # one document: a year of rows


class Kind(str, enum.Enum):
    sitrep = "sitrep"
    bulletin = "bulletin"


class Format(str, enum.Enum):
    md = "md"
    html = "html"
    pdf = "pdf"
    json = "json"


class Language(str, enum.Enum):
    en = "en"
    ru = "ru"


MEDIA_TYPES = {Format.md: "text/markdown; charset=utf-8", Format.html: "text/html; charset=utf-8",
               Format.pdf: "application/pdf", Format.json: "application/json"}
# which table each list of record ids in the figures comes from
RECORD_TABLES = {
    "airlift.flights_total": "flights", "airlift.flights_day": "flights", "airlift.convoys_total": "convoys",
    "airlift.convoys_day": "convoys", "posts.open": "posts", "patrols.planned": "patrols", "patrols.carried_out": "patrols",
    "alerts.raised": "alerts", "alerts.open": "alerts", "incidents.events": "incident_events", "incidents.reports": "incidents",
    "incidents.restrictions": "incident_events", "incidents.events_total": "incident_events",
    "remains.handovers_day": "handovers", "remains.handovers_total": "handovers", "returns.day": "civilian_returns",
    "returns.total": "civilian_returns", "demining.day": "clearances", "demining.total": "clearances", "force.units": "units",
}


@dataclass(frozen=True)
class Report:
    body: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class Options:
    kind: Kind
    fmt: Format = Format.md
    language: Language = Language.en
    generated_at: datetime | None = None
    chart_days: int | None = None  # how many days the charts show, ending on the report's day; None: since the start
    picture_url: Callable[[str], str] | None = None  # a page's: where it fetches each picture instead of having it inline

    @property
    def internal(self) -> bool:
        return self.kind is Kind.sitrep


def check_span(session: Session, settings: Settings, since: date, until: date) -> None:
    """A report's days must lie between the mission's start and today."""
    check_mission_day(session, settings, since, field="query.since" if since != until else "query.date")
    if until != since:
        check_mission_day(session, settings, until, field="query.until")
        if until < since:
            raise Invalid("{until} is before {since}", field="query.until", until=until.isoformat(), since=since.isoformat())
        if (until - since).days >= MAX_RANGE_DAYS:
            raise Invalid("more than {MAX_RANGE_DAYS} days: ask for a shorter range", field="query.until", MAX_RANGE_DAYS=MAX_RANGE_DAYS)


def _stamp(options: Options) -> datetime:
    at = options.generated_at or utcnow()
    return at.astimezone(UTC).replace(microsecond=0)


# --- one day ---------------------------------------------------------------------------------------------

def daily_report(session: Session, settings: Settings, day: date, options: Options, records: Records | None = None) -> Report:
    """The report of one reporting day; pass ``records`` to reuse what an earlier report read."""
    check_span(session, settings, day, day)
    records = records or load_records(session, settings, internal=options.internal)
    return render_day(session, settings, records, day, options)


def day_document(session: Session, settings: Settings, day: date, options: Options) -> Document:
    """The report of one reporting day as a document, for a page that shows it in its own frame."""
    check_span(session, settings, day, day)
    return build_day(session, load_records(session, settings, internal=options.internal), day, options,
                     blob_store(settings), media_work(settings))[0]


def render_day(session: Session, settings: Settings, records: Records, day: date, options: Options) -> Report:
    doc, figures, provisional = build_day(session, records, day, options, blob_store(settings), media_work(settings))
    name = f"peacewatch-{options.kind.value}-{day.isoformat()}-{options.language.value}.{options.fmt.value}"
    return Report(_encode(doc, figures, options, provisional), MEDIA_TYPES[options.fmt], name)


def build_day(session: Session, records: Records, day: date, options: Options,
              blobs: BlobStore, work: MediaWork) -> tuple[Document, dict[str, Any], bool]:
    """The report of ``day`` as a document, with the figures it quotes and whether the day is still running.

    A public bulletin shows the photographs marked public on the day's public incidents (``blobs`` holds them),
    each re-encoded without its metadata."""
    figures = day_figures(records, day)
    provisional = records.mission.day_ends(day) > utcnow()
    pictures = _pictures(session, records, day, figures, options) if options.fmt in (Format.html, Format.pdf) else None
    if not options.internal:
        photos = _photographs(session, blobs, work, records, day, options)
        pictures = {**(pictures or {}), **photos} if photos else pictures
    write = wording.sitrep if options.internal else wording.bulletin
    names = {p.name: p.name_ru for p in records.places.values() if p.name_ru} if options.language is Language.ru else {}
    doc = write(figures, mission=records.mission.name, language=options.language.value, generated_at=_stamp(options),
                pictures=pictures, provisional=provisional, names=names)
    return doc, figures, provisional


def _encode(doc: Document, figures: dict[str, Any], options: Options, provisional: bool) -> bytes:
    if options.fmt is Format.md:
        return to_markdown(doc).encode()
    if options.fmt is Format.html:
        return to_html(doc).encode()
    if options.fmt is Format.pdf:
        return to_pdf(doc)
    return json_edition(doc, figures, provisional)


def split_sources(figures: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures without their record lists, and the record lists as {figure: {table, ids}}."""
    plain: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict) and "records" in value:
            plain[key] = {k: v for k, v in value.items() if k != "records"}
            for name, ids in value["records"].items():
                sources[f"{key}.{name}"] = {"table": RECORD_TABLES.get(f"{key}.{name}", key), "ids": ids}
        else:
            plain[key] = value
    return plain, sources


def json_edition(doc: Document, figures: dict[str, Any] | list[dict[str, Any]], provisional: bool) -> bytes:
    """The figures, the records behind each (table and ids), and the text quoting them."""
    days = figures if isinstance(figures, list) else [figures]
    split = [split_sources(f) for f in days]
    body: dict[str, Any] = {
        "kind": doc.kind, "language": doc.language, "title": doc.title, "subtitle": doc.subtitle,
        "generated_at": doc.generated_at.isoformat(), "provisional": provisional,
    }
    if isinstance(figures, list):  # a span: each day's own records; the running totals' lists would repeat every day
        body["days"] = [{"figures": plain, "sources": {k: v for k, v in sources.items() if "total" not in k}}
                        for plain, sources in split]
    else:
        body["figures"], body["sources"] = split[0]
    body["document"] = doc.outline()
    return (json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n").encode()


# --- pictures ----------------------------------------------------------------------------------------------

def _pictures(session: Session, records: Records, day: date, figures: dict[str, Any], options: Options) -> dict[str, Picture]:
    """The report's map and charts: drawn into the document, or, for a page that fetches them
    (``options.picture_url``), named by their address so the page's text arrives before its figures are drawn."""
    drawings = _drawings(session, records, day, figures, options)
    if options.picture_url is not None:
        return {key: Picture(key, caption, b"", url=options.picture_url(key)) for key, (caption, _draw) in drawings.items()}
    return {key: Picture(key, caption, draw()) for key, (caption, draw) in drawings.items()}


def day_picture(session: Session, settings: Settings, day: date, options: Options, key: str) -> bytes:
    """One of the report's pictures (``map``, ``flights``...) as PNG, drawn as the report would draw it."""
    check_span(session, settings, day, day)
    records = load_records(session, settings, internal=options.internal)
    drawings = _drawings(session, records, day, day_figures(records, day), options)
    if key not in drawings:
        raise NotFound("the report of {day} has no picture '{key}'", day=day.isoformat(), key=key)
    return drawings[key][1]()


def _drawings(session: Session, records: Records, day: date, figures: dict[str, Any],
              options: Options) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Each picture of the report by its key: its caption, and how to draw it (only when it is wanted). The series are
    counted here, cheaply; drawing is what costs."""
    w = wording.Words(options.language.value)
    tr = w._
    language = options.language.value
    since_start = days_between(records.mission.start, day)
    days = since_start[-options.chart_days:] if options.chart_days else since_start  # running totals count from the start
    flights_per_day = {d: 0 for d in days}
    flights_before = 0
    for m in records.movements:
        if m.table == "flights" and m.day in flights_per_day:
            flights_per_day[m.day] += 1
        elif m.table == "flights" and records.mission.start <= m.day < days[0]:
            flights_before += 1
    changes = {side: [0] * len(since_start) for side in ("A", "B")}
    for fact in records.casualty_facts:  # bodies handed over, as running totals per side
        if fact.measure == "handed_over" and fact.day <= day:
            changes[fact.side][max(0, (fact.day - records.mission.start).days)] += fact.delta
    handed = {side: list(accumulate(values))[-len(days):] for side, values in changes.items()}
    if options.internal:
        title, scope = tr(N_("Operations map")), tr(N_("Internal: not for publication"))
    else:
        title, scope = tr(N_("Official deployment map")), tr(N_("Public records only"))

    def draw_map() -> bytes:
        features = official_features(session, day, None if options.internal else PUBLIC)
        if options.internal:
            features += _operations_layers(session, records, figures)
        return _map(json.dumps(features, sort_keys=True, default=str), language, title, scope)

    caption = tr(N_("%(title)s, situation on %(date)s (%(scope)s)"), title=title, date=w.date(day), scope=scope.lower())
    drawings: dict[str, tuple[str, Callable[[], bytes]]] = {"map": (caption, draw_map)}
    drawings["flights"] = (tr(N_("Flights per day and since the start of the operation")),
                           lambda: _flights_chart(tuple(days), tuple(flights_per_day.values()), language, flights_before))
    if any(handed["A"]) or any(handed["B"]):
        drawings["handed_over"] = (tr(N_("Bodies handed over to each side, running total")), lambda: _handed_over_chart(
            tuple(days), tuple((s, tuple(v)) for s, v in handed.items()), language))
    if options.internal:
        moved = [m.movement for m in records.movements]
        series = strength_series(moved, [records.mission.day_ends(d) for d in days], towards_ceiling=False)
        ceilings, floor = records.mission.ceilings, records.mission.minimum
        drawings["strength"] = (tr(N_("Personnel in theatre against the mandate's ceiling")), lambda: _strength_chart(
            tuple(days), tuple(s.personnel for s in series), ceilings.personnel if ceilings else None,
            floor.personnel if floor else None, language))
        statuses = ("confirmed", "under_investigation", "reported", "not_confirmed")
        per_status = {s: [0] * len(days) for s in statuses}
        index = {d: i for i, d in enumerate(days)}
        for event in records.events:
            when = records.event_days[event.id]
            if not event.is_restriction and event.status is not IncidentStatus.rejected and when in index:
                per_status[event.status.value][index[when]] += 1
        drawings["violations"] = (tr(N_("Ceasefire violations per day, by verification")), lambda: _violations_chart(
            tuple(days), tuple((s, tuple(v)) for s, v in per_status.items()), language))
    return drawings


# The charts are pure (the same series draw the same bytes), so each is kept by its series and language: a page asked
# again, or the next day's report over the same window, draws nothing new; a record that changes a figure changes the
# key itself, so there is nothing to invalidate, in this process or another.
@lru_cache(maxsize=32)
def _flights_chart(days: tuple[date, ...], per_day: tuple[int, ...], language: str, before: int) -> bytes:
    return charts.flights_chart(days, per_day, wording.Words(language)._, before)


@lru_cache(maxsize=32)
def _handed_over_chart(days: tuple[date, ...], per_side: tuple[tuple[str, tuple[int, ...]], ...], language: str) -> bytes:
    words = wording.Words(language)
    return charts.handed_over_chart(days, dict(per_side), words._, {s: words.side(s) for s, _ in per_side})


@lru_cache(maxsize=32)
def _strength_chart(days: tuple[date, ...], personnel: tuple[int, ...], ceiling: int | None, minimum: int | None, language: str) -> bytes:
    return charts.strength_chart(days, personnel, ceiling, minimum, wording.Words(language)._)


@lru_cache(maxsize=32)
def _violations_chart(days: tuple[date, ...], per_status: tuple[tuple[str, tuple[int, ...]], ...], language: str) -> bytes:
    words = wording.Words(language)
    return charts.violations_chart(days, dict(per_status), words._, words.label)


def _photographs(session: Session, blobs: BlobStore, work: MediaWork, records: Records, day: date,
                 options: Options) -> dict[str, Picture]:
    """The photographs marked public on the public incidents of ``day``, without metadata (the only copy that may
    leave the mission); in the Markdown and JSON editions by their public address only."""
    tr = wording.Words(options.language.value)._
    reports = [str(r.id) for event in records.events if records.event_days.get(event.id) == day for r in event.reports]
    photos: dict[str, Picture] = {}
    for attachment in published_on(session, RecordKind.incident, reports):
        clean = b""
        if options.fmt in (Format.html, Format.pdf):
            try:
                with clean_copy(blobs, work, attachment) as copy:
                    clean = copy.read()
            except Conflict:
                continue  # a photo that cannot be re-encoded is never published as it is
        caption = tr(N_("Photograph of incident report %(id)s"), id=attachment.record_key)
        photos[f"photo-{attachment.id}"] = Picture(
            f"photo-{attachment.id}", f"{caption}: {attachment.caption}" if attachment.caption else caption, clean,
            "image/jpeg", f"/api/v1/attachments/{attachment.id}/public-copy", 110)
    return photos


@lru_cache(maxsize=16)
def _map(features: str, language: str, title: str, subtitle: str) -> bytes:
    """The map without a date on it (the caption dates it), so days whose layers did not change draw it once."""
    return official_map.render(json.loads(features), None, "png", title=title, tr=wording.Words(language)._, subtitle=subtitle,
                               locale=language)


def _operations_layers(session: Session, records: Records, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The day's events, patrol routes and cleared ground, drawn over the official layers on the operations map."""
    features: list[dict[str, Any]] = []
    wanted = set(figures["incidents"]["records"]["events"]) | set(figures["incidents"]["records"]["restrictions"])
    for event in records.events:
        if event.id in wanted:
            r = event.representative
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                             "properties": {"kind": "incident", "code": str(event.id)}})
    planned = figures["patrols"]["records"]["planned"]
    if planned:
        for route in session.scalars(select(Patrol.route).where(Patrol.id.in_(planned), Patrol.route.is_not(None))):
            features.append({"type": "Feature", "geometry": to_geojson(route), "properties": {"kind": "patrol_route"}})
    cleared = figures["demining"]["records"]["day"]
    if cleared:
        for shape in session.scalars(select(Clearance.geometry).where(Clearance.id.in_(cleared), Clearance.geometry.is_not(None))):
            features.append({"type": "Feature", "geometry": to_geojson(shape), "properties": {"kind": "clearance"}})
    return features


# --- a range of days ---------------------------------------------------------------------------------------

def each_day(session: Session, settings: Settings, since: date, until: date, options: Options) -> Iterator[tuple[date, Report]]:
    """One report per day from ``since`` to ``until``, reading the records once; refused at once when the span is."""
    check_span(session, settings, since, until)
    records = load_records(session, settings, internal=options.internal)
    days = days_between(since, until)
    return ((day, render_day(session, settings, records, day, options)) for day in days)


# the sentences of the last day that speak of the whole operation
SINCE_THE_START = frozenset({"airlift.flights_total", "airlift.personnel_delivered_total", "posts.open", "remains.handed_over_total",
                             "remains.sides.total.total.recovered", "returns.people_total", "demining.total"})
PERIOD_COLUMNS = (
    ("flights", N_("Flights"), lambda f: f["airlift"]["flights_day"]),
    ("patrols", N_("Patrols"), lambda f: f["patrols"]["carried_out"]),
    ("violations", N_("Violations"), lambda f: f["incidents"]["events"]),
    ("handed_over", N_("Bodies handed over"), lambda f: f["remains"]["handed_over_day"]),
    ("returned", N_("People returned"), lambda f: f["returns"]["people_day"]),
    ("explosive_objects", N_("Explosive objects"), lambda f: f["demining"]["day"]["explosive_objects"]),
)


def range_report(session: Session, settings: Settings, since: date, until: date, options: Options) -> Report:
    """One report over a span: the period's totals, a row per day, and the running totals at its end."""
    check_span(session, settings, since, until)
    if (until - since).days + 1 > MAX_DOCUMENT_DAYS:
        raise Invalid("one report holds at most {MAX_DOCUMENT_DAYS} days (a row each): ask for a shorter span, "
                      "or a file per day (peacewatch report ... --each-day)",
                      field="query.until", MAX_DOCUMENT_DAYS=MAX_DOCUMENT_DAYS)
    records = load_records(session, settings, internal=options.internal)
    days = days_between(since, until)
    per_day = [day_figures(records, d) for d in days]
    w = wording.Words(options.language.value)
    totals = {key: sum(get(f) for f in per_day) for key, _, get in PERIOD_COLUMNS}
    last = per_day[-1]
    over = [Sentence(w._("%(label)s: %(n)s.", label=w._(label), n=w.num(totals[key])), (f"days.{key}",))
            for key, label, _ in PERIOD_COLUMNS if totals[key]]
    rows = tuple(tuple([w.date(d), *(w.num(get(f)) for _, _, get in PERIOD_COLUMNS)]) for d, f in zip(days, per_day, strict=True))
    table = Table((w._("Day"), *(w._(label) for _, label, _ in PERIOD_COLUMNS)), rows, ("days",),
                  numeric=(False, *([True] * len(PERIOD_COLUMNS))))
    write = wording.sitrep if options.internal else wording.bulletin
    generated = _stamp(options)
    closing = write(last, mission=records.mission.name, language=options.language.value, generated_at=generated)
    since_start = [b for s in closing.sections for b in s.blocks
                   if isinstance(b, Sentence) and SINCE_THE_START.intersection(b.figures)]
    kind_title = w._("situation reports") if options.internal else w._("bulletins")
    doc = Document(
        kind=options.kind.value, language=options.language.value,
        title=w._("%(mission)s: %(what)s, %(since)s to %(until)s", mission=w.label(records.mission.name), what=kind_title,
                  since=w.date(since), until=w.date(until)),
        subtitle=w.ngettext("%(n)s reporting day", "%(n)s reporting days", len(days)),
        notes=wording.range_notes(w, since, until, records.mission.zone.key, internal=options.internal),
        generated_at=generated, generated_label=closing.generated_label,
        sections=[s for s in (Section(w._("Over the period"), over), Section(w._("Day by day"), [table]),
                              Section(w._("Since the start of the operation"), since_start)) if s.blocks],
    )
    provisional = records.mission.day_ends(until) > utcnow()
    name = f"peacewatch-{options.kind.value}-{since.isoformat()}-{until.isoformat()}-{options.language.value}.{options.fmt.value}"
    if options.fmt is Format.json:
        return Report(json_edition(doc, per_day, provisional), MEDIA_TYPES[options.fmt], name)
    return Report(_encode(doc, last, options, provisional), MEDIA_TYPES[options.fmt], name)


# --- a file per day, on every core -------------------------------------------------------------------------

CHUNK_DAYS = 8  # days a worker renders per task: small enough for a smooth progress bar
_worker: dict[str, Any] = {}


def _start_worker(settings: Settings, options: Options, folder: str) -> None:
    """A worker process: its own engine and session, the records read once."""
    session = make_sessionmaker(engine_for(settings, "reports"))()
    _worker.update(settings=settings, options=options, folder=Path(folder), session=session,
                   records=load_records(session, settings, internal=options.internal))


def _write_days(session: Session, settings: Settings, records: Records, options: Options, folder: Path,
                days: list[date]) -> int:
    for day in days:
        report = render_day(session, settings, records, day, options)
        (folder / report.filename).write_bytes(report.body)
    return len(days)


def _render_chunk(days: list[date]) -> int:
    w = _worker
    return _write_days(w["session"], w["settings"], w["records"], w["options"], w["folder"], days)


def write_each_day(session: Session, settings: Settings, since: date, until: date, options: Options, folder: str,
                   jobs: int = 1, progress: Any = None) -> int:
    """Write one file per day into ``folder``; with ``jobs`` > 1, processes share the days (each reads the records once).

    Worth it for HTML and PDF, whose maps and charts take most of a second per report; Markdown and JSON
    are faster in one process. ``progress(done, total)`` is told as days are written.
    """
    check_span(session, settings, since, until)
    days = days_between(since, until)
    chunks = [days[i:i + CHUNK_DAYS] for i in range(0, len(days), CHUNK_DAYS)]

    def tally(counts: Iterable[int]) -> int:
        done = 0
        for count in counts:
            done += count
            if progress is not None:
                progress(done, len(days))
        return done

    if jobs <= 1 or len(chunks) <= 1:
        records = load_records(session, settings, internal=options.internal)
        return tally(_write_days(session, settings, records, options, Path(folder), chunk) for chunk in chunks)
    context = multiprocessing.get_context("spawn")  # no engine, lock or thread of this process crosses over
    with context.Pool(jobs, initializer=_start_worker, initargs=(settings, options, folder)) as pool:
        return tally(pool.imap_unordered(_render_chunk, chunks))
