"""``mailer bulletin ...``: write a bulletin, send it to an audience (submitted for
approval), approve it, show how it went (README, "Command line")."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailer.cli.context import Refused, Unusable, find_user, parse_when

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mailer.bulletins.models import Bulletin
    from mailer.cli import Context

# What the command line calls each kind ("general" is an everyday bulletin).
KIND_NAMES = {
    "general": "bulletin",
    "launch": "launch",
    "reminder": "reminder",
    "close_notice": "close_notice",
}


def _when(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    return parse_when(value, ctx.obj.config.app.tz)


def _bulletin(session: Session, key: str) -> Bulletin:
    from mailer.bulletins.models import Bulletin

    found = session.get(Bulletin, int(key)) if key.isdigit() else None
    if found is None:
        raise Refused(f"no bulletin has the id {key!r}")
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror}") from None


@click.group()
def bulletin() -> None:
    """Bulletins: create, schedule (submit for approval), approve, show."""


@bulletin.command("create")
@click.option("--subject", required=True, help="The subject line.")
@click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The words (Markdown).",
)
@click.option(
    "--kind",
    type=click.Choice(list(KIND_NAMES)),
    default="general",
    show_default=True,
    help="What the bulletin is for.",
)
@click.option("--preheader", default="", help="The line inboxes show after the subject.")
@click.option(
    "--attach", "attachments", multiple=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--consultation", "consultation_key", metavar="ID", help="The consultation it is about."
)
@click.option("--by", "by_email", metavar="EMAIL", help="The author (default: the first admin).")
@click.pass_obj
def create(
    ctx: Context,
    subject: str,
    body_file: Path,
    kind: str,
    preheader: str,
    attachments: tuple[Path, ...],
    consultation_key: str | None,
    by_email: str | None,
) -> None:
    """Write a draft bulletin; prints its id alone on the last line."""
    from mailer.bulletins import compose, files
    from mailer.cli import require_schema
    from scheduler.bulletin_sends.requests import a_role
    from scheduler.consultations import read_models

    try:
        body = _read(body_file).decode("utf-8")
    except UnicodeDecodeError:
        raise Unusable(f"{body_file} is not UTF-8 text") from None
    attached = [(path.name, _read(path)) for path in attachments]
    config = ctx.config
    db = require_schema(ctx)
    with db.writing() as session:
        author = find_user(session, by_email)
        if not author.can_edit:
            raise Refused(
                f"{author.email} is {a_role(author.role)}; only an editor or admin writes."
            )
        consultation = None
        if consultation_key is not None:
            consultation = read_models.find(session, consultation_key)
            if consultation is None:
                raise Refused(f"no consultation has the id or slug {consultation_key!r}")
        draft = compose.Draft(
            kind=KIND_NAMES[kind],
            template_id=None,
            subject=subject,
            preheader=preheader,
            body_markdown=body,
        )
        try:
            created = compose.create(session, draft, by=author)
            if consultation is not None:
                created.consultation_id = consultation.id
            for filename, data in attached:
                files.attach(
                    session,
                    created,
                    filename=filename,
                    data=data,
                    folder=files.folder_for(config),
                    limit_bytes=config.mail.max_attachments_mb * 1024 * 1024,
                    by=author,
                )
        except compose.BulletinInvalid as exc:
            raise Refused("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        except files.FileRefused as exc:
            raise Refused(str(exc)) from None
        created_id = created.id
    click.echo(created_id)


@bulletin.command("schedule")
@click.argument("key", metavar="ID")
@click.option("--list", "lists", multiple=True, metavar="NAME", help="Anyone on this list.")
@click.option(
    "--org-type",
    "org_types",
    multiple=True,
    metavar="TYPE",
    help="Anyone of this organisation type: its name as the admin shows it (any case), "
    "or its code from the Organisation types page.",
)
@click.option("--tag", "tags", multiple=True, metavar="T", help="Only contacts with a tag given.")
@click.option("--area", "areas", multiple=True, metavar="A", help="Only contacts in an area given.")
@click.option("--exclude-list", "excluded", multiple=True, metavar="NAME", help="Leave out.")
@click.option("--at", "at", callback=_when, metavar="WHEN", help="When (default: on approval).")
@click.option("--by", "by_email", required=True, metavar="EMAIL")
@click.pass_obj
def schedule(
    ctx: Context,
    key: str,
    lists: tuple[str, ...],
    org_types: tuple[str, ...],
    tags: tuple[str, ...],
    areas: tuple[str, ...],
    excluded: tuple[str, ...],
    at: datetime | None,
    by_email: str,
) -> None:
    """Choose the audience and time and submit for approval; prints the audience's
    count alone on the last line."""
    from contacts import audience as audiences
    from mailer.cli import require_schema
    from mailer.database import utcnow
    from scheduler.bulletin_sends import requests
    from scheduler.consultations import planning
    from scheduler.reviews import send_reviews
    from scheduler.reviews.views import mailing_in

    db = require_schema(ctx)
    app = ctx.app()
    with db.writing() as session:
        found = _bulletin(session, key)
        user = find_user(session, by_email)
        try:
            audience = audiences.resolve(
                session,
                lists=lists,
                organisation_types=org_types,
                tags=tags,
                areas=areas,
                exclude_lists=excluded,
            )
            send = requests.request(
                session,
                found,
                audience=audience,
                at=at,
                by=user,
                now=utcnow(),
                rules=planning.rules_for(session, ctx.config),
            )
        except (audiences.AudienceRefused, requests.SendRefused) as exc:
            raise Refused(str(exc)) from None
        # As the button: the step is kept and the approvers are told.
        send_reviews.submitted(
            session,
            send,
            found,
            by=user,
            now=send.submitted_at or utcnow(),
            mailing=mailing_in(app, "bulletin_sends.show", bulletin_id=found.id, send_id=send.id),
        )
        reachable = audiences.summarise(session, audience, sample=0).reachable
        who = audiences.describe(session, audience)
        due, reasons = send.due_at, list(send.reasons)
    when = "as soon as it is approved" if due is None else _local(due, ctx)
    click.echo(f"bulletin {key} submitted for approval: to {who}, {when}")
    for reason in reasons:
        click.echo(f"  moved: {reason}")
    click.echo(reachable)


@bulletin.command("approve")
@click.argument("key", metavar="ID")
@click.option("--by", "by_email", required=True, metavar="EMAIL")
@click.pass_obj
def approve(ctx: Context, key: str, by_email: str) -> None:
    """Approve the bulletin's send awaiting approval, as that user."""
    from mailer.cli import require_schema
    from mailer.database import utcnow
    from scheduler import approval as shared
    from scheduler.bulletin_sends import approval, requests
    from scheduler.consultations import planning
    from scheduler.reviews import send_reviews
    from scheduler.reviews.views import mailing_in

    config = ctx.config
    db = require_schema(ctx)
    app = ctx.app()
    with db.writing() as session:
        found = _bulletin(session, key)
        user, now = find_user(session, by_email), utcnow()
        send = requests.awaiting(session, found)
        if send is None:
            raise Refused("This bulletin has no send awaiting approval; schedule it first.")
        told = send_reviews.writers(session, send, found)
        try:
            # Whoever runs the command approves the version there is now; the audit
            # entry says it came from the command line.
            approval.approve(
                session,
                send,
                by=user,
                now=now,
                rules=planning.rules_for(session, config),
                version=None,
                two_person=config.approval.two_person,
                base_url=config.app.base_url,
                via=shared.VIA_COMMAND_LINE,
            )
        except requests.SendRefused as exc:
            raise Refused(str(exc)) from None
        # As the button: what was approved is kept (the next diff's base), writers told.
        send_reviews.approved(
            session,
            send,
            by=user,
            now=now,
            told=told,
            mailing=mailing_in(app, "bulletin_sends.show", bulletin_id=found.id, send_id=send.id),
        )
        digest, due, send_id = send.approved_hash, send.due_at, send.id
    assert due is not None
    click.echo(
        f"bulletin {key} approved (version {shared.short(digest)}): send {send_id} due "
        f"{_local(due, ctx)}"
    )


