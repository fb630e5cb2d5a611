"""The ``mailer`` command (also ``python -m mailer``).

Exit status, for every command: 0 done, 1 refused or invalid input (the reason on
stderr), 2 usage or configuration error; and for ``bounces process``, run by a mail
server, 75 (EX_TEMPFAIL) when the database cannot be reached, so that it tries again.

The commands live by concept: ``schema`` (init), ``users``, ``first_run`` (demo),
``serving`` (run, web, worker), ``bulletins`` (bulletin), ``bounces`` (bounces);
contacts/ and scheduler/ bring their own groups. Those groups use what this package
exports: the ``Context`` each command is handed, the ``Refused`` and ``Unusable``
exits, and ``require_schema``.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from mailer import logs
from mailer.cli.context import ConfigProblem, Context, Refused, Unusable
from mailer.cli.first_run import demo
from mailer.cli.schema import init, require_schema
from mailer.cli.serving import run, web, worker
from mailer.cli.users import users
from mailer.config import ConfigError

__all__ = ["Context", "Refused", "Unusable", "cli", "main", "require_schema"]


def _setup_logging() -> None:
    level = os.environ.get("MAILER_LOG_LEVEL", "INFO").upper()
    logs.install()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Waitress logs every queue warning at WARNING; its INFO chatter is not useful.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # Alembic announces every plugin and context at INFO; our own line says what changed.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML configuration file (else $MAILER_CONFIG, else ./config.toml).",
)
@click.version_option(package_name="stakeholder-mailer", prog_name="mailer")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None) -> None:
    """Stakeholder Mailer: consultation bulletins, timelines and cascade tracking."""
    _setup_logging()
    click_ctx.obj = Context(config_path)


def _register_commands() -> None:
    from contacts.cli import contacts
    from mailer.cli.api_keys import api_keys_group
    from mailer.cli.bounce_fetch import fetch_command
    from mailer.cli.bounces import bounces
    from mailer.cli.bulletins import bulletin
    from scheduler.cli import consultation, scheduler_command

    for command in (init, users, run, demo, web, worker):
        cli.add_command(command)
    cli.add_command(contacts)
    cli.add_command(consultation)
    cli.add_command(bulletin)
    bounces.add_command(fetch_command)
    cli.add_command(bounces)
    cli.add_command(scheduler_command)
    cli.add_command(api_keys_group)


_register_commands()


def main() -> None:
    from mailer.private_files import UMASK

    # What this process writes (the instance folder, SQLite's side files) is owner-only.
    os.umask(UMASK)
    try:
        cli(prog_name="mailer")
    except ConfigError as exc:  # met after start-up checks: a worker loading its keys
        ConfigProblem(str(exc)).show()
        sys.exit(ConfigProblem.exit_code)
