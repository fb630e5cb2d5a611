"""What a request body must be before any resource reads it: JSON, said so in its
Content-Type (else 415), nesting at most MAX_DEPTH levels (else 400: a body of
thousands of ``[`` would exhaust the parser's recursion, a 500), and parseable (else a
400 naming where it breaks; webargs would call it "Missing data" or say nothing).

``auth`` runs ``check`` on every POST, PUT and PATCH once the key is known, so a
caller without a usable key still hears 401 first.
"""

from __future__ import annotations

import json
import re

from flask import request

from mailer.api.problems import ApiProblem

JSON = "application/json"
MAX_DEPTH = 32
WITH_BODY = ("POST", "PUT", "PATCH")

# A whole JSON string (escapes included, so a quoted "[" or \" is skipped), or a
# bracket. An unterminated string runs to the end: json.loads then says where.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")
# The headers that name the media types a method takes (RFC 5789, and the W3C's LDP).
_ACCEPT = {"POST": {"Accept-Post": JSON}, "PATCH": {"Accept-Patch": JSON}}


def check() -> None:
    """Refuse a body the resources could not read (see the module's docstring)."""
    if request.method not in WITH_BODY:
        return
    body = request.get_data(cache=True)
    if not body:
        return  # nothing sent: an operation that needs a body says what is missing
    if not is_json(request.mimetype):
        sent = request.mimetype or "no Content-Type"
        raise ApiProblem(
            415,
            f"Send the body as JSON, with Content-Type: {JSON} (this request said {sent}).",
            headers=_ACCEPT.get(request.method),
        )
    if (depth := deeper_than(body, MAX_DEPTH)) is not None:
        raise ApiProblem(400, f"The body nests deeper than {MAX_DEPTH} levels ({depth} or more).")
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApiProblem(
            400,
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
        ) from None
    except ValueError:  # not UTF-8 (nor UTF-16 or -32, which JSON also allows)
        raise ApiProblem(400, "The body is not valid JSON: it is not UTF-8 text.") from None


def is_json(mimetype: str) -> bool:
    """``application/json`` or a ``+json`` type (as webargs reads them)."""
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def deeper_than(body: bytes, limit: int) -> int | None:
    """The depth reached once it passes ``limit`` (None: never deeper), counting the
    arrays and objects open at each point, brackets inside strings not counted."""
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return depth
        elif token[0] != ord('"'):
            depth = max(depth - 1, 0)
    return None
