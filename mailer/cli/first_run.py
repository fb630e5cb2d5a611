"""The first run of a new installation: its first admin, and the demo office
(``mailer demo``, and ``mailer run`` on a brand-new embedded database)."""

from __future__ import annotations

import os

import click

from mailer.cli.context import Context, Refused, pass_ctx
from mailer.cli.schema import ensure_schema, require_schema
from mailer.config import Config
from mailer.database import Database

ENV_ADMIN_EMAIL = "MAILER_ADMIN_EMAIL"
ENV_ADMIN_PASSWORD = "MAILER_ADMIN_PASSWORD"
DEFAULT_ADMIN_EMAIL = "admin@example.org"


@click.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Load a fictional demo office: contacts, lists and a consultation to approve."""
    config = ctx.config
    db = ensure_schema(ctx, announce=False) if config.uses_default_database else require_schema(ctx)
    ensure_first_admin(db)
    load_demo(db, config)
    db.dispose()


def ensure_first_admin(db: Database) -> bool:
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


def load_demo(db: Database, config: Config) -> None:
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
