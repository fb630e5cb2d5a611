"""``/api/v1/suppressions``: the addresses never mailed. Check one (``?email=``),
suppress one, lift one (never an erased address's), or read them all, cursor paged.

The list keeps keyed hashes, not addresses: an entry shows its address only while it
belongs to a contact; an erased person's entry shows none, ever."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contacts import address_suppressions
from contacts.directory import DirectoryError
from contacts.models import SUPPRESSION_REASONS, Suppression
from mailer.accounts.api_scopes import SUPPRESSIONS_READ, SUPPRESSIONS_WRITE
from mailer.api import auth, paging
from mailer.api.problems import ApiProblem
from mailer.api.resources.contact_schemas import EMAIL_MAX
from mailer.api.resources.writes import MAX_ID, plain_text, refusal, retrying
from mailer.api.times import TimeOut
from mailer.database import get_db

blp = Blueprint(
    "api_suppressions",
    __name__,
    url_prefix="/api/v1/suppressions",
    description="Addresses that are never mailed",
)

KIND = "suppressions"


def _address(value: str) -> None:
    plain_text(value)


class SuppressionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True, metadata={"enum": list(SUPPRESSION_REASONS)})
    detail = ma.fields.String(required=True)
    since = TimeOut(required=True)
    contact_id = ma.fields.Integer(allow_none=True, required=True)
    email = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The contact's address; null once erased (a hash only)"},
    )


class SuppressionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SuppressionSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
    suppressed = ma.fields.Boolean(
        allow_none=True,
        required=True,
        metadata={"description": "With ?email=: whether that address is suppressed"},
    )


class SuppressionArgs(paging.PageArgs):
    email = ma.fields.String(
        validate=[ma.validate.Length(min=1, max=EMAIL_MAX), _address],
        metadata={
            "description": "Check this address: items holds its entry, or nothing",
            "format": "email",
        },
    )


class SuppressInSchema(ma.Schema):
    email = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=EMAIL_MAX), _address],
        metadata={"format": "email"},
    )
    reason = ma.fields.String(
        load_default="",
        validate=[
            ma.validate.Length(max=address_suppressions.DETAIL_MAX),
            _address,
        ],
        metadata={"description": "Why, in words (kept as the entry's detail)"},
    )


def _represent(entry: Suppression) -> dict[str, Any]:
    return {
        "id": entry.id,
        "reason": entry.reason,
        "detail": entry.detail,
        "since": entry.created_at,
        "contact_id": entry.contact_id,
        "email": entry.contact.email if entry.contact is not None else None,
    }


def _find(session: Session, ref: str) -> Suppression:
    """The entry a path names: its id, or an address it holds."""
    try:
        if ref.isdecimal():
            entry = session.get(Suppression, int(ref)) if 0 < int(ref) <= MAX_ID else None
        else:
            plain_text(ref)
            entry = address_suppressions.find(session, ref[:EMAIL_MAX])
    except DirectoryError as exc:
        raise refusal(exc) from None
    except ma.ValidationError as exc:
        raise ApiProblem(404, f"There is no suppression {ref[:80]!r}: {exc}") from None
    if entry is None:
        raise ApiProblem(404, "That address is not suppressed.")
    return entry


@blp.route("", methods=["GET"])
@auth.requires(SUPPRESSIONS_READ)
@blp.arguments(SuppressionArgs, location="query", as_kwargs=True)
@blp.response(200, SuppressionPageSchema)
def list_suppressions(limit: int, cursor: str | None, email: str | None = None) -> Any:
    """Every suppression, oldest first, a page at a time; with ``?email=``, whether
    that address is suppressed (``suppressed``), and since when and why (``items``)."""
    session = get_db().session
    if email is not None:
        try:
            entry = address_suppressions.find(session, email)
        except DirectoryError as exc:
            raise refusal(exc) from None
        items = [entry] if entry is not None else []
        return {
            "items": [_represent(e) for e in items],
            "next_cursor": None,
            "suppressed": entry is not None,
        }
    rows, more = address_suppressions.page_after(
        session, after_id=paging.after_id(cursor, kind=KIND), limit=limit
    )
    next_cursor = paging.encode(rows[-1].id, kind=KIND) if more else None
    return (
        {"items": [_represent(e) for e in rows], "next_cursor": next_cursor, "suppressed": None},
        200,
        paging.next_link(next_cursor),
    )


@blp.route("", methods=["POST"])
@auth.requires(SUPPRESSIONS_WRITE)
@blp.arguments(SuppressInSchema)
@blp.response(201, SuppressionSchema, description="Suppressed now")
@blp.alt_response(200, schema=SuppressionSchema, description="Suppressed already (kept as it was)")
def suppress(data: dict[str, Any]) -> Any:
    """Never mail this address again (a contact with it stops getting mail). An address
    suppressed already keeps its first reason (200)."""
    actor = auth.current().actor_label

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        done = address_suppressions.suppress(
            session, data["email"], detail=data["reason"], actor_label=actor
        )
        return _represent(done.entry), done.created

    try:
        body, created = retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    location = url_for("api_suppressions.get_suppression", ref=str(body["id"]))
    return body, 201 if created else 200, {"Location": location}


@blp.route("/<path:ref>", methods=["GET"])
@auth.requires(SUPPRESSIONS_READ)
@blp.response(200, SuppressionSchema)
def get_suppression(ref: str) -> Any:
    """One suppression, by its id or by the address it holds (404: not suppressed)."""
    return _represent(_find(get_db().session, ref))


@blp.route("/<path:ref>", methods=["DELETE"])
@auth.requires(SUPPRESSIONS_WRITE)
@blp.response(204)
@blp.alt_response(409, description="An erased address: its suppression stays")
def lift(ref: str) -> Any:
    """Allow mail to the address again; a contact with it gets mail again. An erased
    address's suppression is never lifted (409), as in the admin."""
    actor = auth.current().actor_label

    def work(session: Session) -> None:
        address_suppressions.lift(session, _find(session, ref), actor_label=actor)

    try:
        retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    return None
