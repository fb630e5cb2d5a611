"""Signed webhooks from mail providers: Amazon SES (through SNS), SendGrid, Mailgun.

Each provider's module verifies a request's signature before anything in it is read as
an action, and turns its events into trusted :class:`~mailer.bounces.reports.Report`
values (``ses``, ``sendgrid``, ``mailgun``); ``receipts`` refuses a request seen
before; ``recording.apply`` records the receipt and the reports in one transaction.
The routes are in ``mailer.bounces.webhook_views``.
"""
