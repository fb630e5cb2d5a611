"""``/api/v1/contacts``: find contacts (by address, list, type, tag, area, status,
change time; cursor paged), read one, add or change one by its address (upsert),
change one by id, erase one.

The rules are the admin's and the import's (``contacts.upserting``,
``contacts.data_rights``); every write is audited under the key's name."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contacts import data_rights, directory, upserting
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.directory import DirectoryError
from contacts.models import Contact
from mailer.accounts.api_scopes import CONTACTS_ERASE, CONTACTS_READ, CONTACTS_WRITE
from mailer.api import auth, etags, paging
from mailer.api.resources.contact_schemas import (
    ContactCreateSchema,
    ContactFilterArgs,
    ContactPageSchema,
    ContactPatchSchema,
    ContactSchema,
    ContactWrittenSchema,
    changes,
    etag,
    represent,
)
from mailer.api.resources.writes import get_or_404, refusal, retrying
from mailer.database import get_db

blp = Blueprint(
    "api_contacts",
    __name__,
    url_prefix="/api/v1/contacts",
    description="The people the office writes to",
)

KIND = "contacts"


@blp.route("", methods=["GET"])
@auth.requires(CONTACTS_READ)
@blp.arguments(ContactFilterArgs, location="query", as_kwargs=True)
@blp.response(200, ContactPageSchema)
def list_contacts(
    limit: int,
    cursor: str | None,
    email: str | None = None,
    list: int | None = None,
    organisation_type: int | None = None,
    tag: str | None = None,
    area: str | None = None,
    status: str | None = None,
    updated_since: Any = None,
) -> Any:
    """Contacts in the order they were added, a page at a time; ``?email=`` finds one
    (a list of none or one)."""
    try:
        key = upserting.normalised_address(email).casefold() if email is not None else None
    except DirectoryError as exc:
        raise refusal(exc) from None
    filters = directory.ContactFilter(
        list_id=list,
        organisation_type_id=organisation_type,
        status=status,
        tag=tag or "",
        email_key=key,
        area=area or "",
        updated_since=updated_since,
    )
    session = get_db().session
    items, more = directory.contacts_after(
        session, filters, after_id=paging.after_id(cursor, kind=KIND), limit=limit
    )
    next_cursor = paging.encode(items[-1].id, kind=KIND) if more else None
    return (
        {"items": represent(session, items), "next_cursor": next_cursor},
        200,
        paging.next_link(next_cursor),
    )


@blp.route("", methods=["POST"])
@auth.requires(CONTACTS_WRITE)
@blp.arguments(ContactCreateSchema)
@blp.response(200, ContactWrittenSchema, description="The contact with that address, changed")
@blp.alt_response(201, schema=ContactWrittenSchema, description="A new contact")
def upsert_contact(data: dict[str, Any]) -> Any:
    """Add a contact, or change the one with that address (an upsert). A contact who
    unsubscribed, bounced or complained keeps that status and joins no list;
    an address on the suppression list is not added (409)."""
    actor = auth.current().actor_label

    def work(session: Session) -> tuple[dict[str, Any], bool]:
        saved = upserting.upsert(session, changes(data), actor_label=actor)
        return _written(session, saved), saved.created

    try:
        body, created = retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    headers = {"ETag": etag(_without_kept(body))}
    if created:
        headers["Location"] = url_for("api_contacts.get_contact", contact_id=body["id"])
        return body, 201, headers
    return body, 200, headers


@blp.route("/<int:contact_id>", methods=["GET"])
@auth.requires(CONTACTS_READ)
@blp.response(200, ContactSchema)
def get_contact(contact_id: int) -> Any:
    """One contact (its ETag goes with it, for a later PATCH's If-Match)."""
    session = get_db().session
    contact = get_or_404(session, Contact, contact_id, "contact")
    return represent(session, [contact])[0]


@blp.route("/<int:contact_id>", methods=["PATCH"])
@auth.requires(CONTACTS_WRITE)
@blp.arguments(ContactPatchSchema)
@blp.response(200, ContactWrittenSchema)
@blp.alt_response(412, description="If-Match named an older copy")
def patch_contact(data: dict[str, Any], contact_id: int) -> Any:
    """Change the fields sent (the others stay). With ``If-Match``, only if nobody
    changed the contact since it was read."""
    actor = auth.current().actor_label

    def work(session: Session) -> dict[str, Any]:
        contact = get_or_404(session, Contact, contact_id, "contact")
        etags.check_if_match(etags.served(ContactSchema(), represent(session, [contact])[0]))
        saved = upserting.update(session, contact, changes(data), actor_label=actor)
        return _written(session, saved)

    try:
        body = retrying(work)
    except DirectoryError as exc:
        raise refusal(exc) from None
    return body, 200, {"ETag": etag(_without_kept(body))}


@blp.route("/<int:contact_id>", methods=["DELETE"])
@auth.requires(CONTACTS_ERASE)
@blp.response(204)
def erase_contact(contact_id: int) -> Any:
    """Erase the contact, as the admin's erasure does: every record of them goes, and
    only a keyed hash of the address stays on the suppression list (so no import
    brings it back)."""
    actor = auth.current().actor_label
    scrubbers = current_app.extensions[ERASURE_SCRUBBERS]

    def work(session: Session) -> None:
        contact = get_or_404(session, Contact, contact_id, "contact")
        data_rights.erase(
            session, contact, actor_label=actor, scrubbers=scrubbers, ip=request.remote_addr
        )

    retrying(work)
    return None


def _written(session: Session, saved: upserting.Saved) -> dict[str, Any]:
    session.flush()
    # The row as written (its organisation type and lists were changed by id).
    session.refresh(saved.contact)
    return {**represent(session, [saved.contact])[0], "kept": saved.kept}


def _without_kept(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "kept"}
