"""The users page, for administrators: who may sign in, as what, what each has open, and the lockouts to lift.

Each user's row says their role and side, whether they are active, their last sign-in and from where, their
open sessions and device tokens, and the lockouts on their account. From it an administrator changes a user
(the change form opens with the user's current values), disables or enables them (asking why, for the audit
log), and lifts a lockout; the lockouts of addresses are listed below. Anyone else gets 404.
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from peacewatch.access.service import lockouts, users_overview
from peacewatch.core.auth import Role
from peacewatch.core.i18n import translations
from peacewatch.core.throttle import ADDRESS
from peacewatch.core.web import SessionDep
from peacewatch.ui.pages import PageDep, router

CHANGE_USER = "update_user_api_v1_users__user_id__patch"


@router.get("/users", response_class=HTMLResponse)
def users_page(page: PageDep, session: SessionDep) -> Response:
    user = page.require_user()
    if user.role is not Role.admin:
        return page.render("not_found.html", status_code=404, what=translations(page.language).gettext("This page"))
    guard = page.request.app.state.sign_in_guard
    addresses = [state for state in lockouts(guard) if state.scope == ADDRESS]
    return page.render("users.html", users=users_overview(session, guard), addresses=addresses, change=CHANGE_USER,
                       config={"me": user.username})
