"""``mailer consultation ...`` and ``mailer scheduler`` (README, "Command line")."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from mailer.cli.context import find_user as _user
from mailer.cli.context import parse_when
from scheduler.models import TYPE_GENERAL, TYPE_LABELS

if TYPE_CHECKING:
    from mailer.cli import Context


def _when(closing: bool = False) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    def convert(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        return parse_when(value, ctx.obj.config.app.tz, end_of_day=closing)

    return convert


def _durations(_ctx: click.Context, param: click.Parameter, values: Any) -> Any:
    from mailer.config import parse_duration

    def one(text: str) -> timedelta:
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param=param) from None

    if values is None:
        return None
    if isinstance(values, tuple):
        return tuple(one(v) for v in values)
    return one(values)


def _consultation_type(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A consultation type by its name as the admin's form shows it ("Budget and
    precept", any case) or by its code ("precept")."""
    wanted = value.strip().casefold()
    for code, label in TYPE_LABELS.items():
        if wanted in (code, label.casefold()):
            return code
    known = "; ".join(f'"{label}" ({code})' for code, label in TYPE_LABELS.items())
    raise click.BadParameter(f"{value!r} is not a consultation type. The types are: {known}.")


def _consultation(session: Any, key: str) -> Any:
    from mailer.cli import Refused
    from scheduler.consultations import read_models

    found = read_models.find(session, key)
    if found is None:
        raise Refused(f"no consultation has the id or slug {key!r}")
    return found


def _warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)


@click.group()
def consultation() -> None:
    """Consultations: create, submit, approve, show."""


