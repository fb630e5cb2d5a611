"""Audit action names: constants, so a report can filter on them and a typo fails."""

LOGIN = "login"
LOGIN_FAILED = "login.failed"
LOGIN_THROTTLED = "login.throttled"
LOGOUT = "logout"
USER_CREATED = "user.created"
USER_ROLE_CHANGED = "user.role_changed"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
USER_PASSWORD_CHANGED = "user.password_changed"
SECOND_FACTOR_ADDED = "user.second_factor_added"
SECOND_FACTOR_REMOVED = "user.second_factor_removed"
SECOND_FACTOR_FAILED = "login.second_factor_failed"
SECOND_FACTORS_RESET = "user.second_factors_reset"
RECOVERY_CODES_MADE = "user.recovery_codes_made"
RECOVERY_CODE_USED = "login.recovery_code_used"
SESSIONS_ENDED = "user.sessions_ended"
SSO_REFUSED = "login.sso_refused"
SSO_ROLE_KEPT = "login.sso_role_kept"
SYSTEM_INITIALISED = "system.initialised"
CONTACTS_IMPORTED = "contacts.imported"
CONTACTS_EXPORTED = "contacts.exported"
BOUNCES_EXPORTED = "bounces.exported"
CONTACT_SAVED = "contact.saved"
CONTACT_UNSUBSCRIBED = "contact.unsubscribed"
CONTACT_RESUBSCRIBED = "contact.resubscribed"
CONTACT_COMPLAINED = "contact.complained"
CONTACT_BOUNCED = "contact.bounced"
CONTACT_PREFERENCES = "contact.preferences"
CONTACT_DATA_EXPORTED = "contact.data_exported"
CONTACT_ERASED = "contact.erased"
LIST_CREATED = "list.created"
LIST_CHANGED = "list.changed"
LIST_MEMBERS_ADDED = "list.members_added"
LIST_MEMBERS_REMOVED = "list.members_removed"
SEGMENT_SAVED = "segment.saved"
SEGMENT_RENAMED = "segment.renamed"
SEGMENT_CHANGED = "segment.changed"
SEGMENT_DELETED = "segment.deleted"
SUPPRESSION_ADDED = "suppression.added"
SUPPRESSION_REMOVED = "suppression.removed"
ORGANISATION_TYPE_ADDED = "organisation_type.added"
ORGANISATION_TYPE_RENAMED = "organisation_type.renamed"
ORGANISATION_TYPE_MOVED = "organisation_type.moved"
ORGANISATION_TYPE_REMOVED = "organisation_type.removed"
ORGANISATION_SETTINGS_CHANGED = "organisation.settings_changed"
TEMPLATE_VERSION_SAVED = "template.version_saved"
TEMPLATE_COPIED = "template.copied"
BULLETIN_CREATED = "bulletin.created"
BULLETIN_CHANGED = "bulletin.changed"
BULLETIN_COPIED = "bulletin.copied"
BULLETIN_ARCHIVED = "bulletin.archived"
BULLETIN_UNARCHIVED = "bulletin.unarchived"
BULLETIN_DELETED = "bulletin.deleted"
BULLETIN_ATTACHMENT_ADDED = "bulletin.attachment_added"
BULLETIN_ATTACHMENT_REMOVED = "bulletin.attachment_removed"
BULLETIN_TEST_SENT = "bulletin.test_sent"
BULLETIN_SEND_SUBMITTED = "bulletin.send_submitted"
BULLETIN_SEND_APPROVED = "bulletin.send_approved"
BULLETIN_SEND_WITHDRAWN = "bulletin.send_withdrawn"
SEND_PAUSED = "send.paused"
SEND_RESUMED = "send.resumed"
SEND_CANCELLED = "send.cancelled"
SEND_RETRIED = "send.retried"
SEND_NOW = "send.send_now"
SEND_PUBLISHED = "send.published"
SEND_UNPUBLISHED = "send.unpublished"
CONSULTATION_CREATED = "consultation.created"
CONSULTATION_CHANGED = "consultation.changed"
CONSULTATION_SUBMITTED = "consultation.submitted"
CONSULTATION_APPROVED = "consultation.approved"
CONSULTATION_RETURNED = "consultation.returned"
CONSULTATION_CANCELLED = "consultation.cancelled"
CONSULTATION_OPENED_EARLY = "consultation.opened_early"
REVIEW_SENT_BACK = "review.sent_back"
REVIEW_NOTICES_OFF = "review.notices_off"
CONSULTATION_DOCUMENT_ADDED = "consultation.document_added"
CONSULTATION_DOCUMENT_REMOVED = "consultation.document_removed"
CONSULTATION_EVIDENCE_EXPORTED = "consultation.evidence_exported"
SENDING_STOPPED = "sending.stopped"
SENDING_RESUMED = "sending.resumed"
BLACKOUT_ADDED = "blackout.added"
BLACKOUT_REMOVED = "blackout.removed"
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
WEBHOOK_CREATED = "webhook.created"
WEBHOOK_CHANGED = "webhook.changed"
WEBHOOK_ENABLED = "webhook.enabled"
WEBHOOK_DISABLED = "webhook.disabled"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
WEBHOOK_SECRET_SHOWN = "webhook.secret_shown"
WEBHOOK_TEST_SENT = "webhook.test_sent"
WEBHOOK_RETRIED = "webhook.retried"

