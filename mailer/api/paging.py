"""Cursor paging for lists under /api/v1: ``?limit=N&cursor=...``.

A page is ordered by id; the cursor names the last id of the page before, signed so
that a client cannot make one up (a forged or damaged cursor is a 400 problem naming
the ``cursor`` parameter). New rows never shift a page, as offsets would."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from mailer.api.problems import VALIDATION, ApiProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgs(ma.Schema):
    """The query parameters every paged list takes (add a list's own filters to a
    subclass)."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, at most {MAX_LIMIT}"},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The next_cursor of the page before"},
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="api-cursor")


def encode(last_id: int, *, kind: str) -> str:
    """The cursor of the page after the one ending at ``last_id`` of ``kind``
    (contacts, members...), so a cursor of one list cannot page another."""
    return str(_serializer().dumps([kind, last_id]))


def after_id(cursor: str | None, *, kind: str) -> int:
    """The id to continue after (0 for the first page); a bad cursor is refused."""
    if not cursor:
        return 0
    try:
        value: Any = _serializer().loads(cursor)
    except BadSignature:
        value = None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or value[0] != kind
        or not isinstance(value[1], int)
        or value[1] < 0
    ):
        raise ApiProblem(
            400,
            "cursor: not a cursor this list gave; start again without it.",
            type_=VALIDATION,
            errors=[{"field": "cursor", "message": "Not a cursor this list gave."}],
        )
    return int(value[1])


def next_link(next_cursor: str | None) -> dict[str, str]:
    """The Link header to the next page (RFC 8288), when there is one."""
    if next_cursor is None:
        return {}
    args = request.args.to_dict()
    args["cursor"] = next_cursor
    from urllib.parse import urlencode

    return {"Link": f'<{request.base_url}?{urlencode(args)}>; rel="next"'}
