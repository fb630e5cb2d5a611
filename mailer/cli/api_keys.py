"""``mailer api-keys ...``: keys other systems call the API with (also made and
revoked in the admin, under API keys)."""

from __future__ import annotations

import click

from mailer.cli.context import Context, Refused, pass_ctx
from mailer.cli.schema import require_schema

ACTOR = "command line"


@click.group("api-keys")
def api_keys_group() -> None:
    """Make, list and revoke API keys (Authorization: Bearer KEY)."""


def _create_help() -> str:
    from mailer.accounts import api_scopes

    scopes = "\n".join(f"  {name:20} {words}" for name, words in api_scopes.SCOPES.items())
    # \b keeps click from rewrapping the table of scopes.
    return f"Make a key and print it, once, alone on the last line.\n\n\b\nScopes:\n{scopes}"


@api_keys_group.command("create", help=_create_help())
@click.option("--name", required=True, help="The key's name: the system that will use it.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="What the key may do, e.g. contacts:read; repeat for more (see `--help`).",
)
@click.option(
    "--expires",
    default="",
    metavar="WHEN",
    help="When it stops working: a date (2027-03-31), a date and time (local time "
    "unless an offset is given) or a duration (90d). Default: never.",
)
@pass_ctx
def create_command(ctx: Context, name: str, scopes: tuple[str, ...], expires: str) -> None:
    from mailer.accounts import api_keys
    from mailer.database import utcnow

    db = require_schema(ctx)
    now = utcnow()
    try:
        expires_at = api_keys.parse_expiry(expires, now=now, zone=ctx.config.app.tz)
        with db.transaction() as session:
            made = api_keys.create(
                session,
                name=name,
                scopes=list(scopes),
                expires_at=expires_at,
                created_by=None,
                now=now,
                actor_label=ACTOR,
            )
            prefix, scope_words = made.key.prefix, made.key.scopes
    except api_keys.ApiKeyRefused as exc:
        raise Refused(str(exc)) from None
    shown = (
        expires_at.astimezone(ctx.config.app.tz).strftime("%Y-%m-%d %H:%M %Z")
        if expires_at
        else "never"
    )
    click.echo(f"API key {name.strip()!r} made (prefix {prefix}); scopes: {scope_words}")
    click.echo(f"expires: {shown}")
    click.echo("The key is shown only this once; keep it somewhere safe:")
    click.echo(made.secret)


@api_keys_group.command("list")
@pass_ctx
def list_command(ctx: Context) -> None:
    """List keys: name, prefix, scopes, made, expires, last used, state. Never the key."""
    from mailer.accounts import api_keys
    from mailer.database import utcnow

    db = require_schema(ctx)
    tz = ctx.config.app.tz
    now = utcnow()

    def when(moment: object) -> str:
        from datetime import datetime

        return (
            moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if isinstance(moment, datetime)
            else "-"
        )

    with db.transaction() as session:
        keys = api_keys.listing(session)
        click.echo(
            f"{'NAME':30} {'PREFIX':9} {'MADE':16} {'EXPIRES':16} {'LAST USED':16} "
            f"{'STATE':8} SCOPES"
        )
        for key in keys:
            if key.revoked_at is not None:
                state = "revoked"
            elif key.expires_at is not None and key.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            click.echo(
                f"{key.name:30} {key.prefix:9} {when(key.created_at):16} "
                f"{when(key.expires_at):16} {when(key.last_used_at):16} {state:8} {key.scopes}"
            )


@api_keys_group.command("revoke")
@click.argument("name")
@pass_ctx
def revoke_command(ctx: Context, name: str) -> None:
    """Revoke the key named NAME: it stops working at once, for good."""
    from mailer.accounts import api_keys
    from mailer.database import utcnow

    db = require_schema(ctx)
    with db.transaction() as session:
        key = api_keys.by_name(session, name)
        if key is None:
            raise Refused(f"there is no API key named {name!r}; see `mailer api-keys list`")
        if not api_keys.revoke(session, key, by=None, now=utcnow(), actor_label=ACTOR):
            raise Refused(f"the API key {key.name!r} was already revoked")
    click.echo(f"API key {name!r} revoked")
