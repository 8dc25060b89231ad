"""The one place where the web application is wired: settings, database, routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import anyio.to_thread
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from peacewatch import __version__
from peacewatch.access import api as access_api
from peacewatch.airlift import api as airlift_api
from peacewatch.airlift.api import MAX_LOG_BYTES
from peacewatch.alerts import api as alerts_api
from peacewatch.alerts.live import NewAlerts
from peacewatch.alerts.models import Alert, AlertStatus
from peacewatch.alerts.service import sweep
from peacewatch.claims import api as claims_api
from peacewatch.core import partitions
from peacewatch.core.admission import Admission, AdmissionCounters, StreamLimits
from peacewatch.core.answers import Answers
from peacewatch.core.auth import Identities, Role
from peacewatch.core.blobs import blob_store
from peacewatch.core.bodies import RequestBodies
from peacewatch.core.broadcast import Topic
from peacewatch.core.changes import ON_COMMIT
from peacewatch.core.cluster import ClusterWork, Job
from peacewatch.core.cookies import SessionEnd
from peacewatch.core.db import engine_for, make_sessionmaker, utcnow
from peacewatch.core.migrate import current_revision, head_revision
from peacewatch.core.notify import Notifier, listen_forever
from peacewatch.core.observability import METRICS, Gauge, RequestMetrics, StateGauges, new_request_id, sane_request_id
from peacewatch.core.partitions import DAY_MS
from peacewatch.core.problems import Forbidden, Unauthorized, Unavailable, install_problem_handlers, problem_responses
from peacewatch.core.settings import Settings
from peacewatch.core.throttle import sign_in_guard
from peacewatch.core.web import OptionalUser, document_roles, stream_caller
from peacewatch.courier import api as courier_api
from peacewatch.demining import api as demining_api
from peacewatch.duty import api as duty_api
from peacewatch.duty.delivery import deliver_due
from peacewatch.duty.models import Notice, NoticeStatus
from peacewatch.duty.service import escalate
from peacewatch.evidence import api as evidence_api
from peacewatch.evidence.service import sweep_store
from peacewatch.force import api as force_api
from peacewatch.geography import api as geography_api
from peacewatch.geography.formats import MAX_LAYER_BYTES
from peacewatch.incidents import api as incidents_api
from peacewatch.live import api as live_api
from peacewatch.live.api import MAX_BATCH_BYTES
from peacewatch.live.ingest import Ingest
from peacewatch.live.listener import CotListener
from peacewatch.mandate import api as mandate_api
from peacewatch.ogc import api as ogc_api
from peacewatch.patrols import api as patrols_api
from peacewatch.patrols.service import generate_ahead, keep_tracks
from peacewatch.publication import api as publication_api
from peacewatch.remains import api as remains_api
from peacewatch.remains import matching_cache
from peacewatch.returns import api as returns_api
from peacewatch.tracking import api as tracking_api
from peacewatch.tracking.gpx import MAX_GPX_BYTES
from peacewatch.tracking.live import NewFixes
from peacewatch.tracking.retention import cutoff, prune_positions
from peacewatch.tracking.store import COVERAGE, POSITIONS
from peacewatch.ui import pages

# A request is matched against the routers in this order, a few microseconds each: what every open map
# asks every few seconds comes first.
MULTIPART_OVERHEAD = 2**20
BODY_LIMITS = {  # the endpoints whose bodies are files or batches; every other write takes settings.max_body_bytes
    "/api/v1/positions/gpx": MAX_GPX_BYTES + MULTIPART_OVERHEAD,
    "/api/v1/positions": MAX_BATCH_BYTES,
    "/api/v1/layers/": MAX_LAYER_BYTES + MULTIPART_OVERHEAD,
    "/api/v1/flights/import": MAX_LOG_BYTES,
    "/api/v1/attachments": evidence_api.MAX_UPLOAD_BYTES,
    "/api/v1/field-outboxes": courier_api.MAX_OUTBOX_BYTES,
}

ROUTERS = (
    evidence_api.router,
    tracking_api.positions,
    live_api.positions_in,
    *duty_api.ROUTERS,  # before the alerts' own: /api/v1/alerts/response-times is not an alert's id
    alerts_api.router,
    alerts_api.emergencies,
    geography_api.posts,
    geography_api.areas,
    geography_api.corridors,
    geography_api.lines_of_contact,
    incidents_api.router,
    patrols_api.router,
    ogc_api.router,
    access_api.auth,
    access_api.users,
    access_api.staff,
    access_api.lockouts,
    access_api.tokens,
    access_api.audit,
    mandate_api.router,
    force_api.router,
    geography_api.restricted_zones,
    geography_api.districts,
    geography_api.layers,
    geography_api.coordinates,
    geography_api.places,
    tracking_api.trackers,
    tracking_api.cot,
    tracking_api.coverage,
    patrols_api.plans,
    incidents_api.events,
    incidents_api.figures,
    incidents_api.proposals,
    publication_api.router,
    publication_api.reports,
    *remains_api.ROUTERS,
    *airlift_api.ROUTERS,
    *claims_api.ROUTERS,
    *demining_api.ROUTERS,
    *returns_api.ROUTERS,
    ogc_api.exports,
    courier_api.router,
)
log = logging.getLogger("peacewatch.app")
PLAN_SECONDS = 600
HOUSEKEEPING_SECONDS = 3600


def sweep_files(settings: Settings, factory: sessionmaker[Session]) -> dict[str, int]:
    """Scratch files and files no committed row names, left by a crash or a full disk: deleted once past their grace."""
    with factory() as session:
        swept = sweep_store(session, blob_store(settings), settings.evidence_sweep_grace_s)
    if swept.scratch or swept.orphans:
        log.info("file store swept: %d scratch files, %d files no record names", swept.scratch, swept.orphans)
    return asdict(swept)


def periodic_jobs(settings: Settings, factory: sessionmaker[Session]) -> list[Job]:
    """What the cluster does once, whichever process leads: raise the alerts no position can (a silent
    patrol, one not back in time), put the recurring plans' next patrols on the board, make the coming
    days' partitions of positions (PostgreSQL) and, if a retention is set, prune what is older."""

    def sweep_alerts() -> int:
        with factory() as session:
            return len(sweep(session))

    def plan_patrols() -> int:
        with factory() as session:
            return generate_ahead(session, utcnow(), settings.patrol_lookahead_hours)

    def make_partitions() -> list[str]:
        now_ms = int(utcnow().timestamp() * 1000)
        engine = factory.kw["bind"]
        return [*partitions.make_ahead(engine, POSITIONS, now_ms - DAY_MS, settings.partitions_ahead_days + 1),
                *partitions.make_ahead(engine, COVERAGE, now_ms, 2)]

    def prune() -> int:
        assert settings.positions_keep_days is not None
        with factory() as session:
            return prune_positions(session, "retention", cutoff(utcnow(), settings.positions_keep_days), [keep_tracks]).positions

    def escalate_and_deliver() -> dict[str, int]:
        """The due steps of every waiting alert's chain, then the e-mails and webhooks due (TAK: each process's feed)."""
        with factory() as session:
            steps = escalate(session)
            return {"steps": steps, **deliver_due(session, settings)}

    jobs = [Job("alert-escalation", settings.notify_seconds, escalate_and_deliver),
            Job("alert-sweep", settings.sweep_seconds, sweep_alerts), Job("partitions-ahead", HOUSEKEEPING_SECONDS, make_partitions),
            Job("file-store-sweep", HOUSEKEEPING_SECONDS, lambda: sweep_files(settings, factory))]
    if settings.patrol_lookahead_hours:
        jobs.append(Job("patrol-plans", PLAN_SECONDS, plan_patrols))
    if settings.positions_keep_days:
        jobs.append(Job("positions-retention", HOUSEKEEPING_SECONDS, prune))
    return jobs


