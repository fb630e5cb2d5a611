"""``/api/v1/lists``: the lists with their member counts, a new list, one list and its
changes, and its members: read (cursor paged), add (by contact id or address), remove
one, or sync (``PUT``: the list becomes exactly the addresses sent).

Every operation here needs ``lists:read`` or ``lists:write`` only: changing who is on
a list is a change to the list (a contact's own ``lists`` field, sent to
/api/v1/contacts, needs ``contacts:write``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from contacts import directory, list_members
from contacts.directory import DirectoryError
from contacts.models import Contact, ContactList
from contacts.values import LIST_NAME_MAX
from mailer.accounts.api_scopes import LISTS_READ, LISTS_WRITE
from mailer.api import auth, etags, paging
from mailer.api.problems import ApiProblem
from mailer.api.resources.contact_schemas import EMAIL_MAX, ContactPageSchema, represent
from mailer.api.resources.writes import (
    MAX_ID,
    an_id,
    get_or_404,
    plain_text,
    refusal,
    retrying,
    text,
)
from mailer.api.times import TimeOut
from mailer.database import get_db

blp = Blueprint(
    "api_lists", __name__, url_prefix="/api/v1/lists", description="Lists and their members"
)

KIND = "members"
DESCRIPTION_MAX = 2000
ADD_MAX = 10_000
SYNC_MAX = 100_000


def _description(value: str) -> None:
    plain_text(value.replace("\n", " ").replace("\r", " ").replace("\t", " "))


class ListSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    choosable = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether people may join or leave it on their preferences page"},
    )
    members = ma.fields.Integer(required=True, metadata={"description": "Contacts on it"})
    active_members = ma.fields.Integer(
        required=True, metadata={"description": "Of those, the ones who get mail"}
    )
    created_at = TimeOut(required=True)


class ListPatchSchema(ma.Schema):
    name = text(LIST_NAME_MAX)
    description = ma.fields.String(validate=[ma.validate.Length(max=DESCRIPTION_MAX), _description])
    choosable = ma.fields.Boolean()


class ListCreateSchema(ListPatchSchema):
    name = text(LIST_NAME_MAX, required=True)


def _address(value: str) -> None:
    plain_text(value)


_EMAIL = ma.fields.String(validate=[ma.validate.Length(min=1, max=EMAIL_MAX), _address])


class MembersAddSchema(ma.Schema):
    contact_ids = ma.fields.List(an_id(), validate=ma.validate.Length(max=ADD_MAX))
    emails = ma.fields.List(_EMAIL, validate=ma.validate.Length(max=ADD_MAX))


class MembersAddedSchema(ma.Schema):
    added = ma.fields.Integer(required=True)
    already = ma.fields.Integer(required=True, metadata={"description": "On the list before"})
    unknown_ids = ma.fields.List(ma.fields.Integer(), required=True)
    unknown_emails = ma.fields.List(ma.fields.String(), required=True)


class MembersSyncSchema(ma.Schema):
    emails = ma.fields.List(
        _EMAIL,
        required=True,
        validate=ma.validate.Length(max=SYNC_MAX),
        metadata={"description": "Every address the list should hold, and no other"},
    )
    allow_empty = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "true to let the sync leave a list that has members empty "
            "(refused otherwise, naming emails: a broken export would wipe the list)"
        },
    )


class MembersSyncedSchema(ma.Schema):
    added = ma.fields.Integer(required=True)
    removed = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    # Not "unknown" as a Python name: a schema's own option is called that.
    unknown_count = ma.fields.Integer(
        data_key="unknown",
        required=True,
        metadata={"description": "Addresses of nobody known (not added)"},
    )
    suppressed = ma.fields.Integer(
        required=True,
        metadata={"description": "Contacts not added: unsubscribed, bounced or suppressed"},
    )
    unknown_emails = ma.fields.List(ma.fields.String(), required=True)
    suppressed_emails = ma.fields.List(ma.fields.String(), required=True)


def _represent(session: Session, list_id: int) -> dict[str, Any]:
    for lst, total, active in directory.lists_with_counts(session):
        if lst.id == list_id:
            return {
                "id": lst.id,
                "name": lst.name,
                "description": lst.description,
                "choosable": lst.choosable,
                "members": total,
                "active_members": active,
                "created_at": lst.created_at,
            }
    raise ApiProblem(404, f"There is no list with the id {list_id}.")


def _etag(body: dict[str, Any]) -> str:
    return etags.tag(etags.served(ListSchema(), body))


@blp.route("", methods=["GET"])
@auth.requires(LISTS_READ)
@blp.response(200, ListSchema(many=True))
def list_lists() -> Any:
    """Every list, by name, with its member counts."""
    return [
        {
            "id": lst.id,
            "name": lst.name,
            "description": lst.description,
            "choosable": lst.choosable,
            "members": total,
            "active_members": active,
            "created_at": lst.created_at,
        }
        for lst, total, active in directory.lists_with_counts(get_db().session)
    ]


@blp.route("", methods=["POST"])
@auth.requires(LISTS_WRITE)
@blp.arguments(ListCreateSchema)
@blp.response(201, ListSchema)
def create_list(data: dict[str, Any]) -> Any:
    """A new list (its name not taken by another, whatever the case: else 409)."""
    actor = auth.current().actor_label

    def work(session: Session) -> dict[str, Any]:
        lst = directory.create_list(
            session,
            name=data["name"],
            description=data.get("description", ""),
            choosable=data.get("choosable", False),
            actor_label=actor,
        )
        return _represent(session, lst.id)

    try:
        body = retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    location = url_for("api_lists.get_list", list_id=body["id"])
    return body, 201, {"Location": location, "ETag": _etag(body)}


@blp.route("/<int:list_id>", methods=["GET"])
@auth.requires(LISTS_READ)
@blp.response(200, ListSchema)
def get_list(list_id: int) -> Any:
    """One list with its member counts."""
    return _represent(get_db().session, list_id)


@blp.route("/<int:list_id>", methods=["PATCH"])
@auth.requires(LISTS_WRITE)
@blp.arguments(ListPatchSchema)
@blp.response(200, ListSchema)
@blp.alt_response(412, description="If-Match named an older copy")
def patch_list(data: dict[str, Any], list_id: int) -> Any:
    """Change a list's name, description or choosability (those sent)."""
    actor = auth.current().actor_label

    def work(session: Session) -> dict[str, Any]:
        lst = get_or_404(session, ContactList, list_id, "list")
        etags.check_if_match(etags.served(ListSchema(), _represent(session, list_id)))
        directory.update_list(
            session,
            lst,
            name=data.get("name"),
            description=data.get("description"),
            choosable=data.get("choosable"),
            actor_label=actor,
        )
        session.flush()
        return _represent(session, list_id)

    try:
        body = retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    return body, 200, {"ETag": _etag(body)}


