"""The report of one send (page and CSV) and of a bulletin (the sum of its sends).

Reading a report is open to every signed-in user, as the sends and cascade pages are
(the sign-in guard covers everything under /admin/): it changes nothing and shows no
more than the send page does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

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


def _csv_lines(sections: list[tuple[str, list[list[object]]]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, (title, rows) in enumerate(sections):
        if number:
            writer.writerow([])
        writer.writerow([title])
        for row in rows:
            writer.writerow([_cell(value) for value in row])
            if out.tell() > 64 * 1024:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    yield out.getvalue()


@send_reports_bp.get("/sends/<int:send_id>/report.csv")
def send_report_csv(send_id: int) -> ResponseReturnValue:
    session = get_db().session
    send = _send(send_id)
    report = send_reports.send_report(session, send)
    body = "".join(_csv_lines(send_reports.csv_sections(session, send, report)))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="send-{send.id}-report.csv"'},
    )


@send_reports_bp.get("/bulletins/<int:bulletin_id>/report")
def bulletin_report(bulletin_id: int) -> ResponseReturnValue:
    session = get_db().session
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return render_template(
        "admin/sends/bulletin_report.html",
        bulletin=bulletin,
        report=send_reports.bulletin_report(session, bulletin.id),
        labels=SEND_LABELS,
        tracking=current_app.config["MAILER"].tracking,
    )
