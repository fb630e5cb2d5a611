"""Roles, and the one table of who may do what.

Every state-changing action has a row in ``MATRIX``. Views (through the ``requires``
decorator in mailer/admin/guards.py), templates (``may`` hides what a role cannot use),
services and the command line all ask ``may``/``refusal`` here, and the README's role
table is generated from the same rows (``markdown_table``), so the three cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

EDITOR = "editor"
APPROVER = "approver"
ADMIN = "admin"

ROLES = (EDITOR, APPROVER, ADMIN)

LABELS = {
    EDITOR: "Editor (comms officer)",
    APPROVER: "Approver",
    ADMIN: "Admin",
}

# Who held a send or the stop switch: a person's role, or SYSTEM for the relay refusing
# us (the worker pauses the send itself).
SYSTEM = ""

# A stop made by someone is lifted only by someone of at least the same rank, so an
# admin's incident stop sticks against an editor and an approver.
RANK = {SYSTEM: 0, EDITOR: 1, APPROVER: 2, ADMIN: 3}

_HOLDER_WORDS = {
    SYSTEM: "the relay",
    EDITOR: "an editor",
    APPROVER: "an approver",
    ADMIN: "an admin",
}
_PLURALS = {EDITOR: "editors", APPROVER: "approvers", ADMIN: "admins"}


class Action(StrEnum):
    # Sending controls.
    PAUSE_SEND = "pause_send"
    RESUME_SEND = "resume_send"
    RETRY_SEND = "retry_send"
    CANCEL_SEND = "cancel_send"
    STOP_SENDING = "stop_sending"
    RESTART_SENDING = "restart_sending"
    SEND_MISSED_NOW = "send_missed_now"
    PUBLISH_SEND = "publish_send"
    OPEN_NOW = "open_now"
    ADD_BLACKOUT = "add_blackout"
    REMOVE_BLACKOUT = "remove_blackout"
    # Content and approval.
    EDIT = "edit"
    APPROVE = "approve"
    # The office's data and people.
    EXPORT_ALL_CONTACTS = "export_all_contacts"
    EXPORT_CONTACT_DATA = "export_contact_data"
    ERASE_CONTACT = "erase_contact"
    REMOVE_SUPPRESSION = "remove_suppression"
    REMOVE_ORGANISATION_TYPE = "remove_organisation_type"
    ORGANISATION_SETTINGS = "organisation_settings"
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    SEE_BOUNCES = "see_bounces"
    EXPORT_BOUNCES = "export_bounces"
    CHANGE_OWN_PASSWORD = "change_own_password"
    RESET_SECOND_FACTORS = "reset_second_factors"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_WEBHOOKS = "manage_webhooks"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    # What the README's row says; "{who}" is filled in per holder for a lifting rule.
    label: str
    # "may ..." in a refusal: "Only admins may cancel a send."
    verb: str
    # A lifting rule undoes a stop: also needs the rank of whoever made the stop.
    holders: tuple[str, ...] = ()
    group: str = "Sending"
    # What the holder did, for the refusal: "An admin paused this, so only admins ...".
    held: str = "stopped"

    @property
    def lifts(self) -> bool:
        return bool(self.holders)


_ALL = frozenset(ROLES)
_APPROVERS = frozenset({APPROVER, ADMIN})
_EDITORS = frozenset({EDITOR, ADMIN})
_ADMINS = frozenset({ADMIN})

MATRIX: dict[Action, Rule] = {
    Action.PAUSE_SEND: Rule(_ALL, "Pause a send", "pause a send"),
    Action.RESUME_SEND: Rule(
        _APPROVERS,
        "Resume a send paused by {who}",
        "resume a paused send",
        holders=(SYSTEM, EDITOR, APPROVER, ADMIN),
        held="paused",
    ),
    Action.RETRY_SEND: Rule(
        _APPROVERS, "Retry a send's failed deliveries", "retry failed deliveries"
    ),
    Action.CANCEL_SEND: Rule(
        _ADMINS,
        "Cancel a send, or a consultation with approved messages (final)",
        "cancel a send or an approved consultation",
    ),
    Action.STOP_SENDING: Rule(_ALL, "Stop all sending", "stop all sending"),
    Action.RESTART_SENDING: Rule(
        _APPROVERS,
        "Restart all sending stopped by {who}",
        "restart sending",
        holders=(EDITOR, APPROVER, ADMIN),
    ),
    Action.SEND_MISSED_NOW: Rule(_APPROVERS, "Send a missed message now", "send it now"),
    Action.PUBLISH_SEND: Rule(
        _APPROVERS,
        "Publish a sent message in the public archive, or take it off",
        "publish a message in the public archive",
    ),
    Action.OPEN_NOW: Rule(
        _APPROVERS, "Open an approved consultation now", "open a consultation early"
    ),
    Action.ADD_BLACKOUT: Rule(_APPROVERS, "Add a blackout period", "add a blackout"),
    Action.REMOVE_BLACKOUT: Rule(_APPROVERS, "Remove a blackout period", "remove a blackout"),
    Action.EDIT: Rule(
        _EDITORS,
        "Write and change contacts, lists, bulletins, templates and consultations "
        "(import, test sends, submit for approval, cancel before approval)",
        "change this",
        group="Content and approval",
    ),
    Action.APPROVE: Rule(
        _APPROVERS,
        "Approve (never one's own work while `[approval] two_person` is on)",
        "approve",
        group="Content and approval",
    ),
    Action.EXPORT_ALL_CONTACTS: Rule(
        _ADMINS,
        "Export contacts as CSV, all or a list (audited)",
        "export contacts",
        group="Data and people",
    ),
    Action.EXPORT_CONTACT_DATA: Rule(
        _ADMINS,
        "Download everything held about one contact (audited)",
        "download a contact's data",
        group="Data and people",
    ),
    Action.ERASE_CONTACT: Rule(
        _ADMINS, "Erase a contact", "erase a contact", group="Data and people"
    ),
    Action.REMOVE_SUPPRESSION: Rule(
        _ADMINS, "Lift a suppression", "lift a suppression", group="Data and people"
    ),
    Action.REMOVE_ORGANISATION_TYPE: Rule(
        _ADMINS,
        "Remove an organisation type",
        "remove an organisation type",
        group="Data and people",
    ),
    Action.ORGANISATION_SETTINGS: Rule(
        _ADMINS,
        "Change the organisation settings",
        "change the organisation settings",
        group="Data and people",
    ),
    Action.MANAGE_USERS: Rule(
        _ADMINS,
        "Add users, change their roles, disable and enable them",
        "manage users",
        group="Data and people",
    ),
    Action.READ_AUDIT: Rule(
        _APPROVERS, "Read the audit log", "read the audit log", group="Data and people"
    ),
    # The bounces page names stakeholders' addresses and shows the messages their mail
    # servers sent back: for those who look after the lists (editors) and admins.
    Action.SEE_BOUNCES: Rule(
        _EDITORS,
        "See the bounces and complaints page, with the messages that came back",
        "see bounces and complaints",
        group="Data and people",
    ),
    # A file of stakeholders' addresses leaves the system: as a contacts export does,
    # only with an admin, and on the record.
    # An endpoint receives stakeholders' addresses (unsubscribes, bounces) and its
    # signing secret lets anyone speak as this product: admins only, on the record.
    Action.MANAGE_WEBHOOKS: Rule(
        _ADMINS,
        "Add, change and delete webhook endpoints, see their secrets and delivery log",
        "manage webhooks",
        group="Data and people",
    ),
    Action.EXPORT_BOUNCES: Rule(
        _ADMINS,
        "Download the bounces and complaints list as CSV (audited)",
        "download the bounces list",
        group="Data and people",
    ),
    # Someone who lost their phone gets back in; never oneself (an attacker with only
    # a password must not be able to remove the factor that stops them).
    Action.RESET_SECOND_FACTORS: Rule(
        _ADMINS,
        "Reset another user's second factors and see their signed-in browsers "
        "(audited; the user is told by email)",
        "reset someone's second factors",
        group="Data and people",
    ),
    # A key reads and writes the office's data without a person signing in: only
    # admins make and revoke them (each key's own rights are its scopes).
    Action.MANAGE_API_KEYS: Rule(
        _ADMINS,
        "Make and revoke API keys (audited; a key is shown once)",
        "manage API keys",
        group="Data and people",
    ),
    Action.CHANGE_OWN_PASSWORD: Rule(
        _ALL, "Change one's own password", "change a password", group="Data and people"
    ),
}


def role_of(user: Any) -> str | None:
    """The role of an active signed-in user; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    role = getattr(user, "role", None)
    return role if role in ROLES else None


