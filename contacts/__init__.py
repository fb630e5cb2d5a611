"""Stakeholders: contacts, organisations, lists, import and export, suppression,
unsubscribe and preferences. Its models join the metadata through mailer.models."""