@bulletin.command("show")
@click.argument("key", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (times in UTC).")
@click.pass_obj
def show(ctx: Context, key: str, as_json: bool) -> None:
    """The bulletin's sends: when, to whom, how they went."""
    from mailer.cli import require_schema
    from scheduler.bulletin_sends import read_models

    db = require_schema(ctx)
    with db.transaction() as session:
        data = read_models.to_json(session, _bulletin(session, key))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['subject']} (id {data['id']}): {data['state']}")
    for send in data["sends"]:
        counts = send["counts"]
        due = "on approval" if send["due_at"] is None else _local_iso(send["due_at"], ctx)
        click.echo(
            f"  send {send['id']}: {send['state']}, due {due}, to {send['audience_described']}; "
            f"queued={counts['queued']} sent={counts['sent']} "
            f"failed={counts['failed']} skipped={counts['skipped']} bounced={counts['bounced']}"
        )
        for reason in send["reasons"]:
            click.echo(f"      moved: {reason}")
        for link, clicks in send["clicks"].items():
            click.echo(f"      {clicks} click(s): {link}")


def _local(moment: datetime, ctx: Context) -> str:
    return moment.astimezone(ctx.config.app.tz).strftime("%a %d %b %Y %H:%M")


def _local_iso(iso: str, ctx: Context) -> str:
    return _local(datetime.fromisoformat(iso), ctx)