def process_gauges(app: FastAPI, engine: Engine, factory: sessionmaker[Session], work: ClusterWork) -> list[Gauge]:
    """This process's state at a scrape: whether it leads, its pool, its CoT connections and live streams, what its
    admission shed, and the cluster's alert and notice queues (read from the database, the same from every process)."""
    pool = engine.pool
    gauges = [
        Gauge("peacewatch_leader", "1 while this process leads the cluster's periodic work", 1.0 if work.leading else 0.0),
        Gauge("peacewatch_db_pool_connections", "Database connections of this process's pool", label="state",
              values={"in_use": float(getattr(pool, "checkedout", lambda: 0)()), "idle": float(getattr(pool, "checkedin", lambda: 0)())}),
        Gauge("peacewatch_live_streams", "Live streams (server-sent events) open on this process", float(app.state.admission.streams)),
        Gauge("peacewatch_requests_waiting", "Requests waiting for a free worker", float(app.state.admission.waiting)),
        Gauge("peacewatch_requests_shed", "Requests answered 503 or 429 at once by admission, by reason", label="reason",
              values={reason: float(count) for reason, count in app.state.admission.by_reason.items()}, counter=True),
    ]
    cot = app.state.cot
    if cot is not None:
        gauges += [
            Gauge("peacewatch_cot_connections", "CoT connections (TCP and TLS) open on this process", float(cot.slots.open)),
            Gauge("peacewatch_cot_events", "CoT events received by this process, by what became of them", label="outcome", counter=True,
                  values={"received": float(cot.counters.events), "stored": float(cot.counters.stored),
                          "malformed": float(cot.counters.malformed), "unregistered": float(cot.counters.unregistered),
                          "shed": float(cot.counters.shed), "hostile": float(cot.counters.hostile)}),
        ]
    with factory() as session:
        stages = dict(session.execute(select(Alert.status, func.count()).where(Alert.status != AlertStatus.closed)
                                      .group_by(Alert.status)).all())
        notices = dict(session.execute(select(Notice.status, func.count())
                                       .where(Notice.status.in_([NoticeStatus.pending, NoticeStatus.sending]))
                                       .group_by(Notice.status)).all())
    gauges += [
        Gauge("peacewatch_alerts_open", "Alerts not yet closed, by status", label="status",
              values={status.value: float(stages.get(status, 0)) for status in (AlertStatus.open, AlertStatus.acknowledged)}),
        Gauge("peacewatch_notices_waiting", "Notices of alerts waiting to be sent, or being sent", label="status",
              values={status.value: float(notices.get(status, 0)) for status in (NoticeStatus.pending, NoticeStatus.sending)}),
    ]
    return gauges


