"""Every model, imported in one place so the metadata (and Alembic) sees them all.

Part of the wiring: the app factory and the command line call :func:`register_all`
before any database work, so a process that uses only some models (a worker) still
meets the foreign keys to the others.
"""

from contacts.models import (
    Contact,
    ContactList,
    ListMembership,
    OrganisationType,
    Segment,
    Suppression,
    SystemKey,
)
from mailer.accounts.models import (
    ApiKey,
    IdempotentRequest,
    LoginAttempt,
    Passkey,
    RecoveryCode,
    TotpSecret,
    User,
    UserSession,
)
from mailer.audit.models import AuditEntry
from mailer.bounces.models import Bounce, BounceMessage, WebhookReceipt
from mailer.bulletins.models import (
    Bulletin,
    BulletinAttachment,
    BulletinContribution,
    StoredFile,
)
from mailer.database import Base
from mailer.delivery.models import (
    Delivery,
    QueuedMessage,
    RelayState,
    Send,
    SendingSwitch,
    ShareCode,
    TrackedLink,
)
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from mailer.events.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from mailer.organisation.models import OrganisationSettings
from mailer.tracking.models import (
    CascadeConfirmation,
    ClickCount,
    PersonClick,
    PublicRequest,
    ShareVisit,
    SignUp,
    SurveyCompletion,
)
from scheduler.models import (
    Blackout,
    Consultation,
    ConsultationDocument,
    Contribution,
    SchedulerStatus,
)
from scheduler.reviews.models import ReviewEvent

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Blackout",
    "Bounce",
    "BounceMessage",
    "Bulletin",
    "BulletinAttachment",
    "BulletinContribution",
    "CascadeConfirmation",
    "ClickCount",
    "Consultation",
    "ConsultationDocument",
    "Contact",
    "ContactList",
    "Contribution",
    "Delivery",
    "EmailTemplate",
    "IdempotentRequest",
    "ListMembership",
    "LoginAttempt",
    "OrganisationSettings",
    "OrganisationType",
    "Passkey",
    "PersonClick",
    "PublicRequest",
    "QueuedMessage",
    "RecoveryCode",
    "RelayState",
    "ReviewEvent",
    "SchedulerStatus",
    "Segment",
    "Send",
    "SendingSwitch",
    "ShareCode",
    "ShareVisit",
    "SignUp",
    "StoredFile",
    "Suppression",
    "SurveyCompletion",
    "SystemKey",
    "TemplateVersion",
    "TotpSecret",
    "TrackedLink",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookReceipt",
]


def register_all() -> int:
    """Every model mapped (importing this module did it); how many tables there are."""
    return len(Base.metadata.tables)
