"""The cascade report in the admin: the figures, two charts, and every table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from contacts.exporting import neutralise
from mailer.database import get_db
from mailer.tracking import reports
from scheduler.models import Consultation

reports_bp = Blueprint("cascade", __name__, url_prefix="/admin/cascade")

CHART_WIDTH = 720
CHART_HEIGHT = 220


def _consultation(consultation_id: int) -> Consultation:
    found = get_db().session.get(Consultation, consultation_id)
    if found is None:
        abort(404)
    return found


def _activity_chart(report: reports.Report) -> dict[str, object]:
    """Bars per day (visits, survey clicks, sign-ups, confirmations stacked), with the
    days the messages went marked."""
    rows = report.activity
    marks = report.marks
    days = sorted({row["day"] for row in rows} | {day for day, _ in marks})
    if not days:
        return {"bars": [], "marks": [], "max": 0}
    first, last = days[0], days[-1]
    # At least a fortnight wide: one busy day is a bar, not the whole chart.
    span = max((last - first).days + 1, 14)
    last = max(last, first + timedelta(days=span - 1))
    width = CHART_WIDTH / max(span, 1)
    layers = ("visits", "survey_direct", "survey_cascade", "sign_ups", "confirmations")
    peak = max((sum(row[k] for k in layers) for row in rows), default=0) or 1
    bars = []
    for row in rows:
        x = (row["day"] - first).days * width
        y = CHART_HEIGHT
        for layer in layers:
            height = CHART_HEIGHT * row[layer] / peak
            if height:
                y -= height
                label = f"{row['day']:%-d %b}: {row[layer]} {layer.replace('_', ' ')}"
                bars.append(
                    {
                        "x": round(x + 1, 1),
                        "y": round(y, 1),
                        "w": round(max(width - 2, 1), 1),
                        "h": round(height, 1),
                        "layer": layer,
                        "title": label,
                    }
                )
    return {
        "bars": bars,
        "marks": [
            {"x": round((day - first).days * width + width / 2, 1), "label": label}
            for day, label in marks
        ],
        "max": peak,
        "first": first,
        "last": last,
    }


@reports_bp.get("/<int:consultation_id>")
def report(consultation_id: int) -> ResponseReturnValue:
    consultation = _consultation(consultation_id)
    found = reports.build(get_db().session, consultation)
    top_reach = max((s.reach + s.visits for _, s in found.by_type), default=0) or 1
    return render_template(
        "admin/cascade/report.html",
        consultation=consultation,
        report=found,
        chart=_activity_chart(found),
        top_reach=top_reach,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        tracking=current_app.config["MAILER"].tracking,
        tables=reports.CSV_TABLES,
    )


@reports_bp.get("/<int:consultation_id>/<name>.csv")
def report_csv(consultation_id: int, name: str) -> ResponseReturnValue:
    if name not in reports.CSV_TABLES:
        abort(404)
    consultation = _consultation(consultation_id)
    rows = reports.csv_table(reports.build(get_db().session, consultation), name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(str(value)) for value in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cascade-{consultation.slug}-{name}.csv"'
        },
    )
