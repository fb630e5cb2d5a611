"""``GET /healthz``: JSON for load balancers and monitoring."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from mailer.database import get_db

log = logging.getLogger(__name__)
health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    db = get_db()
    database: dict[str, object] = {"backend": db.engine.dialect.name}
    try:
        db.ping()
        database["ok"] = True
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        database.update(ok=False, error=type(exc).__name__)
    ok = bool(database["ok"])
    response = jsonify(status="ok" if ok else "error", database=database)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
