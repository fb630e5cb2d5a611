"""``GET /healthz``: JSON for load balancers and monitoring."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from mailer.database import get_db, utcnow
from scheduler import status

log = logging.getLogger(__name__)
health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    db = get_db()
    database: dict[str, object] = {"backend": db.engine.dialect.name}
    try:
        db.ping()
        database["ok"] = True
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        database.update(ok=False, error=type(exc).__name__)
    else:
        # Reads alone are not health: a database that refuses writes (read-only, a disk
        # full, SQLite's write lock held for long) loses every form and every outcome.
        try:
            db.check_write()
            database["writes"] = True
        except SQLAlchemyError as exc:
            log.warning("health check: database refuses writes: %s", exc)
            database.update(ok=False, writes=False, error=type(exc).__name__)
    ok = bool(database["ok"])
    scheduler: dict[str, object] = {"state": "unknown", "ok": False}
    if ok:
        try:
            scheduler = status.read(db.session, now=utcnow())
        except SQLAlchemyError as exc:
            log.warning("health check: scheduler state unreadable: %s", exc)
    # A web server without a scheduler still serves pages: "degraded", not an error.
    overall = "error" if not ok else ("ok" if scheduler["ok"] else "degraded")
    response = jsonify(status=overall, database=database, scheduler=scheduler)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
