"""Log lines that say what happened and cannot be forged by what they quote.

A value written to the log (a path, a name, an address from a form) could carry CR or
LF and start a line of its own that reads like ours. Every record's message is made
one line here: CR, LF and the other control characters (and the bidirectional
controls that reorder what a reader sees) are written as escapes such as ``\\n``.
Installed once for the whole process, by the app factory and the CLI's logging set-up,
as the record factory, so it holds for every logger and every handler.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` with every character that could break or disguise a line escaped."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: _NAMED.get(m.group(0)) or f"\\u{ord(m.group(0)):04x}", text)


class OneLineRecord(logging.LogRecord):
    """A record whose message (after its arguments are put in) is one line."""

    def getMessage(self) -> str:
        return one_line(super().getMessage())


def install() -> None:
    """Make every log record from now on a OneLineRecord (idempotent)."""
    factory: Any = logging.getLogRecordFactory()
    if factory is OneLineRecord:
        return
    if factory is not logging.LogRecord:
        # Someone else's factory (a test harness, a library): keep it, clean its output.
        def wrapped(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            record.msg = one_line(record.getMessage())
            record.args = None
            return record

        if getattr(factory, "_mailer_one_line", False):
            return
        # A mark on the function itself, so a second install() sees its own wrapper.
        wrapped._mailer_one_line = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(wrapped)
        return
    logging.setLogRecordFactory(OneLineRecord)
