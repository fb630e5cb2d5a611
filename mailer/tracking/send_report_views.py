"""The report of one send (page and CSV) and of a bulletin (the sum of its sends).

Reading a report is open to every signed-in user, as the sends and cascade pages are
(the sign-in guard covers everything under /admin/): it changes nothing and shows no
more than the send page does.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from contacts.exporting import neutralise
from mailer.bulletins.models import Bulletin
from mailer.database import get_db
from mailer.delivery.models import SEND_LABELS, Send
from mailer.tracking import send_reports
from mailer.web import paging

send_reports_bp = Blueprint("send_reports", __name__, url_prefix="/admin")


def _send(send_id: int) -> Send:
    send = get_db().session.get(Send, send_id)
    if send is None:
        abort(404)
    return send


@send_reports_bp.get("/sends/<int:send_id>/report")
def send_report(send_id: int) -> ResponseReturnValue:
    send = _send(send_id)
    report = send_reports.send_report(get_db().session, send, page=paging.page_number())
    return render_template(
        "admin/sends/report.html",
        send=send,
        report=report,
        labels=SEND_LABELS,
        tracking=current_app.config["MAILER"].tracking,
    )


def _cell(value: object) -> str:
    return neutralise(str(value)) if isinstance(value, str) else str(value)


def _csv(sections: list[tuple[str, list[list[object]]]], filename: str) -> Response:
    """One file, a titled section per table, a blank line between them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, (title, rows) in enumerate(sections):
        if number:
            writer.writerow([])
        writer.writerow([title])
        writer.writerows([_cell(value) for value in row] for row in rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@send_reports_bp.get("/sends/<int:send_id>/report.csv")
def send_report_csv(send_id: int) -> ResponseReturnValue:
    session = get_db().session
    send = _send(send_id)
    report = send_reports.send_report(session, send)
    return _csv(send_reports.csv_sections(session, send, report), f"send-{send.id}-report.csv")


def _bulletin(bulletin_id: int) -> Bulletin:
    found = get_db().session.get(Bulletin, bulletin_id)
    if found is None:
        abort(404)
    return found


@send_reports_bp.get("/bulletins/<int:bulletin_id>/report.csv")
def bulletin_report_csv(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    report = send_reports.bulletin_report(get_db().session, bulletin.id)
    return _csv(send_reports.bulletin_csv_sections(report), f"bulletin-{bulletin.id}-report.csv")


@send_reports_bp.get("/bulletins/<int:bulletin_id>/report")
def bulletin_report(bulletin_id: int) -> ResponseReturnValue:
    session = get_db().session
    bulletin = _bulletin(bulletin_id)
    return render_template(
        "admin/sends/bulletin_report.html",
        bulletin=bulletin,
        report=send_reports.bulletin_report(session, bulletin.id),
        labels=SEND_LABELS,
        tracking=current_app.config["MAILER"].tracking,
    )
