"""An API key writing where the services expect a person (bulletins, their sends).

A key is not a user. When one writes a bulletin or submits it for approval:

- the bulletin's ``created_by`` stays empty, and the audit log names the key
  ("API key 'crm'"), as every write through the API is;
- its contributions (``BulletinContribution``) are noted under the key's name *and*
  the account of the person who made the key: under ``[approval] two_person`` that
  person counts as an author, so making a key is no way round the two-person rule (a
  key made from the command line has no maker; its work is nobody's, and any approver
  other than the people who edited it in the admin may approve it);
- a key approves only with the ``bulletins:approve`` scope while two_person is off
  (``mailer/api/resources/bulletins.py``); its approval is recorded against its maker.

What people read names the key, never its maker alone: a page, a notice or a refusal
says "API key 'crm' (made by office@example.org)", so nobody takes a key's approval
for a person's reading. Rows that keep who did something (contributions, review
events) keep the key's label as their ``user_email`` beside the maker's account;
``is_label`` tells such a row from a person's and ``shown`` names it.

The services take ``Writer`` (a user or a key) where a key may act.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailer.accounts.models import User

# What the refusals call a key's "role" ("API key 'crm' is an API key; ...").
ROLE = "API key"


def label(name: str) -> str:
    """How the audit log, contributions and review events name a key."""
    return f"{ROLE} {name!r}"


def is_label(text: str) -> bool:
    """Whether a kept name (``user_email`` of a contribution or review event) is a
    key's label rather than a person's address (an address has no space)."""
    return text.startswith(f"{ROLE} ")


def shown(key_label: str, made_by: str | None) -> str:
    """A key as people read it: its label and, when known, who made it."""
    return f"{key_label} (made by {made_by})" if made_by else key_label


def kept_name(kept: str, user: User | None) -> str:
    """Who a kept row names (``user_email`` as written, and its ``user_id`` account):
    a key as ``shown``, a person by name and address (or the address kept)."""
    if is_label(kept):
        return shown(kept, user.email if user is not None else None)
    if user is None:
        return kept
    return f"{user.name} ({user.email})" if user.name else user.email


@dataclass(frozen=True)
class KeyAuthor:
    """The calling key, with the attributes the writing services read from a user."""

    name: str
    made_by_id: int | None
    may_approve: bool = False
    # The maker's address, for what people read ("made by ..."); None: made on the
    # command line, or the account is gone.
    made_by_email: str | None = None

    @property
    def id(self) -> int | None:
        """The account that answers for the key's work (its maker), if any."""
        return self.made_by_id

    @property
    def email(self) -> str:
        """How histories and contributions keep it (the audit log's label)."""
        return label(self.name)

    @property
    def display_name(self) -> str:
        """How notices and pages name it: the key, and who made it."""
        return shown(self.email, self.made_by_email)

    @property
    def role(self) -> str:
        return ROLE

    @property
    def can_edit(self) -> bool:
        return True

    @property
    def can_approve(self) -> bool:
        return self.may_approve


Writer = User | KeyAuthor


def named(by: Writer) -> str:
    """How a sentence about what ``by`` did names them: a person's address, a key as
    ``shown``."""
    return by.display_name if isinstance(by, KeyAuthor) else by.email


def audit_actor(by: Writer | None) -> dict[str, Any]:
    """The ``actor``/``actor_label`` arguments of ``audit.record`` for ``by``."""
    if isinstance(by, KeyAuthor):
        return {"actor": None, "actor_label": by.email}
    return {"actor": by}


def user_id(by: Writer) -> int | None:
    """The account recorded as having done it (a key: none)."""
    return by.id if isinstance(by, User) else None
