"""The ``mailer`` command (also ``python -m mailer``).

Exit status, for every command: 0 done, 1 refused or invalid input (the reason on
stderr), 2 usage or configuration error.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click

from mailer import logs
from mailer.config import Config, ConfigError, load_config

log = logging.getLogger("mailer.cli")

ENV_ADMIN_EMAIL = "MAILER_ADMIN_EMAIL"
ENV_ADMIN_PASSWORD = "MAILER_ADMIN_PASSWORD"
DEFAULT_ADMIN_EMAIL = "admin@example.org"


class ConfigProblem(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mailer: configuration error: {self.message}", err=True)


class Unusable(click.ClickException):
    """Exit 2: the input as a whole cannot be used (an unreadable file, say)."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mailer: {self.message}", err=True)


class Refused(click.ClickException):
    """Exit 1 with the reason on stderr."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"mailer: {self.message}", err=True)


@dataclass
class Context:
    config_path: str | None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise ConfigProblem(str(exc)) from None
        return self._config

    def app(self):  # type: ignore[no-untyped-def]
        from mailer.app import create_app

        try:
            return create_app(self.config)
        except ConfigError as exc:  # an unusable generated key file, say
            raise ConfigProblem(str(exc)) from None

    def database(self):  # type: ignore[no-untyped-def]
        from mailer.database import Database
        from mailer.instance import ensure_instance_dir

        if self.config.uses_default_database:
            ensure_instance_dir(self.config)
        return Database(self.config.database_url)


pass_ctx = click.make_pass_decorator(Context)


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


# --- init -------------------------------------------------------------------------------


def _read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise Refused("no password on standard input")
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise Refused("no password on standard input (expected it on the first line)")
    return password


def _ensure_schema(ctx: Context, *, announce: bool = True) -> Any:
    """Apply migrations; audit the first initialisation. Returns the Database."""
    from sqlalchemy.exc import OperationalError

    from mailer import audit, migrate
    from mailer.audit import actions

    db = ctx.database()
    try:
        before, after = migrate.upgrade(db)
    except OperationalError as exc:
        raise Refused(f"cannot reach the database {_safe_url(db.url)}: {exc.orig or exc}") from None
    if before is None:
        with db.transaction() as session:
            audit.record(session, actions.SYSTEM_INITIALISED, summary=f"Schema created at {after}")
    seeded = _seed(db)
    if announce:
        state = (
            f"created (revision {after})"
            if before is None
            else f"upgraded {before} -> {after}"
            if before != after
            else f"already up to date (revision {after})"
        )
        click.echo(f"database {_safe_url(db.url)}: schema {state}")
        if seeded:
            click.echo(f"added {seeded} Stakeholder Special template(s)")
    return db


def _seed(db: Any) -> int:
    """The shipped template family and the organisation settings row, once."""
    from sqlalchemy.exc import IntegrityError

    from mailer.email_templates.seeds import seed_database_once

    try:
        with db.transaction() as session:
            return seed_database_once(session)
    except IntegrityError:
        # A concurrent `mailer init` seeded them first: nothing is left to do.
        return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@cli.command()
@click.option("--admin-email", help="Create an admin user with this address.")
@click.option("--admin-name", default="", help="The admin's full name.")
@click.option(
    "--admin-password-stdin",
    is_flag=True,
    help="Read the admin's password from the first line of standard input.",
)
@pass_ctx
def init(
    ctx: Context, admin_email: str | None, admin_name: str, admin_password_stdin: bool
) -> None:
    """Create or upgrade the database schema; optionally create an admin. Idempotent."""
    if admin_password_stdin and not admin_email:
        raise click.UsageError("--admin-password-stdin needs --admin-email")
    if admin_email and not admin_password_stdin:
        raise click.UsageError(
            "--admin-email needs --admin-password-stdin "
            "(passwords are never taken on the command line)"
        )
    password = _read_password_stdin() if admin_password_stdin else None
    db = _ensure_schema(ctx)
    if admin_email and password is not None:
        from mailer.accounts import roles
        from mailer.accounts import service as accounts

        with db.transaction() as session:
            existing = accounts.find_by_email(session, admin_email)
            if existing is not None:
                click.echo(
                    f"user {existing.email} already exists as {existing.role}; left unchanged"
                )
                return
            try:
                user = accounts.create_user(
                    session,
                    email=admin_email,
                    password=password,
                    role=roles.ADMIN,
                    name=admin_name,
                    by_label="cli: mailer init",
                )
            except accounts.AccountError as exc:
                raise Refused(str(exc)) from None
        click.echo(f"admin {user.email} created")


# --- users ------------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """Manage the people who sign in to the admin."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["editor", "approver", "admin"]), required=True)
@click.option("--name", default="", help="Full name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from the first line of standard input.",
)
@pass_ctx
def users_add(ctx: Context, email: str, role: str, name: str, password_stdin: bool) -> None:
    """Add a user with a role."""
    from mailer.accounts import service as accounts

    password = _read_password_stdin()
    db = require_schema(ctx)
    try:
        with db.transaction() as session:
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                role=role,
                name=name,
                by_label="cli: mailer users add",
            )
    except accounts.AccountError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"{user.email} added as {user.role}")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List users: email, role, status, last sign-in."""
    from mailer.accounts import service as accounts

    db = require_schema(ctx)
    with db.transaction() as session:
        rows = accounts.list_users(session)
        tz = ctx.config.app.tz
        click.echo(f"{'EMAIL':40} {'ROLE':9} {'STATUS':9} LAST SIGN-IN")
        for user in rows:
            last = (
                user.last_login_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if user.last_login_at
                else "never"
            )
            status = "active" if user.active else "disabled"
            click.echo(f"{user.email:40} {user.role:9} {status:9} {last}")


def require_schema(ctx: Context) -> Any:
    """The database, refusing to go on if its schema is not at the head revision."""
    from sqlalchemy.exc import OperationalError

    from mailer import migrate

    db = ctx.database()
    try:
        current = migrate.current_revision(db)
    except OperationalError as exc:
        raise Refused(f"cannot reach the database {_safe_url(db.url)}: {exc.orig or exc}") from None
    head = migrate.head_revision(db.url)
    if current != head:
        state = "empty" if current is None else f"at revision {current}, not {head}"
        raise Refused(f"the database schema is {state}; run `mailer init` first")
    return db


# --- serving ----------------------------------------------------------------------------


def _ensure_first_admin(db: Any) -> bool:
    """On a database with no users at all, make the first admin (once). True if made."""
    from mailer.accounts import passwords, roles
    from mailer.accounts import service as accounts

    with db.transaction() as session:
        if accounts.count_users(session) > 0:
            return False
        email = os.environ.get(ENV_ADMIN_EMAIL) or DEFAULT_ADMIN_EMAIL
        given = os.environ.get(ENV_ADMIN_PASSWORD)
        password = given or passwords.generate()
        try:
            accounts.create_user(
                session,
                email=email,
                password=password,
                role=roles.ADMIN,
                name="Administrator",
                by_label="first run",
            )
        except accounts.AccountError as exc:
            source = f"${ENV_ADMIN_PASSWORD}" if given else f"${ENV_ADMIN_EMAIL}"
            raise Refused(f"cannot create the first admin from {source}: {exc}") from None
    shown = "(the one in $MAILER_ADMIN_PASSWORD)" if given else password
    banner = "=" * 64
    click.echo(
        f"\n{banner}\n  First admin created. Sign in with:\n"
        f"    email:    {email}\n    password: {shown}\n"
        f"  {'' if given else 'This password is shown only once. '}"
        f"Change it under “My account”.\n{banner}\n"
    )
    return True


def _load_demo(db: Any, config: Config) -> None:
    """The demo office (mailer/demo.py), with the approver's sign-in printed once."""
    from sqlalchemy import select

    from mailer import demo
    from mailer.accounts import roles
    from mailer.accounts.models import User
    from mailer.database import utcnow

    with db.transaction() as session:
        author = session.scalar(
            select(User).where(User.role == roles.ADMIN, User.active.is_(True)).order_by(User.id)
        )
        if author is None:
            raise Refused("there is no admin to write the demo consultation; run `mailer init`")
        loaded = demo.load(session, config, author=author, now=utcnow())
    if loaded is None:
        click.echo("The demo office is already loaded.")
        return
    password = loaded.approver_password or "(unchanged: the account already existed)"
    click.echo(
        f"Demo office loaded: contacts, lists, the draft plan and a consultation "
        f"(id {loaded.consultation_id}) awaiting approval.\n"
        f"  To approve it, sign in as the approver:\n"
        f"    email:    {loaded.approver_email}\n    password: {password}\n"
        f'  Approve it, then "Open now": its launch is in the Outbox within seconds.'
    )


