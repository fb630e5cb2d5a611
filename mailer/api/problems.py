"""Errors as RFC 9457 problem details: ``application/problem+json`` with ``type``,
``title``, ``status`` and ``detail``; a validation error also lists, under
``errors``, each field that was wrong and why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Response
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
# A problem's type when its status code says it all (RFC 9457, section 4.2.1).
BLANK = "about:blank"
# The types this API defines, named under /api/v1/problems/ in the reference.
VALIDATION = "/api/v1/problems/validation"


class ApiProblem(Exception):
    """A refusal to answer as asked, in the words the caller's developer reads."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = BLANK,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.type = type_
        self.errors = errors
        self.headers = dict(headers or {})


def response(
    status: int,
    *,
    detail: str = "",
    title: str | None = None,
    type_: str = BLANK,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _phrase(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    answer = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    answer.headers.update(dict(headers or {}))
    return answer


def from_problem(problem: ApiProblem) -> Response:
    return response(
        problem.status,
        detail=problem.detail,
        title=problem.title,
        type_=problem.type,
        errors=problem.errors,
        headers=problem.headers,
    )


def from_http_exception(error: HTTPException) -> Response:
    """Any HTTP error raised under /api/ (werkzeug's, or webargs' validation 422)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 422 and messages:
        errors = list(field_errors(messages))
        first = errors[0]["field"] if errors else "the request"
        return response(
            422,
            title="The request is not valid",
            detail=f"{first}: {errors[0]['message']}" if errors else "",
            type_=VALIDATION,
            errors=errors,
        )
    headers = {}
    if status == 405 and error.get_headers():
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    return response(status, detail=_detail(error), headers=headers)


def field_errors(messages: Any, path: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow's nested messages as a flat list: ``{"field": "email",
    "message": "Not a valid email address."}``; the location (json, query) is left
    out, a nested field is named with dots (``lists.0``)."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not path and key in ("json", "query", "form", "headers", "view_args"):
                out.extend(field_errors(value, path))
                continue
            name = str(key) if key != ma.RAISE and key != "_schema" else "body"
            out.extend(field_errors(value, f"{path}.{name}" if path else name))
    elif isinstance(messages, list | tuple):
        for value in messages:
            out.extend(field_errors(value, path))
    else:
        out.append({"field": path or "body", "message": str(messages)})
    return out


def _detail(error: HTTPException) -> str:
    description = error.description or ""
    # werkzeug's stock descriptions are written for a browser; keep ours only.
    return "" if description == type(error).description else description


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as the OpenAPI document describes every error."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "What went wrong, in short"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    errors = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        metadata={"description": "Each field that was not valid: field and message"},
    )
