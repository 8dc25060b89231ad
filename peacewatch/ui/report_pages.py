"""The reports page: the public bulletin for anyone, the situation report for the mission's staff, on any day.

The report is shown in the page and offered as HTML, PDF, Markdown and JSON from the API, in
English or Russian; a liaison officer or an anonymous reader asking for the sitrep gets 404.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from peacewatch.core.auth import INTERNAL_ROLES
from peacewatch.core.calendar import mission_today
from peacewatch.core.db import utcnow
from peacewatch.core.i18n import translations
from peacewatch.core.problems import Problem
from peacewatch.core.visibility import readable_visibilities
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.publication.document import to_html_fragment
from peacewatch.publication.reports import Format, Kind, Language, Options, day_document, day_picture
from peacewatch.ui.moments import latest_record, opening, opening_day
from peacewatch.ui.pages import PageDep, router

CHART_WINDOWS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}  # days the charts show, ending on the day
DEFAULT_WINDOW = "30"  # a month: the days around the report, not a line squeezed from the start of the operation


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    page: PageDep, session: SessionDep, settings: SettingsDep,
    kind: Kind = Kind.bulletin,
    day: Annotated[str | None, Query(alias="date", max_length=10, description="The reporting day, YYYY-MM-DD")] = None,
    lang: Language | None = None,
    window: Annotated[str | None, Query(max_length=6, description="Days the charts show: 7, 30, 90 or all")] = None,
) -> Response:
    _ = translations(page.language).gettext
    internal = page.user is not None and page.user.role in INTERNAL_ROLES
    if kind is Kind.sitrep and not internal:
        page.require_user()
        return page.render("not_found.html", status_code=404, what=_("Situation report"))
    language = lang or Language(page.language)
    chosen_window = window if window in CHART_WINDOWS else DEFAULT_WINDOW
    chart_days = CHART_WINDOWS[chosen_window]
    report, error, chosen, notice = None, None, mission_today(settings), None
    try:
        if day:
            chosen = date.fromisoformat(day)
        else:  # today, unless the reader's records ended more than a day ago: then their last reporting day
            latest = opening(latest_record(session, page.user.readable if page.user else readable_visibilities(internal=False, side=None)), utcnow())
            if latest is not None:
                chosen = opening_day(latest, settings.zone)
                notice = _("The mission's records end on %(day)s: its report is shown. Choose another day above.") % {
                    "day": chosen.isoformat()}
    except ValueError:
        error = _("Not a date: %(value)s") % {"value": day}
    if error is None:
        day_path = f"/reports/{kind.value}/{chosen.isoformat()}"  # its pictures, fetched as the text is read
        options = Options(kind, Format.html, language, chart_days=chart_days,
                          picture_url=lambda key: f"{day_path}/{key}.png?lang={language.value}&window={chosen_window}")
        try:
            report = Markup(to_html_fragment(day_document(session, settings, chosen, options)))
        except Problem as problem:
            error = problem.said_in(_)
    return page.render("reports.html", notice=notice, kind=kind.value, day=chosen.isoformat(), language_code=language.value, report=report,
                       error=error, internal=internal, window=chosen_window, windows=list(CHART_WINDOWS),
                       chart_days=chart_days, formats=[f.value for f in Format], languages_available=[x.value for x in Language])


@router.get("/reports/{kind}/{day}/{key}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def report_picture(
    page: PageDep, session: SessionDep, settings: SettingsDep, kind: Kind, day: date,
    key: Annotated[str, Path(max_length=32, pattern=r"^[a-z_]+$")],
    lang: Language = Language.en,
    window: Annotated[str, Query(max_length=6, description="Days the charts show: 7, 30, 90 or all")] = DEFAULT_WINDOW,
) -> Response:
    """One picture of the reports page (its map, a chart), drawn when the page asks for it: the report's text is not
    held back while the figures are drawn. The same readers as the page: a situation report's for the staff only."""
    if kind is Kind.sitrep and (page.user is None or page.user.role not in INTERNAL_ROLES):
        return Response(status_code=404)
    options = Options(kind, Format.html, lang, chart_days=CHART_WINDOWS.get(window, CHART_WINDOWS[DEFAULT_WINDOW]))
    try:
        png = day_picture(session, settings, day, options, key)
    except Problem as problem:
        return Response(status_code=problem.status)
    tag = '"' + hashlib.sha256(png).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
    if page.request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)
