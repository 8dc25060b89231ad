"""``peacewatch user`` and ``peacewatch token``: users, their roles, and devices' API tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, cast

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from peacewatch.core.auth import Role
from peacewatch.core.console import (
    checked,
    cli_actor,
    console,
    fail,
    guarded,
    load_settings,
    open_session,
)
from peacewatch.core.visibility import Side

user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for devices.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="The user's role")],
    side: Annotated[Side | None, typer.Option(help="A or B: required for a liaison officer")] = None,
    full_name: Annotated[str, typer.Option(help="Full name")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, envvar="PEACEWATCH_NEW_PASSWORD")
    ] = "",
) -> None:
    """Add a user (the password is asked for unless PEACEWATCH_NEW_PASSWORD is set)."""
    from peacewatch.access.schemas import UserIn
    from peacewatch.access.service import create_user

    data = checked(UserIn, "user", username=username, password=password, full_name=full_name, role=role, side=side)
    settings = load_settings()
    with open_session(settings) as session:
        user = guarded(lambda: create_user(session, cli_actor(), data))
    console.print(f"user {user.username} added with role {user.role.value}")


@user_app.command("list")
def user_list() -> None:
    """List users and their roles."""
    from peacewatch.access.service import list_users

    with open_session(load_settings()) as session:
        table = Table("id", "username", "role", "side", "active")
        for u in list_users(session):
            table.add_row(str(u.id), u.username, u.role.value, u.side.value if u.side else "", "yes" if u.active else "no")
    console.print(table)


def bound_engine(session: Session) -> Engine:
    """The engine the CLI's session is bound to (open_session binds it to one)."""
    return cast(Engine, session.get_bind())


@user_app.command("lockouts")
def user_lockouts() -> None:
    """List the accounts and addresses refused for wrong passwords now."""
    from peacewatch.access.service import lockouts
    from peacewatch.core.throttle import sign_in_guard

    settings = load_settings()
    with open_session(settings) as session:
        found = lockouts(sign_in_guard(bound_engine(session), settings))
    table = Table("refused", "user", "address", "failures", "until (UTC)")
    for state in found:
        table.add_row(state.scope, state.username or "", state.address or "", str(state.failures),
                      f"{datetime.fromtimestamp(state.until, UTC):%Y-%m-%d %H:%M:%S}")
    console.print(table if found else "no lockout")


@user_app.command("unlock")
def user_unlock(
    username: Annotated[str | None, typer.Argument(help="The account whose lockouts to lift")] = None,
    address: Annotated[str | None, typer.Option(help="The address whose lockouts to lift (with a user: that pair only)")] = None,
) -> None:
    """Lift the lockouts of a user, of an address, or of a user from one address (audited)."""
    from peacewatch.access.service import lift_lockout
    from peacewatch.core.throttle import sign_in_guard

    if not username and not address:
        raise fail("name a user, an address (--address) or both")
    settings = load_settings()
    with open_session(settings) as session:
        lifted = guarded(lambda: lift_lockout(session, sign_in_guard(bound_engine(session), settings), cli_actor(), username, address))
    console.print(f"{len(lifted)} lockout(s) lifted" + "".join(f"\n  {s.scope}: {s.username or ''} {s.address or ''}".rstrip()
                                                              for s in lifted))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The device, e.g. 'tracker MP-07'")],
    user: Annotated[str, typer.Option("--user", help="Username the device acts as")],
) -> None:
    """Issue an API token for a device; it is printed once and only its hash is kept."""
    from peacewatch.access.schemas import ApiTokenIn
    from peacewatch.access.service import create_api_token

    try:
        data = ApiTokenIn(name=name, username=user)
    except ValidationError as exc:
        raise fail(exc.errors()[0]["msg"]) from None
    with open_session(load_settings()) as session:
        _token, secret = guarded(lambda: create_api_token(session, cli_actor(), data))
    console.print(secret, highlight=False, soft_wrap=True)