LABELS = {
    LOGIN: "Signed in",
    LOGIN_FAILED: "Failed sign-in",
    LOGIN_THROTTLED: "Sign-in refused (too many failures)",
    LOGOUT: "Signed out",
    USER_CREATED: "User added",
    USER_ROLE_CHANGED: "Role changed",
    USER_DISABLED: "User disabled",
    USER_ENABLED: "User enabled",
    USER_PASSWORD_CHANGED: "Password changed",
    SECOND_FACTOR_ADDED: "Second factor added",
    SECOND_FACTOR_REMOVED: "Second factor removed",
    SECOND_FACTOR_FAILED: "Wrong second factor",
    SECOND_FACTORS_RESET: "Second factors reset by an admin",
    RECOVERY_CODES_MADE: "New recovery codes made",
    RECOVERY_CODE_USED: "Recovery code used",
    SESSIONS_ENDED: "Signed out of other browsers",
    SSO_REFUSED: "Single sign-on refused",
    SYSTEM_INITIALISED: "Database initialised",
    CONTACTS_IMPORTED: "Contacts imported",
    CONTACTS_EXPORTED: "Contacts exported",
    BOUNCES_EXPORTED: "Bounces downloaded (addresses)",
    CONTACT_SAVED: "Contact saved",
    CONTACT_UNSUBSCRIBED: "Unsubscribed",
    CONTACT_COMPLAINED: "Marked a message as spam",
    CONTACT_BOUNCED: "Suppressed after bounces",
    CONTACT_RESUBSCRIBED: "Resubscribed",
    CONTACT_PREFERENCES: "Preferences changed",
    CONTACT_DATA_EXPORTED: "Contact data exported",
    CONTACT_ERASED: "Contact erased",
    LIST_CREATED: "List created",
    LIST_CHANGED: "List changed",
    LIST_MEMBERS_ADDED: "Added to a list",
    LIST_MEMBERS_REMOVED: "Removed from a list",
    SEGMENT_SAVED: "Audience saved",
    SEGMENT_RENAMED: "Saved audience renamed",
    SEGMENT_CHANGED: "Saved audience changed",
    SEGMENT_DELETED: "Saved audience deleted",
    SUPPRESSION_ADDED: "Address suppressed",
    SUPPRESSION_REMOVED: "Suppression removed",
    ORGANISATION_TYPE_ADDED: "Organisation type added",
    ORGANISATION_TYPE_RENAMED: "Organisation type renamed",
    ORGANISATION_TYPE_MOVED: "Organisation types reordered",
    ORGANISATION_TYPE_REMOVED: "Organisation type removed",
    ORGANISATION_SETTINGS_CHANGED: "Organisation settings changed",
    TEMPLATE_VERSION_SAVED: "Template edited",
    TEMPLATE_COPIED: "Template copied",
    BULLETIN_CREATED: "Bulletin created",
    BULLETIN_CHANGED: "Bulletin edited",
    BULLETIN_COPIED: "Bulletin copied",
    BULLETIN_ARCHIVED: "Bulletin archived",
    BULLETIN_UNARCHIVED: "Bulletin unarchived",
    BULLETIN_DELETED: "Bulletin deleted",
    BULLETIN_ATTACHMENT_ADDED: "Document attached",
    BULLETIN_ATTACHMENT_REMOVED: "Document removed",
    BULLETIN_TEST_SENT: "Test message sent",
    BULLETIN_SEND_SUBMITTED: "Bulletin send submitted for approval",
    BULLETIN_SEND_APPROVED: "Bulletin send approved",
    BULLETIN_SEND_WITHDRAWN: "Bulletin send withdrawn to draft",
    SEND_PAUSED: "Send paused",
    SEND_RESUMED: "Send resumed",
    SEND_CANCELLED: "Send cancelled",
    SEND_RETRIED: "Failed deliveries retried",
    SEND_NOW: "Missed send sent now",
    SEND_PUBLISHED: "Published in the public archive",
    SEND_UNPUBLISHED: "Taken off the public archive",
    CONSULTATION_CREATED: "Consultation created",
    CONSULTATION_CHANGED: "Consultation edited",
    CONSULTATION_SUBMITTED: "Consultation submitted for approval",
    CONSULTATION_APPROVED: "Consultation approved",
    CONSULTATION_RETURNED: "Consultation returned to draft",
    CONSULTATION_CANCELLED: "Consultation cancelled",
    CONSULTATION_OPENED_EARLY: "Consultation opened early",
    REVIEW_SENT_BACK: "Sent back to its writer with a comment",
    REVIEW_NOTICES_OFF: "Approval emails turned on or off",
    CONSULTATION_DOCUMENT_ADDED: "Consultation document added",
    CONSULTATION_DOCUMENT_REMOVED: "Consultation document removed",
    CONSULTATION_EVIDENCE_EXPORTED: "Evidence report downloaded (names and addresses)",
    SENDING_STOPPED: "All sending stopped",
    SENDING_RESUMED: "Sending resumed",
    BLACKOUT_ADDED: "Blackout added",
    BLACKOUT_REMOVED: "Blackout removed",
    API_KEY_CREATED: "API key made",
    API_KEY_REVOKED: "API key revoked",
    WEBHOOK_CREATED: "Webhook endpoint added",
    WEBHOOK_CHANGED: "Webhook endpoint changed",
    WEBHOOK_ENABLED: "Webhook endpoint enabled",
    WEBHOOK_DISABLED: "Webhook endpoint disabled",
    WEBHOOK_DELETED: "Webhook endpoint deleted",
    WEBHOOK_SECRET_ROTATED: "Webhook signing secret replaced",
    WEBHOOK_SECRET_SHOWN: "Webhook signing secret shown",
    WEBHOOK_TEST_SENT: "Webhook test event sent",
    WEBHOOK_RETRIED: "Webhook message retried",
}
