"""The OpenAPI document as served: flask-smorest's, made from the code, with what the
plumbing does to every operation written in (so nothing is written twice by hand):

- errors are ``application/problem+json`` (flask-smorest says application/json);
- an operation with a key (its ``security``, from ``auth.requires``) may answer 401,
  403 (when it needs a scope) and 429 (with Retry-After);
- a keyed POST takes ``Idempotency-Key`` and may answer 409 and 422 for it;
- an operation that takes a body may answer 400 (not JSON, or nested too deep) and
  415 (not sent as JSON);
- a GET answers with an ETag and 304 to If-None-Match;
- ``servers`` is the configured base_url;
- the tags (flask-smorest names them after the blueprints: ``api_lists``) get the
  names a reader knows, and an operation's docstring, which flask-smorest makes the
  summary whole, becomes a one-sentence summary and a description (docstrings'
  ````code```` written as Markdown's ```code```).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from mailer.api import bodies, idempotency
from mailer.api.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
_RATE_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The key\'s quota: `"default";q=<requests>;w=<seconds>`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it: `"default";r=<requests left>;t=<seconds>`',
        "schema": {"type": "string"},
    },
}
RESPONSES: dict[str, dict[str, Any]] = {
    "Unauthorized": {
        "description": "No API key, or not a usable one (wrong, revoked or expired)",
        "headers": {
            "WWW-Authenticate": {"schema": {"type": "string"}, "required": True},
        },
        "content": _PROBLEM_CONTENT,
    },
    "Forbidden": {
        "description": "The key lacks the scope this operation needs",
        "content": _PROBLEM_CONTENT,
    },
    "TooManyRequests": {
        "description": "The key made more requests this minute than [api] rate_limit allows",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait",
                "schema": {"type": "integer"},
                "required": True,
            },
            **_RATE_HEADERS,
        },
        "content": _PROBLEM_CONTENT,
    },
    "IdempotencyConflict": {
        "description": "A request with this Idempotency-Key is still being answered",
        "content": _PROBLEM_CONTENT,
    },
    "Unprocessable": {
        "description": "Not valid (the problem's errors name each field), or an "
        "Idempotency-Key already used for another request",
        "content": _PROBLEM_CONTENT,
    },
    "BadRequest": {
        "description": "A parameter or header that cannot be read, or a body that is not "
        f"valid JSON or nests deeper than {bodies.MAX_DEPTH} levels",
        "content": _PROBLEM_CONTENT,
    },
    "UnsupportedMediaType": {
        "description": f"A body not sent as JSON (Content-Type: {bodies.JSON})",
        "content": _PROBLEM_CONTENT,
    },
    "NotModified": {
        "description": "Not modified since the ETag sent in If-None-Match",
        "headers": {"ETag": {"schema": {"type": "string"}, "required": True}},
    },
}


def build(raw: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """The served document, from flask-smorest's ``spec.to_dict()``."""
    doc = copy.deepcopy(raw)
    doc["servers"] = [{"url": base_url.rstrip("/"), "description": "This installation"}]
    components = doc.setdefault("components", {})
    responses = components.setdefault("responses", {})
    for response in responses.values():
        _problem_content(response)
    responses.update(copy.deepcopy(RESPONSES))
    for item in doc.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                _operation(method, operation)
                _words(operation)
    _tags(doc)
    return doc


# The blueprints' tags as a reader names them, in the reference's order.
TAG_NAMES = {
    "api_key": "Key",
    "api_contacts": "Contacts",
    "api_lists": "Lists",
    "api_organisation_types": "Organisation types",
    "api_suppressions": "Suppressions",
    "api_bulletins": "Bulletins",
    "api_sends": "Sends",
    "api_consultations": "Consultations",
    "api_stats": "Statistics",
}


def _tags(doc: dict[str, Any]) -> None:
    for tag in doc.get("tags", []):
        tag["name"] = TAG_NAMES.get(tag["name"], tag["name"])
    for item in doc.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [TAG_NAMES.get(t, t) for t in operation["tags"]]


def _words(operation: dict[str, Any]) -> None:
    """The summary: the docstring's first sentence; the rest: the description."""
    text = "\n\n".join(
        part for part in (operation.get("summary"), operation.get("description")) if part
    )
    if not text:
        return
    summary, rest = first_sentence(markdown(text))
    operation["summary"] = summary.replace("`", "")  # plain text, unlike a description
    if rest:
        operation["description"] = rest
    else:
        operation.pop("description", None)


def markdown(docstring: str) -> str:
    """A docstring as CommonMark: its wrapped lines joined into paragraphs, and
    ````code```` (reStructuredText) written ```code```."""
    paragraphs = re.split(r"\n\s*\n", docstring.strip())
    joined = [" ".join(line.strip() for line in p.splitlines()) for p in paragraphs]
    return "\n\n".join(re.sub(r"``(.+?)``", r"`\1`", p) for p in joined if p)


def first_sentence(text: str) -> tuple[str, str]:
    """``text`` split after its first full stop (or ! or ?) that ends a sentence:
    followed by a space, and outside brackets and code."""
    depth, in_code = 0, False
    for i, char in enumerate(text):
        if char == "`":
            in_code = not in_code
        elif in_code:
            continue
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        elif char in ".!?" and depth == 0 and text[i + 1 : i + 2].isspace():
            return text[: i + 1], text[i + 1 :].strip()
    return text.strip(), ""


def scope_of(operation: dict[str, Any]) -> str | None:
    """The scope an operation needs, from its security requirement (None: public, or
    any key will do)."""
    for requirement in operation.get("security") or []:
        for scopes in requirement.values():
            if scopes:
                return str(scopes[0])
    return None


def keyed(operation: dict[str, Any]) -> bool:
    return bool(operation.get("security"))


def _operation(method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for response in responses.values():
        _problem_content(response)
    if keyed(operation):
        responses.setdefault("401", _ref("Unauthorized"))
        responses.setdefault("429", _ref("TooManyRequests"))
        if scope_of(operation) is not None:
            responses.setdefault("403", _ref("Forbidden"))
        for code, response in responses.items():
            if code.startswith("2") and "$ref" not in response:
                response.setdefault("headers", {}).update(copy.deepcopy(_RATE_HEADERS))
        if method == "post":
            operation.setdefault("parameters", []).append(idempotency.parameter())
            responses.setdefault("400", _ref("BadRequest"))
            responses.setdefault("409", _ref("IdempotencyConflict"))
            responses.setdefault("422", _ref("Unprocessable"))
    if "requestBody" in operation:
        responses.setdefault("400", _ref("BadRequest"))
        responses.setdefault("415", _ref("UnsupportedMediaType"))
    if method == "get" and _json_200(responses):
        responses["200"].setdefault("headers", {})["ETag"] = {
            "description": "The representation's tag, for If-None-Match and If-Match",
            "schema": {"type": "string"},
        }
        operation.setdefault("parameters", []).append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "An ETag from before: 304 when it is still the current one",
                "schema": {"type": "string"},
            }
        )
        responses.setdefault("304", _ref("NotModified"))


def _json_200(responses: dict[str, Any]) -> bool:
    ok = responses.get("200")
    return isinstance(ok, dict) and "application/json" in (ok.get("content") or {})


def _problem_content(response: dict[str, Any]) -> None:
    content = response.get("content")
    if not isinstance(content, dict):
        return
    body = content.get("application/json")
    if isinstance(body, dict) and (body.get("schema") or {}).get("$ref") == PROBLEM_REF:
        content[PROBLEM_JSON] = content.pop("application/json")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}
