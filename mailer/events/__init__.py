"""Outgoing webhooks: what happened here, told to the office's other systems.

An endpoint (a URL another system serves) asks for some event types; ``emit`` puts
one message per interested endpoint in a durable queue in the caller's transaction,
so an event is told if and only if what it describes was kept. The messages are
signed per the Standard Webhooks specification and delivered with retries and
backoff; an endpoint failing for ``[webhooks] failure_window`` is disabled.

Not to be confused with ``mailer.bounces.webhooks``: the signed webhooks mail
providers send *to* this product.
"""
