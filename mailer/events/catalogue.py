"""The events an endpoint may ask for, and what each one tells.

A payload carries the least personal data the event needs: ids, and an email address
only where the receiving system cannot act without it (to unsubscribe or suppress the
same person there). ``contact.erased`` carries no address at all: the id the other
system was given when the contact was created or read is how it finds its copy."""

from __future__ import annotations

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


def unknown(types: list[str] | tuple[str, ...]) -> list[str]:
    return [name for name in types if name not in EVENTS]
