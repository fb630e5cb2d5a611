"""``mailer contacts ...``: import and export from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from contacts.models import LAWFUL_BASES

if TYPE_CHECKING:
    from mailer.cli import Context


@click.group()
def contacts() -> None:
    """Stakeholder contacts: import and export CSV."""


@contacts.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="NAME",
    help="Add every imported contact to this list (made if new). Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; change nothing.")
@click.option(
    "--lawful-basis",
    type=click.Choice(LAWFUL_BASES),
    default="public task",
    show_default=True,
    help="Recorded for new contacts (UK GDPR Article 6).",
)
@click.option(
    "--unknown-types",
    type=click.Choice(["reject", "blank", "create"]),
    default="reject",
    show_default=True,
    help="Rows naming an organisation type not set up: reject them, import them with "
    "no type, or create the type.",
)
@click.pass_obj
def import_(
    ctx: Context,
    file: Path,
    lists: tuple[str, ...],
    dry_run: bool,
    lawful_basis: str,
    unknown_types: str,
) -> None:
    """Import contacts from a CSV with a header row.

    Columns: email (required), name, organisation, organisation_type, role, area, tags
    (;-separated). Exit 0 when no row was rejected, 1 when some were, 2 when the file
    cannot be used.
    """
    from contacts.importing import UnusableFile, import_contacts
    from mailer.cli import Unusable, require_schema

    try:
        stream = file.open("rb")
    except OSError as exc:
        raise Unusable(f"cannot read {file}: {exc.strerror}") from None
    db = require_schema(ctx)
    try:
        with stream, db.transaction() as session, _progress(file, stream) as progress:
            report = import_contacts(
                session,
                stream,
                lists=lists,
                dry_run=dry_run,
                lawful_basis=lawful_basis,
                filename=file.name,
                by_label="cli: mailer contacts import",
                progress=progress,
                unknown_types=unknown_types,
            )
    except UnusableFile as exc:
        raise Unusable(f"{file}: {exc}") from None
    for name in report.created_lists:
        click.echo(f"list {name!r} {'would be created' if dry_run else 'created'}")
    for name in report.created_types:
        click.echo(f"organisation type {name!r} {'would be created' if dry_run else 'created'}")
    for row in report.rejections:
        click.echo(f"line {row.line}: rejected: {row.email or '(no address)'}: {row.reason}")
    for row in report.suppressions:
        click.echo(f"line {row.line}: suppressed: {row.email} ({row.reason})")
    for note in report.notes:
        click.echo(f"note: {note}")
    if dry_run:
        click.echo("dry run: nothing was changed")
    click.echo(report.summary_line())
    if report.rejected:
        click.echo(
            f"mailer: {report.rejected} row(s) rejected; the other rows were "
            f"{'checked' if dry_run else 'imported'}",
            err=True,
        )
        sys.exit(1)


@contextmanager
def _progress(file: Path, stream: BinaryIO) -> Iterator[Callable[[int], None] | None]:
    """A progress bar for large files on a terminal, never in logs or pipes."""
    if not (sys.stderr.isatty() and file.stat().st_size > 1 << 20):
        yield None
        return
    from contacts.importing import detect_encoding

    _encoding, lines = detect_encoding(stream)
    with click.progressbar(length=max(lines, 1), label="Importing", file=sys.stderr) as bar:
        yield bar.update


@contacts.command("export")
@click.option("--list", "list_name", metavar="NAME", help="Only the members of this list.")
@click.pass_obj
def export(ctx: Context, list_name: str | None) -> None:
    """Write contacts as CSV to standard output."""
    from contacts.exporting import export_rows, record_export
    from mailer.cli import Refused, require_schema

    db = require_schema(ctx)
    out = click.open_file("-", "w")  # standard output, its encoding made sure of
    with db.transaction() as session:
        try:
            for line in export_rows(session, list_name=list_name):
                out.write(line)
        except LookupError:
            raise Refused(f"no list called {list_name!r}") from None
        # The operator's own copy; on the record all the same, as from the command line.
        record_export(session, by=None, by_label="command line", list_name=list_name)
