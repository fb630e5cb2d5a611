"""``mailer init`` and the database's schema: applied by init (and by ``run`` on the
embedded database), required at the head revision by every other command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailer.cli.context import Context, Refused, pass_ctx, read_password_stdin
from mailer.database import Database

if TYPE_CHECKING:
    from mailer.email_templates.seeds import Upgrade


@click.command()
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
    password = read_password_stdin() if admin_password_stdin else None
    db = ensure_schema(ctx)
    if admin_email and password is not None:
        _create_admin(db, email=admin_email, name=admin_name, password=password)


def _create_admin(db: Database, *, email: str, name: str, password: str) -> None:
    from mailer.accounts import roles
    from mailer.accounts import service as accounts

    with db.transaction() as session:
        existing = accounts.find_by_email(session, email)
        if existing is not None:
            click.echo(f"user {existing.email} already exists as {existing.role}; left unchanged")
            return
        try:
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                role=roles.ADMIN,
                name=name,
                by_label="cli: mailer init",
            )
        except accounts.AccountError as exc:
            raise Refused(str(exc)) from None
    click.echo(f"admin {user.email} created")


def ensure_schema(ctx: Context, *, announce: bool = True) -> Database:
    """Apply migrations; audit the first initialisation. Returns the Database."""
    from sqlalchemy.exc import OperationalError

    from mailer import audit, migrate
    from mailer.audit import actions

    db = ctx.database()
    try:
        before, after = migrate.upgrade(db)
    except OperationalError as exc:
        raise Refused(f"cannot reach the database {safe_url(db.url)}: {exc.orig or exc}") from None
    if before is None:
        with db.transaction() as session:
            audit.record(session, actions.SYSTEM_INITIALISED, summary=f"Schema created at {after}")
    seeded, upgrade = _seed(db)
    if announce:
        state = (
            f"created (revision {after})"
            if before is None
            else f"upgraded {before} -> {after}"
            if before != after
            else f"already up to date (revision {after})"
        )
        click.echo(f"database {safe_url(db.url)}: schema {state}")
        if seeded:
            click.echo(f"added {seeded} Stakeholder Special template(s)")
        for name in upgrade.updated:
            click.echo(f'updated "{name}" to the shipped design (a new version)')
        for name in upgrade.held:
            click.echo(
                f'"{name}" keeps its version for now: a submission awaiting approval uses '
                "it. Run `mailer init` again once it is approved or returned."
            )
    return db


def _seed(db: Database) -> tuple[int, Upgrade]:
    """The shipped template family and the organisation settings row, once; then the
    shipped design for family members no office has edited (those a submission awaiting
    approval uses wait). Returns how many templates were created, and the upgrade."""
    from sqlalchemy.exc import IntegrityError

    from mailer.email_templates.seeds import Upgrade, seed_database_once, upgrade_shipped
    from scheduler import edits

    try:
        with db.transaction() as session:
            created = seed_database_once(session)
            upgrade = upgrade_shipped(
                session, held=lambda template: edits.awaiting_approval_uses(session, template)
            )
            return created, upgrade
    except IntegrityError:
        # A concurrent `mailer init` seeded or updated them first: nothing is left to do.
        return 0, Upgrade(updated=[], held=[])


def require_schema(ctx: Context) -> Database:
    """The database, refusing to go on if its schema is not at the head revision."""
    from sqlalchemy.exc import OperationalError

    from mailer import migrate

    db = ctx.database()
    try:
        current = migrate.current_revision(db)
    except OperationalError as exc:
        raise Refused(f"cannot reach the database {safe_url(db.url)}: {exc.orig or exc}") from None
    head = migrate.head_revision(db.url)
    if current != head:
        state = "empty" if current is None else f"at revision {current}, not {head}"
        raise Refused(f"the database schema is {state}; run `mailer init` first")
    return db


def safe_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