@consultation.command("create")
@click.option("--title", required=True, help="The consultation's title.")
@click.option("--opens", required=True, callback=_when(), help="Opening time (ISO 8601).")
@click.option(
    "--closes",
    required=True,
    callback=_when(closing=True),
    help="Closing time (ISO 8601); a date alone means 23:59 that day.",
)
@click.option("--survey-url", required=True, help="Where people respond.")
@click.option(
    "--list", "lists", multiple=True, required=True, metavar="NAME", help="Audience list."
)
@click.option(
    "--reminder",
    "reminders",
    multiple=True,
    callback=_durations,
    metavar="BEFORE",
    help="A reminder this long before the close (7d, 36h); replaces the defaults.",
)
@click.option(
    "--close-notice",
    callback=_durations,
    metavar="AFTER",
    help="Send the close notice this long after the close (default: 9am next working day).",
)
@click.option(
    "--attach", "attachments", multiple=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The launch message's words (Markdown).",
)
@click.option("--summary", default="", help="A sentence or two for the public page.")
@click.option(
    "--type",
    "kind",
    callback=_consultation_type,
    default=TYPE_GENERAL,
    show_default=True,
    metavar="TYPE",
    help="What is consulted on, as the form names it (any case) or its code: "
    + "; ".join(f'"{label}" ({code})' for code, label in TYPE_LABELS.items())
    + ". Sets the statutory consultees.",
)
@click.option("--by", "by_email", metavar="EMAIL", help="The author (default: the first admin).")
@click.pass_obj
def create(
    ctx: Context,
    title: str,
    opens: datetime,
    closes: datetime,
    survey_url: str,
    lists: tuple[str, ...],
    reminders: tuple[timedelta, ...],
    close_notice: timedelta | None,
    attachments: tuple[Path, ...],
    body_file: Path | None,
    summary: str,
    kind: str,
    by_email: str | None,
) -> None:
    """Create a draft consultation; prints its id alone on the last line."""
    from sqlalchemy import select

    from contacts.models import ContactList
    from mailer.bulletins import files
    from mailer.cli import Refused, Unusable, require_schema
    from mailer.database import utcnow
    from scheduler.consultations import documents, editing, planning
    from scheduler.consultations.details import ConsultationInvalid, Details
    from scheduler.timeline import ReminderSpec

    config = ctx.config
    body = ""
    if body_file is not None:
        try:
            body = body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Unusable(f"cannot read {body_file}: {exc}") from None
    attached: list[tuple[str, bytes]] = []
    for path in attachments:
        try:
            attached.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise Unusable(f"cannot read {path}: {exc.strerror}") from None
    db = require_schema(ctx)
    now = utcnow()
    with db.writing() as session:
        author = _user(session, by_email)
        list_ids = []
        for name in lists:
            found = session.scalar(select(ContactList.id).where(ContactList.name == name))
            if found is None:
                raise Refused(f"no list is called {name!r}")
            list_ids.append(found)
        details = Details(
            title=title,
            opens_at=opens,
            closes_at=closes,
            survey_url=survey_url,
            summary=summary,
            type=kind,
            lists=tuple(list_ids),
            reminders=tuple(ReminderSpec(r) for r in reminders) if reminders else None,
            close_notice_after=close_notice,
            launch_body=body,
        )
        rules = planning.rules_for(session, config)
        try:
            created, warnings = editing.create(session, details, by=author, rules=rules, now=now)
            for filename, data in attached:
                documents.add_document(
                    session,
                    created,
                    filename=filename,
                    data=data,
                    folder=files.folder_for(config),
                    limit_bytes=config.mail.max_attachments_mb * 1024 * 1024,
                    by=author,
                )
        except ConsultationInvalid as exc:
            raise Refused("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        except files.FileRefused as exc:
            raise Refused(str(exc)) from None
        created_id = created.id
    _warn(warnings)
    click.echo(created_id)


@consultation.command("submit")
@click.argument("key", metavar="ID")
@click.option("--by", "by_email", required=True, metavar="EMAIL")
@click.pass_obj
def submit(ctx: Context, key: str, by_email: str) -> None:
    """Ask for approval."""
    from mailer.cli import Refused, require_schema
    from mailer.database import utcnow
    from scheduler.consultations import lifecycle
    from scheduler.consultations.details import ConsultationRefused
    from scheduler.reviews import consultation_reviews
    from scheduler.reviews.views import mailing_in

    db = require_schema(ctx)
    app = ctx.app()
    with db.writing() as session:
        found = _consultation(session, key)
        user, now = _user(session, by_email), utcnow()
        try:
            warnings = lifecycle.submit(session, found, by=user, now=now)
        except ConsultationRefused as exc:
            raise Refused(str(exc)) from None
        # As the button: the step is kept and the approvers are told.
        consultation_reviews.submitted(
            session,
            found,
            by=user,
            now=now,
            mailing=mailing_in(app, "consultations.show", consultation_id=found.id),
        )
    _warn(warnings)
    click.echo(f"consultation {found.id} submitted for approval")


@consultation.command("approve")
@click.argument("key", metavar="ID")
@click.option("--by", "by_email", required=True, metavar="EMAIL")
@click.pass_obj
def approve(ctx: Context, key: str, by_email: str) -> None:
    """Approve as that user and schedule the timeline."""
    from mailer.cli import Refused, require_schema
    from mailer.database import utcnow
    from scheduler import approval
    from scheduler.consultations import lifecycle, planning, read_models
    from scheduler.consultations.details import ConsultationRefused
    from scheduler.reviews import consultation_reviews
    from scheduler.reviews.views import mailing_in

    config = ctx.config
    db = require_schema(ctx)
    app = ctx.app()
    with db.writing() as session:
        found = _consultation(session, key)
        user, now = _user(session, by_email), utcnow()
        # Whoever runs the command approves the version there is now, read in the same
        # transaction; the audit entry says it came from the command line.
        version = read_models.version(session, found, base_url=config.app.base_url)
        told = consultation_reviews.writers(session, found)
        try:
            warnings = lifecycle.approve(
                session,
                found,
                by=user,
                two_person=config.approval.two_person,
                base_url=config.app.base_url,
                now=now,
                seen=version,
                via=approval.VIA_COMMAND_LINE,
            )
        except ConsultationRefused as exc:
            raise Refused(str(exc)) from None
        # As the button: what was approved is kept (the next diff's base), writers told.
        consultation_reviews.approved(
            session,
            found,
            by=user,
            now=now,
            told=told,
            mailing=mailing_in(app, "consultations.show", consultation_id=found.id),
        )
        scheduled = [s for s in planning.timeline(session, found) if s.state == "scheduled"]
    _warn(warnings)
    click.echo(
        f"consultation {found.id} approved (version {approval.short(version)}): "
        f"{len(scheduled)} send(s) scheduled"
    )


@consultation.command("cancel")
@click.argument("key", metavar="ID")
@click.option("--by", "by_email", required=True, metavar="EMAIL")
@click.pass_obj
def cancel(ctx: Context, key: str, by_email: str) -> None:
    """Cancel: nothing more is sent."""
    from mailer.cli import Refused, require_schema
    from mailer.database import utcnow
    from scheduler.consultations import lifecycle
    from scheduler.consultations.details import ConsultationRefused

    db = require_schema(ctx)
    with db.writing() as session:
        found = _consultation(session, key)
        user = _user(session, by_email)
        if not user.can_edit:
            raise Refused(f"{user.email} is a {user.role}; only an editor or admin cancels")
        try:
            stopped = lifecycle.cancel(session, found, by=user, now=utcnow())
        except ConsultationRefused as exc:
            raise Refused(str(exc)) from None
    click.echo(f"consultation {found.id} cancelled: {stopped} send(s) stopped")


@consultation.command("list")
@click.pass_obj
def list_(ctx: Context) -> None:
    """Every consultation: id, state, opening and closing, title."""
    from sqlalchemy import select

    from mailer.cli import require_schema
    from mailer.database import utcnow
    from scheduler.models import Consultation

    db = require_schema(ctx)
    zone = ctx.config.app.tz
    now = utcnow()
    with db.transaction() as session:
        click.echo(f"{'ID':>4} {'STATE':17} {'OPENS':16} {'CLOSES':16} TITLE")
        for item in session.scalars(select(Consultation).order_by(Consultation.opens_at)):
            click.echo(
                f"{item.id:>4} {item.phase(now):17} "
                f"{item.opens_at.astimezone(zone):%Y-%m-%d %H:%M} "
                f"{item.closes_at.astimezone(zone):%Y-%m-%d %H:%M} {item.title}"
            )


@consultation.command("show")
@click.argument("key", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (times in UTC).")
@click.pass_obj
def show(ctx: Context, key: str, as_json: bool) -> None:
    """The timeline: each send, when it goes, its state and counts."""
    from mailer import public_urls
    from mailer.cli import require_schema
    from mailer.database import utcnow
    from scheduler.consultations import read_models

    db = require_schema(ctx)
    zone = ctx.config.app.tz
    with db.transaction() as session:
        found = _consultation(session, key)
        data = read_models.to_json(session, found, now=utcnow())
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    path = public_urls.fill(public_urls.CONSULTATION, slug=data["slug"])
    click.echo(f"{data['title']} (id {data['id']}, {path})")
    click.echo(
        f"state: {data['state']}; opens {_local(data['opens_at'], zone)}, "
        f"closes {_local(data['closes_at'], zone)}; {data['recipients']} active recipient(s)"
    )
    for send in data["sends"]:
        counts = send["counts"]
        click.echo(
            f"  {_local(send['due_at'], zone)}  {send['label']:45} {send['state']:9} "
            f"queued={counts['queued']} sent={counts['sent']} "
            f"failed={counts['failed']} skipped={counts['skipped']} bounced={counts['bounced']}"
        )
        for reason in send["reasons"]:
            click.echo(f"      moved: {reason}")


def _local(iso: str | None, zone: ZoneInfo) -> str:
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%a %d %b %Y %H:%M")


@click.command("scheduler")
@click.pass_obj
def scheduler_command(ctx: Context) -> None:
    """The scheduler: fires each planned send on time (one is active; others wait)."""
    from mailer.cli import require_schema
    from scheduler.runner import Scheduler

    db = require_schema(ctx)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        click.echo(f"received {signal.Signals(signum).name}; stopping the scheduler")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo("scheduler running (Ctrl+C to stop)")
    Scheduler(db, ctx.config).run(stop)
    db.dispose()
