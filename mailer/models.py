"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from mailer.accounts.models import LoginAttempt, User
from mailer.audit.models import AuditEntry
from mailer.database import Base

__all__ = ["AuditEntry", "Base", "LoginAttempt", "User"]