def _warm_matching(sessions: sessionmaker[Session]) -> None:
    try:
        matching_cache.warm(sessions)
    except Exception:  # a cold cache only costs the first reader time: never a reason to stop serving
        log.warning("the matching columns could not be built at start", exc_info=True)


def create_app(settings: Settings | None = None, *, listeners: bool = False) -> FastAPI:
    """The application; ``listeners`` makes it a serving process: Cursor-on-Target listeners and the
    cluster's periodic work run in its event loop."""
    settings = settings or Settings()
    engine = engine_for(settings, "serve", pooled=True)
    notifier = Notifier()
    factory = make_sessionmaker(engine)
    factory.configure(info={ON_COMMIT: notifier.changed})  # every commit through this app wakes its live streams
    # the leader looks as often as the alert escalation runs (a call for help waits at most that long for its first step)
    work = ClusterWork(settings.session_database_url, periodic_jobs(settings, factory), tick_s=min(1.0, settings.notify_seconds))
    active = settings.db_pool_size  # the overflow is left to the streams, the CoT listener and the periodic work

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notifier.bind(asyncio.get_running_loop())
        anyio.to_thread.current_default_thread_limiter().total_tokens = active + 4
        app.state.cot = None
        tasks = []
        if settings.shared_database:
            tasks.append(asyncio.create_task(listen_forever(settings.session_database_url, notifier)))
        pages.compile_templates()
        if listeners and settings.warm_up:
            # a serving process builds what its first readers would wait for before it answers anyone (two seconds on
            # the demo): done beside the first requests, it held the interpreter while live fixes waited (a stream's
            # fix 0.5 s late). An application in a test's process does not (the tests' settings turn it off).
            await asyncio.to_thread(pages.warm_up, app)
            await asyncio.to_thread(_warm_matching, factory)
        if listeners:
            # what a crash left in the file store goes at start (past its grace: other processes may be uploading)
            tasks.append(asyncio.create_task(asyncio.to_thread(sweep_files, settings, factory)))
            app.state.cot = CotListener(settings, factory, app.state.ingest, notifier)
            await app.state.cot.start()
            if settings.periodic_work:
                tasks.append(asyncio.create_task(work.run_forever()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for topic in (app.state.positions_topic, app.state.alerts_topic):
                await topic.stop()
            if app.state.cot is not None:
                await app.state.cot.stop()
            app.state.hashing.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        lifespan=lifespan,
        title="PeaceWatch",
        version=__version__,
        description="Operations and ceasefire monitoring for a peacekeeping mission. "
        "Errors are RFC 9457 problem details; geometry is GeoJSON in WGS84.",
        # any request may be malformed, carry a bad token, or fail validation; any may find the server busy
        responses=problem_responses(400, 401, 413, 422, 503),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = factory
    app.state.notifier = notifier
    app.state.ingest = Ingest.of(settings)  # the one way in for positions: HTTP, GPX, CoT
    app.state.work = work
    app.state.admission = AdmissionCounters()
    app.state.answers = Answers()
    app.state.identities = Identities()
    app.state.sign_in_guard = sign_in_guard(engine, settings)
    app.state.hashing = ThreadPoolExecutor(settings.password_hashing_threads, thread_name_prefix="password-hashing")
    app.state.positions_topic = Topic(notifier, frozenset({"positions"}), NewFixes(factory))
    app.state.alerts_topic = Topic(notifier, frozenset({"alerts"}), NewAlerts(factory))
    app.state.metrics = CollectorRegistry()
    app.state.metrics.register(StateGauges(lambda: process_gauges(app, engine, factory, work)))
    app.add_middleware(SessionEnd, secure=settings.cookie_secure)
    app.add_middleware(RequestBodies, default_bytes=settings.max_body_bytes, limits=BODY_LIMITS,
                       anonymous=frozenset({"/api/v1/auth/token", "/api/v1/alerts/acknowledge-by-link"}))  # signing in; a link's token
    app.add_middleware(Admission, active=active, queued=settings.queued_requests, queue_timeout_s=settings.queue_timeout_s,
                       streams=StreamLimits(settings.max_streams, min(settings.operations_stream_reserve, settings.max_streams),
                                            settings.anonymous_streams, settings.anonymous_streams_per_address,
                                            settings.streams_per_user, settings.operations_streams_per_user),
                       identify=stream_caller, counters=app.state.admission,
                       sign_in_paths=frozenset({"/api/v1/auth/token", "/login"}), sign_ins_active=settings.password_hashing_threads)
    app.add_middleware(RequestMetrics)  # outside admission: a request it sheds is counted too
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID", generator=new_request_id, validator=sane_request_id,
                       transformer=None)  # outermost: every line logged for a request carries its id
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    pages.install(app)
    document_roles(app)
    head = head_revision()

    @app.get("/healthz", tags=["meta"], summary="Liveness: the process answers (whatever the database's state)")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    metrics_from = frozenset(address.strip() for address in settings.metrics_allow_ips.split(",") if address.strip())

    @app.get("/metrics", tags=["meta"], response_class=PlainTextResponse, responses=problem_responses(401, 403),
             summary="Prometheus metrics of this process (from the addresses of PEACEWATCH_METRICS_ALLOW_IPS, or an admin)")
    def metrics(request: Request, user: OptionalUser) -> Response:
        direct = request.client is not None and request.client.host in metrics_from and "x-forwarded-for" not in request.headers
        if not direct:
            if user is None:
                raise Unauthorized("sign in as an administrator to read the metrics")
            if user.role is not Role.admin:
                raise Forbidden("the metrics are for administrators")
        return Response(generate_latest(METRICS) + generate_latest(app.state.metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["meta"], responses=problem_responses(503),
             summary="Readiness: the database answers and its schema is current; to an administrator, the process's "
                     "details (its id, whether it leads the periodic work, its jobs and admission counters)")
    def ready(user: OptionalUser) -> dict[str, Any]:
        current = current_revision(engine)
        administrator = user is not None and user.role is Role.admin
        if current != head:
            raise Unavailable(f"the database schema is at {current or 'nothing'}, not {head}: run 'peacewatch db upgrade'"
                              if administrator else "not ready: the database schema is not current", retry_after_s=30)
        if not administrator:  # a load balancer needs the status; the process's inner state is the administrator's
            return {"status": "ready"}
        return {"status": "ready", "schema": current, "process": os.getpid(), "listening": notifier.listening,
                **work.status(), "admission": asdict(app.state.admission)}

    return app


def serving_app() -> FastAPI:
    """The app of one of 'peacewatch serve --workers N's processes, from the environment's settings."""
    return create_app(Settings(), listeners=True)
