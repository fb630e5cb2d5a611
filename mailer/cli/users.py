"""``mailer users ...``: the people who sign in to the admin."""

from __future__ import annotations

import click

from mailer.cli.context import Context, Refused, pass_ctx, read_password_stdin
from mailer.cli.schema import require_schema


@click.group()
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

    password = read_password_stdin()
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
