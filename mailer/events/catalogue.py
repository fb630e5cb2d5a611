"""The events an endpoint may ask for, and what each one tells.

A payload carries the least personal data the event needs: ids, and an email address
only where the receiving system cannot act without it (to unsubscribe or suppress the
same person there). ``contact.erased`` carries no address at all: the id the other
system was given when the contact was created or read is how it finds its copy."""

from __future__ import annotations

from typing import Any

CONTACT_UNSUBSCRIBED = "contact.unsubscribed"
CONTACT_ERASED = "contact.erased"
DELIVERY_BOUNCED = "delivery.bounced"
DELIVERY_COMPLAINED = "delivery.complained"
SIGNUP_CONFIRMED = "signup.confirmed"
CASCADE_CONFIRMED = "cascade.confirmed"
SEND_FINISHED = "send.finished"
CONSULTATION_OPENED = "consultation.opened"
CONSULTATION_CLOSED = "consultation.closed"

# Event type -> what the admin reads beside its box.
EVENTS: dict[str, str] = {
    CONTACT_UNSUBSCRIBED: "Someone unsubscribed (their id and email address)",
    CONTACT_ERASED: "A contact was erased (their id only)",
    DELIVERY_BOUNCED: "A message bounced (the contact's id and address, hard or soft)",
    DELIVERY_COMPLAINED: "Someone marked a message as spam (their id and address)",
    SIGNUP_CONFIRMED: "Someone confirmed a sign-up for updates (their id and address)",
    CASCADE_CONFIRMED: "A stakeholder said they shared a consultation (how, and how many)",
    SEND_FINISHED: "A send finished (its counts)",
    CONSULTATION_OPENED: "A consultation opened",
    CONSULTATION_CLOSED: "A consultation closed",
}


# The payloads that name a person, built in one place so each event carries the same
# fields whichever service tells it (and nothing more).


def unsubscribed(contact_id: int, email: str, how: str) -> dict[str, Any]:
    return {"contact_id": contact_id, "email": email, "how": how}


def bounced(
    contact_id: int, email: str, send_id: int | None, kind: str, reason: str
) -> dict[str, Any]:
    """``kind`` is "hard" or "soft"; ``reason`` the plain words of the bounces page."""
    return {
        "contact_id": contact_id,
        "email": email,
        "send_id": send_id,
        "kind": kind,
        "reason": reason,
    }


def complained(contact_id: int, email: str, send_id: int | None) -> dict[str, Any]:
    return {"contact_id": contact_id, "email": email, "send_id": send_id}


def signed_up(
    contact_id: int,
    email: str,
    *,
    consultation_id: int | None = None,
    list_ids: list[int] | None = None,
) -> dict[str, Any]:
    """A consultation's "register for updates" names the consultation; the standing
    sign-up page the lists joined."""
    data: dict[str, Any] = {"contact_id": contact_id, "email": email}
    if consultation_id is not None:
        data["consultation_id"] = consultation_id
    if list_ids is not None:
        data["list_ids"] = list_ids
    return data


def unknown(types: list[str] | tuple[str, ...]) -> list[str]:
    return [name for name in types if name not in EVENTS]
