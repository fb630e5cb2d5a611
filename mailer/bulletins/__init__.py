"""Stakeholder Special bulletins: organisation settings, the versioned template family,
bulletin content and its attachments, previews and test sends."""
