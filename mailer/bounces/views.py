"""The bounces page: every bounce, complaint and refusal, newest first, one in full
with the message it came in, and the same list as CSV."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from contacts.exporting import neutralise
from mailer import audit
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.audit import actions
from mailer.bounces import listing, reasons
from mailer.database import get_db
from mailer.delivery.models import Send
from mailer.web import inputs, paging

bounces_bp = Blueprint("bounces", __name__, url_prefix="/admin")

CSV_HEADER = [
    "when_utc",
    "address",
    "kind",
    "status",
    "reason",
    "diagnostic",
    "send_id",
    "send",
    "source",
    "outcome",
]


@bounces_bp.app_template_global("bounce_reason")
def bounce_reason(kind: str, status: str, diagnostic: str) -> str:
    """Why a message came back, plainly: every page that shows a bounce or a refusal
    (bounces, a send's failures, a contact's messages, reports) says it the same way."""
    return reasons.explain(kind=kind, status=status or "", diagnostic=diagnostic or "")


@bounces_bp.app_template_global("bounce_words")
def bounce_words(status: str, diagnostic: str) -> str:
    return reasons.detail(status or "", diagnostic or "")


def _filters() -> listing.Filters:
    return listing.Filters.read(kind=request.args.get("kind"), send_id=inputs.id_arg("send"))


@bounces_bp.get("/bounces")
@requires(Action.SEE_BOUNCES)
def index() -> ResponseReturnValue:
    session = get_db().session
    filters = _filters()
    page = listing.listing(session, filters, page=paging.page_number())
    send = session.get(Send, filters.send_id) if filters.send_id is not None else None
    return render_template(
        "admin/bounces/index.html",
        page=page,
        filters=filters,
        send=send,
        kinds=listing.FILTER_LABELS,
        args=filters.args(),
    )


@bounces_bp.get("/bounces/<int:bounce_id>")
@requires(Action.SEE_BOUNCES)
def show(bounce_id: int) -> ResponseReturnValue:
    found = listing.detail(get_db().session, bounce_id)
    if found is None:
        abort(404)
    return render_template("admin/bounces/show.html", found=found)


@bounces_bp.get("/bounces.csv")
@requires(Action.EXPORT_BOUNCES)
def download() -> ResponseReturnValue:
    db = get_db()
    filters = _filters()
    # It names stakeholders' addresses: every copy that leaves is on the record, as a
    # contacts export is.
    with db.transaction(db.session) as session:
        audit.record(
            session,
            actions.BOUNCES_EXPORTED,
            actor=acting_user(session),
            target_type="bounces",
            summary="Downloaded the bounces list as CSV",
            detail=dict(filters.args()),
            ip=client_ip(),
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in listing.every_row(db.session, filters):
        writer.writerow(
            [
                row.at.isoformat().replace("+00:00", "Z"),
                *(
                    neutralise(value)
                    for value in (
                        row.address,
                        row.kind_label,
                        row.status,
                        reasons.explain(kind=row.kind, status=row.status, diagnostic=row.reason),
                        row.reason,
                    )
                ),
                row.send_id or "",
                neutralise(row.send_title),
                neutralise(row.source_label),
                neutralise(row.outcome),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=bounces.csv"},
    )