@blp.route("/<int:list_id>/members", methods=["GET"])
@auth.requires(LISTS_READ)
@blp.arguments(paging.PageArgs, location="query", as_kwargs=True)
@blp.response(200, ContactPageSchema)
def list_members_page(limit: int, cursor: str | None, list_id: int) -> Any:
    """The list's members, in the order they were added as contacts, a page at a time."""
    session = get_db().session
    get_or_404(session, ContactList, list_id, "list")
    items, more = directory.contacts_after(
        session,
        directory.ContactFilter(list_id=list_id),
        after_id=paging.after_id(cursor, kind=KIND),
        limit=limit,
    )
    next_cursor = paging.encode(items[-1].id, kind=KIND) if more else None
    return (
        {"items": represent(session, items), "next_cursor": next_cursor},
        200,
        paging.next_link(next_cursor),
    )


@blp.route("/<int:list_id>/members", methods=["POST"])
@auth.requires(LISTS_WRITE)
@blp.arguments(MembersAddSchema)
@blp.response(200, MembersAddedSchema)
def add_members(data: dict[str, Any], list_id: int) -> Any:
    """Add contacts, by id or by address, to the list (those on it already stay).
    Unknown ids and addresses are named in the answer, not added. Unlike a sync, this
    adds a contact who does not get mail too, as the admin's list page does."""
    actor = auth.current().actor_label
    ids = list(dict.fromkeys(data.get("contact_ids", [])))
    emails = data.get("emails", [])

    def work(session: Session) -> dict[str, Any]:
        lst = get_or_404(session, ContactList, list_id, "list")
        found = list_members.known(session, emails)
        existing = set(session.scalars(_ids_among(ids)))
        wanted = [i for i in ids if i in existing] + list(found.ids.values())
        added, already = list_members.add(session, lst, wanted, actor_label=actor)
        return {
            "added": added,
            "already": already,
            "unknown_ids": [i for i in ids if i not in existing],
            "unknown_emails": found.unknown,
        }

    try:
        return retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None


@blp.route("/<int:list_id>/members", methods=["PUT"])
@auth.requires(LISTS_WRITE)
@blp.arguments(MembersSyncSchema)
@blp.response(200, MembersSyncedSchema)
def sync_members(data: dict[str, Any], list_id: int) -> Any:
    """Make the list exactly the contacts these addresses name: add the missing, remove
    the others. Addresses of nobody known are not added (add them as contacts first),
    nor are contacts who do not get mail; both are counted and named. A sync that
    would empty a list with members needs ``"allow_empty": true`` (422 otherwise)."""
    actor = auth.current().actor_label

    def work(session: Session) -> dict[str, Any]:
        lst = get_or_404(session, ContactList, list_id, "list")
        result = list_members.sync(
            session, lst, data["emails"], actor_label=actor, allow_empty=data["allow_empty"]
        )
        return {
            "added": result.added,
            "removed": result.removed,
            "unchanged": result.unchanged,
            "unknown_count": len(result.unknown),
            "suppressed": len(result.suppressed),
            "unknown_emails": result.unknown,
            "suppressed_emails": result.suppressed,
        }

    try:
        return retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None


@blp.route("/<int:list_id>/members/<int:contact_id>", methods=["DELETE"])
@auth.requires(LISTS_WRITE)
@blp.response(204)
def remove_member(list_id: int, contact_id: int) -> Any:
    """Take one contact off the list (404 when they are not on it)."""
    actor = auth.current().actor_label

    def work(session: Session) -> int:
        lst = get_or_404(session, ContactList, list_id, "list")
        if not 0 < contact_id <= MAX_ID:
            return 0
        return directory.bulk_remove(session, lst, contact_ids=[contact_id], actor_label=actor)

    if not retrying(work):
        raise ApiProblem(404, f"Contact {contact_id} is not on list {list_id}.")
    return None


def _ids_among(ids: list[int]) -> Select[Any]:
    return select(Contact.id).where(Contact.id.in_(ids))
