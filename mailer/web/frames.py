"""Showing a rendered email inside the admin, safely.

The email's HTML is served on its own URL and shown in a sandboxed iframe: its own
strict policy allows inline styles (email HTML is made of them) and remote images, and
nothing else: no scripts, no forms, no plugins. Links open in a new tab instead of
replacing the frame.
"""

from __future__ import annotations

import re

from flask import Response

FRAME_POLICY = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; form-action 'none'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)


# A phone's scrollbars float over the page; a desktop browser's take 15 pixels from
# the frame, which would make a 375-pixel preview narrower than the phone it shows.
PHONE_STYLE = "<style>html{scrollbar-width:none}</style>"


def email_frame(html: str, *, phone: bool = False) -> Response:
    base = '<base target="_blank">' + (PHONE_STYLE if phone else "")
    html, found = _HEAD.subn(lambda m: m.group(0) + base, html, count=1)
    if not found:
        html = base + html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
