"""The admin pages of stakeholders, one blueprint each: contacts (with import and
export), lists, suppressions, organisation types, and audiences (the builder's live
count and the saved audiences).

Everyone signed in may look; editors and admins change; only admins erase contacts or
lift a suppression (both are audited).
"""

from contacts.admin_views import importing as _importing  # noqa: F401 (its pages: contacts_bp)
from contacts.admin_views import segments as _segments  # noqa: F401 (its pages: audience_bp)
from contacts.admin_views.audience import audience_bp
from contacts.admin_views.contacts import contacts_bp
from contacts.admin_views.lists import lists_bp
from contacts.admin_views.organisation_types import types_bp
from contacts.admin_views.suppressions import suppressions_bp

__all__ = ["audience_bp", "contacts_bp", "lists_bp", "suppressions_bp", "types_bp"]
