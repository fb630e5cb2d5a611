"""Email templates: the designs a bulletin is poured into, and their versions.

Four things are called "template" in this product; this package owns two of them:
the email templates stored in the database (:class:`models.EmailTemplate`) and their
immutable versions (:class:`models.TemplateVersion`). The seed sources they start from
live in ``templates/email_seeds/`` and are read into the database once
(:mod:`mailer.email_templates.seeds`); Jinja page templates of the admin and public
pages stay in ``templates/``.
"""
