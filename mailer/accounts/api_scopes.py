"""What an API key may do: each scope, and the sentence the admin reads beside it."""

from __future__ import annotations

CONTACTS_READ = "contacts:read"
CONTACTS_WRITE = "contacts:write"
CONTACTS_ERASE = "contacts:erase"
LISTS_READ = "lists:read"
LISTS_WRITE = "lists:write"
SUPPRESSIONS_READ = "suppressions:read"
SUPPRESSIONS_WRITE = "suppressions:write"
BULLETINS_READ = "bulletins:read"
BULLETINS_WRITE = "bulletins:write"
BULLETINS_APPROVE = "bulletins:approve"
SENDS_READ = "sends:read"
CONSULTATIONS_READ = "consultations:read"
STATS_READ = "stats:read"

SCOPES: dict[str, str] = {
    CONTACTS_READ: "Read contacts and find one by email address",
    CONTACTS_WRITE: "Add and change contacts, and their lists",
    CONTACTS_ERASE: "Erase a contact and everything held about them",
    LISTS_READ: "Read lists, their members and the organisation types",
    LISTS_WRITE: "Make and change lists, their members and organisation types",
    SUPPRESSIONS_READ: "Check whether an address is suppressed",
    SUPPRESSIONS_WRITE: "Suppress an address, or lift a suppression",
    BULLETINS_READ: "Read bulletins",
    BULLETINS_WRITE: "Write draft bulletins and submit them for approval",
    BULLETINS_APPROVE: "Approve bulletins (only where [approval] two_person is off)",
    SENDS_READ: "Read sends: their state, counts and failures",
    CONSULTATIONS_READ: "Read consultations",
    STATS_READ: "Read click, share, cascade and survey-response figures",
}


def unknown(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The names given that are not scopes."""
    return [scope for scope in scopes if scope not in SCOPES]
