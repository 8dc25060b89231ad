"""The ``peacewatch`` command: the same settings and services as the server, for operators at a shell.

Every command lives with what it works on: a capability's commands in its own ``cli.py`` (they import the
shared helpers of ``core.console``, never this package), the installation's own here beside this file. This
module only registers them, each by name, so that the whole command tree reads in one place."""

from __future__ import annotations

import typer

from peacewatch.access import cli as access
from peacewatch.airlift import cli as airlift
from peacewatch.claims import cli as claims
from peacewatch.cli import administration, demo, server
from peacewatch.demining import cli as demining
from peacewatch.geography import cli as geography
from peacewatch.incidents import cli as incidents
from peacewatch.live import cli as live
from peacewatch.mandate import cli as mandate
from peacewatch.ogc import cli as ogc
from peacewatch.publication import cli as publication
from peacewatch.remains import cli as remains
from peacewatch.returns import cli as returns

app = typer.Typer(
    help="PeaceWatch: operations and ceasefire monitoring.", no_args_is_help=True, add_completion=False,
    pretty_exceptions_show_locals=False,
)

# the installation: schema, server, periodic work, keys, backups, the demonstration
db = typer.Typer(help="Database schema.", no_args_is_help=True)
db.command("upgrade")(server.db_upgrade)
db.command("current")(server.db_current)
app.add_typer(db, name="db")
config = typer.Typer(help="The installation's settings.", no_args_is_help=True)
config.command("check")(administration.config_check)
app.add_typer(config, name="config")
app.command("serve")(server.serve)
app.command("work")(server.work)
app.command("keys")(administration.keys_create)
app.command("backup")(administration.backup_command)
app.command("restore")(administration.restore_command)
app.command("demo")(demo.demo)
app.command("simulate")(demo.simulate)

# the capabilities' commands
app.add_typer(access.user_app, name="user")
app.add_typer(access.token_app, name="token")
app.add_typer(live.positions_app, name="positions")
app.command("gpx")(live.upload_gpx)
app.command("backfill")(live.backfill)
app.command("import")(geography.import_layer)
app.command("export")(geography.export_layer)
app.command("mandate")(mandate.mandate_state)
app.add_typer(incidents.app, name="incident")
app.add_typer(airlift.app, name="airlift")
app.add_typer(claims.app, name="claims")
app.add_typer(remains.app, name="remains")
app.add_typer(remains.custody_app, name="custody")
app.add_typer(publication.app, name="report")
app.add_typer(demining.app, name="demining")
app.add_typer(returns.app, name="returns")
app.command("features")(ogc.features)


def main() -> None:
    app()
