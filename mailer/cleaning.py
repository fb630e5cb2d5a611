"""Characters a person never means to send, taken out of what the public gives us.

C0 controls but tab and line breaks (multi-line text stays multi-line; one-line fields
collapse line breaks later), DEL, C1, and the bidirectional embeddings, overrides and
isolates that make a name or a note display as something other than what it is
(U+202E RIGHT-TO-LEFT OVERRIDE and friends). Used by the request-input check
(mailer.web.inputs) for every public form and query, and again by the services that
put a name into a message, whatever called them.
"""

from __future__ import annotations

import re

CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_WITH_BIDI = re.compile(f"[{CONTROL}{BIDI}]")
_CONTROL_ONLY = re.compile(f"[{CONTROL}]")


def strip_controls(value: str, *, bidi: bool = True) -> str:
    """``value`` without those characters (tab, CR and LF kept); ``bidi=False`` keeps
    the direction controls, which right-to-left text written by staff may need."""
    return (_WITH_BIDI if bidi else _CONTROL_ONLY).sub("", value)