def allows(role: str | None, action: Action, *, held_by: str | None = None) -> bool:
    rule = MATRIX[action]
    if role not in rule.roles:
        return False
    if rule.lifts and held_by is not None:
        return RANK[role] >= RANK.get(held_by, RANK[SYSTEM])
    return True


def may(user: Any, action: Action, *, held_by: str | None = None) -> bool:
    """May ``user`` do ``action``? ``held_by``: for resuming a send or restarting
    sending, the role of whoever paused or stopped it (SYSTEM for the relay)."""
    return allows(role_of(user), action, held_by=held_by)


def refusal(user: Any, action: Action, *, held_by: str | None = None) -> str | None:
    """The sentence a refused person reads, or None when they may."""
    if may(user, action, held_by=held_by):
        return None
    rule = MATRIX[action]
    role = role_of(user)
    if role in rule.roles and held_by is not None:
        able = [r for r in ROLES if allows(r, action, held_by=held_by)]
        return (
            f"{_HOLDER_WORDS.get(held_by, 'someone').capitalize()} {rule.held} this, so only "
            f"{_people(able)} may {rule.verb}."
        )
    return f"Only {_people(sorted(rule.roles, key=ROLES.index))} may {rule.verb}."


class NotAllowed(Exception):
    """A person tried what their role does not allow; the message says who may."""


