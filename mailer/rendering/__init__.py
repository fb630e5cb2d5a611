"""Turning a bulletin into messages: one source, rendered to HTML and plain text.

The steps, each its own module:

- ``sandbox``: admin-written Jinja templates, compiled and run in the sandbox, within
  the time and size limits of ``limits`` (sizes estimated first by ``measure``,
  ``predict`` and ``filter_limits``).
- ``markdown``: the bulletin's Markdown to sanitised HTML; ``text``: HTML to plain text.
- ``placeholders``: personal values stand in as markers while a send is prepared.
- ``inline``: premailer inlines the CSS, once per send, cached.
- ``prepare``: a send's message, encoded once (``PreparedMessage``); ``personalise``
  splices one recipient's values into it; ``mime`` and ``dkim`` hold the wire format.
"""
