"""The one place where the web application is wired: settings, database, routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from peacewatch import __version__
from peacewatch.access import api as access_api
from peacewatch.airlift import api as airlift_api
from peacewatch.alerts import api as alerts_api
from peacewatch.alerts.service import sweep
from peacewatch.claims import api as claims_api
from peacewatch.core.db import make_engine, make_sessionmaker
from peacewatch.core.notify import Notifier
from peacewatch.core.problems import install_problem_handlers, problem_responses
from peacewatch.core.settings import Settings
from peacewatch.demining import api as demining_api
from peacewatch.force import api as force_api
from peacewatch.geography import api as geography_api
from peacewatch.incidents import api as incidents_api
from peacewatch.mandate import api as mandate_api
from peacewatch.ogc import api as ogc_api
from peacewatch.patrols import api as patrols_api
from peacewatch.publication import api as publication_api
from peacewatch.remains import api as remains_api
from peacewatch.returns import api as returns_api
from peacewatch.tracking import api as tracking_api
from peacewatch.tracking.listener import CotListener
from peacewatch.ui import pages

ROUTERS = (
    access_api.auth,
    access_api.users,
    access_api.tokens,
    access_api.audit,
    mandate_api.router,
    force_api.router,
    geography_api.areas,
    geography_api.corridors,
    geography_api.lines_of_contact,
    geography_api.restricted_zones,
    geography_api.districts,
    geography_api.posts,
    geography_api.layers,
    geography_api.coordinates,
    tracking_api.trackers,
    tracking_api.positions,
    tracking_api.cot,
    tracking_api.coverage,
    patrols_api.router,
    patrols_api.plans,
    alerts_api.router,
    incidents_api.router,
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
    ogc_api.router,
    ogc_api.exports,
)
SWEEP_SECONDS = 15


async def sweep_forever(app: FastAPI) -> None:
    """Raise the alerts that no position can (a silent patrol, one not back in time) every few seconds."""
    def run() -> int:
        with app.state.sessionmaker() as session:
            return len(sweep(session))

    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            if await asyncio.to_thread(run):
                app.state.notifier.notify()
        except Exception:  # noqa: BLE001 - keep sweeping through a passing database error
            logging.getLogger("peacewatch.alerts").exception("sweep failed")

def create_app(settings: Settings | None = None, *, listeners: bool = False) -> FastAPI:
    """The application; ``listeners`` also runs the Cursor-on-Target listeners in its event loop."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.notifier.bind(asyncio.get_running_loop())
        app.state.cot = None
        sweeper = None
        if listeners:
            app.state.cot = CotListener(settings, app.state.sessionmaker, app.state.notifier)
            await app.state.cot.start()
            sweeper = asyncio.create_task(sweep_forever(app))
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
            if app.state.cot is not None:
                await app.state.cot.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="PeaceWatch",
        version=__version__,
        description="Operations and ceasefire monitoring for a peacekeeping mission. "
        "Errors are RFC 9457 problem details; geometry is GeoJSON in WGS84.",
        # any request may be malformed, carry a bad token, or fail validation
        responses=problem_responses(400, 401, 422),
    )
    engine = make_engine(settings.resolved_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.notifier = Notifier()
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    pages.install(app)

    @app.get("/healthz", tags=["meta"], summary="Liveness: the process answers and the database is reachable")
    def health() -> dict[str, str]:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    return app
