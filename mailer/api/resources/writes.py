"""What the contacts, lists and suppressions resources share: a write in a transaction
of its own, tried again once when a request at the same moment made the same row
(two scripts adding one address), the services' refusals as problem details, and the
checks every input value gets."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts.directory import AlreadyExists, DirectoryError, NotLiftable
from contacts.organisation_types import OrganisationTypeError, TypeExists
from contacts.upserting import FieldProblem, Suppressed
from mailer.api.problems import VALIDATION, ApiProblem
from mailer.database import Base, get_db

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=Base)

MAX_ID = 2**31 - 1  # the largest value of an id column on PostgreSQL


def retrying(work: Callable[[Session], T]) -> T:
    """``work`` in a transaction of its own; when it breaks a unique rule because a
    request at the same moment wrote the same row, once more (it then finds that row)."""
    for attempt in (1, 2):
        try:
            with get_db().writing() as session:
                return work(session)
        except IntegrityError as exc:
            log.info("write met a concurrent one (attempt %s): %s", attempt, exc.orig)
    raise ApiProblem(409, "Another request changed the same thing at the same moment; try again.")


def refusal(exc: DirectoryError | OrganisationTypeError) -> ApiProblem:
    """A service's refusal, in its own words, as a problem."""
    if isinstance(exc, FieldProblem):
        return invalid(exc.field, str(exc))
    if isinstance(exc, AlreadyExists | Suppressed | TypeExists | NotLiftable):
        return ApiProblem(409, str(exc))
    return ApiProblem(422, str(exc), type_=VALIDATION)


def invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(
        422,
        f"{field}: {message}",
        title="The request is not valid",
        type_=VALIDATION,
        errors=[{"field": field, "message": message}],
    )


def get_or_404(session: Session, model: type[M], item_id: int, what: str) -> M:
    """The row with this id, or a 404 problem (an id no column can hold is none)."""
    found = session.get(model, item_id) if 0 < item_id <= MAX_ID else None
    if found is None:
        raise ApiProblem(404, f"There is no {what} with the id {item_id}.")
    return found


def plain_text(value: str) -> None:
    """Refuse what no name or address holds: control characters (line breaks, NUL)
    and lone surrogates (a JSON escape no database stores)."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029":
            raise ma.ValidationError(
                f"Contains a control character (U+{ord(char):04X}); send plain text."
            )


def text(max_length: int, **kwargs: Any) -> ma.fields.String:
    """A one-line text field of at most ``max_length`` characters."""
    return ma.fields.String(
        validate=[ma.validate.Length(max=max_length), plain_text],
        **kwargs,
    )


def an_id(*, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """An id: a whole number an id column can hold (in JSON a number, not "12"; in a
    query string, ``strict=False``, its digits)."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)
