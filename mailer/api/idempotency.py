"""``Idempotency-Key`` on creating requests (POST), as in
draft-ietf-httpapi-idempotency-key-header: a client that did not hear the answer sends
the same request again with the same key, and nothing is made twice.

The first request with a key claims it: a row in ``idempotent_requests`` with status 0,
inserted (and committed) before the view runs, unique on (API key, Idempotency-Key).
Its answer (status, body, content type, Location, ETag) is then kept for a day, and the same
request again gets that answer, marked ``Idempotent-Replayed: true``, without running
the view. The same Idempotency-Key with another request (method, path or body) is a 422
problem; one arriving while the first is still being answered is a 409 problem. A 5xx
answer is not kept (the claim is let go), so the client may simply retry.

A view need do nothing for this: ``auth.requires`` runs every POST through ``answer``.
If the process dies between the view's commit and keeping the answer, the claim is
taken over after CLAIM_LEASE and the request may run again: the one gap left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Response, g, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from mailer.accounts.models import IdempotentRequest
from mailer.api import problems
from mailer.api.problems import ApiProblem
from mailer.database import get_db
from mailer.web.security import clock

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
# A claim whose request never finished (the process died) is taken over after this.
CLAIM_LEASE = timedelta(minutes=5)
MAX_LENGTH = 255
# A structured-field string ("...") or the bare value: visible ASCII, no spaces.
PATTERN = r"^[!-~]{1,255}$"
_VALID = re.compile(PATTERN)


def parameter() -> dict[str, Any]:
    """The header as the OpenAPI document names it on every keyed POST."""
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Any unique value (a UUID) naming this request: sent again with the same "
            "request within 24 hours, it gets the first answer again (with "
            f"`{REPLAYED}: true`) and nothing is made twice."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": PATTERN},
    }


def answer(key_id: int, call: Callable[[], Any]) -> Any:
    """Answer a POST made with ``key_id``: by ``call`` (the view), or by replaying the
    answer kept for its Idempotency-Key."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return call()
    idem_key = _parse(raw)
    fingerprint = _fingerprint()
    kept = _claim(key_id, idem_key, fingerprint, now=clock())
    if kept is not None:
        return kept
    try:
        response = _run(call)
    except BaseException:
        _let_go(key_id, idem_key)
        raise
    if response.status_code >= 500:
        _let_go(key_id, idem_key)
    else:
        _keep(key_id, idem_key, response)
    return response


def purge(session: Session, *, now: datetime) -> int:
    """Forget answers older than a day (housekeeping)."""
    result = session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.created_at < now - KEEP)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _parse(raw: str) -> str:
    value = raw.strip()
    if not _VALID.match(value):
        raise ApiProblem(
            400,
            f"{HEADER}: give 1 to {MAX_LENGTH} visible ASCII characters, such as a UUID.",
            type_=problems.VALIDATION,
            errors=[{"field": HEADER, "message": "Not a usable idempotency key."}],
        )
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]  # sent as a structured-field string, as the draft writes it
    return value


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n")
    digest.update(request.full_path.encode("utf-8", "replace") + b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _claim(key_id: int, idem_key: str, fingerprint: str, *, now: datetime) -> Response | None:
    """Claim the key (None: go on and answer) or the kept answer to replay; refuse
    another request under the same key, and a second one while the first runs."""
    db = get_db()
    for _attempt in range(3):
        try:
            with db.writing() as session:
                session.add(
                    IdempotentRequest(
                        api_key_id=key_id,
                        key=idem_key,
                        fingerprint=fingerprint,
                        status=0,
                        created_at=now,
                    )
                )
                session.flush()
            return None
        except IntegrityError:
            pass
        with db.writing() as session:
            row = session.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.api_key_id == key_id, IdempotentRequest.key == idem_key
                )
            )
            if row is None:
                continue  # purged meanwhile: claim it afresh
            if row.created_at <= now - KEEP:
                session.delete(row)  # kept too long already: a new request
                continue
            if row.fingerprint != fingerprint:
                raise ApiProblem(
                    422,
                    f"This {HEADER} was used for another request (another path or body): "
                    "use a new key for a new request.",
                )
            if row.status != 0:
                return _replay(row)
            if row.created_at > now - CLAIM_LEASE:
                raise ApiProblem(
                    409,
                    f"A request with this {HEADER} is still being answered: "
                    "wait for its answer, then send it again if need be.",
                    headers={"Retry-After": "1"},
                )
            taken = session.execute(
                update(IdempotentRequest)
                .where(IdempotentRequest.id == row.id, IdempotentRequest.status == 0)
                .where(IdempotentRequest.created_at == row.created_at)
                .values(created_at=now)
            )
            if getattr(taken, "rowcount", 0) == 1:
                log.warning("idempotency: took over key id=%d's stale claim", key_id)
                return None
    raise ApiProblem(409, f"This {HEADER} is busy: try again.", headers={"Retry-After": "1"})


def _run(call: Callable[[], Any]) -> Response:
    """The view's answer as a response, refusals (4xx problems) included: they are
    kept too, so a replay is refused the same way."""
    try:
        return make_response(call())
    except ApiProblem as problem:
        return problems.from_problem(problem)
    except HTTPException as error:
        if (error.code or 500) >= 500:
            raise
        return problems.from_http_exception(error)


def _end_request_transaction() -> None:
    """The view is done: what it kept has been committed, and what a refusal left half
    way must not be. Rolling the request's session back also lets go of the write lock
    it holds on SQLite, which the session below would otherwise wait for in vain."""
    pending = g.get("db_session")
    if pending is not None:
        pending.rollback()


def _keep(key_id: int, idem_key: str, response: Response) -> None:
    _end_request_transaction()
    with get_db().writing() as session:
        session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.api_key_id == key_id, IdempotentRequest.key == idem_key)
            .values(
                status=response.status_code,
                body=response.get_data(),
                content_type=(response.content_type or "")[:100],
                location=(response.headers.get("Location") or "")[:1000],
                etag=(response.headers.get("ETag") or "")[:100],
            )
        )


def _let_go(key_id: int, idem_key: str) -> None:
    _end_request_transaction()
    with get_db().writing() as session:
        session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.api_key_id == key_id,
                IdempotentRequest.key == idem_key,
                IdempotentRequest.status == 0,
            )
        )


def _replay(row: IdempotentRequest) -> Response:
    response = Response(row.body, status=row.status, content_type=row.content_type or None)
    if row.location:
        response.headers["Location"] = row.location
    if row.etag:
        response.headers["ETag"] = row.etag
    response.headers[REPLAYED] = "true"
    return response


def scrub_kept_answers(session: Session, contact_id: int, email: str) -> None:
    """Erasure: forget every kept answer that names the address (a created contact's
    body). Kept for a day at most, so few rows are read. JSON may have written the
    address's non-ASCII letters as escapes (``\\u00eb``), so a JSON body is read back
    as text before it is searched."""
    del contact_id  # an answer names a contact by address; ids alone are not personal
    needle = email.casefold()
    rows = session.execute(select(IdempotentRequest.id, IdempotentRequest.body)).all()
    doomed = [row_id for row_id, body in rows if needle in _as_text(bytes(body or b""))]
    if doomed:
        session.execute(delete(IdempotentRequest).where(IdempotentRequest.id.in_(doomed)))


def _as_text(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    with contextlib.suppress(ValueError):  # not JSON: the text as it is
        text += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
    return text.casefold()
