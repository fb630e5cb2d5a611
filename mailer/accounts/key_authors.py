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

The services take ``Writer`` (a user or a key) where a key may act.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailer.accounts.models import User

# What the refusals call a key's "role" ("API key 'crm' is an API key; ...").
ROLE = "API key"


@dataclass(frozen=True)
class KeyAuthor:
    """The calling key, with the attributes the writing services read from a user."""

    name: str
    made_by_id: int | None
    may_approve: bool = False

    @property
    def id(self) -> int | None:
        """The account that answers for the key's work (its maker), if any."""
        return self.made_by_id

    @property
    def email(self) -> str:
        """How histories and contributions name it (the audit log's label)."""
        return f"API key {self.name!r}"

    @property
    def display_name(self) -> str:
        return self.email

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


def audit_actor(by: Writer | None) -> dict[str, Any]:
    """The ``actor``/``actor_label`` arguments of ``audit.record`` for ``by``."""
    if isinstance(by, KeyAuthor):
        return {"actor": None, "actor_label": by.email}
    return {"actor": by}


def user_id(by: Writer) -> int | None:
    """The account recorded as having done it (a key: none)."""
    return by.id if isinstance(by, User) else None