def _default_port(config: Config) -> int:
    return urlsplit(config.app.base_url).port or 5000


def _serve(ctx: Context, host: str | None, port: int | None) -> NoReturn:
    from mailer.server import serve

    config = ctx.config
    app = ctx.app()
    serve(app, host=host or "127.0.0.1", port=port or _default_port(config))
    sys.exit(0)


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: base_url's, or 5000).")
@pass_ctx
def run(ctx: Context, host: str | None, port: int | None) -> None:
    """Web admin, scheduler and delivery workers in one process: the embedded default."""
    config = ctx.config
    # The embedded database belongs to this process, so it may set itself up; a
    # shared database is the operator's to migrate with `mailer init`.
    db = (
        _ensure_schema(ctx, announce=False) if config.uses_default_database else require_schema(ctx)
    )
    if _ensure_first_admin(db) and config.uses_default_database:
        # A first run of the embedded default shows the whole product at once.
        _load_demo(db, config)
    db.dispose()
    # The scheduler and the delivery workers run as threads beside the web server, on
    # the app's database.
    import threading

    from mailer.delivery import pool
    from scheduler.runner import Scheduler

    app = ctx.app()
    stop = threading.Event()
    app_db = app.extensions["mailer.db"]
    threads = pool.start(app_db, config, stop)
    scheduler = threading.Thread(
        target=Scheduler(app_db, config).run, args=(stop,), name="scheduler", daemon=True
    )
    scheduler.start()
    threads.append(scheduler)
    try:
        from mailer.server import serve

        serve(app, host=host or "127.0.0.1", port=port or _default_port(config))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    sys.exit(0)


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Load a fictional demo office: contacts, lists and a consultation to approve."""
    config = ctx.config
    db = (
        _ensure_schema(ctx, announce=False) if config.uses_default_database else require_schema(ctx)
    )
    _ensure_first_admin(db)
    _load_demo(db, config)
    db.dispose()


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: base_url's, or 5000).")
@pass_ctx
def web(ctx: Context, host: str | None, port: int | None) -> None:
    """Only the web admin and public pages (run the other parts separately)."""
    require_schema(ctx).dispose()
    _serve(ctx, host, port)


@cli.command()
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@pass_ctx
def worker(ctx: Context, once: bool) -> None:
    """Delivery workers: send what is due (run as many as you like, on any machine)."""
    import signal
    import threading

    from mailer.delivery import pool

    config = ctx.config
    db = require_schema(ctx)
    if once:
        sent = pool.run_once(db, config)
        click.echo(f"sent={sent}")
        db.dispose()
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        click.echo(f"received {signal.Signals(signum).name}; finishing the messages in hand")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = pool.start(db, config, stop)
    click.echo(f"{pool.thread_count(config)} delivery worker(s) running (Ctrl+C to stop)")
    while not stop.wait(1):
        pass
    for thread in threads:
        thread.join(timeout=60)
    db.dispose()


def _register_commands() -> None:
    from contacts.cli import contacts
    from scheduler.cli import consultation, scheduler_command

    cli.add_command(contacts)
    cli.add_command(consultation)
    cli.add_command(scheduler_command)


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


if __name__ == "__main__":
    main()
