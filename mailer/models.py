"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from contacts.models import (
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
    Suppression,
    SystemKey,
)
from mailer.accounts.models import LoginAttempt, User
from mailer.audit.models import AuditEntry
from mailer.database import Base

__all__ = [
    "AuditEntry",
    "Base",
    "Contact",
    "ContactList",
    "ListMembership",
    "LoginAttempt",
    "OrganisationType",
    "Suppression",
    "SystemKey",
    "User",
]
