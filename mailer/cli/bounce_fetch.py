"""``mailer bounces fetch --once``: read the bounce mailbox (``[bounces] imap_*``) once.

Without ``--once`` it says where the polling happens instead: the scheduler (``mailer
run`` or ``mailer scheduler``) reads the mailbox every ``[bounces] poll``.

Exit status: 0 done; 1 the mailbox refused us (the password, the folder, the
certificate: the key to look at is named) or a message could not be processed; 2 a
configuration error (no ``imap_host``); 75 (EX_TEMPFAIL) the IMAP server or the
database cannot be reached, so a cron job or a service manager tries again later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailer.cli.context import ConfigProblem, Context, Refused, TryLater, pass_ctx

if TYPE_CHECKING:
    from mailer.database import Database


@click.command("fetch")
@click.option("--once", is_flag=True, help="Read the mailbox once now, then exit.")
@pass_ctx
def fetch_command(ctx: Context, once: bool) -> None:
    """Read the bounce mailbox ([bounces] imap_*) now with --once; otherwise the
    scheduler (`mailer run`, `mailer scheduler`) reads it every [bounces] poll.

    Exit status: 0 done, 1 the mailbox refused us (the key to look at is named), 2
    configuration error, 75 the IMAP server or the database cannot be reached.
    """
    config = ctx.config
    if not config.bounces.imap_enabled:
        raise ConfigProblem("set [bounces] imap_host to read a bounce mailbox")
    if not once:
        click.echo(
            "The scheduler (`mailer run` or `mailer scheduler`) reads the bounce mailbox "
            "every [bounces] poll. Use --once to read it now."
        )
        return
    from mailer.bounces import mailbox
    from mailer.delivery.worker import secret_keys_for

    db = _database(ctx)
    try:
        summary = mailbox.fetch(db, config, keys=secret_keys_for(config))
    except mailbox.MailboxUnreachable as exc:
        raise TryLater(f"{exc.key}: {exc.reason}") from None
    except mailbox.MailboxRefused as exc:
        raise Refused(f"{exc.key}: {exc.reason}") from None
    finally:
        db.dispose()
    click.echo(summary.describe())
    if summary.database_down:
        raise TryLater(
            "the database could not be reached; the messages not processed stay in the "
            "mailbox for the next run"
        )
    if summary.failed:
        raise Refused(
            f"{summary.failed} message(s) could not be processed (see the log); they stay "
            "in the mailbox for the next run"
        )


def _database(ctx: Context) -> Database:
    """The database at the head revision; 75 when it cannot be reached (unlike the
    other commands' refusal: a fetch run by a timer should simply try again)."""
    from sqlalchemy.exc import DBAPIError

    from mailer import migrate
    from mailer.cli.schema import safe_url

    db = ctx.database()
    try:
        current = migrate.current_revision(db)
    except DBAPIError as exc:
        db.dispose()
        raise TryLater(f"cannot reach the database {safe_url(db.url)}: {exc.orig or exc}") from None
    if current != migrate.head_revision(db.url):
        db.dispose()
        raise Refused("the database schema is not up to date; run `mailer init` first")
    return db
