"""What comes back after a message was handed over: bounces, complaints, auto-replies.

Three ways in (a mailbox read over IMAP, a pipe from the local mail server, signed
webhooks from Amazon SES, SendGrid and Mailgun) each turn what arrived into
:class:`mailer.bounces.reports.Report` values, and all of them take one path from
there: :func:`mailer.bounces.processing.record`, which finds the delivery the report is
about (by the signed token in the bounce address, else by the Message-ID the report
quotes; the token is made by ``mailer.delivery.verp``), records it once, and marks the
delivery bounced, counts soft bounces, or unsubscribes a complainer.
"""