def require(user: Any, action: Action, *, held_by: str | None = None) -> None:
    reason = refusal(user, action, held_by=held_by)
    if reason is not None:
        raise NotAllowed(reason)


def _people(roles: list[str]) -> str:
    words = [_PLURALS[r] for r in roles]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- the README's table -----------------------------------------------------------------


def rows() -> list[tuple[str, str, dict[str, bool]]]:
    """(group, label, {role: allowed}) for every row of the README's table. A lifting
    rule gets one row per set of holders that the same roles may lift."""
    out: list[tuple[str, str, dict[str, bool]]] = []
    for action, rule in MATRIX.items():
        if not rule.lifts:
            out.append((rule.group, rule.label, {r: allows(r, action) for r in ROLES}))
            continue
        groups: dict[tuple[bool, ...], list[str]] = {}
        for holder in rule.holders:
            cells = tuple(allows(r, action, held_by=holder) for r in ROLES)
            groups.setdefault(cells, []).append(holder)
        for key, holders in groups.items():
            out.append((rule.group, row_label(action, holders), dict(zip(ROLES, key, strict=True))))
    return out


def row_label(action: Action, holders: list[str] | tuple[str, ...]) -> str:
    words = [_HOLDER_WORDS[h] for h in holders]
    who = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return MATRIX[action].label.format(who=who)


def label_for(action: Action, *, held_by: str | None = None) -> str:
    """The README row that covers ``action`` (for a lifting rule, held by ``held_by``)."""
    rule = MATRIX[action]
    if not rule.lifts:
        return rule.label
    cells = {r: allows(r, action, held_by=held_by) for r in ROLES}
    same = [h for h in rule.holders if {r: allows(r, action, held_by=h) for r in ROLES} == cells]
    return row_label(action, same)


def markdown_table() -> str:
    head = "| | " + " | ".join(LABELS[r] for r in ROLES) + " |"
    lines = [head, "|---|" + "---|" * len(ROLES)]
    group = None
    for row_group, label, cells in rows():
        if row_group != group:
            group = row_group
            lines.append(f"| **{group}** |" + " |" * len(ROLES))
        lines.append(
            f"| {label} | " + " | ".join("yes" if cells[r] else "no" for r in ROLES) + " |"
        )
    return "\n".join(lines) + "\n"


# Kept for callers that ask by role set; derived from the table.
CAN_EDIT = MATRIX[Action.EDIT].roles
CAN_APPROVE = MATRIX[Action.APPROVE].roles
CAN_MANAGE_USERS = MATRIX[Action.MANAGE_USERS].roles
CAN_READ_AUDIT = MATRIX[Action.READ_AUDIT].roles
