"""``mailer bounces ...``: what comes back after a message was handed over.

``mailer bounces process -`` is the command a local mail server pipes each message for
the bounce address into (a Postfix alias or pipe transport), and ``mailer bounces
process FILE.eml`` reads one saved message. Both take the one path every report takes
(``mailer.bounces.processing.record``).

Its exit status is what the mail server acts on: 0 processed or ignored (an
out-of-office reply is ignored, not an error), 1 the message cannot be read (the mail
server returns it, and retrying would not help), 2 usage or configuration error, and
75 (EX_TEMPFAIL) only when the database cannot be used now (unreachable, or its
schema being upgraded), so that the mail server keeps the message and tries again
later then, and only then.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

import click

from mailer.cli.context import ConfigProblem, Refused, TryLater, Unusable, pass_ctx

if TYPE_CHECKING:
    from mailer.bounces.processing import Outcome
    from mailer.bounces.reports import Report
    from mailer.cli.context import Context
    from mailer.database import Database

log = logging.getLogger(__name__)

# The most of one message read. A bounce quoting a large message with its attachments
# can be a few megabytes; more than this is not a bounce worth holding in memory.
MAX_MESSAGE = 10 * 1024 * 1024
# Where Postfix's pipe(8) and local(8) put the envelope recipient.
RECIPIENT_VARIABLES = ("ORIGINAL_RECIPIENT", "RECIPIENT")


@click.group()
def bounces() -> None:
    """Bounces, complaints and unsubscribe requests that came back by mail."""


@bounces.command("process")
@click.argument("source", metavar="-|FILE")
@click.option(
    "--recipient",
    metavar="ADDR",
    help="The envelope recipient the message came to (Postfix pipe: ${recipient}); "
    "else $ORIGINAL_RECIPIENT or $RECIPIENT, as Postfix's pipe and local set them.",
)
@pass_ctx
def process(ctx: Context, source: str, recipient: str | None) -> None:
    """Process one message: a bounce, a complaint (feedback loop report), an
    automatic reply or an unsubscribe request, read from standard input (-) or FILE.

    Prints one line saying what it did. Exit status: 0 processed or ignored, 1 the
    message cannot be read, 2 usage or configuration error, 75 the database cannot be
    reached (the mail server keeps the message and tries again later).
    """
    from mailer.bounces import parsing
    from mailer.bounces.models import SOURCE_FILE, SOURCE_PIPE

    config = ctx.config
    raw = _read(source)
    envelope = recipient or next(
        (os.environ[name] for name in RECIPIENT_VARIABLES if os.environ.get(name)), ""
    )
    try:
        report = parsing.parse(
            raw,
            source=SOURCE_PIPE if source == "-" else SOURCE_FILE,
            bounce_address=config.bounces.address,
            envelope_recipient=envelope,
        )
    except parsing.Unreadable as exc:
        raise Refused(f"cannot read the message: {exc}") from None
    outcome = _record(ctx, report)
    click.echo(outcome.describe())


def _read(source: str) -> bytes:
    """One message, from standard input or a file, at most MAX_MESSAGE bytes."""
    limit = f"{MAX_MESSAGE // (1024 * 1024)} MB"
    if source == "-":
        data = sys.stdin.buffer.read(MAX_MESSAGE + 1)
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(MAX_MESSAGE + 1)
        except OSError as exc:
            raise Unusable(f"cannot read {source}: {exc.strerror}") from None
    if len(data) > MAX_MESSAGE:
        raise Refused(f"the message is larger than {limit}; not processed")
    if not data.strip():
        raise Refused("the message is empty")
    return data


def _record(ctx: Context, report: Report) -> Outcome:
    """Record the report in one transaction. The same message processed at the same
    moment by another process (the mailbox, a second pipe) meets the unique
    fingerprint: the second try then finds it already recorded."""
    from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

    from mailer.bounces import processing
    from mailer.cli.schema import safe_url
    from mailer.config import ConfigError
    from mailer.database import utcnow
    from mailer.instance import secret_key

    config = ctx.config
    try:
        keys = [secret_key(config), *config.app.old_secret_keys]
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    limits = processing.Limits.from_config(config, keys=keys)
    db = ctx.database()
    try:
        _require_schema(db)
        try:
            with db.transaction() as session:
                return processing.record(session, report, limits=limits, now=utcnow())
        except IntegrityError:
            log.info("report %s was being recorded at the same time", report.fingerprint)
            with db.transaction() as session:
                return processing.record(session, report, limits=limits, now=utcnow())
    except (OperationalError, InterfaceError) as exc:
        log.warning("bounce not processed, the database cannot be reached: %s", exc.orig or exc)
        raise TryLater(
            f"cannot reach the database {safe_url(db.url)}: {exc.orig or exc}; "
            "the mail server should try again later"
        ) from None
    finally:
        db.dispose()


def _require_schema(db: Database) -> None:
    from mailer import migrate

    current = migrate.current_revision(db)
    head = migrate.head_revision(db.url)
    if current is None:
        raise ConfigProblem("the database is empty; run `mailer init` first")
    if current != head:
        # An upgrade on its way (new code, `mailer init` not yet run): the mail server
        # keeps the bounce and tries again, rather than it being lost.
        raise TryLater(
            f"the database schema is at revision {current}, not {head}; run `mailer init` "
            "(the mail server will try this message again)"
        )
